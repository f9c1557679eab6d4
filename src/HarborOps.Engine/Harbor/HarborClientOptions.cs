using HarborOps.Engine.Resilience;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// Timeouts and retries of the Harbor client; the defaults suit a real Harbor, tests shorten them. The retry defaults
/// are the engine's one set of rules (<see cref="RetryRules"/>), the same as the registry client's: Harbor's API and
/// its registry share a host and its limits.
/// </summary>
public sealed record HarborClientOptions
{
    /// <summary>Retries of a GET or HEAD that met throttling, a transient server status, a timeout or a dropped connection.</summary>
    public int MaxRetries { get; init; } = Defaults.MaxRetries;
    /// <summary>First wait of the exponential backoff when Harbor names none.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = Defaults.BaseDelay;
    /// <summary>Cap of the exponential backoff.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = Defaults.MaxDelay;
    /// <summary>Longest Retry-After waited out; a longer one fails the call.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = Defaults.MaxRetryAfter;
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Harbor refuses page_size above 100 with 422.</summary>
    public int PageSize { get; init; } = 100;
    /// <summary>How often a scan wait polls the artifact's scan overview.</summary>
    public TimeSpan ScanPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    internal RetryRules RetryRules => new() { MaxRetries = MaxRetries, BaseDelay = RetryBaseDelay, MaxDelay = RetryMaxDelay, MaxRetryAfter = MaxRetryAfter };

    private static readonly RetryRules Defaults = new();
}
