using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// How the HTTP pipeline reaches registries and authenticates to them: which hosts speak plain HTTP or are ACR, the
/// connection and timeout limits, the retry policy and the token expiry skew. Part of <see cref="RegistryEngineOptions"/>,
/// apart so that the pipeline and the authenticator need nothing of the engine that composes them.
/// </summary>
public sealed record RegistryHttpOptions
{
    /// <summary>The variable that names plain-HTTP registries for the module's shared engine, comma or space separated.</summary>
    public const string PlainHttpHostsVariable = "HARBOROPS_PLAIN_HTTP_HOSTS";

    /// <summary>
    /// Hosts (host[:port]) reached over plain HTTP. Loopback hosts always are. These (and loopback) are also the only
    /// hosts an https registry may redirect to over plain http, and the only plain-http token realms credentials go to.
    /// </summary>
    public IReadOnlyCollection<string> PlainHttpHosts { get; init; } = [];

    /// <summary>
    /// Registries (host[:port]) that are Azure Container Registries although their name does not say so: a custom
    /// domain, a private endpoint reached by IP, the lab. Names ending in an ACR suffix (azurecr.io, azurecr.cn,
    /// azurecr.us, azurecr.de) need no entry. ACR registries are listed with ACR's own /acr/v1 API (a tag inventory with
    /// digests and times in one paged call) and asked for the metadata_read scope that ACR wants for listings.
    /// </summary>
    public IReadOnlyCollection<string> AcrHosts { get; init; } = [];

    /// <summary>Retries of a throttled or transient request before it fails.</summary>
    public int MaxRetries { get; init; } = 5;
    /// <summary>Longest wait the engine accepts from a Retry-After header before it gives up on that request.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Concurrent connections per registry host.</summary>
    public int MaxConnectionsPerHost { get; init; } = 16;
    /// <summary>Longest wait for a response's headers, for a buffered body such as a manifest, and between two reads of a blob; then the request is retried (a blob download resumes where it stopped).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Longest wait for a TCP/TLS connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>First retry delay of the exponential backoff used when the registry gives no Retry-After.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Cap of the exponential backoff.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Tokens are refreshed this long before they expire (at most half their lifetime).</summary>
    public TimeSpan TokenExpirySkew { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Use the system HTTP proxy settings (HTTPS_PROXY, NO_PROXY).</summary>
    public bool UseSystemProxy { get; init; } = true;
    public string UserAgent { get; init; } = "HarborOps/0.1";
    /// <summary>
    /// Decides server certificates instead of the machine's trust store: the tests' way to trust the lab's CA in process
    /// (OpenSSL reads SSL_CERT_FILE only at process start). Internal on purpose: users trust a private CA through the
    /// machine's store, and nothing outside the tests can turn verification off here.
    /// </summary>
    internal Func<X509Certificate2?, SslPolicyErrors, bool>? ServerCertificateValidator { get; init; }
}
