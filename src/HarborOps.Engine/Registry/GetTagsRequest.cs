using System.Net;

namespace HarborOps.Engine.Registry;

/// <summary>Get-RegistryTag's request. Reference is "host/repo", "host/repo:tag" or "host/repo@digest", or an "oci:" layout reference.</summary>
public sealed record GetTagsRequest(string Reference)
{
    /// <summary>Wildcard patterns (* and ?) a tag must match; empty means every tag.</summary>
    public IReadOnlyList<string> TagPatterns { get; init; } = [];
    /// <summary>Also discover referrers (API, tag schema) and cosign .sig/.att/.sbom tags of each digest.</summary>
    public bool IncludeReferrers { get; init; }
    public NetworkCredential? Credential { get; init; }
}
