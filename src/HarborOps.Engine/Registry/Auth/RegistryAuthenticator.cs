using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>An access token and the scopes it was issued for.</summary>
internal sealed record BearerToken(string AccessToken, IReadOnlyList<string> Scopes, DateTimeOffset RefreshAt)
{
    public override string ToString() => $"token for {string.Join(' ', Scopes)} (refresh at {RefreshAt:O})";
}

/// <summary>
/// Challenge-driven registry auth: learns each host's challenge (Basic or Bearer) from its first 401, then attaches
/// credentials up front. Bearer tokens are cached per host, service, credential and sorted scope set; each such
/// (host, service, credential) keeps a working set of scopes so that a token is reused across repositories and a new
/// scope is unioned in with one refresh (go-containerregistry's approach), bounded so URLs stay short.
/// </summary>
internal sealed class RegistryAuthenticator : IChallengeAuthenticator
{
    private const int MaxWorkingScopes = 10;
    private readonly RegistryHttpPipeline _pipeline;
    private readonly RegistryCredentialStore _store;
    private readonly DockerConfigCredentials _dockerConfig;
    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TokenSession> _sessions = new(StringComparer.Ordinal);

    public RegistryAuthenticator(RegistryHttpPipeline pipeline, RegistryCredentialStore store, DockerConfigCredentials dockerConfig)
    {
        this._pipeline = pipeline;
        this._store = store;
        this._dockerConfig = dockerConfig;
    }

    public async Task<IRequestAuthorization> BeginAsync(RegistryRequest request, CancellationToken cancellationToken) =>
        new AuthAttempt(this, request, await ResolveCredentialAsync(request.Registry, request.Credential, cancellationToken).ConfigureAwait(false));

    public string? BearerServiceOf(string registry) =>
        _challenges.TryGetValue(registry, out var challenge) && challenge.IsBearer ? challenge.Service : null;

    public async Task<NetworkCredential?> PasswordCredentialAsync(string registry, NetworkCredential? explicitCredential, CancellationToken cancellationToken) =>
        await ResolveCredentialAsync(registry, explicitCredential, cancellationToken).ConfigureAwait(false) is { Kind: RegistryCredentialKind.Basic } basic
            ? new NetworkCredential(basic.UserName, basic.Secret)
            : null;

    /// <summary>Explicit credential &gt; session store &gt; docker config.json &gt; anonymous.</summary>
    public async Task<RegistryCredential> ResolveCredentialAsync(string registry, NetworkCredential? explicitCredential, CancellationToken cancellationToken)
    {
        if (explicitCredential is not null && !string.IsNullOrEmpty(explicitCredential.Password))
        {
            return string.IsNullOrEmpty(explicitCredential.UserName) || explicitCredential.UserName == "<token>"
                ? new RegistryCredential(RegistryCredentialKind.RefreshToken, null, explicitCredential.Password, "-Credential")
                : new RegistryCredential(RegistryCredentialKind.Basic, explicitCredential.UserName, explicitCredential.Password, "-Credential");
        }
        if (_store.Find(registry) is { } stored) return stored;
        if (await _dockerConfig.ResolveAsync(registry, cancellationToken).ConfigureAwait(false) is { } fromConfig) return fromConfig;
        return RegistryCredential.Anonymous;
    }

