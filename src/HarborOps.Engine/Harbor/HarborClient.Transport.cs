using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Resilience;

namespace HarborOps.Engine.Harbor;

/// <summary>How every Harbor API call travels: the request, its retries under the session's per-host policy, the error mapping and paging.</summary>
public sealed partial class HarborClient
{
    private readonly HttpClient _http;
    private readonly Action<string>? _log;
    private readonly HostResilience _resilience;

    /// <summary>A client for one connection over the process-wide HTTP client; cheap to create per command.</summary>
    public HarborClient(HarborConnection connection, Action<string>? log = null, HarborClientOptions? options = null)
        : this(connection, HarborHttp.For(connection.SkipCertificateCheck), log, options)
    {
    }

    /// <param name="connection">Where and as whom.</param>
    /// <param name="http">The HTTP client requests go through.</param>
    /// <param name="log">Receives one line per request (method, path, status), never a secret.</param>
    /// <param name="options">Timeouts, retries and poll intervals; the defaults when null.</param>
    /// <param name="hosts">Per-host wait windows; by default the session's, which the cmdlets' registry engine shares.</param>
    internal HarborClient(HarborConnection connection, HttpClient http, Action<string>? log, HarborClientOptions? options, HostBackoff? hosts = null)
    {
        Connection = connection ?? throw new ArgumentNullException(nameof(connection));
        this._http = http;
        this._log = log;
        Options = options ?? new HarborClientOptions();
        _resilience = new HostResilience(Options.RetryRules, hosts ?? HostBackoff.Session);
    }

    public HarborConnection Connection { get; }
    public HarborClientOptions Options { get; }
    public string Registry => Connection.Registry;

