using System.Collections.Concurrent;
using System.Diagnostics;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Waits for a blob a lower shard uploads (<see cref="LowerShardBlobs"/>) to land in one of that shard's destination
/// repositories, so this shard mounts it from there instead of moving it again: one wait per digest for the run,
/// polling with HEADs (a failed mount would open an upload session at the destination each time).
/// <para>A lower shard may be gone (its pod failed, or it was never started): the wait ends after
/// <see cref="CopyRequest.SharedBlobWait"/> without a sign of that shard (any of its blobs seen landing), or after four
/// times that in any case; then this shard uploads the blob itself and waits for nothing more from that shard.</para>
/// </summary>
internal sealed class BorrowedBlobs(CopyContext context, LowerShardBlobs lowerShards)
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromSeconds(2);
    // The lower shard lands a shared blob in the first of its repositories it copies, most often the first by name.
    private const int RepositoriesPolled = 3;

    private readonly OncePerKey<string, string?> _waits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, TimeSpan> _lastSignOf = new();
    private readonly ConcurrentDictionary<int, byte> _gone = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>
    /// The destination repository where a lower shard landed <paramref name="blob"/>; null when no lower shard needs it,
    /// or it did not land in time (this shard uploads it then).
    /// </summary>
    public async Task<string?> WaitAsync(OciDescriptor blob, CancellationToken cancellationToken)
    {
        if (await lowerShards.HomeOfAsync(blob.Digest).ConfigureAwait(false) is not { } home) return null;
        return await _waits.RunAsync(blob.Digest, () => WaitOnceAsync(blob, home, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The default wait without a sign of the lower shard: 30 seconds, and one more per 2 MiB of the blob.</summary>
    public static TimeSpan DefaultWait(long size) => TimeSpan.FromSeconds(30 + (Math.Max(0, size) / (2.0 * 1024 * 1024)));

    private async Task<string?> WaitOnceAsync(OciDescriptor blob, LowerShardBlobs.Home home, CancellationToken cancellationToken)
    {
        var wait = context.Request.SharedBlobWait ?? DefaultWait(blob.Size);
        var started = _clock.Elapsed;
        var pause = FirstPoll;
        var reported = false;
        while (true)
        {
            foreach (var repository in home.Repositories.Take(RepositoriesPolled))
                if (await LandedAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false))
                {
                    _lastSignOf[home.Shard] = _clock.Elapsed;
                    return repository;
                }
            var now = _clock.Elapsed;
            var lastSign = _lastSignOf.TryGetValue(home.Shard, out var seen) && seen > started ? seen : started;
            if (_gone.ContainsKey(home.Shard) || now - lastSign >= wait || now - started >= 4 * wait)
            {
                _gone.TryAdd(home.Shard, 0);
                return null;
            }
            if (!reported)
            {
                context.Progress?.Report(new OperationProgress(context.Activity, $"Waiting for shard {home.Shard} to upload {blob.Digest}, which it shares with this shard", home.Repositories[0]));
                reported = true;
            }
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = TimeSpan.FromTicks(Math.Min(LongestPoll.Ticks, (long)(pause.Ticks * 1.5)));
        }
    }

    private async Task<bool> LandedAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        try
        {
            var store = context.DestinationStore;
            return await context.AtDestinationAsync(() => store.HeadBlobAsync(repository, digest, cancellationToken), cancellationToken).ConfigureAwait(false) is not null;
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            // A repository the lower shard has not created yet, or one this identity may not read: not landed there.
            return false;
        }
    }
}
