using System.Net;

namespace HarborOps.Engine.Registry;

/// <summary>Get-RegistryRepository's request. Registry is host[:port], or "oci:" followed by a layout directory.</summary>
public sealed record GetRepositoriesRequest(string Registry)
{
    /// <summary>Only repositories under this path prefix ("team/" or "team").</summary>
    public string? Prefix { get; init; }
    public NetworkCredential? Credential { get; init; }
}
