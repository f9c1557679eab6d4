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
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _emitLock = new();
    private int _totalTags, _repositories;
    private int _doneTags, _copied, _updated, _skipped, _failed, _planned;
    private int _blobsCopied, _blobsMounted, _blobsSkipped, _manifestsWritten, _referrersCopied;
    private long _bytesMoved;
    private readonly List<string> _failures = [];
    private readonly List<string> _projectsCreated = [];

    /// <summary>Tags the run expects to finish (the progress bar's total); referrer tags found by probing add to it.</summary>
    public void ExpectTags(int count) => Interlocked.Add(ref _totalTags, count);

    /// <summary>The source repositories the run took (after discovery).</summary>
    public void Repositories(int count) => Volatile.Write(ref _repositories, count);

    public void BlobTransferred(long size)
    {
        Interlocked.Increment(ref _blobsCopied);
        Interlocked.Add(ref _bytesMoved, size);
    }

    public void BlobMounted() => Interlocked.Increment(ref _blobsMounted);
    public void BlobAlreadyPresent() => Interlocked.Increment(ref _blobsSkipped);
    public void ManifestWritten() => Interlocked.Increment(ref _manifestsWritten);
    public void ReferrerCopied() => Interlocked.Increment(ref _referrersCopied);
    public void ProjectsCreated(IEnumerable<string> projects) => _projectsCreated.AddRange(projects);

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
        lock (_emitLock)
        {
            _doneTags++;
            switch (result.Action)
            {
                case CopyAction.Copied: _copied++; break;
                case CopyAction.Updated: _updated++; break;
            }
            // A referrer tag (cosign .sig/.att/.sbom, a sha256-<hex> index) counts as a copied tag and as a referrer, so
            // the summary shows signatures came along also from registries without the referrers API.
            if (result is { Action: CopyAction.Copied or CopyAction.Updated, SubjectDigest: not null, Tag.Length: > 0 })
                Interlocked.Increment(ref _referrersCopied);
            switch (result.Action)
            {
                case CopyAction.Skipped: _skipped++; break;
                case CopyAction.Planned: _planned++; break;
                case CopyAction.Failed:
                    _failed++;
                    if (_failures.Count < 100) _failures.Add($"{result.Source}: {result.Error}");
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
        var total = Math.Max(Volatile.Read(ref _totalTags), _doneTags);
        var bytes = Interlocked.Read(ref _bytesMoved);
        var status = $"{_doneTags} of {total} tags, {ByteCount.Format(bytes)} {(context.PlanOnly ? "to move" : "moved")}, {Volatile.Read(ref _blobsMounted)} blobs mounted, {Volatile.Read(ref _blobsSkipped)} present";
        progress.Report(new OperationProgress(context.Activity, status, last?.Source, _doneTags, total));
    }

    /// <summary>The totals, reported as the run's completed progress.</summary>
    public CopySummary Complete()
    {
        var summary = Summary();
        context.Progress?.Report(new OperationProgress(context.Activity, summary.ToString(), Completed: _doneTags, Total: Math.Max(_doneTags, _totalTags), IsComplete: true));
        return summary;
    }

    /// <summary>The totals so far (also of a run a terminating failure stopped).</summary>
    public CopySummary Summary()
    {
        lock (_emitLock)
        {
            return new CopySummary
            {
                Source = string.Join(", ", context.Request.Sources),
                Destination = context.Destination.Text,
                PlanOnly = context.PlanOnly,
                Shard = context.Request.Shard.Index,
                ShardCount = context.Request.Shard.Count,
                Repositories = Volatile.Read(ref _repositories),
                Tags = _doneTags,
                Copied = _copied,
                Updated = _updated,
                Skipped = _skipped,
                Failed = _failed,
                Planned = _planned,
                BytesMoved = Interlocked.Read(ref _bytesMoved),
                BlobsCopied = _blobsCopied,
                BlobsMounted = _blobsMounted,
                BlobsSkipped = _blobsSkipped,
                ManifestsWritten = _manifestsWritten,
                ReferrersCopied = _referrersCopied,
                Elapsed = _clock.Elapsed,
                Failures = _failures.ToArray(),
                ProjectsCreated = _projectsCreated.ToArray(),
            };
        }
    }
}

/// <summary>What one tag moved; blobs shared with another tag count with the tag that moved them.</summary>
internal sealed class TagCounters
{
    private long _bytes;
    private int _copied, _mounted, _skipped;
    public long Bytes => Interlocked.Read(ref _bytes);
    public int CopiedCount => Volatile.Read(ref _copied);
    public int MountedCount => Volatile.Read(ref _mounted);
    public int SkippedCount => Volatile.Read(ref _skipped);
    public void Copied(long size) { Interlocked.Increment(ref _copied); Interlocked.Add(ref _bytes, size); }
    public void Mounted() => Interlocked.Increment(ref _mounted);
    public void Skipped() => Interlocked.Increment(ref _skipped);

    /// <summary>Adds what another counter counted (a blob moved ahead of the tag that needs it).</summary>
    public void Add(TagCounters other)
    {
        Interlocked.Add(ref _bytes, other.Bytes);
        Interlocked.Add(ref _copied, other.CopiedCount);
        Interlocked.Add(ref _mounted, other.MountedCount);
        Interlocked.Add(ref _skipped, other.SkippedCount);
    }
}
