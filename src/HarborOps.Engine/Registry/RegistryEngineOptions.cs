using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Settings of the process-wide registry engine: what the engine itself uses (docker config, listing page size and
/// parallelism) and, in <see cref="Http"/>, what its HTTP pipeline uses. The pipeline's settings can also be set here
/// directly, so that one flat initializer configures an engine.
/// </summary>
public sealed record RegistryEngineOptions
{
    /// <summary>How registries are reached and authenticated to: hosts, timeouts, retries, TLS.</summary>
    public RegistryHttpOptions Http { get; init; } = new();

    /// <inheritdoc cref="RegistryHttpOptions.PlainHttpHostsVariable"/>
    public const string PlainHttpHostsVariable = RegistryHttpOptions.PlainHttpHostsVariable;

    /// <summary>The variable that names ACR registries without an ACR suffix for the module's shared engine, comma or space separated.</summary>
    public const string AcrHostsVariable = "HARBOROPS_ACR_HOSTS";

    /// <summary>
    /// The options of the process-wide engine the cmdlets use. Settings come from the environment so that a script, a
    /// CI job or a runbook sets them once, before the first registry call, for every cmdlet of the process.
    /// </summary>
    public static RegistryEngineOptions FromEnvironment(Func<string, string?> getVariable) => new()
    {
        PlainHttpHosts = HostList(getVariable(PlainHttpHostsVariable)),
        AcrHosts = HostList(getVariable(AcrHostsVariable)),
    };

    private static string[] HostList(string? value) =>
        (value ?? "").Split([',', ';', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Docker config.json consulted for credentials; null means $DOCKER_CONFIG/config.json or ~/.docker/config.json.</summary>
    public string? DockerConfigPath { get; init; }
    /// <summary>Page size asked for tag lists and the catalog (n=); registries may send fewer and send a Link when there is more.</summary>
    public int PageSize { get; init; } = 1000;
    /// <summary>Parallel manifest reads per Get-RegistryTag call.</summary>
    public int TagDetailParallelism { get; init; } = 8;

    /// <inheritdoc cref="RegistryHttpOptions.PlainHttpHosts"/>
    public IReadOnlyCollection<string> PlainHttpHosts { get => Http.PlainHttpHosts; init => Http = Http with { PlainHttpHosts = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.AcrHosts"/>
    public IReadOnlyCollection<string> AcrHosts { get => Http.AcrHosts; init => Http = Http with { AcrHosts = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.MaxRetries"/>
    public int MaxRetries { get => Http.MaxRetries; init => Http = Http with { MaxRetries = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.MaxRetryAfter"/>
    public TimeSpan MaxRetryAfter { get => Http.MaxRetryAfter; init => Http = Http with { MaxRetryAfter = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.MaxConnectionsPerHost"/>
    public int MaxConnectionsPerHost { get => Http.MaxConnectionsPerHost; init => Http = Http with { MaxConnectionsPerHost = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.RequestTimeout"/>
    public TimeSpan RequestTimeout { get => Http.RequestTimeout; init => Http = Http with { RequestTimeout = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.ConnectTimeout"/>
    public TimeSpan ConnectTimeout { get => Http.ConnectTimeout; init => Http = Http with { ConnectTimeout = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.RetryBaseDelay"/>
    public TimeSpan RetryBaseDelay { get => Http.RetryBaseDelay; init => Http = Http with { RetryBaseDelay = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.RetryMaxDelay"/>
    public TimeSpan RetryMaxDelay { get => Http.RetryMaxDelay; init => Http = Http with { RetryMaxDelay = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.TokenExpirySkew"/>
    public TimeSpan TokenExpirySkew { get => Http.TokenExpirySkew; init => Http = Http with { TokenExpirySkew = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.UseSystemProxy"/>
    public bool UseSystemProxy { get => Http.UseSystemProxy; init => Http = Http with { UseSystemProxy = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.UserAgent"/>
    public string UserAgent { get => Http.UserAgent; init => Http = Http with { UserAgent = value }; }
    /// <inheritdoc cref="RegistryHttpOptions.ServerCertificateValidator"/>
    internal Func<X509Certificate2?, SslPolicyErrors, bool>? ServerCertificateValidator
    {
        get => Http.ServerCertificateValidator;
        init => Http = Http with { ServerCertificateValidator = value };
    }
}
