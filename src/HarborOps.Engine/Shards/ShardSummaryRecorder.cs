using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Shards;

/// <summary>
/// A run's <see cref="ShardSummary"/> in the making: it notes the failures as the run reports them and writes the
/// summary to -ShardSummaryPath when the run ends, also when a terminating failure stopped it (that failure first),
/// because the summary is all a Kubernetes Job keeps of a pod that failed. Without a path it does nothing.
/// </summary>
internal sealed class ShardSummaryRecorder
{
    // More never fit 4 KiB with their messages; the rest are counted.
    private const int KeptFailures = 64;
    private readonly string? _path;
    private readonly List<ShardFailure> _failures = [];
    private int _omitted;

    public ShardSummaryRecorder(string? path)
    {
        _path = path;
        Started = DateTimeOffset.UtcNow;
    }

    public DateTimeOffset Started { get; }

    /// <summary>
    /// Checks before the run that the summary can be written there (without changing what the file holds), so a wrong
    /// path stops the run before it copies anything instead of after.
    /// </summary>
    public void CheckWritable()
    {
        if (_path is null) return;
        try
        {
            using var _ = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw WriteFailed(e);
        }
    }

    public void Failure(string reference, string? errorId, string? message)
    {
        if (_path is null) return;
        lock (_failures)
        {
            if (_failures.Count < KeptFailures) _failures.Add(new ShardFailure(reference, errorId ?? "", message ?? ""));
            else _omitted++;
        }
    }

    /// <summary>
    /// Writes <paramref name="summary"/> (its counts) with the failures noted; <paramref name="stoppedBy"/>, the failure
    /// that ended the run early, goes first, named by <paramref name="runName"/>.
    /// </summary>
    public async Task WriteAsync(ShardSummary summary, string runName, Exception? stoppedBy)
    {
        if (_path is null) return;
        List<ShardFailure> failures;
        int omitted;
        lock (_failures)
        {
            failures = [.. _failures];
            omitted = _omitted;
        }
        if (stoppedBy is not null)
            failures.Insert(0, new ShardFailure(runName, (stoppedBy as HarborOpsException)?.ErrorId ?? (stoppedBy is OperationCanceledException ? "OperationCanceled" : "HarborOpsUnexpectedError"),
                stoppedBy.Message));
        var json = (summary with { Started = Started, Finished = DateTimeOffset.UtcNow, Failures = failures, FailuresOmitted = omitted }).ToJson();
        try
        {
            // Replaced whole: the kubelet reads the file once the container has ended.
            await File.WriteAllBytesAsync(_path, json, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw WriteFailed(e);
        }
    }

    private ShardException WriteFailed(Exception e) =>
        new(ShardErrorIds.SummaryWriteFailed, FailureKind.InvalidArgument,
            $"The shard summary cannot be written to '{_path}': {e.Message} Give -ShardSummaryPath a writable file (in a Kubernetes pod, /dev/termination-log).", _path, e);
}
