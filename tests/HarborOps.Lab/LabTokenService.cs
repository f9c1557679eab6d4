using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace HarborOps.Lab;

public enum LabAnonymousAccess { None, Pull }

/// <summary>What a user may do: actions on resources of a type whose name matches a glob (<c>*</c> matches anything,
/// slashes included). The action <c>*</c> allows every action.</summary>
public sealed record LabGrant(string Type, string NamePattern, IReadOnlyList<string> Actions)
{
    public static LabGrant[] Everything =>
    [
        new("repository", "*", ["*"]),
        new("registry", "catalog", ["*"]),
    ];

    public static LabGrant Pull(string namePattern) => new("repository", namePattern, ["pull"]);
    public static LabGrant PullPush(string namePattern) => new("repository", namePattern, ["pull", "push"]);

    internal bool Covers(string type, string name) =>
        string.Equals(type, Type, StringComparison.Ordinal) &&
        Regex.IsMatch(name, "^" + Regex.Escape(NamePattern).Replace(@"\*", ".*") + "$");
}

public sealed record LabTokenServiceOptions
{
    public string Service { get; init; } = "harborops-lab-registry";
    public string Issuer { get; init; } = "harborops-lab-token-issuer";
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(5);
    public LabAnonymousAccess AnonymousAccess { get; init; } = LabAnonymousAccess.None;
    /// <summary>OAuth2 POST requires client_id per Distribution's oauth spec; keep it required unless a test says otherwise.</summary>
    public bool RequireClientIdOnPost { get; init; } = true;
    /// <summary>Signing certificate with private key; null shares one lab-wide certificate (RSA key generation is slow).</summary>
    public X509Certificate2? SigningCertificate { get; init; }
}

/// <summary>One scope as a client asked for it and what the service granted for it.</summary>
public sealed record LabAccess(string Type, string Name, IReadOnlyList<string> Actions)
{
    public override string ToString() => $"{Type}:{Name}:{string.Join(',', Actions)}";
}

/// <summary>A token the service handed out (the token text itself is kept out of ToString).</summary>
public sealed record LabIssuedToken(string Method, string? GrantType, string Subject, IReadOnlyList<string> RequestedScopes,
    IReadOnlyList<LabAccess> Granted, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, bool WithRefreshToken);

/// <summary>
/// Token server for Distribution's token auth: realm, service and issuer in the registry's config, RS256 JWTs whose
/// <c>x5c</c> header carries a self-signed certificate that the registry has as its <c>rootcertbundle</c>.
/// GET &lt;realm&gt;?service=&amp;scope=&amp;scope= with Basic or anonymous, and the OAuth2 POST form
/// (grant_type=password or refresh_token). Grants the intersection of what was asked and what the user may do.
/// </summary>
public sealed class LabTokenService : IAsyncDisposable
{
    private static readonly Lazy<X509Certificate2> SharedCertificate = new(CreateCertificate);

    private readonly WebApplication _app;
    private readonly LabTokenServiceOptions _options;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, (string Password, LabGrant[] Grants)> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _refreshTokens = new(StringComparer.Ordinal);
    private readonly List<string> _requestedScopes = [];
    private readonly List<LabIssuedToken> _issued = [];
    private int _tokensIssued;
    private int _requests;
    private long _tokenLifetimeTicks;

    private LabTokenService(WebApplication app, LabTokenServiceOptions options, X509Certificate2 certificate, Uri baseUri)
    {
        _app = app;
        _options = options;
        _certificate = certificate;
        BaseUri = baseUri;
        Realm = new Uri(baseUri, "token");
        _tokenLifetimeTicks = options.TokenLifetime.Ticks;
        AnonymousAccess = options.AnonymousAccess;
    }

