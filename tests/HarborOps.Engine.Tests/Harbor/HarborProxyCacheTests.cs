using HarborOps.Engine.Harbor;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Issue 15, part 3: proxy-cache projects made from a registry endpoint (by name or id) with their gates and quota, shown
/// as proxy caches of that endpoint, and the endpoints Harbor cannot proxy refused before anything is written.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborProxyCacheTests(HarborLabFixture lab) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private DistributionRegistry _hub = null!;

    public async Task InitializeAsync() => _hub = await DistributionRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        lab.AssertExchangesMatchContract();
    }

    private Task<HarborOps.Models.HarborRegistryEndpointInfo> NewEndpointAsync(string type) =>
        lab.Admin().CreateRegistryEndpointAsync(new HarborRegistryEndpointRequest(lab.Unique("hub"), type, _hub.BaseUri), None);

    [Fact]
    public async Task A_proxy_cache_project_is_made_from_an_endpoint_name_with_its_gates_and_quota_and_shows_what_it_mirrors()
    {
        var admin = lab.Admin();
        var endpoint = await NewEndpointAsync("docker-hub");
        var project = lab.Unique("hub-mirror");
        var settings = new HarborProjectSettings { AutoScan = true, PreventVulnerable = true, Severity = "Critical", StorageLimit = 5L * 1024 * 1024 * 1024 };

        var created = await admin.CreateProxyCacheProjectAsync(project, endpoint.Name, settings, None);

        Assert.True(created.IsProxyCache);
        Assert.Equal(endpoint.Id, created.ProxyCacheRegistryId);
        Assert.Equal(endpoint.Name, created.ProxyCacheEndpoint);
        Assert.Equal(endpoint.Url, created.ProxyCacheUrl);
        Assert.Equal("docker-hub", created.ProxyCacheType);
        Assert.True(created.AutoScan && created.PreventVulnerable);
        Assert.Equal("critical", created.Severity);
        Assert.Equal(5L * 1024 * 1024 * 1024, created.StorageLimit);
        var listed = await admin.ListProjectsAsync(project, None).SingleAsync();
        Assert.Equal(endpoint.Name, listed.ProxyCacheEndpoint);
        var ordinary = await admin.CreateProjectAsync(lab.Unique("plain"), new HarborProjectSettings(), None);
        Assert.False(ordinary.IsProxyCache);
        Assert.Null(ordinary.ProxyCacheEndpoint);
    }

    [Fact]
    public async Task An_endpoint_id_names_the_endpoint_too()
    {
        var endpoint = await NewEndpointAsync("github-ghcr");
        var created = await lab.Admin().CreateProxyCacheProjectAsync(lab.Unique("ghcr-mirror"), endpoint.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new HarborProjectSettings(), None);
        Assert.Equal(endpoint.Name, created.ProxyCacheEndpoint);
    }

    [Fact]
    public async Task An_unknown_endpoint_fails_naming_it_before_any_project_is_created()
    {
        var log = new List<string>();
        var project = lab.Unique("orphan");
        var failure = await Assert.ThrowsAsync<HarborException>(() =>
            lab.Admin(log).CreateProxyCacheProjectAsync(project, "no-such-endpoint", new HarborProjectSettings(), None));
        Assert.Equal(HarborErrorIds.RegistryEndpointNotFound, failure.ErrorId);
        Assert.Contains("'no-such-endpoint'", failure.Message);
        Assert.Contains("New-HarborRegistryEndpoint", failure.Message);
        Assert.DoesNotContain(lab.Harbor.Exchanges, e => e.Method == "POST" && e.Path == "/api/v2.0/projects" && Contains(e.RequestBody, project));
    }

    [Fact]
    public async Task An_endpoint_type_Harbor_cannot_proxy_fails_naming_the_type_before_any_project_is_created()
    {
        var endpoint = await NewEndpointAsync("quay");
        var project = lab.Unique("quay-mirror");
        var failure = await Assert.ThrowsAsync<HarborException>(() =>
            lab.Admin().CreateProxyCacheProjectAsync(project, endpoint.Name, new HarborProjectSettings(), None));
        Assert.Equal(HarborErrorIds.ProxyCacheTypeUnsupported, failure.ErrorId);
        Assert.Contains("'quay'", failure.Message);
        Assert.Contains("docker-hub", failure.Message);
        Assert.DoesNotContain(lab.Harbor.Exchanges, e => e.Method == "POST" && e.Path == "/api/v2.0/projects" && Contains(e.RequestBody, project));
    }

    private static bool Contains(byte[] body, string text) => System.Text.Encoding.UTF8.GetString(body).Contains(text, StringComparison.Ordinal);
}
