using System.Collections.Concurrent;
using System.Diagnostics;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Resilience;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Waits for a blob another shard uploads (its owner, see <see cref="ShardedBlobOwners"/>) to land at the destination,
/// so this shard mounts it from there instead of moving it again: one wait per digest for the run, polling with HEADs
/// (a failed mount would open an upload session at the destination each time) the repository the owner uploads it into,
/// and now and then the owner's next one and the first repository of each other shard that needs it.
/// <para>The owner may be gone (its pod failed, it has not started yet, or it is never started): the wait ends after
/// <see cref="CopyRequest.SharedBlobWait"/> without a sign of that shard (any of its blobs seen landing), or after four
/// times that in any case; then this shard uploads the blob itself and waits for nothing more from that shard.</para>
/// </summary>
internal sealed class BorrowedBlobs(CopyContext context, ShardedBlobOwners owners)
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromSeconds(1);
    private const int WholeLookEvery = 4;

    private readonly OncePerKey<string, string?> _waits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, TimeSpan> _lastSignOf = new();
    private readonly ConcurrentDictionary<int, byte> _gone = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>
    /// The destination repository where another shard landed <paramref name="blob"/>; null when this shard uploads it
    /// (no other shard owns it, or it did not land in time).
    /// </summary>
    public async Task<string?> WaitAsync(OciDescriptor blob, CancellationToken cancellationToken)
    {
        if (await owners.HomeOfAsync(blob.Digest).ConfigureAwait(false) is not { } home) return null;
        var waiting = _waits.RunAsync(blob.Digest, () => WaitOnceAsync(blob, home, cancellationToken));
        // The tag's place goes to a tag that can work meanwhile (every tag waiting for this blob leaves, not just the first).
        if (!waiting.IsCompleted && home.Shard != context.Request.Shard.Index) TagsInFlight.LeaveWhileWaiting();
        return await waiting.ConfigureAwait(false);
    }

    /// <summary>Whether other shards wait for this shard to upload <paramref name="digest"/> (it owns a shared blob).</summary>
    public async Task<bool> OthersWaitForAsync(string digest) =>
        await owners.HomeOfAsync(digest).ConfigureAwait(false) is { } home && home.Shard == context.Request.Shard.Index;

    /// <summary>
    /// Before an upload of this shard's own: the uploads other shards wait for (started first in line) go first.
    /// </summary>
    public Task BeforeOwnUploadAsync() => HostThrottle.IsFirstInLine ? Task.CompletedTask : owners.OwnedUploadsStarted;

    /// <summary>The default wait without a sign of the owner: 30 seconds, and one more per 2 MiB of the blob.</summary>
    private static TimeSpan DefaultWait(long size) => TimeSpan.FromSeconds(30 + (Math.Max(0, size) / (2.0 * 1024 * 1024)));

    private async Task<string?> WaitOnceAsync(OciDescriptor blob, ShardedBlobOwners.Home home, CancellationToken cancellationToken)
    {
        // This shard owns it: it only looks whether a shard that gave up waiting for it has put it there already.
        var owned = home.Shard == context.Request.Shard.Index;
        var wait = context.Request.SharedBlobWait ?? DefaultWait(blob.Size);
        var started = _clock.Elapsed;
        var pause = FirstPoll;
        var reported = false;
        for (var round = 0; ; round++)
        {
            // The owner uploads into its first repository, so every look goes there; the other places are for rarer cases
            // (the owner's own first upload failed, or a shard that gave up waiting put it in its own repository) and are
            // looked at every few rounds: each HEAD holds a connection, first in line, that an upload could have had.
            var places = round % WholeLookEvery == 0 ? home.Repositories : home.Repositories.Take(1);
            foreach (var repository in places)
                if (await LandedAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false))
                {
                    _lastSignOf[home.Shard] = _clock.Elapsed;
                    return repository;
                }
            if (owned) return null;
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
            // A HEAD is short, and tags wait on its answer: it does not queue behind this shard's uploads.
            var store = context.DestinationStore;
            return await HostThrottle.FirstInLine(() => context.AtDestinationAsync(() => store.HeadBlobAsync(repository, digest, cancellationToken), cancellationToken)).ConfigureAwait(false) is not null;
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            // A repository the owner has not created yet, or one this identity may not read: not landed there.
            return false;
        }
    }
}
