using System.Diagnostics;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Resilience;
using Xunit;

namespace HarborOps.Engine.Tests.Resilience;

/// <summary>The per-host side of the policy: one wait window per host, shared by every client of that host.</summary>
public sealed class HostResilienceTests
{
    private static readonly RetryRules Quick = new() { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(40), MaxRetries = 3 };

    [Fact]
    public async Task A_back_off_on_one_host_leaves_other_hosts_alone()
    {
        var policy = new HostResilience(Quick, new HostBackoff());
        var backingOff = policy.BackOffAsync("slow.example:443", 0, TimeSpan.FromMilliseconds(600), default);
        Assert.True(policy.Hosts.Remaining("slow.example:443") > TimeSpan.FromMilliseconds(400));
        Assert.Equal(TimeSpan.Zero, policy.Hosts.Remaining("other.example:443"));
        var clock = Stopwatch.StartNew();
        await policy.WaitTurnAsync("other.example:443", default);
        Assert.True(clock.ElapsedMilliseconds < 200, $"the other host waited {clock.ElapsedMilliseconds} ms");
        await backingOff;
        Assert.True(clock.ElapsedMilliseconds >= 450, $"the backing-off caller waited only {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Two_clients_over_the_same_hosts_share_the_window_whatever_their_own_rules()
    {
        var hosts = new HostBackoff();
        var harbor = new HostResilience(Quick with { MaxRetries = 1 }, hosts);
        var registry = new HostResilience(Quick, hosts);
        _ = harbor.BackOffAsync("harbor.example", 0, TimeSpan.FromMilliseconds(500), default);
        var clock = Stopwatch.StartNew();
        await registry.WaitTurnAsync("harbor.example", default);
        Assert.True(clock.ElapsedMilliseconds >= 400, $"the registry client went after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Attempts_are_retried_up_to_the_retry_count_and_then_the_failure_stands()
    {
        var policy = new HostResilience(Quick, new HostBackoff());
        var attempts = 0;
        var failed = await Assert.ThrowsAsync<IOException>(() => policy.RunAsync<bool>(_ => { attempts++; throw new IOException("dropped"); }, _ => true, default));
        Assert.Equal("dropped", failed.Message);
        Assert.Equal(Quick.MaxRetries + 1, attempts);
    }

    [Fact]
    public async Task An_attempt_that_fails_for_good_is_not_retried()
    {
        var policy = new HostResilience(Quick, new HostBackoff());
        var attempts = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => policy.RunAsync<bool>(_ => { attempts++; throw new InvalidOperationException(); }, ex => ex is IOException, default));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task An_attempt_told_to_wait_waits_its_Retry_After_and_then_succeeds()
    {
        var policy = new HostResilience(Quick, new HostBackoff());
        var clock = Stopwatch.StartNew();
        var result = await policy.RunAsync(attempt => attempt == 0
            ? throw new RegistryException(RegistryErrorIds.Throttled, FailureKind.Throttled, "slow down", "r") { RetryAfter = TimeSpan.FromMilliseconds(400) }
            : Task.FromResult(attempt), _ => true, default);
        Assert.Equal(1, result);
        Assert.True(clock.ElapsedMilliseconds >= 350, $"waited {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task An_attempt_told_to_wait_longer_than_the_policy_accepts_fails_at_once()
    {
        var policy = new HostResilience(Quick with { MaxRetryAfter = TimeSpan.FromSeconds(1) }, new HostBackoff());
        var attempts = 0;
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RegistryException>(() => policy.RunAsync<bool>(_ =>
        {
            attempts++;
            throw new RegistryException(RegistryErrorIds.Throttled, FailureKind.Throttled, "come back in an hour", "r") { RetryAfter = TimeSpan.FromHours(1) };
        }, _ => true, default));
        Assert.Equal(1, attempts);
        Assert.True(clock.ElapsedMilliseconds < 1000);
    }
}
