using System.Net.Http.Headers;

namespace HarborOps.Engine.Resilience;

/// <summary>
/// Which failures are tried again, how often and how long the engine waits in between: one set of rules for the registry
/// pipeline, the Harbor client and blob transfers. Callers differ only in the numbers their options set (tests shorten
/// them) and in which requests they may send twice (Harbor retries only GET and HEAD).
/// </summary>
/// <remarks>
/// Why these rules: before, registries got 408/429/499/500/502/503/504/522 with 5 retries and a 30 s cap, and Harbor's
/// API 429/502/503/504 with 3 retries and a 20 s cap. Harbor's /api and /v2 are one host behind one proxy and one rate
/// limit, so its API fails the way its registry does: the wider set and the longer budget now hold for both. 408 and
/// 499 are a proxy or load balancer giving up on a slow upstream, 500 is often a registry's storage back end hiccuping,
/// 522 is a CDN that could not reach the origin; none of them says the request was wrong. A Retry-After is honoured as
/// the server asks (Harbor's client used to cut it to its cap, which only earned another 429) up to
/// <see cref="MaxRetryAfter"/>; a longer ask fails the request at once with the wait in the error, rather than stalling
/// a run for an hour.
/// </remarks>
internal sealed record RetryRules
{
    /// <summary>Statuses that say "later" rather than "no": throttling, timeouts of proxies, transient server failures.</summary>
    public static readonly IReadOnlySet<int> RetriedStatuses = new HashSet<int> { 408, 429, 499, 500, 502, 503, 504, 522 };

    /// <summary>Tries after the first one.</summary>
    public int MaxRetries { get; init; } = 5;
    /// <summary>The first wait of the exponential backoff when the server names none.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>The cap of the exponential backoff.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The longest Retry-After waited out; a longer one fails the request.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);

    public bool IsRetried(int status) => RetriedStatuses.Contains(status);

    public bool WaitsOut(TimeSpan retryAfter) => retryAfter <= MaxRetryAfter;

    /// <summary>Exponential backoff with ±20 % jitter, so that parallel clients do not retry in lockstep.</summary>
    public TimeSpan BackoffDelay(int retry)
    {
        var baseMs = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 20));
        var capped = Math.Min(baseMs, MaxDelay.TotalMilliseconds);
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return TimeSpan.FromMilliseconds(capped * jitter);
    }

    /// <summary>The wait a response asks for: Retry-After in seconds or as an HTTP-date; never negative.</summary>
    public static TimeSpan? RetryAfterOf(HttpResponseMessage response) => RetryAfterOf(response.Headers.RetryAfter, DateTimeOffset.UtcNow);

    public static TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header is null) return null;
        if (header.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
