using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xunit;

namespace HarborOps.Lab.Tests.Registries;

public sealed class DistributionRegistryTests(LabRegistriesFixture lab) : IClassFixture<LabRegistriesFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    [Fact]
    public async Task Open_registry_answers_v2_without_credentials()
    {
        using var response = await Http.GetAsync(new Uri(lab.Open.BaseUri, "v2/"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
        Assert.Null(lab.Open.UserName);
        Assert.StartsWith("127.0.0.1:", lab.Open.Host);
    }

    [Fact]
    public async Task Basic_registry_refuses_anonymous_and_wrong_password_and_accepts_the_lab_user()
    {
        var ping = new Uri(lab.Basic.BaseUri, "v2/");
        using (var anonymous = await Http.GetAsync(ping))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.StartsWith("Basic", anonymous.Headers.WwwAuthenticate.ToString());
        }
        using (var wrong = await Http.SendAsync(WithBasic(ping, lab.Basic.UserName!, lab.Basic.Password + "x")))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (var right = await Http.SendAsync(WithBasic(ping, lab.Basic.UserName!, lab.Basic.Password!)))
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task Token_registry_challenges_anonymous_clients_with_the_lab_token_service()
    {
        using var anonymous = await Http.GetAsync(new Uri(lab.Token.BaseUri, "v2/"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var challenge = anonymous.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains($"realm=\"{lab.Token.TokenService!.Realm.AbsoluteUri}\"", challenge.Parameter);
        Assert.Contains($"service=\"{lab.Token.TokenService.Service}\"", challenge.Parameter);
    }

    [Fact]
    public async Task Registries_start_in_parallel_quickly()
    {
        // Generous bound for a loaded 2-core machine; typical is well under a second for all three.
        Assert.True(lab.StartAllTime < TimeSpan.FromSeconds(15), $"three registries took {lab.StartAllTime.TotalMilliseconds:0} ms to start");
        Assert.All(new[] { lab.Open, lab.Basic, lab.Token }, r => Assert.True(r.StartTime < TimeSpan.FromSeconds(10)));
        using var response = await Http.GetAsync(new Uri(lab.Open.BaseUri, "v2/"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Dispose_kills_the_process_and_deletes_the_storage()
    {
        var registry = await DistributionRegistry.StartAsync();
        await LabContent.PushImageAsync(registry, "dispose/me", "1.0");
        var (pid, directory) = (registry.ProcessId, registry.Directory);
        Assert.True(Directory.Exists(Path.Combine(directory, "data")));

        await registry.DisposeAsync();
        Assert.False(Directory.Exists(directory), $"{directory} is left behind");
        Assert.False(File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("docker-registry"),
            $"docker-registry (pid {pid}) still runs");
        await Assert.ThrowsAsync<HttpRequestException>(() => Http.GetAsync(new Uri(registry.BaseUri, "v2/")));
    }

    private static HttpRequestMessage WithBasic(Uri uri, string user, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return request;
    }
}
