using System.Net;
using System.Net.Http.Headers;
using System.Text;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Lab.Tests.Harbor;

/// <summary>
/// The pull gates on the manifest routes, judged with raw HTTP: goharbor/harbor src/server/registry/route.go mounts
/// contenttrust.ContentTrust() and vulnerable.Middleware() on GET and on HEAD /v2/*/manifests/:reference, and neither
/// middleware looks at the method, so a HEAD of a blocked image is refused as its GET is.
/// </summary>
public sealed class HarborManifestGateTests(HarborProxyCacheFixture lab) : IClassFixture<HarborProxyCacheFixture>, IDisposable
{
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });

    public void Dispose() => _http.Dispose();

    private async Task<HttpStatusCode> ManifestAsync(HttpMethod method, string repository, string reference)
    {
        using var request = new HttpRequestMessage(method, new Uri(lab.Harbor.BaseUri, $"v2/{repository}/manifests/{reference}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{lab.Harbor.AdminUser}:{lab.Harbor.AdminPassword}")));
        request.Headers.Accept.ParseAdd(LabContent.OciManifest);
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    private async Task<string> NewProjectAsync(string metadata)
    {
        var project = lab.Unique("gated");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(lab.Harbor.BaseUri, "api/v2.0/projects"))
        {
            Content = new StringContent($$"""{"project_name":"{{project}}","metadata":{{metadata}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{lab.Harbor.AdminUser}:{lab.Harbor.AdminPassword}")));
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return project;
    }

    [Fact]
    public async Task A_HEAD_of_a_manifest_the_vulnerability_gate_blocks_is_refused_as_its_GET_is()
    {
        var project = await NewProjectAsync("""{"prevent_vul":"true","severity":"critical"}""");
        var image = await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/app", "1.0");
        lab.Harbor.SeedScanReport(image.Digest, [new LabVulnerability("CVE-2024-0002", "Critical")]);

        Assert.Equal(HttpStatusCode.PreconditionFailed, await ManifestAsync(HttpMethod.Get, $"{project}/app", "1.0"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await ManifestAsync(HttpMethod.Head, $"{project}/app", "1.0"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await ManifestAsync(HttpMethod.Head, $"{project}/app", image.Digest));
        lab.Audit.SkipExchanges();
    }

    [Fact]
    public async Task A_HEAD_of_an_unsigned_manifest_where_cosign_is_required_is_refused_and_an_ungated_project_answers_it()
    {
        var signed = await NewProjectAsync("""{"enable_content_trust_cosign":"true"}""");
        var image = await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{signed}/app", "1.0");
        Assert.Equal(HttpStatusCode.PreconditionFailed, await ManifestAsync(HttpMethod.Head, $"{signed}/app", "1.0"));

        var open = await NewProjectAsync("{}");
        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{open}/app", "1.0");
        Assert.Equal(HttpStatusCode.OK, await ManifestAsync(HttpMethod.Head, $"{open}/app", "1.0"));
        Assert.NotNull(image);
        lab.Audit.SkipExchanges();
    }
}
