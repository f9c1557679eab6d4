using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace HarborOps.Lab.Acr;

/// <summary>One exchange of an Azure SDK session record (RequestUri, RequestMethod, RequestHeaders, StatusCode, ResponseHeaders, ResponseBody).</summary>
public sealed record AcrRecordedExchange(int Index, string Method, string Path, IReadOnlyDictionary<string, string> Query, bool Authorized, int Status,
    IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders, string? ResponseBody)
{
    public override string ToString() => $"#{Index} {Method} {Path}{(Query.Count > 0 ? "?" + string.Join('&', Query.Select(q => $"{q.Key}={q.Value}")) : "")}{(Authorized ? " (authorized)" : "")} -> {Status}";
}

/// <summary>A request the replay served (or could not serve: <see cref="Served"/> is null).</summary>
public sealed record AcrReplayRequest(string Method, string PathAndQuery, bool Authorized, AcrRecordedExchange? Served);

/// <summary>
/// Serves an Azure SDK for .NET session record of a real ACR (tests/contracts/acr/recordings, README there) over TLS on
/// loopback, so that our client meets what the real service answered, not what our emulator believes it answers.
/// The recorded registry host (sanitized or not) is rewritten to this server's host in every header and body. A request
/// is matched by method and decoded path (the SDK sends library%2Fhello-world and ACR's Link keeps it so, the az CLI
/// sends library/hello-world; ACR routes both to the same repository), by the
/// query parameter that selects a page (last; n, orderby and api-version select nothing the recording varies), and by
/// whether it carried Authorization (the recording answers a bare request with its 401 challenge and an authorized one
/// with the data). The token endpoints are matched by path alone: ACR's /oauth2/token takes both the GET form (docker,
/// the distribution token spec) and the POST form the SDK recorded, and the answer is the same token document.
/// A request that matches nothing answers 404 and is kept in <see cref="Unmatched"/>: a test fails on it.
/// </summary>
public sealed class AcrRecordingReplay : IAsyncDisposable
{
    private static readonly string[] PageSelectors = ["last"];
    private readonly WebApplication _app;
    private readonly List<AcrRecordedExchange> _exchanges;
    private readonly List<AcrReplayRequest> _requests = [];
    private readonly string _recordedHost;

    private AcrRecordingReplay(WebApplication app, List<AcrRecordedExchange> exchanges, string recordedHost, string host)
    {
        _app = app;
        _exchanges = exchanges;
        _recordedHost = recordedHost;
        Host = host;
    }

    /// <summary>host:port of the replay (a name that resolves to loopback, with a certificate of the lab CA).</summary>
    public string Host { get; }
    public Uri BaseUri => new($"https://{Host}/");
    /// <summary>The registry host the session was recorded against (its login server).</summary>
    public string RecordedHost => _recordedHost;
    public IReadOnlyList<AcrRecordedExchange> Exchanges => _exchanges;
    public IReadOnlyList<AcrReplayRequest> Requests { get { lock (_requests) return _requests.ToArray(); } }
    public IReadOnlyList<AcrReplayRequest> Unmatched => Requests.Where(r => r.Served is null).ToList();
    /// <summary>Recorded successful answers no request asked for: what the client under test never read.</summary>
    public IReadOnlyList<AcrRecordedExchange> UnservedAnswers =>
        _exchanges.Where(e => e.Status is >= 200 and < 300 && !Requests.Any(r => r.Served is { } s && SameRequest(s, e))).ToList();

