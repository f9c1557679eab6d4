using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Resilience;

/// <summary>
/// The resilience policy of one HTTP client: its <see cref="RetryRules"/> over per-host wait windows that every client
/// of the session shares (regclient's per-host client holds backoff, auth and throttle together the same way). A 429
/// with Retry-After that Harbor's API sends opens the window of that host for the registry client too, and the other
/// way round. The per-host concurrency limit of a copy is <see cref="HostThrottle"/>, sized by the run's ThrottleLimit.
/// </summary>
internal sealed class HostResilience
{
    public HostResilience(RetryRules rules, HostBackoff hosts)
    {
        Rules = rules;
        Hosts = hosts;
    }

    public RetryRules Rules { get; }

    /// <summary>The wait windows, by host authority (shared: <see cref="HostBackoff.Session"/> for the cmdlets).</summary>
    public HostBackoff Hosts { get; }

    /// <summary>Waits until the host's window (opened by any client of the session) has passed.</summary>
    public Task WaitTurnAsync(string host, CancellationToken cancellationToken) => Hosts.WaitAsync(host, cancellationToken);

    /// <summary>
    /// Opens (or pushes out) the host's window by what the server asked for, or by the backoff of this retry, and waits
    /// it out; every other request to the host waits with it.
    /// </summary>
    public async Task BackOffAsync(string host, int retry, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        Hosts.Register(host, retryAfter ?? Rules.BackoffDelay(retry));
        await Hosts.WaitAsync(host, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs an operation that spans several requests (a blob transfer: download and upload) under the rules: a failure
    /// <paramref name="isWorthRetrying"/> accepts is tried again up to <see cref="RetryRules.MaxRetries"/> times, after
    /// the Retry-After the failure carries or the backoff. Each request inside already waited on its host's window and
    /// opened it when told to wait, so this wait is the operation's own and opens no window.
    /// </summary>
    /// <param name="attempt">One try; gets the number of tries before it (0 first).</param>
    /// <param name="isWorthRetrying">Whether a failure is transient, so the operation is worth another try.</param>
    /// <param name="cancellationToken">Ends the waiting and the tries.</param>
    public async Task<T> RunAsync<T>(Func<int, Task<T>> attempt, Func<Exception, bool> isWorthRetrying, CancellationToken cancellationToken)
    {
        for (var tries = 0; ; tries++)
        {
            try
            {
                return await attempt(tries).ConfigureAwait(false);
            }
            catch (Exception ex) when (tries < Rules.MaxRetries && !cancellationToken.IsCancellationRequested && isWorthRetrying(ex)
                && (RetryAfterOf(ex) is not { } asked || Rules.WaitsOut(asked)))
            {
                await Task.Delay(RetryAfterOf(ex) ?? Rules.BackoffDelay(tries), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static TimeSpan? RetryAfterOf(Exception ex) => (ex as RegistryException)?.RetryAfter;
}
