using System.Collections.Concurrent;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// Per-host backoff shared by every in-flight request: when one request is told to wait (429 Retry-After, 503), all
/// requests to that host wait, because independent retries would keep the registry throttling us (ggcr #1569).
/// </summary>
internal sealed class HostBackoff
{
    private readonly ConcurrentDictionary<string, long> notBeforeTicks = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider clock;

    public HostBackoff(TimeProvider? clock = null) { this.clock = clock ?? TimeProvider.System; }

    /// <summary>Waits until the host's backoff window has passed.</summary>
    public async Task WaitAsync(string host, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 100; i++)
        {
            if (!notBeforeTicks.TryGetValue(host, out var ticks)) return;
            var wait = new DateTimeOffset(ticks, TimeSpan.Zero) - clock.GetUtcNow();
            if (wait <= TimeSpan.Zero) return;
            await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pushes the host's window out to now + delay (never pulls it in).</summary>
    public void Register(string host, TimeSpan delay)
    {
        var until = (clock.GetUtcNow() + delay).UtcTicks;
        notBeforeTicks.AddOrUpdate(host, until, (_, existing) => Math.Max(existing, until));
    }

    public TimeSpan Remaining(string host) =>
        notBeforeTicks.TryGetValue(host, out var ticks) ? new DateTimeOffset(ticks, TimeSpan.Zero) - clock.GetUtcNow() : TimeSpan.Zero;
}
