using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace HarborOps.Lab;

/// <summary>
/// The lab's own minimal registry client for seeding content: answers Basic and Bearer challenges, caches one token
/// per repository. Deliberately independent of the engine under test.
/// </summary>
internal sealed partial class LabRegistryClient
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
    })
    {
        Timeout = TimeSpan.FromMinutes(2),
    };

    private static readonly ConcurrentDictionary<string, LabRegistryClient> Clients = new();

    private readonly LabEndpoint _endpoint;
    private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _authByRepository = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _authGate = new(1, 1);

    private LabRegistryClient(LabEndpoint endpoint) => _endpoint = endpoint;

    /// <summary>One client per endpoint and user, so tokens are reused across seeding calls.</summary>
    public static LabRegistryClient For(LabEndpoint endpoint) =>
        Clients.GetOrAdd($"{endpoint.BaseUri}|{endpoint.UserName}|{endpoint.Password}", _ => new LabRegistryClient(endpoint));

    public Uri BaseUri => _endpoint.BaseUri;

    /// <summary>Sends a request built fresh by <paramref name="build"/> (so it can be re-sent after a challenge).</summary>
    public async Task<HttpResponseMessage> SendAsync(string repository, Func<HttpRequestMessage> build, CancellationToken ct)
    {
        var key = repository;
        var request = build();
        if (_authByRepository.TryGetValue(key, out var cached)) request.Headers.Authorization = cached;
        var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        var sentWith = request.Headers.Authorization;
        response.Dispose();
        if (challenge is null) throw new InvalidOperationException($"{_endpoint.Host} answered 401 without a challenge");
        var authorization = await AuthorizeAsync(key, repository, challenge, sentWith, ct);

        var retry = build();
        retry.Headers.Authorization = authorization;
        return await Http.SendAsync(retry, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    private async Task<AuthenticationHeaderValue> AuthorizeAsync(string key, string repository, AuthenticationHeaderValue challenge,
        AuthenticationHeaderValue? sentWith, CancellationToken ct)
    {
        await _authGate.WaitAsync(ct);
        try
        {
            // Another request may have authorized this repository while we waited.
            if (_authByRepository.TryGetValue(key, out var current) && !ReferenceEquals(current, sentWith)) return current;
            AuthenticationHeaderValue authorization;
            if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                authorization = BasicHeader() ?? throw new InvalidOperationException($"{_endpoint.Host} wants Basic credentials and the lab endpoint has none");
            }
            else if (challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                var parameters = ParseChallenge(challenge.Parameter ?? "");
                if (!parameters.TryGetValue("realm", out var realm)) throw new InvalidOperationException($"{_endpoint.Host} sent a Bearer challenge without realm");
                var scopes = new List<string>();
                if (repository.Length > 0) scopes.Add($"repository:{repository}:pull,push,delete");
                if (parameters.TryGetValue("scope", out var wanted))
                    scopes.AddRange(wanted.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(s => !scopes.Contains(s)));
                var query = new StringBuilder("?");
                if (parameters.TryGetValue("service", out var service)) query.Append("service=").Append(Uri.EscapeDataString(service));
                foreach (var scope in scopes) query.Append("&scope=").Append(Uri.EscapeDataString(scope));
                using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, realm + query);
                tokenRequest.Headers.Authorization = BasicHeader();
                using var tokenResponse = await Http.SendAsync(tokenRequest, ct);
                var body = await tokenResponse.Content.ReadAsStringAsync(ct);
                if (!tokenResponse.IsSuccessStatusCode)
                    throw new InvalidOperationException($"token request to {realm} failed with {(int)tokenResponse.StatusCode}: {body}");
                using var json = JsonDocument.Parse(body);
                var token = json.RootElement.TryGetProperty("access_token", out var access) ? access.GetString() : json.RootElement.GetProperty("token").GetString();
                authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            else
            {
                throw new InvalidOperationException($"{_endpoint.Host} sent an unsupported challenge scheme {challenge.Scheme}");
            }
            _authByRepository[key] = authorization;
            return authorization;
        }
        finally
        {
            _authGate.Release();
        }
    }

    private AuthenticationHeaderValue? BasicHeader() =>
        _endpoint.UserName is null
            ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_endpoint.UserName}:{_endpoint.Password}")));

    internal static Dictionary<string, string> ParseChallenge(string parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match match in ChallengeParameter().Matches(parameters))
            result[match.Groups["key"].Value] = match.Groups["quoted"].Success ? match.Groups["quoted"].Value : match.Groups["bare"].Value;
        return result;
    }

    [GeneratedRegex("""(?<key>[A-Za-z_]+)=(?:"(?<quoted>[^"]*)"|(?<bare>[^,\s]*))""")]
    private static partial Regex ChallengeParameter();

    /// <summary>
    /// Every repository of a Distribution registry's catalog (Distribution caps n at 1000 and pages with a Link header),
    /// each page requested through <paramref name="request"/>, which attaches the caller's credentials to the path.
    /// </summary>
    public static async Task<List<string>> ReadCatalogAsync(HttpClient http, Func<string, HttpRequestMessage> request, CancellationToken ct)
    {
        var names = new List<string>();
        var path = "v2/_catalog?n=1000";
        for (var page = 0; page < 1000 && path is not null; page++)
        {
            using var response = await http.SendAsync(request(path), ct);
            await EnsureSuccessAsync(response, "reading the catalog", ct);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            names.AddRange(json.RootElement.GetProperty("repositories").EnumerateArray().Select(e => e.GetString()!));
            path = response.Headers.TryGetValues("Link", out var links) && links.FirstOrDefault() is { } link && link.IndexOf('<') is var open and >= 0
                ? link[(open + 1)..link.IndexOf('>')].TrimStart('/')
                : null;
        }
        return names;
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(ct);
        throw new InvalidOperationException($"{what} failed with {(int)response.StatusCode} {response.StatusCode}: {body}");
    }
}
