using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Entra;

/// <summary>An application registered in the lab tenant: client id, secret, service principal object id, the application
/// roles (Graph permissions) granted to it, and optionally a certificate credential (public part).</summary>
public sealed record EntraApplication(string ClientId, string ClientSecret, string ObjectId, IReadOnlyList<string> Roles)
{
    public X509Certificate2? Certificate { get; init; }

    // The secret stays out of test output.
    public override string ToString() => $"Entra application {ClientId} (object {ObjectId}; {string.Join(", ", Roles)})";
}

/// <summary>A token the emulator issued (the token text is kept out of ToString).</summary>
public sealed record EntraIssuedToken(string ClientId, string Scope, string Audience, DateTimeOffset ExpiresAt);

/// <summary>One request the emulator answered.</summary>
public sealed record EntraRequest(string Method, string Path, int Status);

/// <summary>
/// Microsoft Entra ID (the v2.0 endpoint) for one tenant of the lab, over https from the lab CA (Azure.Identity and MSAL
/// refuse an authority host that is not https). It answers what MSAL asks for a client-credentials sign-in: instance
/// discovery, the tenant's OpenID configuration and /{tenant}/oauth2/v2.0/token with a client secret (post or basic) or a
/// certificate-signed client assertion, with Entra's error bodies (AADSTS codes). Access tokens are RS256 JWTs for a
/// registered resource (<see cref="RegisterResource"/>: Microsoft Graph, ACR's https://containerregistry.azure.net) with
/// aud, tid, oid, appid, roles and exp, in the token version that resource accepts. One emulator serves every resource
/// of the lab, as one tenant does in Azure: ACR's /oauth2/exchange and Graph validate its tokens with <see cref="Validate"/>.
/// Sources: learn.microsoft.com/entra/identity-platform (v2-oauth2-client-creds-grant-flow, access-token-claims-reference,
/// certificate-credentials, reference-error-codes).
/// </summary>
public sealed class EntraEmulator : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly X509Certificate2 _signing;
    private readonly Dictionary<string, EntraApplication> _applications = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> _resources = new(StringComparer.Ordinal);
    private readonly List<EntraIssuedToken> _issued = [];
    private readonly List<EntraRequest> _requests = [];
    private int _tokenRequests;

    private EntraEmulator(WebApplication app, Uri authorityHost)
    {
        _app = app;
        AuthorityHost = authorityHost;
        _signing = LabTokenService.CreateSigningCertificate();
        // First-party resource principals every tenant has: Microsoft Graph (v1.0 tokens) and ACR (v2.0 tokens).
        _resources["https://graph.microsoft.com"] = 1;
        _resources["https://containerregistry.azure.net"] = 2;
    }

    /// <summary>https://127.0.0.1:PORT/, what AZURE_AUTHORITY_HOST / AuthorityHost name.</summary>
    public Uri AuthorityHost { get; }
    public string TenantId { get; } = Guid.NewGuid().ToString();
    /// <summary>The issuer of v2.0 access tokens: https://127.0.0.1:PORT/&lt;tenant&gt;/v2.0.</summary>
    public string Issuer => IssuerFor(2);
    public LabCertificateAuthority CertificateAuthority => LabCertificateAuthority.Shared;
    /// <summary>The lab CA as a PEM file, for SSL_CERT_FILE in a child process.</summary>
    public string CaBundlePath => CertificateAuthority.BundlePath;
    /// <summary>Access token lifetime (Entra's is about an hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);
    public int TokenRequestCount => Volatile.Read(ref _tokenRequests);
    public int TokensIssued { get { lock (_gate) return _issued.Count; } }
    public IReadOnlyList<EntraIssuedToken> Issued { get { lock (_gate) return _issued.ToArray(); } }
    public IReadOnlyList<EntraRequest> Requests { get { lock (_gate) return _requests.ToArray(); } }

    public static async Task<EntraEmulator> StartAsync(CancellationToken ct = default)
    {
        var builder = LabKestrel.CreateBuilder(tlsCertificate: LabCertificateAuthority.Shared.IssueLoopbackServerCertificate());
        var app = builder.Build();
        EntraEmulator? emulator = null;
        app.Run(context => emulator!.HandleAsync(context));
        await app.StartAsync(ct);
        emulator = new EntraEmulator(app, LabKestrel.BoundAddresses(app)[0]);
        return emulator;
    }

    /// <summary>A resource (an API's application ID URI) tokens may be asked for; Graph accepts v1.0 tokens, ACR v2.0.</summary>
    public void RegisterResource(string audience, int tokenVersion)
    {
        lock (_gate) _resources[audience] = tokenVersion;
    }

    /// <summary>Registers an application with a new client secret (a random client id unless given).</summary>
    public EntraApplication AddApplication(string? clientId = null, IReadOnlyList<string>? roles = null, X509Certificate2? certificate = null) =>
        RegisterApplication(clientId ?? Guid.NewGuid().ToString(), "lab~" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(), roles ?? [], certificate);

    /// <summary>Registers (or replaces) an application with this secret and these roles.</summary>
    public EntraApplication RegisterApplication(string clientId, string clientSecret, IReadOnlyList<string> roles, X509Certificate2? certificate = null)
    {
        var application = new EntraApplication(clientId, clientSecret, Guid.NewGuid().ToString(), roles) { Certificate = certificate };
        lock (_gate) _applications[clientId] = application;
        return application;
    }

    public EntraApplication? FindApplication(string clientId)
    {
        lock (_gate) return _applications.GetValueOrDefault(clientId);
    }

    public HttpMessageHandler CreateTrustingHandler() => CertificateAuthority.CreateTrustingHandler();

    /// <summary>
    /// The claims of an access token this emulator issued for <paramref name="audience"/>, or null with the reason (bad
    /// signature, another issuer, audience or tenant, expired), as the resource's own validation would decide.
    /// </summary>
    public JsonElement? Validate(string token, string audience, out string problem)
    {
        int version;
        lock (_gate) version = _resources.GetValueOrDefault(audience, 2);
        var claims = LabJwt.Validate(token, _signing, IssuerFor(version), audience, out problem);
        if (claims is { } c && (!c.TryGetProperty("tid", out var tid) || tid.GetString() != TenantId))
        {
            problem = "wrong tenant";
            return null;
        }
        return claims;
    }

    public void ClearRecords()
    {
        lock (_gate)
        {
            _issued.Clear();
            _requests.Clear();
        }
        Interlocked.Exchange(ref _tokenRequests, 0);
    }

    private string IssuerFor(int version) => version == 1
        ? $"{AuthorityHost.GetLeftPart(UriPartial.Authority)}/{TenantId}/"
        : $"{AuthorityHost.GetLeftPart(UriPartial.Authority)}/{TenantId}/v2.0";

    private async Task HandleAsync(HttpContext context)
    {
        try
        {
            await RouteAsync(context);
        }
        finally
        {
            lock (_gate) _requests.Add(new EntraRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Response.StatusCode));
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        var segments = (request.Path.Value ?? "").Trim('/').Split('/');
        var host = AuthorityHost.GetLeftPart(UriPartial.Authority);
        if (request.Method == "GET" && segments is [_, "discovery", "instance"])
        {
            // MSAL's instance discovery: the authority is its own alias and its metadata lives at the tenant's OpenID document.
            var authorize = request.Query["authorization_endpoint"].ToString();
            if (request.Query["api-version"] != "1.1" || !Uri.TryCreate(authorize, UriKind.Absolute, out var authorizeUri) || authorizeUri.Authority != AuthorityHost.Authority)
            {
                await ErrorAsync(context, 400, "invalid_instance", 50049, "Unknown or invalid instance.");
                return;
            }
            var tenant = authorizeUri.AbsolutePath.Trim('/').Split('/')[0];
            await JsonAsync(context, 200, new JsonObject
            {
                ["tenant_discovery_endpoint"] = $"{host}/{tenant}/v2.0/.well-known/openid-configuration",
                ["api-version"] = "1.1",
                ["metadata"] = new JsonArray(new JsonObject
                {
                    ["preferred_network"] = AuthorityHost.Authority, ["preferred_cache"] = AuthorityHost.Authority,
                    ["aliases"] = new JsonArray(AuthorityHost.Authority),
                }),
            });
            return;
        }
        if (segments.Length >= 1 && !IsTenant(segments[0]))
        {
            await ErrorAsync(context, 400, "invalid_tenant", 90002, $"Tenant '{segments[0]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.");
            return;
        }
        if (request.Method == "GET" && (segments[1..] is ["v2.0", ".well-known", "openid-configuration"] or [".well-known", "openid-configuration"]))
        {
            await JsonAsync(context, 200, new JsonObject
            {
                ["token_endpoint"] = $"{host}/{TenantId}/oauth2/v2.0/token",
                ["authorization_endpoint"] = $"{host}/{TenantId}/oauth2/v2.0/authorize",
                ["device_authorization_endpoint"] = $"{host}/{TenantId}/oauth2/v2.0/devicecode",
                ["issuer"] = Issuer,
                ["jwks_uri"] = $"{host}/{TenantId}/discovery/v2.0/keys",
                ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "private_key_jwt", "client_secret_basic"),
                ["response_types_supported"] = new JsonArray("code", "id_token", "code id_token", "id_token token"),
                ["subject_types_supported"] = new JsonArray("pairwise"),
                ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
                ["tenant_region_scope"] = "EU",
                ["cloud_instance_name"] = "harborops.lab",
            });
            return;
        }
        if (request.Method == "POST" && segments.Length == 4 && segments[1..] is ["oauth2", "v2.0", "token"])
        {
            await TokenAsync(context);
            return;
        }
        await ErrorAsync(context, 404, "not_found", 90027, $"The request path {request.Path} is not an Entra endpoint the lab serves.");
    }

    private bool IsTenant(string segment) => segment.Equals(TenantId, StringComparison.OrdinalIgnoreCase) || segment is "organizations";

    private async Task TokenAsync(HttpContext context)
    {
        Interlocked.Increment(ref _tokenRequests);
        if (!context.Request.HasFormContentType)
        {
            await ErrorAsync(context, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != "client_credentials")
        {
            await ErrorAsync(context, 400, "unsupported_grant_type", 70003, $"The app requested an unsupported grant type '{form["grant_type"]}'. The lab serves client_credentials.");
            return;
        }
        var clientId = form["client_id"].ToString();
        var secret = form["client_secret"].ToString();
        if (secret.Length == 0 && LabTokenService.TryParseBasic(context.Request.Headers.Authorization.ToString(), out var basicId, out var basicSecret))
            (clientId, secret) = (Uri.UnescapeDataString(basicId), Uri.UnescapeDataString(basicSecret));
        if (FindApplication(clientId) is not { } application)
        {
            await ErrorAsync(context, 400, "unauthorized_client", 700016, $"Application with identifier '{clientId}' was not found in the directory '{TenantId}'.");
            return;
        }
        if (form.ContainsKey("client_assertion"))
        {
            if (EntraClientAssertion.Problem(form, application, $"{AuthorityHost.GetLeftPart(UriPartial.Authority)}/{TenantId}/oauth2/v2.0/token") is { } assertionProblem)
            {
                await ErrorAsync(context, 401, "invalid_client", 700027, assertionProblem);
                return;
            }
        }
        else if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(application.ClientSecret)))
        {
            await ErrorAsync(context, 401, "invalid_client", 7000215, $"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.");
            return;
        }
        var scopes = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var resourceScope = scopes.FirstOrDefault(s => s.EndsWith("/.default", StringComparison.Ordinal));
        if (resourceScope is null || scopes.Any(s => s != resourceScope && s is not ("offline_access" or "openid" or "profile")))
        {
            await ErrorAsync(context, 400, "invalid_scope", 1002012, $"The provided value for scope {form["scope"]} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).");
            return;
        }
        var audience = resourceScope[..^"/.default".Length];
        int version;
        bool known;
        lock (_gate) known = _resources.TryGetValue(audience, out version);
        if (!known)
        {
            await ErrorAsync(context, 400, "invalid_resource", 500011, $"The resource principal named {audience} was not found in the tenant named {TenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.");
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var expires = now + TokenLifetime;
        var token = LabJwt.Sign(_signing, new Dictionary<string, object>
        {
            ["aud"] = audience,
            ["iss"] = IssuerFor(version),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds() - 5,
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["appid"] = application.ClientId,
            ["azp"] = application.ClientId,
            ["oid"] = application.ObjectId,
            ["sub"] = application.ObjectId,
            ["tid"] = TenantId,
            ["roles"] = application.Roles.ToArray(),
            ["idtyp"] = "app",
            ["ver"] = version == 1 ? "1.0" : "2.0",
        });
        lock (_gate) _issued.Add(new EntraIssuedToken(clientId, resourceScope, audience, expires));
        await JsonAsync(context, 200, new JsonObject
        {
            ["token_type"] = "Bearer", ["expires_in"] = (int)TokenLifetime.TotalSeconds, ["ext_expires_in"] = (int)TokenLifetime.TotalSeconds, ["access_token"] = token,
        });
    }

    private static Task ErrorAsync(HttpContext context, int status, string error, int code, string description)
    {
        var trace = Guid.NewGuid().ToString();
        var correlation = Guid.NewGuid().ToString();
        var timestamp = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return JsonAsync(context, status, new JsonObject
        {
            ["error"] = error,
            ["error_description"] = $"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}",
            ["error_codes"] = new JsonArray(code), ["timestamp"] = timestamp, ["trace_id"] = trace, ["correlation_id"] = correlation,
            ["error_uri"] = $"https://login.microsoftonline.com/error?code={code}",
        });
    }

    private static async Task JsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public override string ToString() => $"Entra emulator at {AuthorityHost} (tenant {TenantId})";
}
