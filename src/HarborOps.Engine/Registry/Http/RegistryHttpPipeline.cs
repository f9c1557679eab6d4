using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Auth;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// The one HTTP path to registries: a long-lived HttpClient over SocketsHttpHandler, with the layers every call needs in
/// a fixed order: per-host backoff gate, challenge auth (one retry after a 401), redirects followed by hand (credentials
/// only ever go to the <see cref="Origin"/> they were issued for, and https never drops to plain http), retries of throttling and transient failures with exponential
/// backoff that honours Retry-After, and one mapping of failures to <see cref="RegistryException"/>.
/// </summary>
internal sealed class RegistryHttpPipeline : IDisposable
{
    private const int MaxRedirects = 5;
    private const long LargeBodyBytes = 1024 * 1024;
    private readonly HttpClient client;
    private readonly HostBackoff backoff = new();

    public RegistryHttpPipeline(RegistryHttpOptions options, RegistryCredentialStore store, DockerConfigCredentials dockerConfig)
    {
        Options = options;
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
        client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
        Authenticator = new RegistryAuthenticator(this, store, dockerConfig);
        plainHttpRegistries = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var host in options.PlainHttpHosts)
            plainHttpRegistries.Add(ImageReference.NormalizeRegistry(host)); // accepts "host:port" and "http://host:port/"
        acrRegistries = new HashSet<string>(options.AcrHosts.Select(ImageReference.NormalizeRegistry), StringComparer.OrdinalIgnoreCase);
    }

    private readonly HashSet<string> plainHttpRegistries;
    private readonly HashSet<string> acrRegistries;

    /// <summary>Login-server suffixes of Azure Container Registry in the public and sovereign clouds (China, US Government, the retired Germany cloud).</summary>
    private static readonly string[] AcrSuffixes = [".azurecr.io", ".azurecr.cn", ".azurecr.us", ".azurecr.de"];

    /// <summary>Azure Container Registry: by its login-server suffix, or named in <see cref="RegistryHttpOptions.AcrHosts"/>.</summary>
    public bool IsAcr(string registry)
    {
        if (acrRegistries.Contains(registry)) return true;
        var host = HostOf(registry);
        return AcrSuffixes.Any(suffix => host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));
    }

    public RegistryHttpOptions Options { get; }
    public RegistryAuthenticator Authenticator { get; }
    internal HostBackoff Backoff => backoff;

    /// <summary>Loopback hosts and configured hosts speak plain HTTP; everything else https.</summary>
    public bool IsPlainHttp(string registry)
    {
        if (plainHttpRegistries.Contains(registry)) return true;
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

    /// <summary>Registry requests sent per registry name (one per call, whatever its retries and challenges cost).</summary>
    public long RequestsSentTo(string registry) => requestCounts.TryGetValue(registry, out var count) ? Interlocked.Read(ref count.Value) : 0;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StrongBox<long>> requestCounts = new(StringComparer.OrdinalIgnoreCase);

    public async Task<RegistryResponse> SendAsync(RegistryRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref requestCounts.GetOrAdd(request.Registry, _ => new StrongBox<long>()).Value);
        var registryUri = BaseUri(request.Registry);
        var uri = request.AbsoluteUri ?? new Uri(registryUri, request.PathAndQuery);
        // Challenge auth belongs to the registry's origin; a fixed Authorization (a token realm's Basic) to the URL it was made for.
        var registryOrigin = Origin.Of(registryUri);
        var authorizationOrigin = Origin.Of(uri);
        var method = request.Method;
        var auth = request.Authenticate
            ? new AuthAttempt(await Authenticator.ResolveCredentialAsync(request.Registry, request.Credential, cancellationToken).ConfigureAwait(false), request.Scopes)
            : null;
        var sent = new SentSecrets().AddAll(request.BodySecrets).AddAuthorization(request.Authorization);
        if (auth is not null) sent.AddBasic(auth.Credential.UserName, auth.Credential.Secret);
        var retries = 0;
        var redirects = 0;
        var started = Stopwatch.StartNew();
        TimeSpan? lastRetryAfter = null;
        string lastProblem = "";

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RefuseDowngrade(request, registryUri, uri);
            var hostKey = uri.Authority;
            await backoff.WaitAsync(hostKey, cancellationToken).ConfigureAwait(false);

            using var message = new HttpRequestMessage(method, uri);
            if (request.Accept is { Count: > 0 })
                foreach (var accept in request.Accept) message.Headers.Accept.ParseAdd(accept);
            if (request.Range is not null) message.Headers.Range = request.Range;
            if (request.Content is not null && method != HttpMethod.Get && method != HttpMethod.Head)
                message.Content = request.Content();
            var atRegistry = Origin.Of(uri) == registryOrigin;
            if (request.Authorization is not null && Origin.Of(uri) == authorizationOrigin)
                message.Headers.Authorization = request.Authorization;
            else if (auth is not null && atRegistry)
                await Authenticator.ApplyAsync(message, request, auth, cancellationToken).ConfigureAwait(false);
            sent.AddAuthorization(message.Headers.Authorization);

            HttpResponseMessage response;
            using (var headerTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // The deadline is for the registry to answer, not for us to upload: SendAsync also sends the body,
                // and a large layer takes as long as it takes.
                if (message.Content?.Headers.ContentLength is not > LargeBodyBytes)
                    headerTimeout.CancelAfter(Options.RequestTimeout);
                try
                {
                    response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, headerTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    lastProblem = $"no response within {Options.RequestTimeout.TotalSeconds:0.#} s";
                    if (request.RetryTimeouts && CanRetry(request, retries))
                    {
                        await DelayRetryAsync(hostKey, retries++, null, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    throw new RegistryException(RegistryErrorIds.Timeout, FailureKind.Timeout,
                        $"'{uri.Authority}' did not answer {request.Description} within {Options.RequestTimeout.TotalSeconds:0.#} s ({retries} retries). Check the registry's health or raise the request timeout.",
                        request.Target ?? request.Registry);
                }
                catch (HttpRequestException ex) when (ex.InnerException is RegistryException inner)
                {
                    // A verifying request body (upload) found a digest problem while being sent.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
                    throw;
                }
                catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    if (ex.HttpRequestError == HttpRequestError.NameResolutionError || IsHostNotFound(ex))
                        throw new RegistryException(RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed,
                            $"Registry host '{uri.Host}' could not be resolved (DNS). Check the spelling of the registry in '{request.Target ?? request.Registry}' and your network or DNS settings.",
                            request.Target ?? request.Registry, ex);
                    if (ex.HttpRequestError == HttpRequestError.SecureConnectionError)
                        throw new RegistryException(RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed,
                            $"The TLS connection to '{uri.Authority}' failed ({ex.InnerException?.Message ?? ex.Message}). If the registry serves plain HTTP, add it to the HARBOROPS_PLAIN_HTTP_HOSTS environment variable (before the first HarborOps command of the session); if it uses a private CA, trust that CA on this machine.",
                            request.Target ?? request.Registry, ex);
                    lastProblem = Describe(ex);
                    // A refused connection rarely heals within a backoff window (nothing listens on that port); a couple
                    // of quick retries cover a registry that is restarting, without making a typo cost half a minute.
                    var refused = ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };
                    if (CanRetry(request, retries) && (!refused || retries < MaxRefusedConnectionRetries))
                    {
                        await DelayRetryAsync(hostKey, retries++, null, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    throw new RegistryException(RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed,
                        $"Could not reach registry host '{uri.Authority}' for {request.Description}: {lastProblem} (after {retries} retries over {started.Elapsed.TotalSeconds:0.#} s). Check that the registry is running and reachable from this machine.",
                        request.Target ?? request.Registry, ex);
                }
            }

            var status = (int)response.StatusCode;
            var keep = false;
            try
            {
                if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    if (++redirects > MaxRedirects)
                        throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                            $"'{uri.Authority}' redirected {request.Description} more than {MaxRedirects} times; giving up.", request.Target ?? request.Registry, statusCode: status);
                    var next = new Uri(uri, location);
                    if (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp)
                        throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                            $"'{uri.Authority}' redirected {request.Description} to a '{next.Scheme}' URL, which is not followed.", request.Target ?? request.Registry, statusCode: status);
                    if (status == 303 || (status is 301 or 302 && method == HttpMethod.Post)) method = HttpMethod.Get;
                    if (request.BodySecrets.Count > 0 && method != HttpMethod.Get && method != HttpMethod.Head && Origin.Of(next) != authorizationOrigin)
                        throw new RegistryException(RegistryErrorIds.InsecureRedirect, FailureKind.InvalidData,
                            $"'{uri.Authority}' redirected {request.Description} to {next.GetLeftPart(UriPartial.Path)}, another origin; the request carries credentials, so it is not sent there.",
                            request.Target ?? request.Registry, statusCode: status);
                    uri = next;
                    continue;
                }

                if (status == 401 && auth is not null && atRegistry)
                {
                    // A body that cannot be sent again (a streamed upload) cannot be retried with credentials either.
                    if (Authenticator.OnUnauthorized(response, request, auth) && (request.Content is null || request.ContentReplayable)) continue;
                    if (request.AcceptStatus?.Invoke(status) == true && auth.LastChallenges.Count == 0)
                    {
                        keep = true;
                        return new RegistryResponse(response, await ReadBodyQuietlyAsync(response, cancellationToken).ConfigureAwait(false), uri, sent);
                    }
                    var body401 = RegistryErrorBody.Parse(await ReadBodyQuietlyAsync(response, cancellationToken).ConfigureAwait(false), sent);
                    throw Authenticator.Failure(request, auth, status, body401);
                }

                if (!response.IsSuccessStatusCode && request.AcceptStatus?.Invoke(status) == true && !IsRetryableStatus(status))
                {
                    keep = true;
                    return new RegistryResponse(response, await ReadBodyQuietlyAsync(response, cancellationToken).ConfigureAwait(false), uri, sent);
                }
                if (response.IsSuccessStatusCode)
                {
                    if (!request.BufferBody || method == HttpMethod.Head)
                    {
                        keep = true;
                        return new RegistryResponse(response, null, uri, sent);
                    }
                    byte[] body;
                    try
                    {
                        body = await ReadBodyAsync(response, request, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsTransientBodyFailure(ex, cancellationToken))
                    {
                        lastProblem = "the connection dropped while reading the response";
                        if (CanRetry(request, retries))
                        {
                            await DelayRetryAsync(hostKey, retries++, null, cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                        throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ConnectionFailed,
                            $"The connection to '{uri.Authority}' kept dropping while reading {request.Description} ({retries} retries). Check the network and the registry's health.",
                            request.Target ?? request.Registry, ex);
                    }
                    keep = true;
                    return new RegistryResponse(response, body, uri, sent);
                }

                var errorBytes = await ReadBodyQuietlyAsync(response, cancellationToken).ConfigureAwait(false);
                var error = RegistryErrorBody.Parse(errorBytes, sent);
                var throttled = status == 429 || error.HasCode("TOOMANYREQUESTS");
                if (throttled || IsRetryableStatus(status))
                {
                    var retryAfter = RetryAfterOf(response);
                    lastRetryAfter = retryAfter ?? lastRetryAfter;
                    lastProblem = $"HTTP {status}{(error.FirstCode is { } code ? " " + code : "")}";
                    if (retryAfter > Options.MaxRetryAfter)
                        throw ThrottledOrServerError(request, uri, status, error, throttled, retries, started.Elapsed, retryAfter,
                            $"it asked to wait {retryAfter.Value.TotalSeconds:0} s, longer than the {Options.MaxRetryAfter.TotalSeconds:0} s this engine waits");
                    if (CanRetry(request, retries))
                    {
                        await DelayRetryAsync(hostKey, retries++, retryAfter, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    throw ThrottledOrServerError(request, uri, status, error, throttled, retries, started.Elapsed, lastRetryAfter, null);
                }
                throw MapError(request, auth, status, error);
            }
            finally
            {
                if (!keep) response.Dispose();
            }
        }
    }

    /// <summary>
    /// An https registry's request never continues over plain http (a redirect, an upload Location, a next-page link),
    /// unless the user allowed that host for plain http: whatever it carries, and what comes back, would travel in clear text.
    /// </summary>
    private void RefuseDowngrade(RegistryRequest request, Uri registryUri, Uri uri)
    {
        if (uri.Scheme != Uri.UriSchemeHttp || registryUri.Scheme != Uri.UriSchemeHttps || IsPlainHttpAllowed(uri)) return;
        throw new RegistryException(RegistryErrorIds.InsecureRedirect, FailureKind.InvalidData,
            $"Registry '{request.Registry}' (https) sent {request.Description} to plain http ({uri.GetLeftPart(UriPartial.Path)}); refusing to continue in clear text. If '{uri.Authority}' is a trusted plain-HTTP endpoint, add it to the {RegistryHttpOptions.PlainHttpHostsVariable} environment variable before the first HarborOps command of the session.",
            request.Target ?? request.Registry);
    }

    private bool CanRetry(RegistryRequest request, int retries) =>
        retries < Options.MaxRetries && (request.Content is null || request.ContentReplayable);

    private async Task DelayRetryAsync(string host, int retry, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        var delay = retryAfter ?? BackoffDelay(retry);
        backoff.Register(host, delay);
        await backoff.WaitAsync(host, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Exponential backoff with ±20 % jitter so that parallel clients do not retry in lockstep.</summary>
    internal TimeSpan BackoffDelay(int retry)
    {
        var baseMs = Options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 20));
        var capped = Math.Min(baseMs, Options.RetryMaxDelay.TotalMilliseconds);
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return TimeSpan.FromMilliseconds(capped * jitter);
    }

    internal static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header is null) return null;
        if (header.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    private const int MaxRefusedConnectionRetries = 2;

    private static bool IsRetryableStatus(int status) => status is 408 or 429 or 499 or 500 or 502 or 503 or 504 or 522;

    private RegistryException ThrottledOrServerError(RegistryRequest request, Uri uri, int status, RegistryErrorBody error, bool throttled,
        int retries, TimeSpan elapsed, TimeSpan? retryAfter, string? why)
    {
        var hint = retryAfter is { } wait ? $" It last asked to wait {wait.TotalSeconds:0.#} s (Retry-After)." : "";
        var registryText = error.Errors.Count > 0 ? $" ({error.Describe()})" : "";
        if (throttled)
            return new RegistryException(RegistryErrorIds.Throttled, FailureKind.Throttled,
                $"Registry '{uri.Authority}' is throttling requests (HTTP {status}{registryText}) and still was after {retries} retries over {elapsed.TotalSeconds:0.#} s for {request.Description}{(why is null ? "" : "; " + why)}.{hint} Wait a while and run again, or lower the number of parallel requests.",
                request.Target ?? request.Registry, statusCode: status, registryErrorCode: error.FirstCode ?? "TOOMANYREQUESTS") { RetryAfter = retryAfter };
        return new RegistryException(RegistryErrorIds.ServerError, FailureKind.ServerError,
            $"Registry '{uri.Authority}' failed {request.Description} with HTTP {status}{registryText} and still did after {retries} retries over {elapsed.TotalSeconds:0.#} s{(why is null ? "" : "; " + why)}.{hint} The registry or a proxy in front of it is unhealthy; try again later.",
            request.Target ?? request.Registry, statusCode: status, registryErrorCode: error.FirstCode) { RetryAfter = retryAfter };
    }

    private static RegistryException MapError(RegistryRequest request, AuthAttempt? auth, int status, RegistryErrorBody error)
    {
        var target = request.Target ?? request.Registry;
        var registryText = error.Errors.Count > 0 ? error.Describe() : error.RawText.Length > 0 ? error.RawText : $"HTTP {status}";
        if (status == 403 || error.HasCode("DENIED"))
        {
            var who = auth?.Credential.Describe() ?? "this client";
            return new RegistryException(RegistryErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"Registry '{request.Registry}' does not allow {who} {request.Description} ({registryText}). Ask its administrator for that permission or use another credential.",
                target, statusCode: status, registryErrorCode: error.FirstCode);
        }
        if (status == 404 || error.HasCode("NAME_UNKNOWN") || error.HasCode("MANIFEST_UNKNOWN") || error.HasCode("BLOB_UNKNOWN"))
        {
            if (error.HasCode("NAME_UNKNOWN"))
                return new RegistryException(RegistryErrorIds.RepositoryNotFound, FailureKind.NotFound,
                    $"The repository of '{target}' does not exist on registry '{request.Registry}' ({registryText}). Check the name; Get-RegistryRepository -Registry {request.Registry} lists what exists.",
                    target, statusCode: status, registryErrorCode: error.FirstCode);
            if (error.HasCode("MANIFEST_UNKNOWN") || request.NotFoundErrorId == RegistryErrorIds.ManifestNotFound)
                return new RegistryException(RegistryErrorIds.ManifestNotFound, FailureKind.NotFound,
                    $"'{target}' was not found on registry '{request.Registry}' ({registryText}). Check the tag or digest; Get-RegistryTag lists the tags of the repository.",
                    target, statusCode: status, registryErrorCode: error.FirstCode);
            if (error.HasCode("BLOB_UNKNOWN") || request.NotFoundErrorId == RegistryErrorIds.BlobNotFound)
                return new RegistryException(RegistryErrorIds.BlobNotFound, FailureKind.NotFound,
                    $"Blob {target} was not found on registry '{request.Registry}' ({registryText}); the image is incomplete there.",
                    target, statusCode: status, registryErrorCode: error.FirstCode);
            return new RegistryException(request.NotFoundErrorId == RegistryErrorIds.RequestFailed ? RegistryErrorIds.RequestFailed : request.NotFoundErrorId, FailureKind.NotFound,
                $"Registry '{request.Registry}' answered {request.Description} with not found ({registryText}).",
                target, statusCode: status, registryErrorCode: error.FirstCode);
        }
        if (status == 412)
            // Harbor answers 412 when a project policy (vulnerability gate, required cosign signature) blocks a pull:
            // that image is refused, the rest of the run is not.
            return new RegistryException(RegistryErrorIds.PolicyViolation, FailureKind.PermissionDenied,
                $"Registry '{request.Registry}' refused {request.Description} by policy ({registryText}). On Harbor this is the project's vulnerability or signature gate; Test-HarborProjectGate lists what it blocks.",
                target, statusCode: status, registryErrorCode: error.FirstCode);
        // Any other refusal concerns this request's item (a manifest the registry will not take, a size limit), not the
        // whole run, so it is not reported as bad input of the command.
        return new RegistryException(RegistryErrorIds.RequestFailed, status >= 500 ? FailureKind.ServerError : FailureKind.InvalidData,
            $"Registry '{request.Registry}' refused {request.Description} with HTTP {status} ({registryText}).",
            target, statusCode: status, registryErrorCode: error.FirstCode);
    }

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, RegistryRequest request, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is { } declared && declared > request.MaxBodyBytes)
            throw TooLarge(request, declared);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.RequestTimeout);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            var n = await stream.ReadAsync(chunk, timeout.Token).ConfigureAwait(false);
            if (n == 0) break;
            buffer.Write(chunk, 0, n);
            if (buffer.Length > request.MaxBodyBytes) throw TooLarge(request, buffer.Length);
        }
        return buffer.ToArray();
    }

    private static RegistryException TooLarge(RegistryRequest request, long size) =>
        new(RegistryErrorIds.RequestFailed, FailureKind.InvalidData,
            $"The response to {request.Description} is larger than {request.MaxBodyBytes / (1024 * 1024)} MiB ({size} bytes); refusing to buffer it.",
            request.Target ?? request.Registry);

    /// <summary>Error bodies are diagnostics only: read at most 64 KiB and never fail on them.</summary>
    private static async Task<byte[]?> ReadBodyQuietlyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var buffer = new byte[64 * 1024];
            var total = 0;
            while (total < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(total), timeout.Token).ConfigureAwait(false);
                if (n == 0) break;
                total += n;
            }
            return buffer[..total];
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static bool IsTransientBodyFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException;

    private static bool IsHostNotFound(HttpRequestException ex) =>
        ex.InnerException is SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain };

    private static string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.ConnectionError => "connection refused or reset",
        HttpRequestError.ResponseEnded => "the connection closed before the response",
        HttpRequestError.InvalidResponse => "the server sent an invalid HTTP response",
        _ => ex.InnerException?.Message ?? ex.Message,
    };

    public void Dispose() => client.Dispose();
}
