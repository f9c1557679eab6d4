using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace HarborOps.Lab;

[JsonConverter(typeof(JsonStringEnumConverter<FaultKind>))]
public enum FaultKind
{
    /// <summary>Answer with <see cref="FaultRule.StatusCode"/> (and Retry-After / a plain-text body) instead of forwarding.</summary>
    Status,
    /// <summary>Forward, then abort the connection after <see cref="FaultRule.AfterBytes"/> bytes of the response body.</summary>
    DropConnection,
    /// <summary>Forward after waiting <see cref="FaultRule.Delay"/>; with <see cref="FaultRule.AfterBytes"/> &gt; 0 the wait
    /// happens mid-body, after that many bytes.</summary>
    Slow,
    /// <summary>Answer a blob GET with 307 to the proxy's storage host, which serves the bytes from upstream.</summary>
    RedirectToStorageHost,
}

/// <summary>
/// A fault for the next <see cref="Times"/> requests whose method matches <see cref="Method"/> (null: any) and whose
/// path (without the query) matches the regex <see cref="PathPattern"/> (unanchored unless you anchor it).
/// Rules are tried in the order injected; the first live match fires.
/// </summary>
public sealed record FaultRule
{
    public const string BlobPathPattern = "^/v2/.+/blobs/sha256:[0-9a-f]{64}$";
    public const string ManifestPathPattern = "^/v2/.+/manifests/[^/]+$";
    public const string TagsListPathPattern = "^/v2/.+/tags/list$";

    public FaultKind Kind { get; init; }
    public string? Method { get; init; }
    public string PathPattern { get; init; } = ".*";
    public int Times { get; init; } = 1;
    public int StatusCode { get; init; }
    /// <summary>Raw Retry-After value: delta-seconds ("2") or an HTTP-date.</summary>
    public string? RetryAfter { get; init; }
    /// <summary>Plain-text body for a <see cref="FaultKind.Status"/> answer.</summary>
    public string? Body { get; init; }
    public long AfterBytes { get; init; }
    public TimeSpan Delay { get; init; }
    /// <summary>Match requests on the storage host (redirect target) instead of the proxy.</summary>
    public bool OnStorageHost { get; init; }

    internal bool Matches(string method, string path) =>
        (Method is null || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase)) &&
        Regex.IsMatch(path, PathPattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public static FaultRule Status(int statusCode, string pathPattern, string? method = null, int times = 1, string? retryAfter = null, string? body = null) =>
        new() { Kind = FaultKind.Status, StatusCode = statusCode, PathPattern = pathPattern, Method = method, Times = times, RetryAfter = retryAfter, Body = body };

    /// <summary>429 with <c>Retry-After: &lt;seconds&gt;</c>.</summary>
    public static FaultRule TooManyRequests(string pathPattern, TimeSpan retryAfter, string? method = null, int times = 1, string? body = null) =>
        Status(429, pathPattern, method, times, ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(), body);

    /// <summary>429 with <c>Retry-After: &lt;HTTP-date&gt;</c>.</summary>
    public static FaultRule TooManyRequestsUntil(string pathPattern, DateTimeOffset retryAt, string? method = null, int times = 1, string? body = null) =>
        Status(429, pathPattern, method, times, retryAt.ToUniversalTime().ToString("R"), body);

    public static FaultRule ServerError(string pathPattern, int statusCode = 503, string? method = null, int times = 1) =>
        Status(statusCode, pathPattern, method, times, body: $"lab fault: {statusCode}");

    public static FaultRule DropConnection(string pathPattern, long afterBytes, string? method = "GET", int times = 1) =>
        new() { Kind = FaultKind.DropConnection, PathPattern = pathPattern, AfterBytes = afterBytes, Method = method, Times = times };

    public static FaultRule Slow(string pathPattern, TimeSpan delay, string? method = null, int times = 1, long afterBytes = 0) =>
        new() { Kind = FaultKind.Slow, PathPattern = pathPattern, Delay = delay, Method = method, Times = times, AfterBytes = afterBytes };

    /// <summary>307 for blob GETs to the storage host, by default for every matching request from now on.</summary>
    public static FaultRule RedirectBlobsToStorageHost(string pathPattern = BlobPathPattern, int times = int.MaxValue) =>
        new() { Kind = FaultKind.RedirectToStorageHost, PathPattern = pathPattern, Method = "GET", Times = times };
}

/// <summary>A rule once injected: how often it fired so far.</summary>
public sealed class InjectedFault
{
    private int _remaining;
    private int _fired;

    internal InjectedFault(FaultRule rule)
    {
        Rule = rule;
        _remaining = rule.Times;
    }

    public FaultRule Rule { get; }
    public int Fired => Volatile.Read(ref _fired);
    public int Remaining => Math.Max(0, Volatile.Read(ref _remaining));

    /// <summary>Claims one firing; false once the rule is used up (safe under concurrent requests).</summary>
    internal bool TryClaim()
    {
        while (true)
        {
            var remaining = Volatile.Read(ref _remaining);
            if (remaining <= 0) return false;
            if (remaining == int.MaxValue || Interlocked.CompareExchange(ref _remaining, remaining - 1, remaining) == remaining)
            {
                Interlocked.Increment(ref _fired);
                return true;
            }
        }
    }
}

/// <summary>One request as the proxy (or its storage host) saw it.</summary>
public sealed record ProxiedRequest(string Method, string PathAndQuery, int StatusCode, DateTimeOffset StartedAt, TimeSpan Duration,
    bool HadAuthorization, string? AuthorizationScheme, FaultKind? Fault)
{
    /// <summary>Body bytes the client sent through the proxy (streamed bodies; a manifest buffered for the referrers emulation is not counted).</summary>
    public long RequestBodyBytes { get; init; }
    /// <summary>Body bytes the proxy sent back from upstream.</summary>
    public long ResponseBodyBytes { get; init; }

    public override string ToString() =>
        $"{Method} {PathAndQuery} -> {StatusCode}{(Fault is null ? "" : $" [{Fault}]")}{(HadAuthorization ? $" (auth {AuthorizationScheme})" : "")}";
}
