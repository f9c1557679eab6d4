using HarborOps.Engine.Resilience;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// The retry handler of the registry pipeline: the session's <see cref="HostResilience"/> decides what is retried and
/// how long to wait; this adds what is the registry's own (a body that cannot be sent twice is never retried,
/// TOOMANYREQUESTS in a body counts as throttling whatever the status).
/// </summary>
internal sealed class RegistryRetries(HostResilience policy)
{
    public HostResilience Policy => policy;

    public bool IsRetried(int status) => policy.Rules.IsRetried(status);

    private long _throttled;

    /// <summary>Throttling answers (429, TOOMANYREQUESTS) received so far, waited out or not: what a load measurement reports.</summary>
    public long ThrottledAnswers => Interlocked.Read(ref _throttled);

    public bool CanRetry(RegistryCall call) => call.Retries < policy.Rules.MaxRetries && call.BodyReplayable;

    /// <summary>Waits before the next attempt; the wait holds back every request to the host.</summary>
    public Task BackOffAsync(RegistryCall call, TimeSpan? retryAfter, CancellationToken cancellationToken) =>
        policy.BackOffAsync(call.Host, call.Retries++, retryAfter, cancellationToken);

    /// <summary>
    /// A failure status: after the wait, false means "send it again"; otherwise the failure is thrown, as throttling or
    /// a server error when retries did not cure it, or as the refusal it is.
    /// </summary>
    public async Task OnFailureStatusAsync(RegistryCall call, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var error = RegistryErrorBody.Parse(await RegistryBodies.ReadQuietlyAsync(response, cancellationToken).ConfigureAwait(false), call.Sent);
        var throttled = status == 429 || error.HasCode("TOOMANYREQUESTS");
        if (throttled) Interlocked.Increment(ref _throttled);
        if (!throttled && !IsRetried(status)) throw RegistryFailures.Refused(call, status, error);
        var retryAfter = RetryRules.RetryAfterOf(response);
        call.LastRetryAfter = retryAfter ?? call.LastRetryAfter;
        call.LastProblem = $"HTTP {status}{(error.FirstCode is { } code ? " " + code : "")}";
        if (retryAfter is { } asked && !policy.Rules.WaitsOut(asked))
            throw RegistryFailures.ThrottledOrServerError(call, status, error, throttled, retryAfter,
                $"it asked to wait {asked.TotalSeconds:0} s, longer than the {policy.Rules.MaxRetryAfter.TotalSeconds:0} s this engine waits");
        if (!CanRetry(call)) throw RegistryFailures.ThrottledOrServerError(call, status, error, throttled, call.LastRetryAfter, null);
        await BackOffAsync(call, retryAfter, cancellationToken).ConfigureAwait(false);
    }
}
