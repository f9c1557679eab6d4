using System.Diagnostics;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The run's results and totals: every result goes out through here (to the caller, one at a time, with its typed
/// failure), progress is reported from the counts, and the summary is built from them at the end.
/// </summary>
internal sealed class CopyTally(CopyContext context, Action<CopyResult, HarborOpsException?>? onResult)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly object emitLock = new();
    private int totalTags;
    private int doneTags, copied, updated, skipped, failed, planned;
    private int blobsCopied, blobsMounted, blobsSkipped, manifestsWritten, referrersCopied;
    private long bytesMoved;
    private readonly List<string> failures = [];
    private readonly List<string> projectsCreated = [];

    /// <summary>Tags the run expects to finish (the progress bar's total); referrer tags found by probing add to it.</summary>
    public void ExpectTags(int count) => Interlocked.Add(ref totalTags, count);

    public void BlobTransferred(long size)
    {
        Interlocked.Increment(ref blobsCopied);
        Interlocked.Add(ref bytesMoved, size);
    }

    public void BlobMounted() => Interlocked.Increment(ref blobsMounted);
    public void BlobAlreadyPresent() => Interlocked.Increment(ref blobsSkipped);
    public void ManifestWritten() => Interlocked.Increment(ref manifestsWritten);
    public void ReferrerCopied() => Interlocked.Increment(ref referrersCopied);
    public void ProjectsCreated(IEnumerable<string> projects) => projectsCreated.AddRange(projects);

    /// <summary>A result that is not a failure.</summary>
    public void Emit(CopyResult result) => Emit(result, null);

    /// <summary><paramref name="result"/> as failed by <paramref name="failure"/>, which goes along typed; its kind, message and id fill the result.</summary>
    public CopyResult EmitFailed(CopyResult result, HarborOpsException failure)
    {
        var failed = result with { Action = CopyAction.Failed, Reason = failure.Kind.ToString(), Error = failure.Message, ErrorId = failure.ErrorId };
        Emit(failed, failure);
        return failed;
    }

    /// <summary>A failure that is not one tag's (a listing, a project, a referrer walk), named by what it concerns.</summary>
    public void EmitFailure(string source, string destinationName, string sourceRepository, string destinationRepository, HarborOpsException failure, string? subject = null) =>
        _ = EmitFailed(new CopyResult
        {
            Source = source,
            Destination = destinationName,
            SourceRepository = sourceRepository,
            DestinationRepository = destinationRepository,
            SubjectDigest = subject,
        }, failure);

    private void Emit(CopyResult result, HarborOpsException? failure)
    {
        lock (emitLock)
        {
            doneTags++;
            switch (result.Action)
            {
                case CopyAction.Copied: copied++; break;
                case CopyAction.Updated: updated++; break;
            }
            // A referrer tag (cosign .sig/.att/.sbom, a sha256-<hex> index) counts as a copied tag and as a referrer, so
            // the summary shows signatures came along also from registries without the referrers API.
            if (result is { Action: CopyAction.Copied or CopyAction.Updated, SubjectDigest: not null, Tag.Length: > 0 })
                Interlocked.Increment(ref referrersCopied);
            switch (result.Action)
            {
                case CopyAction.Skipped: skipped++; break;
                case CopyAction.Planned: planned++; break;
                case CopyAction.Failed:
                    failed++;
                    if (failures.Count < 100) failures.Add($"{result.Source}: {result.Error}");
                    break;
            }
            onResult?.Invoke(result, failure);
            Report(result);
        }
    }

    /// <summary>Progress so far; <paramref name="last"/> is the result just emitted, if any.</summary>
    public void Report(CopyResult? last)
    {
        if (context.Progress is not { } progress) return;
        var total = Math.Max(Volatile.Read(ref totalTags), doneTags);
        var bytes = Interlocked.Read(ref bytesMoved);
        var status = $"{doneTags} of {total} tags, {ByteCount.Format(bytes)} {(context.PlanOnly ? "to move" : "moved")}, {Volatile.Read(ref blobsMounted)} blobs mounted, {Volatile.Read(ref blobsSkipped)} present";
        progress.Report(new OperationProgress(context.Activity, status, last?.Source, doneTags, total));
    }

    /// <summary>The totals, reported as the run's completed progress.</summary>
    public CopySummary Complete()
    {
        var summary = Summary();
        context.Progress?.Report(new OperationProgress(context.Activity, summary.ToString(), Completed: doneTags, Total: Math.Max(doneTags, totalTags), IsComplete: true));
        return summary;
    }

    private CopySummary Summary()
    {
        lock (emitLock)
        {
            return new CopySummary
            {
                Source = string.Join(", ", context.Request.Sources),
                Destination = context.Destination.Text,
                PlanOnly = context.PlanOnly,
                Tags = doneTags,
                Copied = copied,
                Updated = updated,
                Skipped = skipped,
                Failed = failed,
                Planned = planned,
                BytesMoved = Interlocked.Read(ref bytesMoved),
                BlobsCopied = blobsCopied,
                BlobsMounted = blobsMounted,
                BlobsSkipped = blobsSkipped,
                ManifestsWritten = manifestsWritten,
                ReferrersCopied = referrersCopied,
                Elapsed = clock.Elapsed,
                Failures = failures.ToArray(),
                ProjectsCreated = projectsCreated.ToArray(),
            };
        }
    }
}

/// <summary>What one tag moved; blobs shared with another tag count with the tag that moved them.</summary>
internal sealed class TagCounters
{
    private long bytes;
    private int copied, mounted, skipped;
    public long Bytes => Interlocked.Read(ref bytes);
    public int CopiedCount => Volatile.Read(ref copied);
    public int MountedCount => Volatile.Read(ref mounted);
    public int SkippedCount => Volatile.Read(ref skipped);
    public void Copied(long size) { Interlocked.Increment(ref copied); Interlocked.Add(ref bytes, size); }
    public void Mounted() => Interlocked.Increment(ref mounted);
    public void Skipped() => Interlocked.Increment(ref skipped);
}
