using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using HarborOps.Lab.Contracts;
using HarborOps.Lab.Entra;
using Microsoft.AspNetCore.Http.Features;

namespace HarborOps.Lab.Acr;

public sealed record AcrEmulatorOptions
{
    /// <summary>The admin user (ACR names it after the registry); its password is random when null.</summary>
    public string AdminUser { get; init; } = "labacr";
    public string? AdminPassword { get; init; }
    /// <summary>Registry-wide anonymous pull (az acr update --anonymous-pull-enabled): pulls and listings (catalog, tags, manifests), no writes.</summary>
    public bool AnonymousPull { get; init; }
    /// <summary>ACR access tokens live about 75 minutes (read from their JWT exp; the response has no expires_in).</summary>
    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromMinutes(75);
    /// <summary>ACR refresh tokens from /oauth2/exchange live about 3 hours.</summary>
    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromHours(3);
    /// <summary>Largest page /acr/v1 listings and /v2 tag lists return, whatever n asks.</summary>
    public int MaxPageSize { get; init; } = 100;
    /// <summary>The Entra endpoint whose tokens /oauth2/exchange accepts; null starts one for this emulator.</summary>
    public EntraEmulator? Entra { get; init; }
}

/// <summary>ACR's lock and visibility switches of a repository item (a tag or a manifest).</summary>
public sealed record AcrChangeableAttributes(bool DeleteEnabled = true, bool WriteEnabled = true, bool ReadEnabled = true, bool ListEnabled = true)
{
    public static readonly AcrChangeableAttributes Default = new();
}

/// <summary>
/// One answer of ACR's own API (/oauth2/*, /acr/v1/*) as sent, for the judges that hold it to ACR's data-plane swagger, or
/// of the referrers API the emulator serves itself (/v2/&lt;name&gt;/referrers/&lt;digest&gt;, held to the OCI specs).
/// The path is as the client sent it (a repository's '/' may come encoded or not).
/// </summary>
public sealed record AcrExchange(string Method, string Path, string Query, int Status, string? ResponseContentType, string ResponseBody)
{
    /// <summary>The OCI-Filters-Applied header of the answer (referrers only).</summary>
    public string? FiltersApplied { get; init; }
}

/// <summary>One call of /oauth2/exchange or /oauth2/token as the emulator saw it (no token text).</summary>
public sealed record AcrTokenCall(string Endpoint, string Method, string? GrantType, string Subject, IReadOnlyList<string> RequestedScopes,
    IReadOnlyList<LabAccess> Granted, int Status, DateTimeOffset At)
{
    public override string ToString() => $"{Method} {Endpoint} {GrantType} {Subject} [{string.Join(' ', RequestedScopes)}] -> {Status}";
}

/// <summary>
/// An emulator of Azure Container Registry's data plane in front of a real Distribution registry, as strict as ACR:
/// <list type="bullet">
/// <item>/oauth2/exchange (an Entra access token for https://containerregistry.azure.net from the lab's Entra endpoint:
/// signature, issuer, audience, expiry and tenant checked) gives an ACR refresh token (JWT, 3 h);</item>
/// <item>/oauth2/token: GET with Basic (admin user, repository-scoped tokens, service principal secrets, or the null GUID
/// with a refresh token) or anonymous when anonymous pull is on; POST with grant_type refresh_token or password. Access
/// tokens are JWTs with a real exp and no expires_in, granted the intersection of what was asked and what the caller
/// may do;</item>
/// <item>/v2/ and /acr/v1/ check the token's scopes on every call and answer 401 with ACR's challenge (realm, service,
/// scope; error="insufficient_scope" or "invalid_token"). Tag lists and /acr/v1 need metadata_read, catalogs
/// registry:catalog:*;</item>
/// <item>/acr/v1/_catalog, /acr/v1/{repo}/_tags and /_manifests with n, last, orderby and Link paging in ACR's JSON shape
/// (createdTime, lastUpdateTime, changeableAttributes...), PATCH of changeableAttributes (metadata_write); an item with
/// readEnabled=false refuses pulls with 403 DENIED, writeEnabled=false refuses pushes, listEnabled=false hides it;</item>
/// <item>/v2/&lt;name&gt;/referrers/&lt;digest&gt; (OCI 1.1), answered by the emulator itself from the manifests with a subject
/// pushed through it, and OCI-Subject on such pushes (AcrEmulator.Referrers.cs).</item>
/// </list>
/// Clients talk to <see cref="Front"/>, a <see cref="FaultProxy"/> that answers every blob GET with a 307 to its second
/// loopback host (the "storage" host, which rejects an Authorization header), injects 429s (plain-text bodies) on the
/// token endpoints or the registry, and logs each request with whether it carried Authorization. The emulator forwards
/// to Distribution with tokens it signs for itself, so Distribution never sees a client token.
/// </summary>
public sealed partial class AcrEmulator : IAsyncDisposable
{
    /// <summary>The Entra audience of ACR, the same in every cloud.</summary>
    public const string EntraAudience = "https://containerregistry.azure.net";
    /// <summary>The user name that marks the Basic password as an ACR refresh token (docker login with a token).</summary>
    public const string NullGuidUser = "00000000-0000-0000-0000-000000000000";
    public const string DisallowedMessage = "The operation is disallowed on this registry, repository or image.";
    private const string Issuer = "Azure Container Registry";
    private const string InternalService = "harborops-lab-acr-backend";
    private const string InternalIssuer = "harborops-lab-acr-frontend";

