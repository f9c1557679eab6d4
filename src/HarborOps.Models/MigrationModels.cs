namespace HarborOps.Models;

/// <summary>What Copy-RegistryImage did (or, with -WhatIf, would do) with one tag.</summary>
public enum CopyAction
{
    /// <summary>The tag did not exist at the destination and was written.</summary>
    Copied,
    /// <summary>The destination already had the same digest under the tag, or -NoClobber kept a differing one.</summary>
    Skipped,
    /// <summary>The destination tag pointed at another digest and now points at the source's.</summary>
    Updated,
    /// <summary>Something under the tag could not be copied; the destination tag was not written.</summary>
    Failed,
    /// <summary>-WhatIf: the tag would be copied or updated.</summary>
    Planned,
}

/// <summary>One tag of a copy, as Copy-RegistryImage emits it.</summary>
public sealed record CopyResult
{
    /// <summary>"registry/repository:tag" (or @digest) the tag was read from.</summary>
    public string Source { get; init; } = "";
    /// <summary>"registry/repository:tag" (or @digest) the tag was written to.</summary>
    public string Destination { get; init; } = "";
    public string SourceRepository { get; init; } = "";
    public string DestinationRepository { get; init; } = "";
    /// <summary>The tag; empty when a digest was copied without one.</summary>
    public string Tag { get; init; } = "";
    /// <summary>
    /// Manifest digest of the source (and, unless the copy failed, of the destination); when a -Platform filter trimmed
    /// an index, the digest written at the destination, with the source's in <see cref="SourceDigest"/>.
    /// </summary>
    public string Digest { get; init; } = "";
    public string MediaType { get; init; } = "";
    /// <summary>
    /// Set only when the destination digest differs from the source's on purpose: a -Platform filter wrote a new index
    /// with fewer children. This is the source index's digest; <see cref="Digest"/> is the one written.
    /// </summary>
    public string? SourceDigest { get; init; }
    public CopyAction Action { get; init; }
    /// <summary>
    /// Why the tag was copied, skipped or planned ("unchanged", "NoClobber", "new", "differs", or a -Platform/-Since
    /// reason), with notes after "; " (platforms filtered, creation time unknown).
    /// </summary>
    public string Reason { get; init; } = "";
    /// <summary>Digest the destination tag pointed at before the copy; null when it did not exist.</summary>
    public string? PreviousDigest { get; init; }
    /// <summary>Bytes of blobs this tag moved (with -WhatIf: would move). Blobs shared with an earlier tag count there.</summary>
    public long BytesMoved { get; init; }
    public int BlobsCopied { get; init; }
    public int BlobsMounted { get; init; }
    public int BlobsSkipped { get; init; }
    /// <summary>For a signature, attestation, SBOM or referrers-index tag: the digest it refers to.</summary>
    public string? SubjectDigest { get; init; }
    /// <summary>The failure message, for <see cref="CopyAction.Failed"/>.</summary>
    public string? Error { get; init; }
    /// <summary>The stable error id of the failure (see about_HarborOps_Errors).</summary>
    public string? ErrorId { get; init; }
    public TimeSpan Elapsed { get; init; }

    public override string ToString() => $"{Action} {Source} -> {Destination} {Digest}";
}

/// <summary>The totals of a copy run, emitted last by Copy-RegistryImage.</summary>
public sealed class CopySummary
{
    public string Source { get; init; } = "";
    public string Destination { get; init; } = "";
    /// <summary>True for -WhatIf: nothing was written, the counts are the plan.</summary>
    public bool PlanOnly { get; init; }
    /// <summary>Which shard of a sharded run (-ShardCount) did this work: 0 to ShardCount - 1; 0 of 1 for a whole run.</summary>
    public int Shard { get; init; }
    /// <summary>The number of shards the run was split into; 1 for a whole run.</summary>
    public int ShardCount { get; init; } = 1;
    /// <summary>Source repositories this run (this shard) took.</summary>
    public int Repositories { get; init; }
    public int Tags { get; init; }
    public int Copied { get; init; }
    public int Updated { get; init; }
    public int Skipped { get; init; }
    public int Failed { get; init; }
    public int Planned { get; init; }
    /// <summary>Blob bytes moved (with -WhatIf: to move). Mounted and already-present blobs move no bytes.</summary>
    public long BytesMoved { get; init; }
    public int BlobsCopied { get; init; }
    public int BlobsMounted { get; init; }
    public int BlobsSkipped { get; init; }
    public int ManifestsWritten { get; init; }
    /// <summary>Referrers written: untagged ones found through the referrers API, and referrer tags (cosign .sig/.att/.sbom, sha256-&lt;hex&gt; indexes).</summary>
    public int ReferrersCopied { get; init; }
    public TimeSpan Elapsed { get; init; }
    /// <summary>Blob bytes moved per second of the run.</summary>
    public double BytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesMoved / Elapsed.TotalSeconds : 0;
    public double TagsPerSecond => Elapsed.TotalSeconds > 0 ? Tags / Elapsed.TotalSeconds : 0;
    /// <summary>The failed tags' sources and messages, so a summary alone tells what to look at.</summary>
    public IReadOnlyList<string> Failures { get; init; } = [];
    /// <summary>Harbor projects this run created (with -WhatIf: would create) for its destination repositories.</summary>
    public IReadOnlyList<string> ProjectsCreated { get; init; } = [];

    public override string ToString() =>
        $"{Tags} tags: {Copied} copied, {Updated} updated, {Skipped} skipped, {Failed} failed{(PlanOnly ? $", {Planned} planned" : "")}; {BytesMoved} bytes, {BlobsMounted} blobs mounted, {BlobsSkipped} present, in {Elapsed.TotalSeconds:0.0} s";
}

/// <summary>Byte counts as people read them (KiB, MiB, GiB), for messages and progress.</summary>
public static class ByteCount
{
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
