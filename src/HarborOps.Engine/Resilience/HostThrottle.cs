using System.Collections.Concurrent;

namespace HarborOps.Engine.Resilience;

/// <summary>
/// Bounded concurrency per registry host (ThrottleLimit): every request-sized step of a copy runs inside its host's
/// slot, so many tags in flight never become more than N simultaneous requests to one registry. Steps never hold
/// two slots at once, so the gates cannot deadlock.
/// </summary>
internal sealed class HostThrottle(int limit) : IDisposable
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.OrdinalIgnoreCase);

    public int Limit { get; } = Math.Max(1, limit);

    public async Task<T> RunAsync<T>(string host, Func<Task<T>> step, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(host, _ => new SemaphoreSlim(Limit, Limit));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await step().ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task RunAsync(string host, Func<Task> step, CancellationToken cancellationToken) =>
        await RunAsync(host, async () => { await step().ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);

    public void Dispose()
    {
        foreach (var gate in _gates.Values) gate.Dispose();
    }
}
