using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace HarborOps.Lab.Acr;

/// <summary>An application registered in the lab tenant: its client id, secret and service principal object id.</summary>
public sealed record LabEntraApplication(string ClientId, string ClientSecret, string ObjectId)
{
    // The secret stays out of test output.
    public override string ToString() => $"Entra application {ClientId} (object {ObjectId})";
}

/// <summary>A token the endpoint issued (the token text is kept out of ToString).</summary>
public sealed record LabEntraIssuedToken(string ClientId, string Scope, string Audience, DateTimeOffset ExpiresAt);

/// <summary>
/// A minimal Microsoft Entra ID (v2.0 endpoint) for one tenant, over https on loopback, so that Azure.Identity and MSAL
/// run for real against it: the OpenID configuration and instance discovery documents MSAL asks for, and the token
/// endpoint with the client-credentials grant (client secret). Access tokens are RS256 JWTs whose audience is the
/// resource of the requested <c>.default</c> scope; <see cref="Validate"/> is what a resource (the ACR emulator's
/// /oauth2/exchange) uses to check them.
/// Why https with a self-signed certificate: Azure.Identity refuses an authority host that is not https. Clients trust
/// the lab's certificate explicitly (<see cref="CreateTrustingHandler"/> for an Azure.Core transport in-process, or the
/// PEM file <see cref="CaBundlePath"/> as SSL_CERT_FILE for a child process), never by turning validation off.
/// </summary>
public sealed class LabEntraTokenEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _signing;
    private readonly ConcurrentDictionary<string, LabEntraApplication> _applications = new(StringComparer.Ordinal);
    private readonly List<LabEntraIssuedToken> _issued = [];
    private int _tokenRequests;

    private LabEntraTokenEndpoint(WebApplication app, LabCertificateAuthority certificateAuthority, X509Certificate2 signing, Uri authorityHost, string tenantId)
    {
        _app = app;
        CertificateAuthority = certificateAuthority;
        _signing = signing;
        AuthorityHost = authorityHost;
        TenantId = tenantId;
    }

    /// <summary>https://127.0.0.1:PORT/, what AZURE_AUTHORITY_HOST / AuthorityHost name.</summary>
    public Uri AuthorityHost { get; }
    public string TenantId { get; }
    /// <summary>The issuer of access tokens: https://127.0.0.1:PORT/&lt;tenant&gt;/v2.0.</summary>
    public string Issuer => new Uri(AuthorityHost, $"{TenantId}/v2.0").AbsoluteUri;
    /// <summary>The lab CA that issued the endpoint's TLS certificate.</summary>
    public LabCertificateAuthority CertificateAuthority { get; }
    /// <summary>The lab CA as a PEM file, for SSL_CERT_FILE in a child process.</summary>
    public string CaBundlePath => CertificateAuthority.BundlePath;
    public int TokenRequestCount => Volatile.Read(ref _tokenRequests);
    public IReadOnlyList<LabEntraIssuedToken> Issued { get { lock (_issued) return _issued.ToArray(); } }
    /// <summary>Access token lifetime (Entra's is about an hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public static async Task<LabEntraTokenEndpoint> StartAsync(CancellationToken ct = default)
    {
        var authority = LabCertificateAuthority.Shared;
        var signing = LabTokenService.CreateSigningCertificate();
        var builder = LabKestrel.CreateBuilder(tlsCertificate: authority.IssueLoopbackServerCertificate());
        var app = builder.Build();
        LabEntraTokenEndpoint? endpoint = null;
        app.Run(context => endpoint!.HandleAsync(context));
        await app.StartAsync(ct);
        var address = LabKestrel.BoundAddresses(app)[0];
        endpoint = new LabEntraTokenEndpoint(app, authority, signing, address, Guid.NewGuid().ToString());
        return endpoint;
    }

    /// <summary>Registers an application (service principal) with a new client secret.</summary>
    public LabEntraApplication AddApplication(string? clientId = null)
    {
        var application = new LabEntraApplication(clientId ?? Guid.NewGuid().ToString(), "lab~" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(),
            Guid.NewGuid().ToString());
        _applications[application.ClientId] = application;
        return application;
    }

    /// <summary>A handler that trusts the lab CA, for an Azure.Core HttpClientTransport.</summary>
    public HttpMessageHandler CreateTrustingHandler() => CertificateAuthority.CreateTrustingHandler();

    /// <summary>
    /// The claims of an access token this endpoint issued for <paramref name="audience"/>, or null with the reason (bad
    /// signature, another issuer or audience, expired).
    /// </summary>
    public JsonElement? Validate(string token, string audience, out string problem) => LabJwt.Validate(token, _signing, Issuer, audience, out problem);

    public void ClearRecords()
    {
        lock (_issued) _issued.Clear();
        Interlocked.Exchange(ref _tokenRequests, 0);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var tenantPrefix = "/" + TenantId + "/";
        if (context.Request.Method == "GET" && (path == tenantPrefix + "v2.0/.well-known/openid-configuration" || path == tenantPrefix + ".well-known/openid-configuration"))
        {
            var authority = new Uri(AuthorityHost, TenantId + "/").AbsoluteUri;
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
            {
                ["token_endpoint"] = authority + "oauth2/v2.0/token",
                ["authorization_endpoint"] = authority + "oauth2/v2.0/authorize",
                ["device_authorization_endpoint"] = authority + "oauth2/v2.0/devicecode",
                ["issuer"] = Issuer,
                ["jwks_uri"] = authority + "discovery/v2.0/keys",
                ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "private_key_jwt", "client_secret_basic" },
                ["response_types_supported"] = new[] { "code", "id_token", "code id_token", "id_token token" },
                ["tenant_region_scope"] = "NA",
                ["cloud_instance_name"] = "harborops.lab",
            });
            return;
        }
        if (context.Request.Method == "GET" && path.EndsWith("/discovery/instance", StringComparison.Ordinal))
        {
            // MSAL's instance discovery: the lab host is its own (only) alias.
            var host = AuthorityHost.Authority;
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
            {
                ["tenant_discovery_endpoint"] = new Uri(AuthorityHost, $"{TenantId}/v2.0/.well-known/openid-configuration").AbsoluteUri,
                ["api-version"] = "1.1",
                ["metadata"] = new[] { new { preferred_network = host, preferred_cache = host, aliases = new[] { host } } },
            });
            return;
        }
        if (context.Request.Method == "POST" && path == tenantPrefix + "oauth2/v2.0/token")
        {
            await TokenAsync(context);
            return;
        }
        context.Response.StatusCode = 404;
        await context.Response.WriteAsJsonAsync(new { error = "not_found", error_description = $"The lab Entra endpoint has no {path}." });
    }

    private async Task TokenAsync(HttpContext context)
    {
        Interlocked.Increment(ref _tokenRequests);
        if (!context.Request.HasFormContentType)
        {
            await ErrorAsync(context, 400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.");
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != "client_credentials")
        {
            await ErrorAsync(context, 400, "unsupported_grant_type", $"AADSTS70003: The lab supports only client_credentials, not '{form["grant_type"]}'.");
            return;
        }
        var clientId = form["client_id"].ToString();
        var secret = form["client_secret"].ToString();
        if (secret.Length == 0 && LabTokenService.TryParseBasic(context.Request.Headers.Authorization.ToString(), out var basicId, out var basicSecret))
            (clientId, secret) = (Uri.UnescapeDataString(basicId), Uri.UnescapeDataString(basicSecret));
        if (!_applications.TryGetValue(clientId, out var application))
        {
            await ErrorAsync(context, 400, "unauthorized_client", $"AADSTS700016: Application with identifier '{clientId}' was not found in the directory '{TenantId}'.");
            return;
        }
        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(application.ClientSecret)))
        {
            await ErrorAsync(context, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
            return;
        }
        var scopes = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var resourceScope = scopes.FirstOrDefault(s => s.EndsWith("/.default", StringComparison.Ordinal));
        if (resourceScope is null || scopes.Any(s => s != resourceScope && s is not ("offline_access" or "openid" or "profile")))
        {
            await ErrorAsync(context, 400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.");
            return;
        }
        var audience = resourceScope[..^"/.default".Length];
        var now = DateTimeOffset.UtcNow;
        var expires = now + TokenLifetime;
        var token = LabJwt.Sign(_signing, new Dictionary<string, object>
        {
            ["aud"] = audience,
            ["iss"] = Issuer,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds() - 5,
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["appid"] = application.ClientId,
            ["azp"] = application.ClientId,
            ["oid"] = application.ObjectId,
            ["sub"] = application.ObjectId,
            ["tid"] = TenantId,
            ["idtyp"] = "app",
            ["ver"] = "2.0",
        });
        lock (_issued) _issued.Add(new LabEntraIssuedToken(clientId, resourceScope, audience, expires));
        await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
            ["ext_expires_in"] = (int)TokenLifetime.TotalSeconds,
            ["access_token"] = token,
        });
    }

    private Task ErrorAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["error"] = error,
            ["error_description"] = description,
            ["error_codes"] = new[] { int.Parse(description[6..description.IndexOf(':')]) },
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ssZ"),
            ["trace_id"] = Guid.NewGuid().ToString(),
            ["correlation_id"] = Guid.NewGuid().ToString(),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public override string ToString() => $"Lab Entra endpoint at {AuthorityHost} (tenant {TenantId})";
}