    /// <summary>Attaches what the host's known challenge calls for; the first request to a host goes bare.</summary>
    public async Task ApplyAsync(HttpRequestMessage message, RegistryRequest request, AuthAttempt attempt, CancellationToken cancellationToken)
    {
        if (!_challenges.TryGetValue(request.Registry, out var challenge)) return;
        if (challenge.IsBasic)
        {
            if (attempt.Credential.Kind == RegistryCredentialKind.Basic)
            {
                message.Headers.Authorization = BasicHeader(attempt.Credential.UserName!, attempt.Credential.Secret!);
                attempt.SentBasic = true;
            }
            return;
        }
        if (challenge.IsBearer)
        {
            var token = await GetTokenAsync(request.Registry, challenge, attempt.Credential, attempt.Scopes, cancellationToken).ConfigureAwait(false);
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken);
            attempt.SentToken = token;
        }
    }

    /// <summary>
    /// Handles a 401 from the registry: learns the challenge, unions its scope into the attempt and drops the token that
    /// was refused. True when one more attempt may succeed (each request gets exactly one).
    /// </summary>
    public bool OnUnauthorized(HttpResponseMessage response, RegistryRequest request, AuthAttempt attempt)
    {
        var parsed = AuthChallenge.Parse(response.Headers.WwwAuthenticate.Select(v => v.ToString()));
        attempt.LastChallenges = parsed;
        var challenge = parsed.FirstOrDefault(c => c.IsBearer) ?? parsed.FirstOrDefault(c => c.IsBasic);
        if (challenge is null || attempt.Retried) return false;
        attempt.Retried = true;
        _challenges[request.Registry] = challenge;
        if (challenge.IsBasic)
            return attempt.Credential.Kind == RegistryCredentialKind.Basic && !attempt.SentBasic;
        // The scope the server names goes first: some token servers only honour the first scope parameter.
        attempt.Scopes = TokenScope.Union(challenge.Scopes.Concat(attempt.Scopes));
        if (attempt.SentToken is { } refused)
            SessionFor(request.Registry, challenge, attempt.Credential).Invalidate(refused);
        return true;
    }

    /// <summary>The exception for a 401 that auth could not fix.</summary>
    public RegistryException Failure(RegistryRequest request, AuthAttempt attempt, int statusCode, RegistryErrorBody body)
    {
        var registry = request.Registry;
        var credential = attempt.Credential;
        // A token service that issued a token accepted the credential: a 401 after it is a permission the identity lacks,
        // whether or not the challenge says insufficient_scope (ACR's recorded challenges carry no error at all), unless
        // the registry marks the token itself invalid.
        var invalidToken = attempt.LastChallenges.Any(c => string.Equals(c.Error, "invalid_token", StringComparison.OrdinalIgnoreCase));
        var insufficient = !invalidToken && (attempt.SentToken is not null
            || attempt.LastChallenges.Any(c => string.Equals(c.Error, "insufficient_scope", StringComparison.OrdinalIgnoreCase)));
        if (credential.Kind == RegistryCredentialKind.Anonymous)
            return new RegistryException(RegistryErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                $"Registry '{registry}' requires credentials for {request.Description} and none were found. {HowToSetCredentials(registry)}",
                request.Target ?? registry, statusCode: statusCode, registryErrorCode: body.FirstCode);
        if (insufficient)
            return new RegistryException(RegistryErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"Registry '{registry}' accepted {credential.Describe()} but does not allow {request.Description} ({string.Join(' ', attempt.Scopes)}). Ask its administrator for that permission or use another credential.",
                request.Target ?? registry, statusCode: statusCode, registryErrorCode: body.FirstCode);
        return new RegistryException(RegistryErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
            $"Registry '{registry}' rejected {credential.Describe()}{Detail(body)}. Check the user name and password (or token), then {HowToSetCredentialsLower(registry)}",
            request.Target ?? registry, statusCode: statusCode, registryErrorCode: body.FirstCode);
    }

    internal static string HowToSetCredentials(string registry) =>
        $"Set them for this session with Set-RegistryCredential -Registry {registry} -Credential (Get-Credential), pass -Credential, or run docker login {registry}.";

    private static string HowToSetCredentialsLower(string registry) =>
        $"set them with Set-RegistryCredential -Registry {registry} -Credential (Get-Credential), pass -Credential, or run docker login {registry}.";

    private static string Detail(RegistryErrorBody body) => body.Errors.Count > 0 ? $" ({body.Describe()})" : "";

    private static AuthenticationHeaderValue BasicHeader(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private TokenSession SessionFor(string registry, AuthChallenge challenge, RegistryCredential credential) =>
        _sessions.GetOrAdd($"{registry}|{challenge.Realm}|{challenge.Service}|{credential.Fingerprint}", _ => new TokenSession());

    private async Task<BearerToken> GetTokenAsync(string registry, AuthChallenge challenge, RegistryCredential credential, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var session = SessionFor(registry, challenge, credential);
        if (session.Find(scopes) is { } cached) return cached;
        await session.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (session.Find(scopes) is { } fresh) return fresh; // another request fetched it while we waited
            var wanted = TokenScope.Union(scopes.Concat(session.WorkingSet));
            // Union keeps the needed scopes first, so trimming the tail drops the least recent extras.
            if (wanted.Count > MaxWorkingScopes)
                wanted = wanted.Take(Math.Max(MaxWorkingScopes, TokenScope.Union(scopes).Count)).ToArray();
            var token = await FetchTokenAsync(registry, challenge, credential, wanted, cancellationToken).ConfigureAwait(false);
            session.Store(token);
            return token;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    private async Task<BearerToken> FetchTokenAsync(string registry, AuthChallenge challenge, RegistryCredential credential, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var realm = ValidateRealm(registry, challenge);
        var service = challenge.Service ?? "";
        Uri uri = realm;
        Func<HttpContent>? content = null;
        string[] bodySecrets = [];
        AuthenticationHeaderValue? authorization = null;
        HttpMethod method;
        if (credential.Kind is RegistryCredentialKind.RefreshToken or RegistryCredentialKind.AzureIdentity)
        {
            // OAuth2 form (distribution oauth.md): the only way to spend a refresh/identity token.
            var refreshToken = credential.Kind == RegistryCredentialKind.AzureIdentity
                ? await credential.Azure!.GetRefreshTokenAsync(registry, service,
                    (entraToken, ct) => AcrTokenExchange.ExchangeAsync(_pipeline, credential.Azure, registry, service, entraToken, ct), cancellationToken).ConfigureAwait(false)
                : credential.Secret!;
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"),
                new("service", service),
                new("client_id", "harborops"),
                new("refresh_token", refreshToken),
            };
            if (scopes.Count > 0) form.Add(new("scope", string.Join(' ', scopes)));
            method = HttpMethod.Post;
            content = () => new FormUrlEncodedContent(form);
            bodySecrets = [refreshToken];
        }
        else
        {
            // GET form, which every token server implements: one scope parameter per scope, Basic when we have a user.
            var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : "");
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append("&client_id=harborops");
            foreach (var scope in scopes) query.Append("&scope=").Append(Uri.EscapeDataString(scope));
            uri = new UriBuilder(realm) { Query = query.ToString() }.Uri;
            method = HttpMethod.Get;
            if (credential.Kind == RegistryCredentialKind.Basic) authorization = BasicHeader(credential.UserName!, credential.Secret!);
        }
        var request = new RegistryRequest(method, registry, "")
        {
            AbsoluteUri = uri,
            Content = content,
            BodySecrets = bodySecrets,
            Authorization = authorization,
            Authenticate = false,
            // One wait of the request timeout: retrying a token service that hangs multiplied it (6 x 60 s and backoff).
            RetryTimeouts = false,
            Accept = ["application/json"],
            Target = registry,
            Description = $"the token request to {realm.GetLeftPart(UriPartial.Path)}",
            AcceptStatus = status => status is 400 or 401 or 403,
            MaxBodyBytes = 1024 * 1024,
        };
        using var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            var body = response.ErrorBody;
            var detail = body.Errors.Count > 0 ? body.Describe() : $"HTTP {response.StatusCode}";
            var message = credential.Kind == RegistryCredentialKind.Anonymous
                ? $"The token service of '{registry}' ({realm.Host}) refused anonymous access ({detail}). {HowToSetCredentials(registry)}"
                : $"The token service of '{registry}' ({realm.Host}) rejected {credential.Describe()} ({detail}). Check the user name and password (or token), then {HowToSetCredentialsLower(registry)}";
            throw new RegistryException(RegistryErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed, message, registry,
                statusCode: response.StatusCode, registryErrorCode: body.FirstCode);
        }
        return ParseToken(registry, response.Body ?? [], scopes);
    }

    private BearerToken ParseToken(string registry, byte[] body, IReadOnlyList<string> scopes)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } text ? text : null;
            // Token servers send "token", "access_token" or both; they are synonyms and access_token wins, unless it is
            // empty (Harbor sends "access_token":"" next to the real "token").
            var token = Str("access_token") ?? Str("token");
            if (string.IsNullOrEmpty(token)) throw new JsonException("no token in the response");
            var lifetime = TimeSpan.FromSeconds(60); // the spec's default when expires_in is absent
            if (root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var seconds) && seconds > 0)
                lifetime = TimeSpan.FromSeconds(seconds);
            else if (AzureIdentityRefreshTokenProvider.JwtExpiry(token) is { } exp && exp > DateTimeOffset.UtcNow)
                lifetime = exp - DateTimeOffset.UtcNow;
            var skew = _pipeline.Options.TokenExpirySkew < lifetime / 2 ? _pipeline.Options.TokenExpirySkew : lifetime / 2;
            return new BearerToken(token, scopes, DateTimeOffset.UtcNow + lifetime - skew);
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorIds.TokenServiceInvalid, FailureKind.InvalidData,
                $"The token service of '{registry}' answered with something that is not a token ({ex.Message}).", registry, ex);
        }
    }

    /// <summary>
    /// The realm must be an absolute https URL; plain http only on loopback or on a host the user allowed for plain
    /// http. That the registry itself is plain http says nothing about the realm's host: a challenge naming
    /// http://elsewhere/token would otherwise get the credentials in clear text over the network.
    /// </summary>
    private Uri ValidateRealm(string registry, AuthChallenge challenge)
    {
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttp))
            throw new RegistryException(RegistryErrorIds.TokenServiceInvalid, FailureKind.AuthenticationFailed,
                $"Registry '{registry}' named the token service '{challenge.Realm}', which is not an https URL; refusing to send credentials there.",
                registry);
        if (realm.Scheme == Uri.UriSchemeHttp && !_pipeline.IsPlainHttpAllowed(realm))
            throw new RegistryException(RegistryErrorIds.TokenServiceInvalid, FailureKind.AuthenticationFailed,
                $"Registry '{registry}' named the token service '{realm.GetLeftPart(UriPartial.Path)}', which is plain http on a host that is neither loopback nor allowed for plain http; refusing to send credentials there in clear text. If that token service is trusted on this network, add '{realm.Authority}' to the {RegistryHttpOptions.PlainHttpHostsVariable} environment variable before the first HarborOps command of the session.",
                registry);
        return realm;
    }

    private sealed class TokenSession
    {
        private readonly ConcurrentDictionary<string, BearerToken> _tokens = new(StringComparer.Ordinal);
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public IReadOnlyList<string> WorkingSet { get; private set; } = [];

        public BearerToken? Find(IReadOnlyList<string> scopes)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var token in _tokens.Values)
                if (token.RefreshAt > now && TokenScope.AllCovered(token.Scopes, scopes)) return token;
            return null;
        }

        public void Store(BearerToken token)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (key, old) in _tokens)
                if (old.RefreshAt <= now) _tokens.TryRemove(key, out _);
            _tokens[string.Join(' ', token.Scopes.Order(StringComparer.Ordinal))] = token;
            WorkingSet = token.Scopes;
        }

        public void Invalidate(BearerToken token)
        {
            foreach (var (key, value) in _tokens)
                if (ReferenceEquals(value, token)) _tokens.TryRemove(key, out _);
        }
    }
}
