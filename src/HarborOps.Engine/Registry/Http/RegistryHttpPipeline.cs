using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Resilience;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// The one HTTP path to registries: a long-lived HttpClient over SocketsHttpHandler, and the handlers every call passes
/// in a fixed order: the host's wait window (<see cref="HostResilience"/>, shared with Harbor's API client of the same
/// host), challenge auth (<see cref="IChallengeAuthenticator"/>, one retry after a 401), redirects followed by hand
/// (<see cref="RegistryRedirects"/>: credentials only ever go to the <see cref="Origin"/> they were issued for, and https
/// never drops to plain http), retries of throttling and transient failures (<see cref="RegistryRetries"/>), and one
/// mapping of failures to <see cref="RegistryException"/> (<see cref="RegistryFailures"/>).
/// </summary>
internal sealed class RegistryHttpPipeline : IDisposable
{
    private const long LargeBodyBytes = 1024 * 1024;
    private readonly HttpClient _client;
    private readonly IChallengeAuthenticator _authenticator;
    private readonly RegistryRetries _retries;
    private readonly RegistryRedirects _redirects;

    /// <param name="options">The engine's settings; its retry numbers become this pipeline's <see cref="RetryRules"/>.</param>
    /// <param name="hosts">The per-host wait windows, shared with the other clients of the session.</param>
    /// <param name="authenticatorFor">Builds the challenge auth, which reaches token services through this pipeline.</param>
    public RegistryHttpPipeline(RegistryHttpOptions options, HostBackoff hosts, Func<RegistryHttpPipeline, IChallengeAuthenticator> authenticatorFor)
    {
        Options = options;
        _retries = new RegistryRetries(new HostResilience(new RetryRules
        {
            MaxRetries = options.MaxRetries, BaseDelay = options.RetryBaseDelay, MaxDelay = options.RetryMaxDelay, MaxRetryAfter = options.MaxRetryAfter,
        }, hosts));
        _redirects = new RegistryRedirects(IsPlainHttpAllowed);
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = Math.Max(1, options.MaxConnectionsPerHost),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.ConnectTimeout,
            UseProxy = options.UseSystemProxy,
        };
        if (options.ServerCertificateValidator is { } validate)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2, errors);
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
        _authenticator = authenticatorFor(this);
        _plainHttpRegistries = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var host in options.PlainHttpHosts)
            _plainHttpRegistries.Add(ImageReference.NormalizeRegistry(host)); // accepts "host:port" and "http://host:port/"
        _acrRegistries = new HashSet<string>(options.AcrHosts.Select(ImageReference.NormalizeRegistry), StringComparer.OrdinalIgnoreCase);
    }

    private readonly HashSet<string> _plainHttpRegistries;
    private readonly HashSet<string> _acrRegistries;

    /// <summary>Login-server suffixes of Azure Container Registry in the public and sovereign clouds (China, US Government, the retired Germany cloud).</summary>
    private static readonly string[] AcrSuffixes = [".azurecr.io", ".azurecr.cn", ".azurecr.us", ".azurecr.de"];

    /// <summary>Azure Container Registry: by its login-server suffix, or named in <see cref="RegistryHttpOptions.AcrHosts"/>.</summary>
    public bool IsAcr(string registry)
    {
        if (_acrRegistries.Contains(registry)) return true;
        var host = HostOf(registry);
        return AcrSuffixes.Any(suffix => host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));
    }

    public RegistryHttpOptions Options { get; }
    /// <summary>The retry rules and the session's per-host windows this pipeline follows.</summary>
    internal HostResilience Resilience => _retries.Policy;
    internal HostBackoff Backoff => _retries.Policy.Hosts;

    /// <summary>Loopback hosts and configured hosts speak plain HTTP; everything else https.</summary>
    public bool IsPlainHttp(string registry)
    {
        if (_plainHttpRegistries.Contains(registry)) return true;
        var host = HostOf(registry);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>
    /// Whether plain http to this URL's host is allowed at all when it is not the registry's own URL (a redirect, an
    /// upload Location, a token realm): loopback, or a host the user named in <see cref="RegistryHttpOptions.PlainHttpHosts"/>.
    /// </summary>
    public bool IsPlainHttpAllowed(Uri uri) => IsPlainHttp(uri.Authority) || IsPlainHttp($"{uri.Host}:{uri.Port}");

    public Uri BaseUri(string registry) =>
        new($"{(IsPlainHttp(registry) ? "http" : "https")}://{ImageReference.ToApiHost(registry)}/");

    private static string HostOf(string registry)
    {
        if (registry.StartsWith('['))
        {
            var close = registry.IndexOf(']');
            return close > 0 ? registry[..(close + 1)] : registry;
        }
        var colon = registry.LastIndexOf(':');
        return colon > 0 ? registry[..colon] : registry;
    }

    /// <summary>The token service the registry's Bearer challenge named, once one was met (see <see cref="IChallengeAuthenticator.BearerServiceOf"/>).</summary>
    public string? BearerServiceOf(string registry) => _authenticator.BearerServiceOf(registry);

    /// <summary>The password credential requests to the registry carry, if that is what they carry.</summary>
    public Task<System.Net.NetworkCredential?> PasswordCredentialAsync(string registry, System.Net.NetworkCredential? explicitCredential, CancellationToken cancellationToken) =>
        _authenticator.PasswordCredentialAsync(registry, explicitCredential, cancellationToken);

    /// <summary>Registry requests sent per registry name (one per call, whatever its retries and challenges cost).</summary>
    public long RequestsSentTo(string registry) => _requestCounts.TryGetValue(registry, out var count) ? Interlocked.Read(ref count.Value) : 0;

    /// <inheritdoc cref="RegistryRetries.ThrottledAnswers"/>
    public long ThrottledAnswers => _retries.ThrottledAnswers;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StrongBox<long>> _requestCounts = new(StringComparer.OrdinalIgnoreCase);

    public async Task<RegistryResponse> SendAsync(RegistryRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requestCounts.GetOrAdd(request.Registry, _ => new StrongBox<long>()).Value);
        var auth = request.Authenticate ? await _authenticator.BeginAsync(request, cancellationToken).ConfigureAwait(false) : null;
        var call = new RegistryCall(request, BaseUri(request.Registry), auth);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _redirects.RefuseDowngrade(call);
            await _retries.Policy.WaitTurnAsync(call.Host, cancellationToken).ConfigureAwait(false);
            using var message = await NewMessageAsync(call, cancellationToken).ConfigureAwait(false);
            var response = await SendOnceAsync(call, message, cancellationToken).ConfigureAwait(false);
            if (response is null) continue;
            RegistryResponse? answer = null;
            try
            {
                answer = await HandleAsync(call, response, cancellationToken).ConfigureAwait(false);
                if (answer is not null) return answer;
            }
            finally
            {
                if (answer is null) response.Dispose();
            }
        }
    }

    /// <summary>One attempt's message: the request's headers and body, and the credentials its current origin may get.</summary>
    private static async Task<HttpRequestMessage> NewMessageAsync(RegistryCall call, CancellationToken cancellationToken)
    {
        var request = call.Request;
        var message = new HttpRequestMessage(call.Method, call.Uri);
        if (request.Accept is { Count: > 0 })
            foreach (var accept in request.Accept) message.Headers.Accept.ParseAdd(accept);
        if (request.Range is not null) message.Headers.Range = request.Range;
        if (request.SendsRequestId) message.Headers.TryAddWithoutValidation("X-Request-Id", Guid.NewGuid().ToString());
        if (request.Content is not null && call.Method != HttpMethod.Get && call.Method != HttpMethod.Head)
            message.Content = request.Content();
        if (request.Authorization is not null && Origin.Of(call.Uri) == call.AuthorizationOrigin)
            message.Headers.Authorization = request.Authorization;
        else if (call.Auth is not null && call.AtRegistry)
            await call.Auth.ApplyAsync(message, cancellationToken).ConfigureAwait(false);
        call.Sent.AddAuthorization(message.Headers.Authorization);
        return message;
    }

    /// <summary>
    /// Sends one attempt and waits for the response's headers. Null when the attempt failed in transit in a way worth
    /// another try (the backoff is already waited out); a failure that is not is thrown mapped.
    /// </summary>
    private async Task<HttpResponseMessage?> SendOnceAsync(RegistryCall call, HttpRequestMessage message, CancellationToken cancellationToken)
    {
        using var headerTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The deadline is for the registry to answer, not for us to upload: SendAsync also sends the body,
        // and a large layer takes as long as it takes.
        if (message.Content?.Headers.ContentLength is not > LargeBodyBytes)
            headerTimeout.CancelAfter(Options.RequestTimeout);
        try
        {
            return await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, headerTimeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            call.LastProblem = $"no response within {Options.RequestTimeout.TotalSeconds:0.#} s";
            if (!call.Request.RetryTimeouts || !_retries.CanRetry(call)) throw RegistryFailures.Timeout(call, Options.RequestTimeout);
        }
        catch (HttpRequestException ex) when (ex.InnerException is RegistryException inner)
        {
            // A verifying request body (upload) found a digest problem while being sent.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
            throw;
        }
        catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (ex.HttpRequestError == HttpRequestError.NameResolutionError || IsHostNotFound(ex)) throw RegistryFailures.NameNotResolved(call, ex);
            if (ex.HttpRequestError == HttpRequestError.SecureConnectionError)
                throw await PlainHttpAnswer.IsPlainHttpAsync(call.Uri.Host, call.Uri.Port, cancellationToken).ConfigureAwait(false)
                    ? RegistryFailures.AnsweredPlainHttp(call, ex)
                    : RegistryFailures.TlsFailed(call, ex);
            call.LastProblem = Describe(ex);
            // A refused connection rarely heals within a backoff window (nothing listens on that port); a couple
            // of quick retries cover a registry that is restarting, without making a typo cost half a minute.
            var refused = ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };
            if (!_retries.CanRetry(call) || (refused && call.Retries >= MaxRefusedConnectionRetries)) throw RegistryFailures.Unreachable(call, ex);
        }
        await _retries.BackOffAsync(call, null, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>What an answer means: follow a redirect, answer a challenge, hand back a success, or retry or map a failure. Null: send again.</summary>
    private async Task<RegistryResponse?> HandleAsync(RegistryCall call, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (_redirects.TryFollow(call, response)) return null;
        if (status == 401 && call.Auth is { } auth && call.AtRegistry) return await OnUnauthorizedAsync(call, auth, response, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && call.Request.AcceptStatus?.Invoke(status) == true && !_retries.IsRetried(status))
            return call.Respond(response, await RegistryBodies.ReadQuietlyAsync(response, cancellationToken).ConfigureAwait(false));
        if (response.IsSuccessStatusCode) return await ReadSuccessAsync(call, response, cancellationToken).ConfigureAwait(false);
        await _retries.OnFailureStatusAsync(call, response, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>A 401 from the registry's own origin: one more attempt with what the challenge asked for, or the auth failure.</summary>
    private static async Task<RegistryResponse?> OnUnauthorizedAsync(RegistryCall call, IRequestAuthorization auth, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // A body that cannot be sent again (a streamed upload) cannot be retried with credentials either.
        if (auth.OnUnauthorized(response) && call.BodyReplayable) return null;
        var body = await RegistryBodies.ReadQuietlyAsync(response, cancellationToken).ConfigureAwait(false);
        if (call.Request.AcceptStatus?.Invoke(401) == true && !auth.ChallengeSeen) return call.Respond(response, body);
        throw auth.Failure(401, RegistryErrorBody.Parse(body, call.Sent));
    }

    /// <summary>A success: its body buffered inside the retry loop (a drop while reading is retried), or the stream left to the caller.</summary>
    private async Task<RegistryResponse?> ReadSuccessAsync(RegistryCall call, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!call.Request.BufferBody || call.Method == HttpMethod.Head) return call.Respond(response, null);
        try
        {
            return call.Respond(response, await RegistryBodies.ReadAsync(response, call.Request, Options.RequestTimeout, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (RegistryBodies.IsTransientFailure(ex, cancellationToken))
        {
            call.LastProblem = "the connection dropped while reading the response";
            if (!_retries.CanRetry(call)) throw RegistryFailures.KeptDropping(call, ex);
        }
        await _retries.BackOffAsync(call, null, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private const int MaxRefusedConnectionRetries = 2;

    private static bool IsHostNotFound(HttpRequestException ex) =>
        ex.InnerException is SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain };

    private static string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.ConnectionError => "connection refused or reset",
        HttpRequestError.ResponseEnded => "the connection closed before the response",
        HttpRequestError.InvalidResponse => "the server sent an invalid HTTP response",
        _ => ex.InnerException?.Message ?? ex.Message,
    };

    public void Dispose() => _client.Dispose();
}