    /// <summary>The vendored recording of that name (tests/contracts/acr/recordings, copied beside the lab).</summary>
    public static string RecordingPath(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "contracts", "acr", "recordings", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"The ACR recording '{name}' is not at {path}: tests/contracts/acr/recordings is copied beside the lab by its project file.", path);
    }

    public static async Task<AcrRecordingReplay> StartAsync(string recordingName, CancellationToken ct = default)
    {
        var (exchanges, recordedHost) = Load(RecordingPath(recordingName));
        var certificate = LabCertificateAuthority.Shared.IssueLoopbackServerCertificate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(LabLoopbackName.Address, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        AcrRecordingReplay? replay = null;
        app.Run(context => replay!.HandleAsync(context));
        await app.StartAsync(ct);
        replay = new AcrRecordingReplay(app, exchanges, recordedHost, $"{LabLoopbackName.Name}:{LabKestrel.BoundAddresses(app)[0].Port}");
        return replay;
    }

    /// <summary>Reads a session record: its exchanges and the registry host it was recorded against.</summary>
    public static (List<AcrRecordedExchange> Exchanges, string RecordedHost) Load(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var exchanges = new List<AcrRecordedExchange>();
        string? host = null;
        foreach (var (index, node) in root["Entries"]!.AsArray().Select((n, i) => (i, n!)))
        {
            var uri = node["RequestUri"]!.GetValue<string>();
            var (pathPart, query) = SplitUri(uri, out var entryHost);
            host ??= entryHost;
            var requestHeaders = node["RequestHeaders"]?.AsObject();
            var headers = new List<KeyValuePair<string, string>>();
            foreach (var (name, value) in node["ResponseHeaders"]?.AsObject() ?? [])
            {
                if (name is "Content-Length" or "Transfer-Encoding" or "Connection") continue;
                if (value is JsonArray values) headers.AddRange(values.Select(v => KeyValuePair.Create(name, v!.GetValue<string>())));
                else headers.Add(KeyValuePair.Create(name, value!.GetValue<string>()));
            }
            var body = node["ResponseBody"] switch
            {
                null => null,
                JsonValue text when text.GetValueKind() == JsonValueKind.String => text.GetValue<string>(),
                JsonObject manifest when headers.FirstOrDefault(h => h.Key == "Docker-Content-Digest").Value is { } digest => ManifestText(manifest, digest, $"{path} #{index}"),
                var json => json.ToJsonString(),
            };
            exchanges.Add(new AcrRecordedExchange(index, node["RequestMethod"]!.GetValue<string>(), pathPart, query,
                requestHeaders?.ContainsKey("Authorization") == true, node["StatusCode"]!.GetValue<int>(), headers, body));
        }
        return (exchanges, host ?? throw new InvalidDataException($"{path} has no entries"));
    }

    /// <summary>
    /// The exact bytes of a recorded manifest. The SDK's recorder keeps a JSON body parsed, not as sent, so the bytes are
    /// rebuilt the way Distribution (and ACR) wrote them, Go's json.MarshalIndent with a three-space indent, and must hash
    /// to the digest ACR sent with them: a recording whose manifest cannot be rebuilt byte for byte is refused, never
    /// served with a digest it does not have.
    /// </summary>
    private static string ManifestText(JsonObject manifest, string digest, string where)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true, IndentSize = 3, NewLine = "\n", Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
            manifest.WriteTo(writer);
        var bytes = buffer.ToArray();
        var rebuilt = LabContent.DigestOf(bytes);
        return rebuilt == digest ? Encoding.UTF8.GetString(bytes)
            : throw new InvalidDataException($"The recorded manifest of {where} rebuilds to {rebuilt}, not the {digest} ACR sent: it cannot be replayed byte for byte.");
    }

    /// <summary>Raw path (still encoded) and decoded query of an absolute or relative URI.</summary>
    private static (string Path, Dictionary<string, string> Query) SplitUri(string uri, out string host)
    {
        host = "";
        var rest = uri;
        if (uri.StartsWith("https://", StringComparison.Ordinal) || uri.StartsWith("http://", StringComparison.Ordinal))
        {
            var afterScheme = uri.IndexOf("://", StringComparison.Ordinal) + 3;
            var slash = uri.IndexOf('/', afterScheme);
            host = slash < 0 ? uri[afterScheme..] : uri[afterScheme..slash];
            rest = slash < 0 ? "/" : uri[slash..];
        }
        var question = rest.IndexOf('?');
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (question >= 0)
            foreach (var pair in rest[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                query[Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals])] = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            }
        return (question >= 0 ? rest[..question] : rest, query);
    }

    private static bool IsTokenEndpoint(string path) => path is "/oauth2/token" or "/oauth2/exchange";

    private static bool SamePath(string a, string b) => Uri.UnescapeDataString(a) == Uri.UnescapeDataString(b);

    private static bool SameRequest(AcrRecordedExchange a, AcrRecordedExchange b) =>
        a.Method == b.Method && SamePath(a.Path, b.Path) && a.Authorized == b.Authorized && PageSelectors.All(p => a.Query.GetValueOrDefault(p) == b.Query.GetValueOrDefault(p));

    private AcrRecordedExchange? Match(string method, string path, Dictionary<string, string> query, bool authorized)
    {
        if (IsTokenEndpoint(path))
            return _exchanges.FirstOrDefault(e => e.Path == path && e.Status is >= 200 and < 300);
        return _exchanges.FirstOrDefault(e => e.Method == method && SamePath(e.Path, path) && e.Authorized == authorized
            && PageSelectors.All(p => e.Query.GetValueOrDefault(p) == query.GetValueOrDefault(p)));
    }

    private string Rewrite(string text) =>
        text.Replace($"https://{_recordedHost}", $"https://{Host}", StringComparison.Ordinal).Replace(_recordedHost, Host, StringComparison.Ordinal);

    /// <summary>Forgets the requests served so far (the next test's log starts empty).</summary>
    public void ClearRequests()
    {
        lock (_requests) _requests.Clear();
    }

    /// <summary>
    /// /_lab/requests for other processes (Pester): GET lists the requests, those the recording could not answer and the
    /// recorded answers never read; DELETE clears the log. No recorded request starts with /_lab/.
    /// </summary>
    private async Task ControlAsync(HttpContext context)
    {
        if (context.Request.Method == "DELETE")
        {
            ClearRequests();
            context.Response.StatusCode = 204;
            return;
        }
        static object Row(AcrReplayRequest r) => new { method = r.Method, pathAndQuery = r.PathAndQuery, authorized = r.Authorized, served = r.Served?.ToString() };
        await context.Response.WriteAsJsonAsync(new
        {
            recordedHost = _recordedHost,
            requests = Requests.Select(Row),
            unmatched = Unmatched.Select(Row),
            unservedAnswers = UnservedAnswers.Select(e => e.ToString()),
        });
    }

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        if (raw.Split('?')[0] == "/_lab/requests")
        {
            await ControlAsync(context);
            return;
        }
        var (path, query) = SplitUri(raw, out _);
        var method = context.Request.Method;
        var authorized = context.Request.Headers.Authorization.Count > 0;
        var match = Match(method, path, query, authorized);
        lock (_requests) _requests.Add(new AcrReplayRequest(method, raw, authorized, match));
        if (match is null)
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "NOT_RECORDED", message = $"no recorded exchange for {method} {raw}" } } });
            return;
        }
        context.Response.StatusCode = match.Status;
        foreach (var group in match.ResponseHeaders.GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
            context.Response.Headers[group.Key] = group.Select(h => Rewrite(h.Value)).ToArray();
        if (match.ResponseBody is { } body && method != "HEAD")
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(Rewrite(body)), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public override string ToString() => $"ACR recording replay of {_recordedHost} at {BaseUri}";
}