    public Uri BaseUri { get; }
    public Uri Realm { get; }
    public string Service => _options.Service;
    public string Issuer => _options.Issuer;
    /// <summary>The signing certificate as PEM, for the registry's rootcertbundle.</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>Lifetime of tokens issued from now on (tests shorten it to exercise refresh).</summary>
    public TimeSpan TokenLifetime
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _tokenLifetimeTicks));
        set => Interlocked.Exchange(ref _tokenLifetimeTicks, value.Ticks);
    }

    public LabAnonymousAccess AnonymousAccess { get; set; }

    /// <summary>Every scope string requested, in arrival order (one entry per scope, space-separated ones split).</summary>
    public IReadOnlyList<string> RequestedScopes { get { lock (_requestedScopes) return _requestedScopes.ToArray(); } }
    public IReadOnlyList<LabIssuedToken> Issued { get { lock (_issued) return _issued.ToArray(); } }
    public int TokensIssued => Volatile.Read(ref _tokensIssued);
    /// <summary>Every request that reached the realm, including refused ones.</summary>
    public int RequestCount => Volatile.Read(ref _requests);

    public void AddUser(string userName, string password, params LabGrant[] grants) => _users[userName] = (password, grants);

    public void ClearRecords()
    {
        lock (_requestedScopes) _requestedScopes.Clear();
        lock (_issued) _issued.Clear();
        Interlocked.Exchange(ref _tokensIssued, 0);
        Interlocked.Exchange(ref _requests, 0);
    }

    public static async Task<LabTokenService> StartAsync(LabTokenServiceOptions? options = null, CancellationToken ct = default)
    {
        options ??= new LabTokenServiceOptions();
        var builder = LabKestrel.CreateBuilder();
        var app = builder.Build();
        LabTokenService? service = null;
        app.MapGet("/token", (Func<HttpContext, IResult>)(context => service!.HandleGet(context)));
        // The cast picks the route-handler overload, so the returned IResult is written (a RequestDelegate would drop it).
        app.MapPost("/token", (Func<HttpContext, Task<IResult>>)(context => service!.HandlePostAsync(context)));
        await app.StartAsync(ct);
        service = new LabTokenService(app, options, options.SigningCertificate ?? SharedCertificate.Value, LabKestrel.BoundAddresses(app)[0]);
        return service;
    }

    private IResult HandleGet(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var query = context.Request.Query;
        if (!ServiceMatches(query["service"])) return Error(400, "invalid_request", "unknown service");

        string subject;
        LabGrant[] grants;
        var header = context.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            subject = "";
            grants = AnonymousGrants();
        }
        else if (TryParseBasic(header, out var user, out var password) && TryAuthenticate(user, password, out grants))
        {
            subject = user;
        }
        else
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"harborops-lab-token\"";
            return Error(401, "UNAUTHORIZED", "authentication required: user name or password is wrong");
        }

        var scopes = SplitScopes(query["scope"]);
        var offline = string.Equals(query["offline_token"], "true", StringComparison.OrdinalIgnoreCase) && subject.Length > 0;
        var (token, granted, issuedAt, expiresAt) = Issue("GET", null, subject, grants, scopes, offline);
        var body = new Dictionary<string, object>
        {
            ["token"] = token,
            ["access_token"] = token,
            ["expires_in"] = (int)(expiresAt - issuedAt).TotalSeconds,
            ["issued_at"] = issuedAt.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        };
        if (offline) body["refresh_token"] = NewRefreshToken(subject);
        return Results.Json(body);
    }

    private async Task<IResult> HandlePostAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        if (!context.Request.HasFormContentType) return Error(400, "invalid_request", "expected an application/x-www-form-urlencoded body");
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!ServiceMatches(form["service"])) return Error(400, "invalid_request", "unknown service");
        if (_options.RequireClientIdOnPost && string.IsNullOrEmpty(form["client_id"])) return Error(400, "invalid_request", "client_id is required");

        var grantType = form["grant_type"].ToString();
        string subject;
        LabGrant[] grants;
        switch (grantType)
        {
            case "password":
                if (!TryAuthenticate(form["username"].ToString(), form["password"].ToString(), out grants))
                    return Error(401, "invalid_grant", "user name or password is wrong");
                subject = form["username"].ToString();
                break;
            case "refresh_token":
                if (!_refreshTokens.TryGetValue(form["refresh_token"].ToString(), out var owner) || !_users.TryGetValue(owner, out var entry))
                    return Error(401, "invalid_grant", "refresh token is unknown or revoked");
                subject = owner;
                grants = entry.Grants;
                break;
            default:
                return Error(400, "unsupported_grant_type", $"grant_type '{grantType}' is not supported");
        }

        var scopes = SplitScopes(form["scope"]);
        var offline = string.Equals(form["access_type"], "offline", StringComparison.Ordinal);
        var (token, granted, issuedAt, expiresAt) = Issue("POST", grantType, subject, grants, scopes, offline);
        var body = new Dictionary<string, object>
        {
            ["access_token"] = token,
            ["scope"] = string.Join(' ', granted.Select(g => g.ToString())),
            ["expires_in"] = (int)(expiresAt - issuedAt).TotalSeconds,
            ["issued_at"] = issuedAt.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        };
        if (offline) body["refresh_token"] = grantType == "refresh_token" ? form["refresh_token"].ToString() : NewRefreshToken(subject);
        return Results.Json(body);
    }

    private bool ServiceMatches(StringValues service) =>
        StringValues.IsNullOrEmpty(service) || string.Equals(service.ToString(), _options.Service, StringComparison.Ordinal);

    private LabGrant[] AnonymousGrants() => AnonymousAccess == LabAnonymousAccess.Pull ? [LabGrant.Pull("*")] : [];

    private bool TryAuthenticate(string user, string password, out LabGrant[] grants)
    {
        if (_users.TryGetValue(user, out var entry) &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(entry.Password), Encoding.UTF8.GetBytes(password)))
        {
            grants = entry.Grants;
            return true;
        }
        grants = [];
        return false;
    }

    internal static bool TryParseBasic(string header, out string user, out string password)
    {
        user = password = "";
        if (!AuthenticationHeaderValue.TryParse(header, out var value) ||
            !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || value.Parameter is null) return false;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
            var colon = decoded.IndexOf(':');
            if (colon < 0) return false;
            user = decoded[..colon];
            password = decoded[(colon + 1)..];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Scopes come as repeated parameters and, in the OAuth2 form, space-separated within one.</summary>
    private static List<string> SplitScopes(StringValues values) =>
        values.SelectMany(v => (v ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    /// <summary>Parses type:name:actions; the name may itself hold a colon (host:port/repo), so split on the first
    /// and the last colon.</summary>
    public static LabAccess? ParseScope(string scope)
    {
        var first = scope.IndexOf(':');
        var last = scope.LastIndexOf(':');
        if (first <= 0 || last == first) return null;
        var type = scope[..first];
        var paren = type.IndexOf('(');
        if (paren > 0) type = type[..paren]; // "repository(plugin)" names a class; the type is what matters here
        return new LabAccess(type, scope[(first + 1)..last], scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries));
    }

    internal static List<LabAccess> Grant(IEnumerable<string> scopes, IReadOnlyList<LabGrant> grants)
    {
        var granted = new List<LabAccess>();
        foreach (var scope in scopes)
        {
            var requested = ParseScope(scope);
            if (requested is null) continue;
            var allowed = grants.Where(g => g.Covers(requested.Type, requested.Name)).SelectMany(g => g.Actions).ToHashSet(StringComparer.Ordinal);
            var actions = allowed.Contains("*")
                ? requested.Actions.ToList()
                : requested.Actions.Where(a => a != "*" && allowed.Contains(a)).ToList();
            if (actions.Count == 0) continue;
            var existing = granted.FindIndex(g => g.Type == requested.Type && g.Name == requested.Name);
            if (existing >= 0)
                granted[existing] = granted[existing] with { Actions = granted[existing].Actions.Union(actions).ToList() };
            else
                granted.Add(new LabAccess(requested.Type, requested.Name, actions.Distinct().ToList()));
        }
        return granted;
    }

    private (string Token, List<LabAccess> Granted, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt) Issue(
        string method, string? grantType, string subject, LabGrant[] grants, List<string> scopes, bool withRefreshToken)
    {
        lock (_requestedScopes) _requestedScopes.AddRange(scopes);
        var granted = Grant(scopes, grants);
        var issuedAt = DateTimeOffset.UtcNow;
        var lifetime = TokenLifetime;
        var expiresAt = issuedAt + lifetime;
        var token = SignJwt(subject, granted, issuedAt, expiresAt);
        Interlocked.Increment(ref _tokensIssued);
        lock (_issued) _issued.Add(new LabIssuedToken(method, grantType, subject, scopes, granted, issuedAt, expiresAt, withRefreshToken));
        return (token, granted, issuedAt, expiresAt);
    }

    private string NewRefreshToken(string subject)
    {
        var token = "lab-refresh-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        _refreshTokens[token] = subject;
        return token;
    }

    private string SignJwt(string subject, List<LabAccess> granted, DateTimeOffset issuedAt, DateTimeOffset expiresAt) =>
        SignJwt(_certificate, _options.Issuer, _options.Service, subject, granted, issuedAt, expiresAt);

    /// <summary>The lab-wide signing certificate (with private key) that <see cref="StartAsync"/> uses by default.</summary>
    public static X509Certificate2 SharedSigningCertificate => SharedCertificate.Value;

    /// <summary>A Distribution registry token (RS256, x5c header) for other lab token services, such as the Harbor
    /// emulator's /service/token, so there is one way the lab signs tokens.</summary>
    public static string SignJwt(X509Certificate2 certificate, string issuer, string service, string subject, IReadOnlyList<LabAccess> granted,
        DateTimeOffset issuedAt, DateTimeOffset expiresAt)
    {
        var header = new Dictionary<string, object>
        {
            ["typ"] = "JWT",
            ["alg"] = "RS256",
            ["x5c"] = new[] { Convert.ToBase64String(certificate.RawData) },
        };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["sub"] = subject,
            ["aud"] = service,
            ["exp"] = expiresAt.ToUnixTimeSeconds(),
            // a few seconds of slack so a token is valid the moment it arrives even if clocks round differently
            ["nbf"] = issuedAt.ToUnixTimeSeconds() - 5,
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = granted.Select(g => new Dictionary<string, object> { ["type"] = g.Type, ["name"] = g.Name, ["actions"] = g.Actions }).ToArray(),
        };
        return SignJwt(certificate, header, claims);
    }

    /// <summary>Any RS256 JWT the lab issues (registry tokens here, Entra access tokens in the Graph emulator).</summary>
    public static string SignJwt(X509Certificate2 certificate, IReadOnlyDictionary<string, object> header, IReadOnlyDictionary<string, object> claims)
    {
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        using var rsa = certificate.GetRSAPrivateKey()!;
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    internal static string Base64UrlEncode(byte[] bytes) => Base64Url(bytes);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = code, error_description = message, errors = new[] { new { code, message } } }, statusCode: status);

    /// <summary>A new self-signed RS256 signing certificate (e.g. for a rogue issuer the registry must not trust).</summary>
    public static X509Certificate2 CreateSigningCertificate() => CreateCertificate();

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=harborops-lab-token", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public override string ToString() => $"Lab token service at {Realm} (service {Service})";
}
