using HarborOps.Engine.Migration;
using Xunit;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>The copier's do-once-per-key table: one run per key, shared by concurrent callers, and a failed run kept.</summary>
public sealed class OncePerKeyTests
{
    [Fact]
    public async Task Concurrent_callers_of_one_key_share_one_run_and_other_keys_run_on_their_own()
    {
        var once = new OncePerKey<string, int>(StringComparer.Ordinal);
        var runs = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<int> Run()
        {
            Interlocked.Increment(ref runs);
            await release.Task;
            return 42;
        }

        // Sixteen threads of their own (a barrier would starve the pool on a small machine) ask at the same moment.
        using var ready = new Barrier(16);
        var callers = Enumerable.Range(0, 16).Select(_ => Task.Factory.StartNew(() =>
        {
            ready.SignalAndWait();
            return once.RunAsync("sha256:a", Run);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();
        var shared = await Task.WhenAll(callers);
        _ = Assert.Single(shared.Distinct()); // the one shared task, not awaited here: it must still be running
        Assert.False(shared[0].IsCompleted);
        release.SetResult();
        Assert.All(await Task.WhenAll(shared), value => Assert.Equal(42, value));
        Assert.Equal(1, runs);

        Assert.Equal(42, await once.RunAsync("sha256:b", Run));
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task A_failed_run_is_kept_and_later_callers_get_the_same_failure_without_running_again()
    {
        var once = new OncePerKey<string, int>();
        var runs = 0;
        var failing = once.RunAsync("k", async () =>
        {
            Interlocked.Increment(ref runs);
            await Task.Yield();
            throw new InvalidOperationException("refused");
        });
        var first = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => once.RunAsync("k", () => Task.FromResult(Interlocked.Increment(ref runs))));
        Assert.Same(first, again);
        Assert.Equal(1, runs);
    }

    [Fact]
    public void Work_that_throws_before_returning_a_task_is_kept_the_same_way()
    {
        var once = new OncePerKey<string, int>();
        var runs = 0;
        Func<Task<int>> broken = () => { Interlocked.Increment(ref runs); throw new InvalidOperationException("at once"); };
        var first = Assert.Throws<InvalidOperationException>(() => { _ = once.RunAsync("k", broken); });
        var again = Assert.Throws<InvalidOperationException>(() => { _ = once.RunAsync("k", broken); });
        Assert.Same(first, again);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task The_caller_whose_work_runs_is_told_so_and_the_others_join_it()
    {
        var once = new OncePerKey<string, string>();
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var mine = once.RunAsync("d", () => release.Task, out var startedHere);
        var theirs = once.RunAsync("d", () => Task.FromResult("never"), out var startedThere);
        Assert.True(startedHere);
        Assert.False(startedThere);
        release.SetResult("landed");
        Assert.Equal("landed", await theirs);
        Assert.Same(mine, theirs);
    }

    [Fact]
    public async Task A_result_added_another_way_is_used_and_does_not_replace_a_run()
    {
        var once = new OncePerKey<string, string>();
        Assert.False(once.TryGetRun("m", out _));
        Assert.True(once.TryAddResult("m", "by tag"));
        Assert.False(once.TryAddResult("m", "later"));
        Assert.True(once.TryGetRun("m", out var run));
        Assert.Equal("by tag", await run);
        Assert.Equal("by tag", await once.RunAsync("m", () => Task.FromResult("by digest")));
    }

    [Fact]
    public async Task Work_without_a_result_runs_once_per_key_and_keeps_its_failure()
    {
        var once = new OncePerKey<object>();
        var key = new object();
        var runs = 0;
        async Task Fail()
        {
            Interlocked.Increment(ref runs);
            await Task.Yield();
            throw new TimeoutException();
        }
        await Assert.ThrowsAsync<TimeoutException>(() => once.RunAsync(key, Fail));
        await Assert.ThrowsAsync<TimeoutException>(() => once.RunAsync(key, Fail));
        Assert.Equal(1, runs);
        await once.RunAsync(new object(), () => Task.CompletedTask);
        Assert.Equal(1, runs);
    }
}
