using System.Diagnostics;
using HarborOps.Engine.Manifests;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>
/// One tag (or untagged digest) being copied: what it is, and what is known of it so far. The decide and write steps
/// fill in the facts as they learn them, so a failure at any point reports what was known by then.
/// </summary>
internal sealed class TagJob(RepositoryPlan plan, TagWork work, string? subject, bool probeReferrers, string sourceName, string destinationName)
{
    private readonly Stopwatch _started = Stopwatch.StartNew();

    public RepositoryPlan Plan { get; } = plan;
    public TagWork Work { get; } = work;
    /// <summary>The tag; empty when a digest is copied without one.</summary>
    public string Tag => Work.Tag;
    /// <summary>For a referrer tag: the digest it refers to.</summary>
    public string? Subject { get; } = subject;
    /// <summary>Whether its referrer tags are found by HEAD probes (no tag list of the source repository).</summary>
    public bool ProbeReferrers { get; } = probeReferrers;
    public string SourceName { get; } = sourceName;
    public string DestinationName { get; } = destinationName;

    /// <summary>The source's digest of the tag (after a -Platform rewrite, the digest to write); null until known.</summary>
    public string? Digest { get; set; } = work.Digest;
    public string MediaType { get; set; } = work.Listed?.Manifest.MediaType ?? "";
    /// <summary>The digest the destination tag pointed at before the copy; null when it had none (or nobody looked yet).</summary>
    public string? Previous { get; set; }
    public TagCounters Counters { get; set; } = new();
    /// <summary>The destination's HEAD of the tag, sent alongside the source's; null when the destination cannot have the tag.</summary>
    public Task<OciDescriptor?>? DestinationHead { get; set; }

    /// <summary>The tag's result from what is known now.</summary>
    public CopyResult Result(CopyAction action, string reason) => new()
    {
        Source = SourceName,
        Destination = DestinationName,
        SourceRepository = Plan.SourceRepository,
        DestinationRepository = Plan.DestinationRepository,
        Tag = Tag,
        Digest = Digest ?? "",
        MediaType = MediaType,
        Action = action,
        Reason = reason,
        PreviousDigest = Previous,
        SubjectDigest = Subject,
        BytesMoved = Counters.Bytes,
        BlobsCopied = Counters.CopiedCount,
        BlobsMounted = Counters.MountedCount,
        BlobsSkipped = Counters.SkippedCount,
        Elapsed = _started.Elapsed,
    };

    /// <summary>
    /// Marks a request started alongside another that failed first as observed: its own failure, if any, adds nothing
    /// to the one already reported (and must not surface later as an unobserved task exception).
    /// </summary>
    public void DiscardDestinationHeadFailure() =>
        DestinationHead?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
