namespace HarborOps.Models;

/// <summary>What Compare-RegistryParity found for one tag, referrer or source item.</summary>
public enum ParityDifferenceKind
{
    /// <summary>The source tag is at the destination with the same digest (emitted only with -IncludeEqual).</summary>
    Equal,
    /// <summary>The source has the tag; the destination repository does not.</summary>
    MissingAtDestination,
    /// <summary>The destination has a tag the source repository does not (within the same tag filters).</summary>
    ExtraAtDestination,
    /// <summary>Both have the tag, pointing at different manifests.</summary>
    DigestDiffers,
    /// <summary>A signature, attestation, SBOM or other referrer of an image both sides have is missing at the destination.</summary>
    ReferrerMissing,
    /// <summary>A source item or repository could not be read (locked, listing failed): parity of it is unknown.</summary>
    SourceUnreadable,
}

/// <summary>
/// Anything Compare-RegistryParity writes: a difference, or the summary that closes the run. Copy-RegistryImage accepts
/// both from the pipeline and copies only what a difference says is missing.
/// </summary>
public abstract record ParityRecord
{
}

/// <summary>
/// One finding of Compare-RegistryParity. <see cref="Source"/> and <see cref="Destination"/> bind by name to
/// Copy-RegistryImage (with the mapping in <see cref="StripPrefixSegments"/> and <see cref="Rename"/>), so piping the
/// differences into it repairs exactly what they name.
/// </summary>
public sealed record ParityDifference : ParityRecord
{
    public ParityDifferenceKind Kind { get; init; }
    /// <summary>
    /// The source item: "registry/repository:tag" for a tag (for a missing referrer: the tag of the image it refers to,
    /// whose copy brings its referrers), "registry/repository" when a whole repository could not be listed. For an extra
    /// destination tag, the name the source would have for it.
    /// </summary>
    public string Source { get; init; } = "";
    /// <summary>The destination the comparison mapped into ("registry" or "registry/prefix"), as Copy-RegistryImage takes it.</summary>
    public string Destination { get; init; } = "";
    /// <summary>"registry/repository:tag" at the destination.</summary>
    public string DestinationReference { get; init; } = "";
    public string SourceRepository { get; init; } = "";
    public string DestinationRepository { get; init; } = "";
    /// <summary>The tag; empty for a repository-level finding, the subject's tag for a missing referrer.</summary>
    public string Tag { get; init; } = "";
    /// <summary>Manifest digest at the source; null when the source does not have the item or could not be read.</summary>
    public string? SourceDigest { get; init; }
    /// <summary>Manifest digest at the destination; null when the destination does not have it.</summary>
    public string? DestinationDigest { get; init; }
    /// <summary>For <see cref="ParityDifferenceKind.ReferrerMissing"/>: the missing referrer's digest.</summary>
    public string? ReferrerDigest { get; init; }
    /// <summary>For a missing referrer: its tag (cosign's sha256-&lt;hex&gt;.sig/.att/.sbom, the sha256-&lt;hex&gt; index) when it has one.</summary>
    public string? ReferrerTag { get; init; }
    /// <summary>For a missing referrer: its artifact type (signature, SBOM, attestation media type) when known.</summary>
    public string? ArtifactType { get; init; }
    /// <summary>What was found, in words (and for an unreadable item, why).</summary>
    public string Detail { get; init; } = "";
    /// <summary>For an unreadable item: the stable error id (see about_HarborOps_Errors).</summary>
    public string? ErrorId { get; init; }
    /// <summary>The comparison's -StripPrefixSegments, so a repair maps names exactly as the comparison did.</summary>
    public int StripPrefixSegments { get; init; }
    /// <summary>The comparison's -Rename (source path to destination path), so a repair maps names exactly as the comparison did.</summary>
    public IReadOnlyDictionary<string, string> Rename { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// True for the kinds a copy can repair: missing, differing, referrer missing, and unreadable (a copy tries again),
    /// except a tag or repository name the registry listed against the grammar: no copy can name it, and piping it into
    /// one would stop that whole repair at its reference check.
    /// </summary>
    public bool IsRepairable => Kind is ParityDifferenceKind.MissingAtDestination or ParityDifferenceKind.DigestDiffers
        or ParityDifferenceKind.ReferrerMissing
        || (Kind == ParityDifferenceKind.SourceUnreadable && ErrorId is not ("RegistryTagNameInvalid" or "RegistryRepositoryNameInvalid"));

    public override string ToString() => $"{Kind} {Source} -> {DestinationReference}";
}

/// <summary>The totals of a parity run, emitted last by Compare-RegistryParity.</summary>
public sealed record ParitySummary : ParityRecord
{
    /// <summary>The sources compared, as given.</summary>
    public string[] Source { get; init; } = [];
    /// <summary>The destination compared (with its prefix).</summary>
    public string Destination { get; init; } = "";
    /// <summary>Which shard of a sharded comparison (-ShardCount) this is: 0 to ShardCount - 1; 0 of 1 for a whole one.</summary>
    public int Shard { get; init; }
    /// <summary>The number of shards the comparison was split into; 1 for a whole one.</summary>
    public int ShardCount { get; init; } = 1;
    public int RepositoriesCompared { get; init; }
    /// <summary>Source tags compared (image tags, not counting referrer tags).</summary>
    public int TagsCompared { get; init; }
    /// <summary>Referrers checked at the destination (with -IncludeReferrers).</summary>
    public int ReferrersChecked { get; init; }
    public int Equal { get; init; }
    public int MissingAtDestination { get; init; }
    public int ExtraAtDestination { get; init; }
    public int DigestDiffers { get; init; }
    public int ReferrerMissing { get; init; }
    public int SourceUnreadable { get; init; }
    /// <summary>Every finding that is not Equal.</summary>
    public int Differences => MissingAtDestination + ExtraAtDestination + DigestDiffers + ReferrerMissing + SourceUnreadable;
    /// <summary>Registry requests the comparison sent to the source (retries and token requests not counted).</summary>
    public int SourceRequests { get; init; }
    /// <summary>Registry requests the comparison sent to the destination: listings and HEADs, never a manifest GET.</summary>
    public int DestinationRequests { get; init; }
    public TimeSpan Elapsed { get; init; }

    public override string ToString() =>
        $"{Differences} difference(s) in {TagsCompared} tags of {RepositoriesCompared} repositories: {MissingAtDestination} missing, {ExtraAtDestination} extra, "
        + $"{DigestDiffers} digest differs, {ReferrerMissing} referrer missing, {SourceUnreadable} source unreadable; {Equal} equal; in {Elapsed.TotalSeconds:0.0} s";
}
