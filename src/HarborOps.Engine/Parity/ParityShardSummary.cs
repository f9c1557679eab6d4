using HarborOps.Engine.Errors;
using HarborOps.Engine.Shards;
using HarborOps.Models;

namespace HarborOps.Engine.Parity;

/// <summary>
/// A comparison's <see cref="ShardSummary"/> (-ShardSummaryPath): its differences are the summary's failures (reference
/// the destination item, errorId the difference's kind or its error id, message its detail), written however the
/// comparison ends. For parity, "skipped" counts the equal tags.
/// </summary>
internal static class ParityShardSummary
{
    public static async Task<ParitySummary> RunAsync(ParityRequest request, Func<Action<ParityDifference>, Action<HarborOpsException>?, ParityRun> newRun,
        Action<ParityDifference> onDifference, Action<HarborOpsException>? onFailure, CancellationToken cancellationToken)
    {
        var recorder = new ShardSummaryRecorder(request.ShardSummaryPath);
        recorder.CheckWritable();
        var differences = 0;
        var failed = 0;
        var run = newRun(difference =>
        {
            if (difference.Kind != ParityDifferenceKind.Equal)
            {
                Interlocked.Increment(ref differences);
                recorder.Failure(difference.DestinationReference.Length > 0 ? difference.DestinationReference : difference.Source,
                    difference.ErrorId ?? difference.Kind.ToString(), difference.Detail);
            }
            onDifference(difference);
        }, failure =>
        {
            Interlocked.Increment(ref failed);
            recorder.Failure($"{failure.Target}", failure.ErrorId, failure.Message);
            onFailure?.Invoke(failure);
        });
        var runName = string.Join(", ", request.Sources);
        ParitySummary summary;
        try
        {
            summary = await run.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception stoppedBy)
        {
            await recorder.WriteAsync(Of(request) with { Differences = Volatile.Read(ref differences), Failed = Volatile.Read(ref failed) }, runName, stoppedBy).ConfigureAwait(false);
            throw;
        }
        await recorder.WriteAsync(Of(request) with
        {
            Repositories = summary.RepositoriesCompared,
            Tags = summary.TagsCompared,
            Skipped = summary.Equal,
            Differences = summary.Differences,
            Failed = Volatile.Read(ref failed),
        }, runName, null).ConfigureAwait(false);
        return summary;
    }

    private static ShardSummary Of(ParityRequest request) =>
        new() { Kind = ShardSummaryKind.Parity, ShardIndex = request.Shard.Index, ShardCount = request.Shard.Count };
}
