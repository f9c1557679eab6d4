using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace HarborOps.Lab;

/// <summary>
/// A fault-injecting reverse proxy (Kestrel on its own 127.0.0.1 port) in front of a registry. Bodies stream in both
/// directions; headers pass through unchanged except that upstream-absolute URLs in Location and Link point back at the
/// proxy. A second listener, the "storage host", is where <see cref="FaultKind.RedirectToStorageHost"/> sends blob GETs.
/// Optional emulations of what Distribution 2.8 lacks: the OCI referrers API and tag-list pagination (both off by default).
/// A small control API under <c>/_lab/</c> lets another process (the Pester tests) inject faults and read the log.
/// </summary>
public sealed partial class FaultProxy : IAsyncDisposable
{
    private const int CopyBufferSize = 64 * 1024;
    private const int MaxManifestBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan DropGrace = TimeSpan.FromMilliseconds(100);

    private static readonly HashSet<string> HopByHopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Expect", "Host", "Date", "Server",
    };

    private static readonly JsonSerializerOptions ControlJson = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;
    private readonly HttpClient _upstreamClient;
    private readonly List<InjectedFault> _faults = [];
    private readonly List<ProxiedRequest> _requests = [];
    private readonly List<ProxiedRequest> _storageRequests = [];
    private readonly ConcurrentDictionary<string, (string UpstreamPathAndQuery, string? Authorization)> _storageGrants = new();
    private readonly ConcurrentDictionary<string, List<JsonObject>> _referrers = new(StringComparer.Ordinal);
    private readonly string _upstreamAuthority;

    private FaultProxy(WebApplication app, Uri upstream, Uri baseUri, Uri storageUri)
    {
        _app = app;
        Upstream = upstream;
        BaseUri = baseUri;
        StorageHostUri = storageUri;
        _upstreamAuthority = upstream.GetLeftPart(UriPartial.Authority);
        _upstreamClient = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri Upstream { get; }
    public string Host => BaseUri.Authority;
    public Uri BaseUri { get; }
    /// <summary>The redirect target for blob GETs: another origin (different port) on loopback.</summary>
    public Uri StorageHostUri { get; }
    public string StorageHost => StorageHostUri.Authority;

    /// <summary>Answer <c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;</c> from manifests with a <c>subject</c> PUT through this
    /// proxy. Off: the request goes upstream, and Distribution's 404 is what drives a client's tag-schema fallback.</summary>
    public bool EnableReferrersApi { get; set; }

    /// <summary>When set, tag lists are sorted and paged (n capped at this size, <c>last</c>, <c>Link: rel="next"</c>) like
    /// Harbor and ACR do; Distribution 2.8 itself ignores <c>n</c> and returns every tag unsorted.</summary>
    public int? TagsPageSize { get; set; }

    /// <summary>Every blob GET is answered with 307 to the storage host, as ACR always does (a standing behaviour, not a
    /// fault: clearing faults keeps it).</summary>
    public bool RedirectBlobGetsToStorageHost { get; set; }

    /// <summary>When true (default), the storage host refuses requests that carry an Authorization header with 400, as
    /// S3-style storage does for a presigned URL plus a second credential.</summary>
    public bool StorageHostRejectsAuthorization { get; set; } = true;

    public IReadOnlyList<ProxiedRequest> Requests { get { lock (_requests) return _requests.ToArray(); } }

    /// <summary>
    /// The request log once at least <paramref name="count"/> entries match (or after about two seconds, so the caller's
    /// assertion reports what is there). A request is logged after its response has been sent, so a client can finish
    /// reading a body before the proxy has written the entry.
    /// </summary>
    public static async Task<IReadOnlyList<ProxiedRequest>> LoggedAsync(Func<IReadOnlyList<ProxiedRequest>> read, Func<ProxiedRequest, bool> match, int count)
    {
        for (var i = 0; i < 100; i++)
        {
            var log = read();
            if (log.Count(match) >= count) return log;
            await Task.Delay(20);
        }
        return read();
    }
    public IReadOnlyList<ProxiedRequest> StorageHostRequests { get { lock (_storageRequests) return _storageRequests.ToArray(); } }
    public IReadOnlyList<InjectedFault> Faults { get { lock (_faults) return _faults.ToArray(); } }

    /// <summary>The proxy with the credentials of the registry behind it, for LabContent and clients under test.</summary>
    public LabEndpoint EndpointFor(DistributionRegistry registry) => new(BaseUri, registry.UserName, registry.Password);

    public static Task<FaultProxy> StartAsync(DistributionRegistry upstream, CancellationToken ct = default) => StartAsync(upstream.BaseUri, ct);

    public static async Task<FaultProxy> StartAsync(Uri upstream, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var builder = LabKestrel.CreateBuilder(listeners: 2);
        var app = builder.Build();
        FaultProxy? proxy = null;
        app.Run(context => proxy!.HandleAsync(context));
        await app.StartAsync(ct);
        var addresses = LabKestrel.BoundAddresses(app);
        proxy = new FaultProxy(app, upstream, addresses[0], addresses[1]);
        return proxy;
    }

    public InjectedFault Inject(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var injected = new InjectedFault(rule);
        lock (_faults) _faults.Add(injected);
        return injected;
    }

    public void ClearFaults()
    {
        lock (_faults) _faults.Clear();
    }

    public void ClearRequests()
    {
        lock (_requests) _requests.Clear();
        lock (_storageRequests) _storageRequests.Clear();
    }

    private InjectedFault? ClaimFault(string method, string path, bool storageHost)
    {
        InjectedFault[] candidates;
        lock (_faults) candidates = _faults.ToArray();
        foreach (var fault in candidates)
            if (fault.Rule.OnStorageHost == storageHost && fault.Rule.Matches(method, path) && fault.TryClaim())
                return fault;
        return null;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var isStorageHost = context.Connection.LocalPort == StorageHostUri.Port;
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        if (!isStorageHost && path.StartsWith("/_lab/", StringComparison.Ordinal))
        {
            await HandleControlAsync(context, path);
            return;
        }

        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var authorization = request.Headers.Authorization.ToString();
        var fault = ClaimFault(request.Method, path, isStorageHost);
        try
        {
            await WaitLatencyAsync(context);
            if (isStorageHost) await ServeStorageAsync(context, fault);
            else await ProxyAsync(context, fault);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away; nothing to answer
        }
        finally
        {
            var entry = WithBodyBytes(new ProxiedRequest(request.Method, path + request.QueryString.Value, context.Response.StatusCode, started, clock.Elapsed,
                authorization.Length > 0, authorization.Length > 0 ? authorization.Split(' ', 2)[0] : null, fault?.Rule.Kind), context);
            var log = isStorageHost ? _storageRequests : _requests;
            lock (log) log.Add(entry);
        }
    }

    private async Task ProxyAsync(HttpContext context, InjectedFault? fault)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var rule = fault?.Rule;
        switch (rule?.Kind)
        {
            case FaultKind.Status:
                await WriteStatusFaultAsync(context, rule);
                return;
            case FaultKind.Slow when rule.AfterBytes <= 0:
                await Task.Delay(rule.Delay, context.RequestAborted);
                break;
            case FaultKind.RedirectToStorageHost:
                await RedirectToStorageAsync(context);
                return;
            case null when RedirectBlobGetsToStorageHost && request.Method == "GET" && BlobPath().IsMatch(path):
                await RedirectToStorageAsync(context);
                return;
        }

        if (EnableReferrersApi && request.Method == "GET" && ReferrersPath().Match(path) is { Success: true } referrers)
        {
            await ServeReferrersAsync(context, referrers.Groups["name"].Value, referrers.Groups["digest"].Value);
            return;
        }
        if (TagsPageSize is int pageSize && request.Method == "GET" && TagsListPath().Match(path) is { Success: true } tags)
        {
            await ServeTagsPageAsync(context, tags.Groups["name"].Value, pageSize);
            return;
        }

        byte[]? manifestBody = null;
        var manifestPut = request.Method == "PUT" && EnableReferrersApi && ManifestPath().IsMatch(path);
        if (manifestPut) manifestBody = await ReadLimitedAsync(request.Body, MaxManifestBytes, context.RequestAborted);

        using var upstreamRequest = CreateUpstreamRequest(context, path + request.QueryString.Value, manifestBody);
        using var response = await _upstreamClient.SendAsync(upstreamRequest, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);

        context.Response.StatusCode = (int)response.StatusCode;
        CopyResponseHeaders(response, context.Response);
        if (manifestPut && response.IsSuccessStatusCode && RememberReferrer(path, manifestBody!, request.ContentType) is string subject)
            context.Response.Headers["OCI-Subject"] = subject;
        if (request.Method == "DELETE" && response.IsSuccessStatusCode && ManifestPath().Match(path) is { Success: true } deleted)
            ForgetReferrer(deleted.Groups["name"].Value, deleted.Groups["reference"].Value);

        if (request.Method == "HEAD") return;
        await using var body = ShapedResponseBody(context, await response.Content.ReadAsStreamAsync(context.RequestAborted));
        await CopyBodyAsync(context, body, rule);
    }

    private HttpRequestMessage CreateUpstreamRequest(HttpContext context, string pathAndQuery, byte[]? bufferedBody)
    {
        var request = context.Request;
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(Upstream, pathAndQuery));
        var hasBody = bufferedBody is not null || request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        if (hasBody)
            message.Content = bufferedBody is not null ? new ByteArrayContent(bufferedBody) : new StreamContent(ShapedRequestBody(context), CopyBufferSize);
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHopHeaders.Contains(name)) continue;
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && bufferedBody is not null) continue;
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && message.Content is not null)
                message.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
        // The registry builds absolute URLs (upload Location) from Host, so keeping ours makes them point at the proxy.
        message.Headers.Host = request.Host.Value;
        return message;
    }

    private void CopyResponseHeaders(HttpResponseMessage response, HttpResponse target)
    {
        foreach (var header in response.Headers.NonValidated.Concat(response.Content.Headers.NonValidated))
        {
            if (HopByHopHeaders.Contains(header.Key)) continue;
            var values = header.Value.ToArray();
            if (header.Key.Equals("Location", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Link", StringComparison.OrdinalIgnoreCase))
                values = values.Select(PointAtProxy).ToArray();
            target.Headers[header.Key] = new StringValues(values);
        }
    }

    private string PointAtProxy(string value) =>
        value.Replace(_upstreamAuthority, BaseUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);

    /// <summary>Streams the body; a DropConnection rule aborts after N bytes, a mid-body Slow rule stalls there.</summary>
    private static async Task CopyBodyAsync(HttpContext context, Stream body, FaultRule? rule)
    {
        var limit = rule?.Kind is FaultKind.DropConnection or FaultKind.Slow && rule.AfterBytes > 0 ? rule.AfterBytes : long.MaxValue;
        var buffer = new byte[CopyBufferSize];
        long written = 0;
        var stalled = false;
        var ct = context.RequestAborted;
        while (true)
        {
            var wanted = (int)Math.Min(buffer.Length, limit - written > 0 ? limit - written : buffer.Length);
            var read = await body.ReadAsync(buffer.AsMemory(0, wanted), ct);
            if (read == 0) break;
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), ct);
            written += read;
            if (written < limit) continue;
            if (rule!.Kind == FaultKind.DropConnection)
            {
                await context.Response.Body.FlushAsync(ct);
                // Abort drops whatever the transport has not sent yet; a moment's grace makes "after N bytes" exact.
                await Task.Delay(DropGrace, ct);
                context.Abort();
                return;
            }
            if (!stalled)
            {
                stalled = true;
                await context.Response.Body.FlushAsync(ct);
                await Task.Delay(rule.Delay, ct);
                limit = long.MaxValue;
            }
        }
    }

    private static async Task WriteStatusFaultAsync(HttpContext context, FaultRule rule)
    {
        context.Response.StatusCode = rule.StatusCode;
        if (rule.RetryAfter is not null) context.Response.Headers.RetryAfter = rule.RetryAfter;
        if (rule.Body is not null)
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(rule.Body, context.RequestAborted);
        }
    }

    // ---- tag list pagination emulation ----

    private async Task ServeTagsPageAsync(HttpContext context, string repository, int pageSize)
    {
        using var upstreamRequest = CreateUpstreamRequest(context, $"/v2/{repository}/tags/list", null);
        using var response = await _upstreamClient.SendAsync(upstreamRequest, HttpCompletionOption.ResponseContentRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        CopyResponseHeaders(response, context.Response);
        var body = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
        if (!response.IsSuccessStatusCode)
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return;
        }
        using var parsed = JsonDocument.Parse(body);
        var all = parsed.RootElement.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind == JsonValueKind.Array
            ? tagsElement.EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal).ToList()
            : [];
        var query = context.Request.Query;
        var n = int.TryParse(query["n"], out var requested) && requested > 0 ? Math.Min(requested, pageSize) : pageSize;
        var last = query["last"].ToString();
        var remaining = last.Length > 0 ? all.Where(t => string.CompareOrdinal(t, last) > 0).ToList() : all;
        var page = remaining.Take(n).ToList();
        context.Response.Headers.Remove("Link");
        if (remaining.Count > page.Count)
            context.Response.Headers["Link"] = $"</v2/{repository}/tags/list?n={n}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
        var json = JsonSerializer.SerializeToUtf8Bytes(new { name = repository, tags = page });
        context.Response.Headers.ContentLength = json.Length;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    // ---- control API for other processes ----

    private async Task HandleControlAsync(HttpContext context, string path)
    {
        var ct = context.RequestAborted;
        switch (context.Request.Method, path)
        {
            case ("POST", "/_lab/faults"):
                var rule = await JsonSerializer.DeserializeAsync<FaultRule>(context.Request.Body, ControlJson, ct);
                if (rule is null)
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    return;
                }
                Inject(rule);
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            case ("DELETE", "/_lab/faults"):
                ClearFaults();
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            case ("GET", "/_lab/requests"):
                await context.Response.WriteAsJsonAsync(new { requests = Requests, storageHostRequests = StorageHostRequests }, ControlJson, ct);
                return;
            case ("DELETE", "/_lab/requests"):
                ClearRequests();
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            case ("PUT", "/_lab/settings"):
                var settings = await JsonSerializer.DeserializeAsync<ProxySettings>(context.Request.Body, ControlJson, ct);
                if (settings?.EnableReferrersApi is bool referrers) EnableReferrersApi = referrers;
                if (settings?.TagsPageSize is int size) TagsPageSize = size > 0 ? size : null;
                if (settings?.StorageHostRejectsAuthorization is bool reject) StorageHostRejectsAuthorization = reject;
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
        }
    }

    private sealed record ProxySettings(bool? EnableReferrersApi, int? TagsPageSize, bool? StorageHostRejectsAuthorization);

    private static async Task<byte[]> ReadLimitedAsync(Stream body, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[CopyBufferSize];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit) throw new InvalidOperationException($"manifest body larger than {limit} bytes");
        }
        return buffer.ToArray();
    }

    [GeneratedRegex("^/v2/(?<name>.+)/referrers/(?<digest>sha256:[0-9a-f]{64})$")]
    private static partial Regex ReferrersPath();

    [GeneratedRegex(FaultRule.BlobPathPattern)]
    private static partial Regex BlobPath();

    [GeneratedRegex("^/v2/(?<name>.+)/tags/list$")]
    private static partial Regex TagsListPath();

    [GeneratedRegex("^/v2/(?<name>.+)/manifests/(?<reference>[^/]+)$")]
    private static partial Regex ManifestPath();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstreamClient.Dispose();
    }

    public override string ToString() => $"Fault proxy at {Host} -> {Upstream.Authority} (storage host {StorageHost})";
}
