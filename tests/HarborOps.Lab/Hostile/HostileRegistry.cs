using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HarborOps.Lab.Hostile;

/// <summary>
/// A registry and token service that attack their client: an in-memory OCI registry (enough of the Distribution API for
/// a client to list, pull and push) whose <see cref="HostileMode"/>s redirect to plain http, echo credentials into error
/// bodies, lie about digests, loop its tag-list pages or hang its token service, and whose content may be anything a test
/// plants, well-formed or not (a real registry refuses to store most of it, which is why this one is not a proxy).
/// It listens on the lab's loopback name twice, https (<see cref="HttpsHost"/>) and plain http (<see cref="PlainHost"/>),
/// and records every request with the credentials it carried, so a test can prove where secrets went.
/// </summary>
public sealed partial class HostileRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<HostileMode, bool> _modes = new();
    private readonly ConcurrentDictionary<string, bool> _issuedTokens = new(StringComparer.Ordinal);
    private readonly List<HostileRequest> _requests = [];

    private HostileRegistry(WebApplication app, HostileRegistryOptions options, LabCertificateAuthority authority, int httpsPort, int httpPort)
    {
        _app = app;
        Options = options;
        CertificateAuthority = authority;
        HostName = LabLoopbackName.Name;
        HttpsPort = httpsPort;
        HttpPort = httpPort;
        foreach (var mode in options.Modes) _modes[mode] = true;
    }

    public HostileRegistryOptions Options { get; }
    public LabCertificateAuthority CertificateAuthority { get; }
    /// <summary>The name both listeners answer to; resolves to loopback but is not spelled as loopback.</summary>
    public string HostName { get; }
    public int HttpsPort { get; }
    public int HttpPort { get; }
    /// <summary>The registry over https, as a client names it (no port when it is 443).</summary>
    public string HttpsHost => HttpsPort == 443 ? HostName : $"{HostName}:{HttpsPort}";
    /// <summary>The registry over plain http by its loopback address (a client reaches loopback over http).</summary>
    public string PlainHost => $"{LabLoopbackName.Address}:{HttpPort}";
    public string UserName => Options.UserName;
    public string Password => Options.Password;
    public NetworkCredential Credential => new(Options.UserName, Options.Password);

    /// <summary>Tags whose manifest GETs answer 500 under <see cref="HostileMode.ManifestServerError"/>.</summary>
    public ConcurrentDictionary<string, bool> ServerErrorTags { get; } = new(StringComparer.Ordinal);

    public static async Task<HostileRegistry> StartAsync(HostileRegistryOptions? options = null, CancellationToken ct = default)
    {
        options ??= new HostileRegistryOptions();
        var authority = options.CertificateAuthority ?? LabCertificateAuthority.Shared;
        var address = LabLoopbackName.Address;
        var certificate = authority.IssueLoopbackServerCertificate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, options.UseDefaultPorts ? 443 : 0, listen => listen.UseHttps(certificate));
            kestrel.Listen(address, options.UseDefaultPorts ? 80 : 0);
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AllowSynchronousIO = false;
        });
        var app = builder.Build();
        HostileRegistry? registry = null;
        app.Run(context => registry!.HandleAsync(context));
        await app.StartAsync(ct);
        var bound = LabKestrel.BoundAddresses(app);
        var https = bound.Single(u => u.Scheme == Uri.UriSchemeHttps).Port;
        var http = bound.Single(u => u.Scheme == Uri.UriSchemeHttp).Port;
        registry = new HostileRegistry(app, options, authority, https, http);
        return registry;
    }

    public bool IsOn(HostileMode mode) => _modes.ContainsKey(mode);
    public void TurnOn(params HostileMode[] modes) { foreach (var mode in modes) _modes[mode] = true; }
    public void TurnOff(params HostileMode[] modes) { foreach (var mode in modes) _modes.TryRemove(mode, out _); }
    public void SetModes(IEnumerable<HostileMode> modes)
    {
        _modes.Clear();
        TurnOn(modes.ToArray());
    }
    public IReadOnlyCollection<HostileMode> Modes => _modes.Keys.ToArray();

    public IReadOnlyList<HostileRequest> Requests { get { lock (_requests) return _requests.ToArray(); } }
    public void ClearRequests() { lock (_requests) _requests.Clear(); }

    /// <summary>Every secret this registry handed out or accepts, in each form a leak could take (raw, user:password,
    /// base64 of it, tokens), for a scan of everything a client wrote.</summary>
    public IReadOnlyList<string> SecretForms
    {
        get
        {
            var userPassword = $"{Options.UserName}:{Options.Password}";
            return [Options.Password, userPassword, Convert.ToBase64String(Encoding.UTF8.GetBytes(userPassword)), .. _issuedTokens.Keys];
        }
    }

    /// <summary>The requests that carried a credential (an Authorization header, or a password or token in a form body).</summary>
    public IReadOnlyList<HostileRequest> RequestsWithCredentials =>
        Requests.Where(r => r.Authorization is not null || (r.FormBody is { } form && SecretForms.Any(s => form.Contains(s, StringComparison.Ordinal)))).ToList();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string? form = null;
        if (request.HasFormContentType || request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            form = await reader.ReadToEndAsync(context.RequestAborted);
        }
        try
        {
            await RouteAsync(context, form);
        }
        finally
        {
            lock (_requests)
                _requests.Add(new HostileRequest(request.Scheme, request.Host.Host, context.Connection.LocalPort, request.Method,
                    request.Path + request.QueryString, request.Headers.Authorization.FirstOrDefault(), form, context.Response.StatusCode));
        }
    }

    private Task RouteAsync(HttpContext context, string? form)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/_lab/", StringComparison.Ordinal)) return ControlAsync(context, path);
        if (path == "/token") return TokenAsync(context, form);
        if (path == "/v2/" || path == "/v2")
            return Authorized(context, null) ? Json(context, 200, new { }) : ChallengeAsync(context, null);
        if (path.StartsWith("/v2/", StringComparison.Ordinal)) return RegistryAsync(context, path[4..]);
        return Error(context, 404, "NOT_FOUND", "no such endpoint");
    }

    private bool Authorized(HttpContext context, string? repository)
    {
        var header = context.Request.Headers.Authorization.FirstOrDefault();
        return Options.Auth switch
        {
            HostileAuth.None => true,
            HostileAuth.Basic => header == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Options.UserName}:{Options.Password}")),
            _ => header is not null && header.StartsWith("Bearer ", StringComparison.Ordinal) && _issuedTokens.ContainsKey(header[7..]),
        };
    }

    private Task ChallengeAsync(HttpContext context, string? repository)
    {
        var request = context.Request;
        if (Options.Auth == HostileAuth.Basic)
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"hostile\"";
        else
        {
            var realm = IsOn(HostileMode.PlainHttpRealmOnOtherHost)
                ? $"http://{Options.OtherHostName ?? LabLoopbackName.Name}:{HttpPort}/token"
                : $"{request.Scheme}://{request.Host}/token";
            var scope = repository is null ? "" : $",scope=\"repository:{repository}:pull\"";
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm}\",service=\"hostile\"{scope}";
        }
        return Error(context, 401, "UNAUTHORIZED", "authentication required");
    }

    private async Task TokenAsync(HttpContext context, string? form)
    {
        if (IsOn(HostileMode.TokenServiceHangs))
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Options.UserName}:{Options.Password}"));
        var valid = context.Request.Headers.Authorization.FirstOrDefault() == basic
            || (form is not null && (form.Contains("password=" + Uri.EscapeDataString(Options.Password), StringComparison.Ordinal)
                || _issuedTokens.Keys.Any(t => form.Contains("refresh_token=" + Uri.EscapeDataString(t), StringComparison.Ordinal))));
        if (IsOn(HostileMode.TokenServiceRefuses) || !valid)
        {
            await Error(context, 401, "UNAUTHORIZED", "invalid credentials", forceEcho: IsOn(HostileMode.TokenServiceRefuses), form: form);
            return;
        }
        var token = "hostile-token-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        _issuedTokens[token] = true;
        await Json(context, 200, new { token, access_token = token, expires_in = 300 });
    }

    /// <summary>An error body in Distribution's shape; under <see cref="HostileMode.EchoCredentialsInErrors"/> (or when forced) its
    /// detail repeats what the client sent, as a careless or malicious server does.</summary>
    private Task Error(HttpContext context, int status, string code, string message, bool forceEcho = false, string? form = null)
    {
        object? detail = null;
        if (forceEcho || IsOn(HostileMode.EchoCredentialsInErrors))
        {
            var sent = context.Request.Headers.Authorization.FirstOrDefault();
            detail = $"you sent {sent ?? "no Authorization"}{(form is null ? "" : " and " + form)}";
            message = $"{message}: you sent {sent ?? "nothing"}";
        }
        return Json(context, status, new { errors = new[] { new { code, message, detail } } });
    }

    private static Task Json(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    /// <summary>Another process (Pester) sets modes and reads the log: <c>PUT /_lab/modes</c> with a JSON array of mode
    /// names (<c>GET /_lab/mode-names</c> lists them all), <c>GET|DELETE /_lab/requests</c>, <c>GET /_lab/secrets</c>; plants content with <c>POST /_lab/images</c> and
    /// <c>POST /_lab/manifests</c>, and 500s with <c>PUT /_lab/server-error-tags</c>. Served on the plain listener only.</summary>
    private async Task ControlAsync(HttpContext context, string path)
    {
        if (context.Request.IsHttps) { context.Response.StatusCode = 404; return; }
        switch (context.Request.Method, path)
        {
            case ("PUT", "/_lab/modes"):
                var modes = await JsonSerializer.DeserializeAsync<HostileMode[]>(context.Request.Body, cancellationToken: context.RequestAborted) ?? [];
                SetModes(modes);
                await Json(context, 200, Modes);
                break;
            case ("GET", "/_lab/modes"):
                await Json(context, 200, Modes);
                break;
            case ("GET", "/_lab/mode-names"):
                // Every mode there is, so a scan in another process covers a mode added later without being edited.
                await Json(context, 200, Enum.GetNames<HostileMode>());
                break;
            case ("GET", "/_lab/requests"):
                await Json(context, 200, Requests.Where(r => !r.PathAndQuery.StartsWith("/_lab/", StringComparison.Ordinal)));
                break;
            case ("DELETE", "/_lab/requests"):
                ClearRequests();
                context.Response.StatusCode = 204;
                break;
            case ("GET", "/_lab/secrets"):
                await Json(context, 200, SecretForms);
                break;
            case ("POST", "/_lab/images"):
                // {"repository","tag","layerSize"}: a well-formed image
                var image = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body, cancellationToken: context.RequestAborted);
                var pushed = PushImage(image.GetProperty("repository").GetString()!, image.TryGetProperty("tag", out var t) ? t.GetString() : null,
                    image.TryGetProperty("layerSize", out var size) ? size.GetInt32() : 512);
                await Json(context, 201, new { digest = pushed.Digest, configDigest = pushed.ConfigDigest, layerDigest = pushed.LayerDigest });
                break;
            case ("POST", "/_lab/manifests"):
                // {"repository","tag","manifest" (the exact text),"mediaType"}: anything at all, stored as given
                var planted = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body, cancellationToken: context.RequestAborted);
                var digest = PutRawManifest(planted.GetProperty("repository").GetString()!, planted.TryGetProperty("tag", out var tag) ? tag.GetString() : null,
                    Encoding.UTF8.GetBytes(planted.GetProperty("manifest").GetString()!),
                    planted.TryGetProperty("mediaType", out var mediaType) ? mediaType.GetString()! : LabContent.OciManifest);
                await Json(context, 201, new { digest });
                break;
            case ("PUT", "/_lab/server-error-tags"):
                ServerErrorTags.Clear();
                foreach (var errorTag in await JsonSerializer.DeserializeAsync<string[]>(context.Request.Body, cancellationToken: context.RequestAborted) ?? [])
                    ServerErrorTags[errorTag] = true;
                context.Response.StatusCode = 204;
                break;
            default:
                context.Response.StatusCode = 404;
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public override string ToString() => $"Hostile registry https://{HttpsHost}/ and http://{PlainHost}/ ({string.Join(", ", Modes)})";
}
