namespace HarborOps.Engine.Migration;

/// <summary>
/// How many tags a run copies at once (twice the throttle: a tag alternates between reads and writes), except that a
/// tag waiting for another shard to upload a layer leaves the count (<see cref="LeaveWhileWaiting"/>) and the run starts
/// the next tag in its place. Otherwise a shard whose first tags all wait for the same base layer would leave its
/// connections idle until that layer lands, though most of its tags need nothing from anybody.
/// <para>A tag that left finishes outside the count, and never waits to come back: a tag in the count may be waiting
/// for that tag's work (the same layer in the same repository), so coming back could wait forever. Connections stay
/// bounded by the host throttle whatever the count. Tags started and not finished, those that left included, are
/// bounded too (<see cref="UnfinishedPerPlace"/> per place): a shard whose owner of a base layer is gone would otherwise
/// start every one of its tags, each holding its manifest, while it waits.</para>
/// </summary>
internal sealed class TagsInFlight(int limit)
{
    /// <summary>How many tags may be started and not finished, per place in the count.</summary>
    internal const int UnfinishedPerPlace = 32;

    private static readonly AsyncLocal<Place?> Current = new();
    private readonly SemaphoreSlim _places = new(Math.Max(1, limit));
    private readonly SemaphoreSlim _unfinished = new(Math.Max(1, limit) * UnfinishedPerPlace);

    /// <summary>
    /// Runs <paramref name="body"/> for each item in order, at most the limit at once but for those that left. The first
    /// failure stops the items not started yet and cancels the others' token, and is what this throws once every
    /// started item has ended (as <see cref="Parallel.ForEachAsync{TSource}(IEnumerable{TSource}, ParallelOptions, Func{TSource, CancellationToken, ValueTask})"/>).
    /// </summary>
    public async Task ForEachAsync<T>(IEnumerable<T> items, Func<T, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = new List<Task>();
        try
        {
            foreach (var item in items)
            {
                await _unfinished.WaitAsync(stop.Token).ConfigureAwait(false);
                try
                {
                    await _places.WaitAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _unfinished.Release();
                    throw;
                }
                if (stop.IsCancellationRequested)
                {
                    // The place came free as a failed item ended: nothing more starts.
                    _places.Release();
                    _unfinished.Release();
                    break;
                }
                started.Add(RunAsync(item, body, stop));
                // Tens of thousands of tags: keep only what can still fail.
                if (started.Count >= 4096) started.RemoveAll(t => t.IsCompletedSuccessfully);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // A started item failed (its failure is thrown below) or the run was cancelled (thrown after them).
        }
        await Task.WhenAll(started).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Called by a tag that is about to wait for another shard: its place goes to the next tag. Does nothing outside
    /// <see cref="ForEachAsync{T}"/>, or when the tag has left already.
    /// </summary>
    public static void LeaveWhileWaiting() => Current.Value?.Leave();

    private async Task RunAsync<T>(T item, Func<T, CancellationToken, Task> body, CancellationTokenSource stop)
    {
        // Set in this method's own flow: everything the item starts sees its place, the loop above does not.
        var place = new Place(_places);
        Current.Value = place;
        try
        {
            await Task.Yield(); // the item runs beside the loop, not inside it
            await body(item, stop.Token).ConfigureAwait(false);
        }
        catch
        {
            // Synchronously, so that the loop sees it before this item's place comes free.
            stop.Cancel();
            throw;
        }
        finally
        {
            place.Leave();
            _unfinished.Release();
        }
    }

    /// <summary>One item's place in the count, given back once: when it leaves to wait, or when it ends.</summary>
    private sealed class Place(SemaphoreSlim places)
    {
        private int _left;

        public void Leave()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0) places.Release();
        }
    }
}
