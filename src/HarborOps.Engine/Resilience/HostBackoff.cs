using System.Collections.Concurrent;

namespace HarborOps.Engine.Resilience;

/// <summary>
/// Per-host backoff shared by every in-flight request: when one request is told to wait (429 Retry-After, 503), all
/// requests to that host wait, because independent retries would keep the registry throttling us (ggcr #1569). Hosts
/// are keyed by authority (host, and port unless it is the scheme's default), so Harbor's /api and /v2 share one window.
/// </summary>
internal sealed class HostBackoff
{
    /// <summary>
    /// The windows of this process, that is of the PowerShell session: the cmdlets' registry engine and every Harbor
    /// client made per command wait on the same window of a host, as regclient's per-host client does.
    /// </summary>
    public static HostBackoff Session { get; } = new();

    private readonly ConcurrentDictionary<string, long> _notBeforeTicks = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _clock;

    public HostBackoff(TimeProvider? clock = null) { this._clock = clock ?? TimeProvider.System; }

    /// <summary>Waits until the host's backoff window has passed.</summary>
    public async Task WaitAsync(string host, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 100; i++)
        {
            if (!_notBeforeTicks.TryGetValue(host, out var ticks)) return;
            var wait = new DateTimeOffset(ticks, TimeSpan.Zero) - _clock.GetUtcNow();
            if (wait <= TimeSpan.Zero) return;
            await Task.Delay(wait, _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pushes the host's window out to now + delay (never pulls it in).</summary>
    public void Register(string host, TimeSpan delay)
    {
        var until = (_clock.GetUtcNow() + delay).UtcTicks;
        _notBeforeTicks.AddOrUpdate(host, until, (_, existing) => Math.Max(existing, until));
    }

    public TimeSpan Remaining(string host) =>
        _notBeforeTicks.TryGetValue(host, out var ticks) ? new DateTimeOffset(ticks, TimeSpan.Zero) - _clock.GetUtcNow() : TimeSpan.Zero;
}
