using System.Net;
using HarborOps.Engine.Migration;

namespace HarborOps.Engine.Parity;

/// <summary>
/// Compare-RegistryParity's request: the same sources, destination, mapping and tag filters as a
/// <see cref="CopyRequest"/>, so a comparison checks exactly what that copy would have written.
/// </summary>
public sealed record ParityRequest
{
    public ParityRequest(IReadOnlyList<string> sources, string destination)
    {
        Sources = sources ?? throw new ArgumentNullException(nameof(sources));
        Destination = destination ?? throw new ArgumentNullException(nameof(destination));
    }

    /// <summary>What to compare, written like <see cref="CopyRequest.Sources"/> (a tag, a repository, "registry/prefix/*", a registry, "oci:dir").</summary>
    public IReadOnlyList<string> Sources { get; init; }

    /// <summary>"registry" or "registry/prefix" (the source path is appended below it), or "oci:dir".</summary>
    public string Destination { get; init; }

    /// <summary>A path appended to the destination's own path; the source path goes below it.</summary>
    public string? DestinationPrefix { get; init; }

    /// <summary>Leading path segments removed from each source repository before mapping.</summary>
    public int StripPrefixSegments { get; init; }

    /// <summary>Renames applied after stripping (see <see cref="CopyRequest.RenameRepositories"/>).</summary>
    public IReadOnlyDictionary<string, string> RenameRepositories { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> IncludeTags { get; init; } = [];
    public string? IncludeTagRegex { get; init; }
    public IReadOnlyList<string> ExcludeTags { get; init; } = [];
    public string? ExcludeTagRegex { get; init; }

    /// <summary>Also check that signatures, attestations, SBOMs and other referrers of each image are at the destination.</summary>
    public bool IncludeReferrers { get; init; }

    /// <summary>Report identical tags too (kind Equal); otherwise they are only counted.</summary>
    public bool IncludeEqual { get; init; }

    /// <summary>Repositories compared at once; each lists its tags with the store's own bounded parallelism.</summary>
    public int ThrottleLimit { get; init; } = 8;

    public NetworkCredential? SourceCredential { get; init; }
    public NetworkCredential? DestinationCredential { get; init; }
}
