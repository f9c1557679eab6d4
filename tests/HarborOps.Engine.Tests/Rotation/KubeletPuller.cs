using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HarborOps.Engine.Rotation;
using HarborOps.Lab.Kube;

namespace HarborOps.Engine.Tests.Rotation;

/// <summary>
/// Pulls as a kubelet does, independently of HarborOps' registry client: reads each namespace's pull secret from the
/// API server as it is at that moment, asks Harbor's token service for a fresh token with the login it holds (the
/// kubelet caches no token between pulls, so a deleted robot fails at once), and GETs the manifest. Runs in a loop
/// until stopped and counts every failed pull per namespace.
/// </summary>
internal sealed partial class KubeletPuller : IAsyncDisposable
{
    private const string Accept = "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json";
    private readonly RotationLabFixture _lab;
    private readonly IReadOnlyDictionary<string, string> _projectOf;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, int> _pulls = new(StringComparer.Ordinal);

    /// <summary>Starts pulling <c>{project}/app:1.0</c> in every namespace of <paramref name="projectOf"/>.</summary>
    public KubeletPuller(RotationLabFixture lab, IReadOnlyDictionary<string, string> projectOf)
    {
        this._lab = lab;
        this._projectOf = projectOf;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>"namespace: why" for each failed pull (no secret in it: the puller never prints the password).</summary>
    public ConcurrentQueue<string> Failures { get; } = new();

    public int PullsIn(string ns) => _pulls.GetValueOrDefault(ns);

    /// <summary>Waits until every namespace has pulled <paramref name="more"/> more times than now.</summary>
    public async Task PullMoreAsync(int more = 2)
    {
        var target = _projectOf.Keys.ToDictionary(ns => ns, ns => PullsIn(ns) + more);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (target.Any(t => PullsIn(t.Key) < t.Value) && !_loop.IsCompleted)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the puller made no progress in 30 s");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _http.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var (ns, project) in _projectOf)
            {
                if (_stop.IsCancellationRequested) return;
                try
                {
                    await PullAsync(ns, project);
                    _pulls.AddOrUpdate(ns, 1, (_, n) => n + 1);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Failures.Enqueue($"{ns}: {ex.Message}");
                }
            }
        }
    }

    private async Task PullAsync(string ns, string project)
    {
        var secret = _lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull") ?? throw new InvalidOperationException("no secret harbor-pull");
        var login = DockerConfigJson.Read(Convert.FromBase64String((string)secret["data"]![DockerConfigJson.DataKey]!), _lab.Harbor.Host)
            ?? throw new InvalidOperationException("the secret holds no login for Harbor");
        var repository = $"{project}/app";
        using var challenge = await _http.GetAsync(new Uri(_lab.Harbor.BaseUri, "/v2/"), _stop.Token);
        var header = challenge.Headers.WwwAuthenticate.ToString();
        var realm = Realm().Match(header).Groups[1].Value;
        var service = Service().Match(header).Groups[1].Value;
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, $"{realm}?service={Uri.EscapeDataString(service)}&scope=repository:{repository}:pull");
        tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{login.UserName}:{login.Password}")));
        using var tokenResponse = await _http.SendAsync(tokenRequest, _stop.Token);
        if (!tokenResponse.IsSuccessStatusCode) throw new InvalidOperationException($"token service answered {(int)tokenResponse.StatusCode} for {login.UserName}");
        var token = (string?)JsonNode.Parse(await tokenResponse.Content.ReadAsStringAsync(_stop.Token))!["token"];
        using var manifest = new HttpRequestMessage(HttpMethod.Get, new Uri(_lab.Harbor.BaseUri, $"/v2/{repository}/manifests/1.0"));
        manifest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        manifest.Headers.TryAddWithoutValidation("Accept", Accept);
        using var pulled = await _http.SendAsync(manifest, _stop.Token);
        if (!pulled.IsSuccessStatusCode) throw new InvalidOperationException($"manifest GET answered {(int)pulled.StatusCode} for {login.UserName}");
    }

    [GeneratedRegex("realm=\"([^\"]+)\"")]
    private static partial Regex Realm();

    [GeneratedRegex("service=\"([^\"]+)\"")]
    private static partial Regex Service();
}
