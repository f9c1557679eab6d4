using HarborOps.Engine.Resilience;
using Xunit;

namespace HarborOps.Engine.Tests.Resilience;

/// <summary>
/// The per-host slots: a step started first in line (a shard's upload other shards wait for, a poll a tag waits on) gets
/// the next free slot before steps that queued earlier; a waiter that is cancelled leaves the queue without a slot.
/// </summary>
public sealed class HostThrottleTests
{
    private const string Host = "registry.example.com";

    [Fact]
    public async Task A_step_first_in_line_gets_the_next_free_slot_before_steps_queued_earlier()
    {
        using var throttle = new HostThrottle(1);
        var holding = new TaskCompletionSource();
        var order = new List<string>();
        var occupant = throttle.RunAsync(Host, () => holding.Task, default);
        var ordinary = throttle.RunAsync(Host, () => { lock (order) order.Add("ordinary"); return Task.CompletedTask; }, default);
        var urgent = HostThrottle.FirstInLine(() => throttle.RunAsync(Host, () => { lock (order) order.Add("first in line"); return Task.CompletedTask; }, default));
        await Task.Delay(50);
        Assert.Empty(order);

        holding.SetResult();
        await Task.WhenAll(occupant, ordinary, urgent);

        Assert.Equal(["first in line", "ordinary"], order);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_and_the_slot_goes_to_the_next()
    {
        using var throttle = new HostThrottle(1);
        var holding = new TaskCompletionSource();
        using var cancel = new CancellationTokenSource();
        var occupant = throttle.RunAsync(Host, () => holding.Task, default);
        var ran = false;
        var cancelled = throttle.RunAsync(Host, () => { ran = true; return Task.CompletedTask; }, cancel.Token);
        var next = throttle.RunAsync(Host, () => Task.FromResult(42), default);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        holding.SetResult();

        Assert.Equal(42, await next);
        await occupant;
        Assert.False(ran);
        // Nothing leaked: both slots' worth of work still gets through one at a time.
        Assert.Equal(7, await throttle.RunAsync(Host, () => Task.FromResult(7), default));
    }

    [Fact]
    public async Task First_in_line_ends_with_its_work_and_does_not_leak_into_the_caller()
    {
        using var throttle = new HostThrottle(1);
        await HostThrottle.FirstInLine(() => Task.CompletedTask);
        var holding = new TaskCompletionSource();
        var order = new List<string>();
        var occupant = throttle.RunAsync(Host, () => holding.Task, default);
        // Queued by this (ordinary) flow after the call above: still behind a first-in-line step queued later.
        var ordinary = throttle.RunAsync(Host, () => { lock (order) order.Add("ordinary"); return Task.CompletedTask; }, default);
        var urgent = HostThrottle.FirstInLine(() => throttle.RunAsync(Host, () => { lock (order) order.Add("first in line"); return Task.CompletedTask; }, default));
        holding.SetResult();
        await Task.WhenAll(occupant, ordinary, urgent);
        Assert.Equal(["first in line", "ordinary"], order);
    }
}