    private static readonly HttpClient Backend = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly WebApplication _app;
    private readonly AcrEmulatorOptions _options;
    private readonly bool _ownsEntra;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, (string Password, LabGrant[] Grants)> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LabGrant[]> _roles = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Repository, string Reference), AcrChangeableAttributes> _attributes = [];
    private readonly Dictionary<(string Repository, string Reference), (DateTimeOffset Created, DateTimeOffset Updated)> _times = [];
    private readonly ConcurrentDictionary<(string Repository, string Tag), (string Digest, string MediaType)> _tagDigests = new();
    private readonly ConcurrentDictionary<string, AcrManifestFacts> _manifestFacts = new(StringComparer.Ordinal);
    private readonly List<AcrTokenCall> _tokenCalls = [];
    private readonly List<string> _failures = [];
    private readonly List<AcrExchange> _recorded = [];
    private int _exchanges;
    private int _tokenRequests;
    private DistributionRegistry _registry = null!;
    private FaultProxy _front = null!;

    private AcrEmulator(WebApplication app, AcrEmulatorOptions options, EntraEmulator entra, bool ownsEntra, Uri directUri)
    {
        _app = app;
        _options = options;
        Entra = entra;
        _ownsEntra = ownsEntra;
        DirectUri = directUri;
        AdminPassword = options.AdminPassword ?? "Acr" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        _users[options.AdminUser] = (AdminPassword, LabGrant.Everything);
        AnonymousPull = options.AnonymousPull;
        AccessTokenLifetime = options.AccessTokenLifetime;
    }

    /// <summary>What clients use: the login server (host:port of <see cref="Front"/>), also the token service name.</summary>
    public string Host => _front.Host;
    public string Service => _front.Host;
    public Uri BaseUri => _front.BaseUri;
    /// <summary>The fault proxy clients talk to: faults (429s), its request log and the storage host's log.</summary>
    public FaultProxy Front => _front;
    /// <summary>The emulator itself behind the proxy; its /_lab/ control API lives here (the proxy keeps /_lab/ for its own).</summary>
    public Uri DirectUri { get; }
    public Uri ControlUri => new(DirectUri, "_lab/");
    public EntraEmulator Entra { get; }
    /// <summary>The real registry behind the emulator (it trusts only the emulator's internal tokens).</summary>
    public DistributionRegistry Registry => _registry;
    public string AdminUser => _options.AdminUser;
    public string AdminPassword { get; }
    /// <summary>The admin user as a lab endpoint, for LabContent pushes through the emulator.</summary>
    public LabEndpoint AdminEndpoint => new(BaseUri, AdminUser, AdminPassword);
    public bool AnonymousPull { get; set; }
    /// <summary>Lifetime of access tokens issued from now on (tests shorten it to see clients refresh).</summary>
    public TimeSpan AccessTokenLifetime { get; set; }

    /// <summary>Successful and refused calls of /oauth2/exchange.</summary>
    public int ExchangeCount => Volatile.Read(ref _exchanges);
    /// <summary>Calls of /oauth2/token (GET and POST, refused ones included; 429s injected by the front never arrive here).</summary>
    public int TokenRequestCount => Volatile.Read(ref _tokenRequests);
    public IReadOnlyList<AcrTokenCall> TokenCalls { get { lock (_tokenCalls) return _tokenCalls.ToArray(); } }
    /// <summary>Every answer of ACR's own API (/oauth2/*, /acr/v1/*) and of the referrers API, in order; the rest of /v2/ is Distribution's and not recorded.</summary>
    public IReadOnlyList<AcrExchange> Exchanges { get { lock (_recorded) return _recorded.ToArray(); } }
    /// <summary>Emulator defects (unhandled exceptions behind a 500), for test diagnostics.</summary>
    public IReadOnlyList<string> Failures { get { lock (_failures) return _failures.ToArray(); } }

    public static async Task<AcrEmulator> StartAsync(AcrEmulatorOptions? options = null, CancellationToken ct = default)
    {
        options ??= new AcrEmulatorOptions();
        var entra = options.Entra ?? await EntraEmulator.StartAsync(ct);
        // ACR's resource principal, in every tenant that uses ACR; it accepts v2.0 tokens.
        entra.RegisterResource(EntraAudience, tokenVersion: 2);
        var app = LabKestrel.CreateBuilder().Build();
        AcrEmulator? emulator = null;
        app.Run(context => emulator!.HandleAsync(context));
        try
        {
            await app.StartAsync(ct);
            emulator = new AcrEmulator(app, options, entra, options.Entra is null, LabKestrel.BoundAddresses(app)[0]);
            emulator._front = await FaultProxy.StartAsync(emulator.DirectUri, ct);
            emulator._front.RedirectBlobGetsToStorageHost = true;
            emulator._front.TagsPageSize = options.MaxPageSize;
            emulator._registry = await DistributionRegistry.StartAsync(new DistributionRegistryOptions
            {
                Auth = RegistryAuthMode.Token,
                ExternalTokenIssuer = new LabExternalTokenIssuer(new Uri(emulator.DirectUri, "internal/token"), InternalService, InternalIssuer,
                    LabTokenService.SharedSigningCertificate.ExportCertificatePem()),
            }, ct);
            return emulator;
        }
        catch
        {
            if (emulator?._front is not null) await emulator._front.DisposeAsync();
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            if (options.Entra is null) await entra.DisposeAsync();
            throw;
        }
    }

    // ---------------------------------------------------------------- lab control (in process; also over /_lab/)

    /// <summary>A Basic identity: a repository-scoped token (scope map), a service principal's appId and secret, or another admin.</summary>
    public void AddUser(string name, string password, params LabGrant[] grants) => _users[name] = (password, grants);

    /// <summary>A role assignment for an Entra principal (by object id): AcrPull is <see cref="LabGrant.Pull"/> on "*", and so on.</summary>
    public void AssignRole(string objectId, params LabGrant[] grants) => _roles[objectId] = grants;

    /// <summary>Role assignment for a lab Entra application (its service principal).</summary>
    public void AssignRole(EntraApplication application, params LabGrant[] grants) => AssignRole(application.ObjectId, grants);

    /// <summary>Sets the changeable attributes of a tag or a manifest (digest), as PATCH /acr/v1/... does.</summary>
    public void SetAttributes(string repository, string reference, AcrChangeableAttributes attributes)
    {
        lock (_gate) _attributes[(repository, reference)] = attributes;
    }

    /// <summary>Locks a tag or manifest against reads (readEnabled=false): pulls answer 403 DENIED.</summary>
    public void Lock(string repository, string reference) =>
        SetAttributes(repository, reference, AttributesOf(repository, reference) with { ReadEnabled = false });

    /// <summary>Plants the createdTime / lastUpdateTime ACR reports for a tag or a manifest (digest).</summary>
    public void SetTimes(string repository, string reference, DateTimeOffset created, DateTimeOffset updated)
    {
        lock (_gate) _times[(repository, reference)] = (created, updated);
    }

    public void ClearRecords()
    {
        lock (_tokenCalls) _tokenCalls.Clear();
        Interlocked.Exchange(ref _exchanges, 0);
        Interlocked.Exchange(ref _tokenRequests, 0);
        _front.ClearRequests();
    }

    /// <summary>
    /// Clean slate for the next test: no faults, empty logs and counters. The front proxy logs a request after its response
    /// went out, so the log is first given a moment to settle (bounded), lest an earlier request show up in the next log.
    /// </summary>
    public async Task ResetAsync()
    {
        for (int i = 0, seen = -1; i < 20 && Front.Requests.Count + Front.StorageHostRequests.Count is var now && now != seen; i++, seen = now)
            await Task.Delay(50);
        Front.ClearFaults();
        ClearRecords();
        Entra.ClearRecords();
    }

    private AcrChangeableAttributes AttributesOf(string repository, string reference)
    {
        lock (_gate) return _attributes.GetValueOrDefault((repository, reference), AcrChangeableAttributes.Default);
    }

    private (DateTimeOffset Created, DateTimeOffset Updated) TimesOf(string repository, string reference)
    {
        lock (_gate)
        {
            if (!_times.TryGetValue((repository, reference), out var times))
            {
                // Content the emulator did not see arrive is as old as the moment it first looked.
                var now = DateTimeOffset.UtcNow;
                _times[(repository, reference)] = times = (now, now);
            }
            return times;
        }
    }

    private void Touch(string repository, string reference)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_gate) _times[(repository, reference)] = _times.TryGetValue((repository, reference), out var times) ? (times.Created, now) : (now, now);
    }

    // ---------------------------------------------------------------- dispatch

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var path = Uri.UnescapeDataString(raw.Split('?')[0]);
        if (path.StartsWith("/oauth2/", StringComparison.Ordinal) || path.StartsWith("/acr/v1/", StringComparison.Ordinal) || ReferrersPath().IsMatch(path))
        {
            // ACR's own answers (and the referrers API, which the emulator answers itself) are kept as sent, so the judges
            // can hold each one to ACR's data-plane swagger or the OCI specs.
            await ResponseCapture.RunAsync(context, () => DispatchAsync(context, path, raw), (status, contentType, body) =>
            {
                var exchange = new AcrExchange(context.Request.Method, raw.Split('?')[0], context.Request.QueryString.Value ?? "", status, contentType, body)
                {
                    FiltersApplied = context.Response.Headers["OCI-Filters-Applied"].ToString() is { Length: > 0 } applied ? applied : null,
                };
                lock (_recorded) _recorded.Add(exchange);
            });
            return;
        }
        await DispatchAsync(context, path, raw);
    }

    private async Task DispatchAsync(HttpContext context, string path, string raw)
    {
        try
        {
            if (path == "/oauth2/exchange") await ExchangeAsync(context);
            else if (path == "/oauth2/token") await TokenAsync(context);
            else if (path == "/v2" || path.StartsWith("/v2/", StringComparison.Ordinal)) await V2Async(context, path, raw);
            else if (path.StartsWith("/acr/v1/", StringComparison.Ordinal)) await AcrV1Async(context, path["/acr/v1/".Length..]);
            else if (path.StartsWith("/_lab/", StringComparison.Ordinal)) await ControlAsync(context, path["/_lab/".Length..]);
            else await ErrorAsync(context, 404, "NOT_FOUND", $"no route {path}");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
        catch (Exception ex)
        {
            lock (_failures) _failures.Add($"{context.Request.Method} {raw}: {ex}");
            if (!context.Response.HasStarted) await ErrorAsync(context, 500, "UNKNOWN", "internal server error");
        }
    }

    internal static Task ErrorAsync(HttpContext context, int status, string code, string message, object? detail = null)
    {
        context.Response.StatusCode = status;
        // ACR, like Distribution (errcode.Error: detail,omitempty), leaves detail out when there is none: its swagger types it as an object.
        object error = detail is null ? new { code, message } : new { code, message, detail };
        return context.Response.WriteAsJsonAsync(new { errors = new[] { error } });
    }

    public async ValueTask DisposeAsync()
    {
        if (_front is not null) await _front.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_registry is not null) await _registry.DisposeAsync();
        if (_ownsEntra) await Entra.DisposeAsync();
    }

    public override string ToString() => $"ACR emulator at {BaseUri} (registry {_registry?.Host}, storage host {_front?.StorageHost})";
}
