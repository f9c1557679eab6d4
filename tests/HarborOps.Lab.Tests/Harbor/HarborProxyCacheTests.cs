using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Lab.Tests.Harbor;

/// <summary>
/// Proxy-cache projects as Harbor serves them (goharbor/harbor src/server/v2.0/handler/project.go validateProjectReq,
/// src/server/middleware/repoproxy/proxy.go, src/server/registry/route.go), judged with raw HTTP and skopeo against a real
/// Distribution registry that stands in for Docker Hub.
/// </summary>
public sealed class HarborProxyCacheTests(HarborProxyCacheFixture lab) : IClassFixture<HarborProxyCacheFixture>, IDisposable
{
    // No cookie jar: Harbor answers a mutating call that sends its session cookie back with a CSRF 403.
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });

    public void Dispose() => _http.Dispose();

    private AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null,
        AuthenticationHeaderValue? authorization = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(lab.Harbor.BaseUri, path));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        request.Headers.Authorization = authorization ?? Basic(lab.Harbor.AdminUser, lab.Harbor.AdminPassword);
        request.Headers.Add("X-Request-Id", Guid.NewGuid().ToString());
        var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private static (string Code, string Message) Error(string body)
    {
        var error = JsonNode.Parse(body)!["errors"]![0]!;
        return (error["code"]!.GetValue<string>(), error["message"]!.GetValue<string>());
    }

    private async Task<long> NewEndpointAsync(string type)
    {
        var name = lab.Unique("hub");
        var created = await SendAsync(HttpMethod.Post, "api/v2.0/registries", $$"""{"name":"{{name}}","type":"{{type}}","url":"{{lab.Hub.BaseUri.ToString().TrimEnd('/')}}","insecure":true}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return long.Parse(created.Response.Headers.Location!.ToString().Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<string> NewProxyProjectAsync(long registryId, string metadata = "{}")
    {
        var project = lab.Unique("mirror");
        var created = await SendAsync(HttpMethod.Post, "api/v2.0/projects", $$"""{"project_name":"{{project}}","registry_id":{{registryId}},"metadata":{{metadata}}}""");
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
        return project;
    }

    [Fact]
    public async Task A_project_created_with_a_registry_id_is_a_proxy_cache_that_shows_its_registry()
    {
        var registryId = await NewEndpointAsync("docker-hub");
        var project = await NewProxyProjectAsync(registryId, """{"enable_content_trust":"true","auto_scan":"true"}""");
        var read = JsonNode.Parse((await SendAsync(HttpMethod.Get, $"api/v2.0/projects/{project}")).Body)!;
        Assert.Equal(registryId, read["registry_id"]!.GetValue<long>());
        // Harbor drops enable_content_trust on a proxy cache (goharbor/harbor#12940) and gives it a retention policy.
        Assert.Null(read["metadata"]!["enable_content_trust"]);
        Assert.NotNull(read["metadata"]!["retention_id"]);
        var summary = JsonNode.Parse((await SendAsync(HttpMethod.Get, $"api/v2.0/projects/{project}/summary")).Body)!;
        Assert.Equal(registryId, summary["registry"]!["id"]!.GetValue<long>());
        Assert.Equal("docker-hub", summary["registry"]!["type"]!.GetValue<string>());
        Assert.Null(summary["registry"]!["credential"]);
        var ordinary = lab.Unique("plain");
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "api/v2.0/projects", $$"""{"project_name":"{{ordinary}}"}""")).Status);
        Assert.Null(JsonNode.Parse((await SendAsync(HttpMethod.Get, $"api/v2.0/projects/{ordinary}")).Body)!["registry_id"]);
        lab.Audit.AssertExchangesMatchContract();
    }

    [Fact]
    public async Task A_registry_type_Harbor_may_not_proxy_a_missing_registry_and_a_non_admin_are_refused_as_Harbor_refuses_them()
    {
        var quay = await NewEndpointAsync("quay");
        var refused = await SendAsync(HttpMethod.Post, "api/v2.0/projects", $$"""{"project_name":"{{lab.Unique("quay")}}","registry_id":{{quay}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal(("BAD_REQUEST", "unsupported registry type quay"), Error(refused.Body));
        var zero = await SendAsync(HttpMethod.Post, "api/v2.0/projects", $$"""{"project_name":"{{lab.Unique("zero")}}","registry_id":0}""");
        Assert.Equal(("BAD_REQUEST", "0 is invalid value of registry_id, it should be geater than 0"), Error(zero.Body));
        // project.go wraps the registry lookup's not-found in fmt.Errorf, which loses its code: Harbor answers 500.
        var missing = await SendAsync(HttpMethod.Post, "api/v2.0/projects", $$"""{"project_name":"{{lab.Unique("missing")}}","registry_id":999999}""");
        Assert.Equal(HttpStatusCode.InternalServerError, missing.Status);
        Assert.Equal(("UNKNOWN", "internal server error"), Error(missing.Body));
        lab.Harbor.AddUser("proxy-dev", "Developer-Pass1");
        var hub = await NewEndpointAsync("docker-hub");
        var notAdmin = await SendAsync(HttpMethod.Post, "api/v2.0/projects", $$"""{"project_name":"{{lab.Unique("dev")}}","registry_id":{{hub}}}""",
            Basic("proxy-dev", "Developer-Pass1"));
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin.Status);
        Assert.Equal(("FORBIDDEN", "Only system admin can create proxy cache project"), Error(notAdmin.Body));
        lab.Audit.SkipExchanges();
    }

    [Fact]
    public async Task A_push_into_a_proxy_cache_project_is_denied()
    {
        var project = await NewProxyProjectAsync(await NewEndpointAsync("docker-registry"));
        var upload = await SendAsync(HttpMethod.Post, $"v2/{project}/app/blobs/uploads/");
        Assert.Equal(HttpStatusCode.Forbidden, upload.Status);
        Assert.Equal(("DENIED", $"can not push artifact to a proxy project: {project}"), Error(upload.Body));
        var manifest = await SendAsync(HttpMethod.Put, $"v2/{project}/app/manifests/1.0", "{}");
        Assert.Equal(HttpStatusCode.Forbidden, manifest.Status);
        lab.Audit.SkipExchanges();
    }

    [Fact]
    public async Task A_docker_hub_name_without_a_namespace_is_redirected_to_library()
    {
        var project = await NewProxyProjectAsync(await NewEndpointAsync("docker-hub"));
        var redirected = await SendAsync(HttpMethod.Get, $"v2/{project}/busybox/manifests/latest");
        Assert.Equal(HttpStatusCode.MovedPermanently, redirected.Status);
        Assert.Equal($"/v2/{project}/library/busybox/manifests/latest", redirected.Response.Headers.Location!.ToString());
        lab.Audit.SkipExchanges();
    }

    [Fact]
    public async Task An_image_missing_upstream_is_not_found_through_the_proxy_cache()
    {
        var project = await NewProxyProjectAsync(await NewEndpointAsync("docker-hub"));
        var missing = await SendAsync(HttpMethod.Get, $"v2/{project}/library/nothing-here/manifests/1.0");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        lab.Audit.SkipExchanges();
    }

    [Fact]
    public async Task Skopeo_pulls_through_the_proxy_cache_which_caches_scans_and_then_gates_the_image()
    {
        var image = await LabContent.PushImageAsync(lab.Hub, "library/hello", "1.0");
        lab.Harbor.SeedScanReport(image.Digest, [new LabVulnerability("CVE-2024-0001", "Critical")]);
        var project = await NewProxyProjectAsync(await NewEndpointAsync("docker-hub"), """{"auto_scan":"true","prevent_vul":"true","severity":"critical"}""");
        var target = Directory.CreateTempSubdirectory("harborops-proxy-pull-").FullName;
        try
        {
            // route.go runs repoproxy.ManifestMiddleware before contenttrust and vulnerable; for a manifest not yet cached
            // it answers from the remote itself and never calls next, so the first pull is served ungated.
            var first = await LabSkopeo.RunAsync(lab.Harbor.AdminEndpoint,
                ["copy", "--src-tls-verify=false", $"docker://{lab.Harbor.Host}/{project}/library/hello:1.0", $"oci:{target}/first:1.0"]);
            Assert.True(first.ExitCode == 0, first.StandardError);

            // The proxy caches the image into the project behind the pull, where auto_scan scans it.
            var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
            string scanStatus = "";
            while (DateTimeOffset.UtcNow < deadline && scanStatus != "Success")
            {
                var listed = await SendAsync(HttpMethod.Get, $"api/v2.0/projects/{project}/repositories/library%252Fhello/artifacts?with_scan_overview=true");
                if (listed.Status == HttpStatusCode.OK && JsonNode.Parse(listed.Body)!.AsArray().FirstOrDefault() is { } artifact)
                {
                    Assert.Equal(image.Digest, artifact["digest"]!.GetValue<string>());
                    Assert.Contains("1.0", artifact["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
                    scanStatus = artifact["scan_overview"]?.AsObject().First().Value?["scan_status"]?.GetValue<string>() ?? "";
                }
                if (scanStatus != "Success") await Task.Delay(200);
            }
            Assert.Equal("Success", scanStatus);

            // Cached, scanned and critical: the local copy is served through the gates, which refuse it.
            var second = await LabSkopeo.RunAsync(lab.Harbor.AdminEndpoint,
                ["copy", "--src-tls-verify=false", $"docker://{lab.Harbor.Host}/{project}/library/hello:1.0", $"oci:{target}/second:1.0"]);
            Assert.NotEqual(0, second.ExitCode);
            Assert.Contains("current image with 1 vulnerabilities cannot be pulled", second.StandardError);
            Assert.Empty(lab.Harbor.Failures);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
        lab.Audit.SkipExchanges();
    }
}