    internal async Task<HarborResponse> SendAsync(HarborCall call, CancellationToken cancellationToken)
    {
        var uri = new Uri(call.FromBase ? Connection.Url : Connection.ApiRoot, call.Path);
        var safe = call.Method == HttpMethod.Get || call.Method == HttpMethod.Head;
        var body = call.Body is null ? null : JsonSerializer.SerializeToUtf8Bytes(call.Body, call.Body.GetType(), HarborHttp.Json);
        // /api and /v2 are one host: its wait window is the registry client's too.
        var host = uri.Authority;
        // Only GET and HEAD are sent twice: a POST or PUT that timed out may have been carried out.
        var retries = safe ? _resilience.Rules.MaxRetries : 0;
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await _resilience.WaitTurnAsync(host, cancellationToken).ConfigureAwait(false);
            // A new id per attempt: each one is a separate entry in Harbor's log.
            var requestId = Guid.NewGuid().ToString();
            using var message = new HttpRequestMessage(call.Method, uri);
            message.Headers.TryAddWithoutValidation("X-Request-Id", requestId);
            message.Headers.Accept.ParseAdd("application/json");
            message.Headers.UserAgent.ParseAdd(HarborHttp.UserAgent);
            message.Headers.Authorization = BasicAuthorization(Connection.Credential);
            if (call.ProjectByName) message.Headers.TryAddWithoutValidation("X-Is-Resource-Name", "true");
            if (body is not null)
            {
                message.Content = new ByteArrayContent(body);
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            var clock = Stopwatch.StartNew();
            HttpResponseMessage response;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(Options.RequestTimeout);
                try
                {
                    response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    Log($"{call.Method} {uri.PathAndQuery} timed out after {clock.ElapsedMilliseconds} ms (X-Request-Id {requestId})");
                    if (attempt < retries) { await _resilience.BackOffAsync(host, attempt, null, cancellationToken).ConfigureAwait(false); continue; }
                    throw new HarborException(HarborErrorIds.Unreachable, FailureKind.Timeout,
                        $"Harbor at {Connection.Url} did not answer {call.Description} within {Options.RequestTimeout.TotalSeconds:0} s (X-Request-Id {requestId}). Check Harbor's health and the network path.",
                        call.Target ?? Connection.Url.ToString(), requestId: requestId);
                }
                catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    Log($"{call.Method} {uri.PathAndQuery} failed: {ex.HttpRequestError} (X-Request-Id {requestId})");
                    if (ex.HttpRequestError == HttpRequestError.SecureConnectionError)
                        throw await HarborTlsFailure.DescribeAsync(uri, ex, Connection.SkipCertificateCheck, call.Target ?? Connection.Url.ToString(), requestId).ConfigureAwait(false);
                    var dns = ex.HttpRequestError == HttpRequestError.NameResolutionError
                        || ex.InnerException is SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData };
                    if (!dns && attempt < retries) { await _resilience.BackOffAsync(host, attempt, null, cancellationToken).ConfigureAwait(false); continue; }
                    throw new HarborException(HarborErrorIds.Unreachable, FailureKind.ConnectionFailed,
                        dns ? $"Harbor host '{uri.Host}' could not be resolved. Check the URL {Connection.Url}."
                            : $"Could not reach Harbor at {uri.Authority} for {call.Description} ({ex.HttpRequestError}). Check that Harbor runs and the URL {Connection.Url} is right.",
                        call.Target ?? Connection.Url.ToString(), ex, requestId: requestId);
                }
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                var echoed = response.Headers.TryGetValues("X-Request-Id", out var ids) ? ids.FirstOrDefault() ?? requestId : requestId;
                Log($"{call.Method} {uri.PathAndQuery} -> {status} in {clock.ElapsedMilliseconds} ms (X-Request-Id {echoed})");
                var result = new HarborResponse
                {
                    Status = status, Body = bytes, Headers = response.Headers, RequestId = echoed, Uri = uri,
                    ContentType = response.Content.Headers.ContentType?.MediaType,
                };
                if (response.IsSuccessStatusCode || call.AcceptStatus?.Invoke(status) == true) return result;
                var retryAfter = RetryRules.RetryAfterOf(response);
                if (attempt < retries && _resilience.Rules.IsRetried(status) && (retryAfter is null || _resilience.Rules.WaitsOut(retryAfter.Value)))
                {
                    await _resilience.BackOffAsync(host, attempt, retryAfter, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw MapError(call, result);
            }
        }
    }

    internal static AuthenticationHeaderValue BasicAuthorization(NetworkCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.UserName + ":" + credential.Password)));

    private void Log(string text) => _log?.Invoke("Harbor: " + text);

    /// <summary>Every list endpoint, paged at <see cref="HarborClientOptions.PageSize"/> until X-Total-Count or the
    /// absence of a next link says it is over.</summary>
    internal async IAsyncEnumerable<T> ListAsync<T>(HarborCall call, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var separator = call.Path.Contains('?') ? "&" : "?";
        var seen = 0;
        for (var page = 1; page <= 100_000; page++)
        {
            var response = await SendAsync(call with { Path = $"{call.Path}{separator}page={page}&page_size={Options.PageSize}" }, cancellationToken).ConfigureAwait(false);
            var items = response.Read<List<T>>(call);
            foreach (var item in items) yield return item;
            seen += items.Count;
            var totalText = response.Header("X-Total-Count");
            var hasNext = LinkHeader.FindNext(response.Headers.TryGetValues("Link", out var links) ? links : [], response.Uri) is not null;
            if (items.Count == 0) yield break;
            if (long.TryParse(totalText, out var total) ? seen >= total : !hasNext) yield break;
        }
    }

    internal HarborException MapError(HarborCall call, HarborResponse response)
    {
        var status = response.Status;
        HarborErrorsDto? errors = null;
        try
        {
            if (response.Body.Length > 0 && response.ContentType is null or "application/json") errors = JsonSerializer.Deserialize<HarborErrorsDto>(response.Body, HarborHttp.Json);
        }
        catch (JsonException)
        {
            // a proxy's HTML error page; the status says enough
        }
        var first = errors?.Errors?.FirstOrDefault();
        // Harbor's text is the server's: a proxy or a hostile server may echo the Basic header we sent.
        var sent = new SentSecrets().AddBasic(Connection.Credential.UserName, Connection.Credential.Password);
        var code = first?.Code is { } rawCode ? sent.Scrub(rawCode) : null;
        var said = first?.Message is { Length: > 0 } m ? $"{code}: {sent.Scrub(m)}" : $"HTTP {status}";
        var target = call.Target ?? Connection.Url.ToString();
        var tail = $" (HTTP {status}, X-Request-Id {response.RequestId})";
        HarborException Make(string id, FailureKind kind, string text) =>
            new(id, kind, text + tail, target, statusCode: status, harborErrorCode: code, requestId: response.RequestId);

        switch (status)
        {
            case 401:
                return Make(HarborErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                    $"Harbor at {Connection.Url} did not accept the credential of '{Connection.UserName}' for {call.Description} ({said}). Check the user name and password, CLI secret or robot secret; robots also fail when disabled or expired.");
            case 403 when first?.Message?.Contains("CSRF", StringComparison.OrdinalIgnoreCase) == true:
                return Make(HarborErrorIds.CsrfRejected, FailureKind.PermissionDenied,
                    $"Harbor rejected {call.Description} with its CSRF check ({said}): the request carried a session cookie. HarborOps sends none; a proxy in between must be adding one.");
            case 403:
                return Make(HarborErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                    $"'{Connection.UserName}' may not do {call.Description} on {Connection.Url} ({said}). Use an account with that right (project admin or system admin).");
            case 404:
                return Make(call.NotFoundId, FailureKind.NotFound, (call.NotFoundMessage ?? $"Harbor answered {call.Description} with not found") + $" ({said}).");
            case 409:
                return Make(call.ConflictId ?? HarborErrorIds.RequestInvalid, FailureKind.Conflict,
                    $"{call.Description} conflicts with what exists ({said}).{(call.ConflictHint is null ? "" : " " + call.ConflictHint)}");
            case 412:
                return Make(call.PreconditionId ?? HarborErrorIds.PreconditionFailed, FailureKind.InvalidArgument,
                    $"Harbor refused {call.Description}: a precondition failed ({said}).");
            case 400 or 422:
                return Make(call.BadRequestId ?? HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                    $"Harbor rejected {call.Description} as invalid ({said}).");
            case 429:
                return Make(HarborErrorIds.Throttled, FailureKind.Throttled, $"Harbor kept throttling {call.Description} ({said}). Try again later.");
            case >= 500:
                return Make(HarborErrorIds.ServerError, FailureKind.ServerError,
                    $"Harbor failed {call.Description} ({said}). Its core log has the cause under the X-Request-Id.");
            default:
                return Make(HarborErrorIds.ResponseInvalid, FailureKind.InvalidData, $"Harbor answered {call.Description} with an unexpected status ({said}).");
        }
    }

    internal static HarborException InvalidResponse(HarborCall call, Uri uri, string requestId, string? contentType, byte[] body, Exception? inner) =>
        new(HarborErrorIds.ResponseInvalid, FailureKind.InvalidData,
            $"{uri.GetLeftPart(UriPartial.Path)} answered {call.Description} with {(contentType ?? "no content type")} that is not the JSON Harbor sends ({body.Length} bytes; X-Request-Id {requestId}). Check that the URL points at Harbor itself, not a proxy page or another service.",
            call.Target, inner, requestId: requestId);

    /// <summary>Path segment for a project name.</summary>
    internal static string ProjectSegment(string project) => Uri.EscapeDataString(project);

    /// <summary>Harbor wants repository names with '/' encoded twice: a/b -> a%2Fb -> a%252Fb.</summary>
    internal static string RepositorySegment(string repository) => Uri.EscapeDataString(Uri.EscapeDataString(repository));

    internal static string Query(string value) => Uri.EscapeDataString(value);
}
