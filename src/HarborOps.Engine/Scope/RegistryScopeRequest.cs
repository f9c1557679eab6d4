using System.Net;

namespace HarborOps.Engine.Scope;

/// <summary>
/// What a copy and a parity check have in common: the sources, the destination, how repository paths map between
/// them, which tags count, and the credentials. A comparison with the same values checks exactly what the copy wrote.
/// </summary>
public abstract record RegistryScopeRequest
{
    protected RegistryScopeRequest(IReadOnlyList<string> sources, string destination)
    {
        Sources = sources ?? throw new ArgumentNullException(nameof(sources));
        Destination = destination ?? throw new ArgumentNullException(nameof(destination));
    }

    /// <summary>A request for a destination the caller has parsed already (and checked its Harbor with), so it is parsed once.</summary>
    protected RegistryScopeRequest(IReadOnlyList<string> sources, CopyDestination destination)
        : this(sources, (destination ?? throw new ArgumentNullException(nameof(destination))).Text)
    {
        _parsedDestination = destination;
    }

    private readonly string _destination = "";
    private CopyDestination? _parsedDestination;

    /// <summary>
    /// What to copy or compare, each one of: "registry/repo:tag" or "registry/repo@sha256:..." (one image), "registry/repo" (every
    /// tag), "registry/team/*" or "registry/team/" (every repository under a path prefix), "registry" (every repository
    /// in the catalog), "oci:dir" (every layout below a directory) or "oci:dir:tag".
    /// </summary>
    public IReadOnlyList<string> Sources { get; init; }

    /// <summary>"registry" or "registry/prefix" (the source path is appended: registry/prefix/&lt;repo&gt;), or "oci:dir".</summary>
    public string Destination
    {
        get => _destination;
        init
        {
            _destination = value;
            _parsedDestination = null; // a new text, as from a with-expression, is parsed anew
        }
    }

    /// <summary><see cref="Destination"/> parsed (without <see cref="DestinationPrefix"/>): as the caller gave it, or parsed now.</summary>
    internal CopyDestination ParsedDestination => _parsedDestination ?? CopyDestination.Parse(Destination);

    /// <summary>A path appended to the destination's own path ("migrated/acr"); the source path goes below it.</summary>
    public string? DestinationPrefix { get; init; }

    /// <summary>Leading path segments removed from each source repository before mapping ("team/app" with 1 is "app").</summary>
    public int StripPrefixSegments { get; init; }

    /// <summary>
    /// Renames applied after stripping: a key names a repository or a leading path ("old-team" matches "old-team" and
    /// "old-team/app"); the longest matching key wins and its value replaces the matched part.
    /// </summary>
    public IReadOnlyDictionary<string, string> RenameRepositories { get; init; } = new Dictionary<string, string>();

    /// <summary>Wildcard patterns (* and ?) a tag must match (any of them); empty means every tag.</summary>
    public IReadOnlyList<string> IncludeTags { get; init; } = [];
    /// <summary>A regular expression a tag must match, in addition to <see cref="IncludeTags"/>.</summary>
    public string? IncludeTagRegex { get; init; }
    /// <summary>Wildcard patterns of tags to leave out.</summary>
    public IReadOnlyList<string> ExcludeTags { get; init; } = [];
    /// <summary>A regular expression of tags to leave out.</summary>
    public string? ExcludeTagRegex { get; init; }

    /// <summary>The part of the scope this run takes (a shard of a Kubernetes Indexed Job); <see cref="ShardPartition.Whole"/> by default.</summary>
    public ShardPartition Shard { get; init; } = ShardPartition.Whole;

    /// <summary>
    /// Where to write the run's <see cref="Shards.ShardSummary"/> JSON when it ends, successful or not (a Job's pod passes
    /// /dev/termination-log, whose first 4 KiB Kubernetes keeps in the pod's status); null writes none.
    /// </summary>
    public string? ShardSummaryPath { get; init; }

    public NetworkCredential? SourceCredential { get; init; }
    public NetworkCredential? DestinationCredential { get; init; }
}
