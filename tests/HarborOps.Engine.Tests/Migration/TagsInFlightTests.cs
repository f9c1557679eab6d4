using HarborOps.Engine.Migration;
using Xunit;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>Tags copied at once: bounded, except those waiting for another shard, which make way for the next.</summary>
public sealed class TagsInFlightTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>How many items run at once, and the most seen.</summary>
    private sealed class Concurrency
    {
        private int _now;
        public int Most { get; private set; }

        public async Task RunAsync(Func<Task> work)
        {
            lock (this) Most = Math.Max(Most, ++_now);
            try
            {
                await work();
            }
            finally
            {
                lock (this) _now--;
            }
        }
    }

    [Fact]
    public async Task No_more_than_the_limit_run_at_once_and_every_item_runs()
    {
        var concurrency = new Concurrency();
        var ran = new List<int>();

        await new TagsInFlight(3).ForEachAsync(Enumerable.Range(0, 40), (i, _) => concurrency.RunAsync(async () =>
        {
            await Task.Delay(2);
            lock (ran) ran.Add(i);
        }), default);

        Assert.Equal(Enumerable.Range(0, 40), ran.Order());
        Assert.InRange(concurrency.Most, 1, 3);
    }

    [Fact]
    public async Task Items_waiting_for_another_shard_make_way_for_the_next_ones()
    {
        var layerLanded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var othersDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = 0;

        // The first two take both places and wait for a layer that lands only once all the others are done.
        var run = new TagsInFlight(2).ForEachAsync(Enumerable.Range(0, 10), async (i, _) =>
        {
            if (i < 2)
            {
                TagsInFlight.LeaveWhileWaiting();
                await layerLanded.Task;
                return;
            }
            await Task.Yield();
            if (Interlocked.Increment(ref done) == 8) othersDone.SetResult();
        }, default);

        await othersDone.Task.WaitAsync(Patience);
        Assert.False(run.IsCompleted);
        layerLanded.SetResult();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task Items_that_left_still_count_toward_a_ceiling_of_unfinished_items()
    {
        var layerLanded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var ceiling = 2 * TagsInFlight.UnfinishedPerPlace;
        var allAtTheCeiling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Every item waits for a layer from a shard that is gone: each leaves its place, none finishes.
        var run = new TagsInFlight(2).ForEachAsync(Enumerable.Range(0, ceiling * 3), async (i, _) =>
        {
            if (Interlocked.Increment(ref started) == ceiling) allAtTheCeiling.SetResult();
            TagsInFlight.LeaveWhileWaiting();
            await layerLanded.Task;
        }, default);

        await allAtTheCeiling.Task.WaitAsync(Patience);
        await Task.Delay(200);
        Assert.Equal(ceiling, Volatile.Read(ref started));
        layerLanded.SetResult();
        await run.WaitAsync(Patience);
        Assert.Equal(ceiling * 3, started);
    }

    [Fact]
    public async Task Leaving_twice_gives_back_one_place_and_leaving_outside_a_run_does_nothing()
    {
        TagsInFlight.LeaveWhileWaiting();
        var concurrency = new Concurrency();
        var layerLanded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = new TagsInFlight(1).ForEachAsync(Enumerable.Range(0, 12), async (i, _) =>
        {
            if (i == 0)
            {
                TagsInFlight.LeaveWhileWaiting();
                TagsInFlight.LeaveWhileWaiting();
                await layerLanded.Task;
                return;
            }
            await concurrency.RunAsync(() => Task.Delay(2));
            if (i == 11) layerLanded.SetResult();
        }, default);

        await run.WaitAsync(Patience);
        Assert.Equal(1, concurrency.Most);
    }

    [Fact]
    public async Task The_first_failure_cancels_the_started_items_starts_no_more_and_is_what_the_run_throws()
    {
        var started = new List<int>();
        var cancelled = 0;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => new TagsInFlight(2).ForEachAsync(Enumerable.Range(0, 50), async (i, token) =>
        {
            lock (started) started.Add(i);
            if (i == 1) throw new InvalidOperationException("tag 1 failed");
            try
            {
                await Task.Delay(Timeout.Infinite, token);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelled);
                throw;
            }
        }, default).WaitAsync(Patience));

        Assert.Equal("tag 1 failed", failure.Message);
        Assert.Equal([0, 1], started.Order());
        Assert.Equal(1, cancelled);
    }

    [Fact]
    public async Task A_cancelled_run_ends_its_items_and_throws_the_cancellation()
    {
        using var stop = new CancellationTokenSource();

        var run = new TagsInFlight(2).ForEachAsync(Enumerable.Range(0, 50), async (i, token) =>
        {
            if (i == 1) await stop.CancelAsync();
            await Task.Delay(Timeout.Infinite, token);
        }, stop.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
    }
}
