using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Lab.Kube;
using Xunit;

namespace HarborOps.Lab.Tests.Kube;

/// <summary>The API server's rules the emulator follows beyond its store: the published OpenAPI served and enforced
/// (kubectl validates against it), delete preconditions and Status, query booleans, chunked lists and dry runs.</summary>
[Collection(KubeLabCollection.Name)]
public sealed class KubeEmulatorContractTests(KubeLabFixture lab) : IDisposable
{
    private readonly HttpClient _http = CreateClient(lab.Kube);

    public void Dispose()
    {
        _http.Dispose();
        lab.AssertAnswersMatchContract();
    }

    private static HttpClient CreateClient(KubeEmulator kube)
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => kube.CertificateAuthority.Validate(certificate, errors),
        };
        var http = new HttpClient(handler) { BaseAddress = kube.BaseUri, Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", kube.AdminToken);
        return http;
    }

    private async Task<(HttpStatusCode Status, string Text)> SendAsync(HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private string Namespace(string prefix)
    {
        var ns = lab.Unique(prefix);
        lab.Kube.CreateNamespace(ns);
        return ns;
    }

    private static JsonObject Secret(string name) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app"] = "chunks" } },
        ["type"] = "Opaque", ["data"] = new JsonObject { ["key"] = "dmFsdWU=" },
    };

    [Fact]
    public async Task Kubectl_applies_the_examples_manifests_with_validation_on()
    {
        var examples = Path.Combine(Fixtures.RepositoryFiles.Root(), "examples", "pull-secret-rotation", "kubernetes");
        await lab.KubectlOkAsync("apply", "-f", Path.Combine(examples, "rbac.yaml"));
        await lab.KubectlOkAsync("apply", "-f", Path.Combine(examples, "cronjob.yaml"));
        // applied again: kubectl now patches what exists (a strategic merge patch), still validated by the server
        await lab.KubectlOkAsync("apply", "-f", Path.Combine(examples, "rbac.yaml"), "-f", Path.Combine(examples, "cronjob.yaml"));
        Assert.NotNull(lab.Kube.Get(KubeResourceType.ClusterRoleBindings, null, "harborops-pull-secret-rotation"));
        Assert.NotNull(lab.Kube.Get(KubeResourceType.CronJobs, "harborops-system", "pull-secret-rotation"));
        var writes = lab.Kube.Requests.Where(r => r.Method is "POST" or "PATCH"
            && (r.Path.Contains("harborops-system", StringComparison.Ordinal) || r.Path.Contains("/clusterrole", StringComparison.Ordinal))).ToList();
        Assert.NotEmpty(writes);
        Assert.All(writes, w => Assert.Contains("fieldValidation=Strict", w.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubectl_apply_of_a_misspelt_field_is_refused_by_strict_field_validation()
    {
        var ns = Namespace("strict");
        var manifest = $$"""
            {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa","namespace":"{{ns}}"},"imagePullSecret":[{"name":"x"}]}
            """;
        var refused = await LabKubectl.RunAsync(lab.Kubeconfig, KubeLabFixture.AdminContext, ["apply", "-f", "-"], manifest);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("strict decoding error: unknown field \"imagePullSecret\"", refused.StandardError);
        Assert.Null(lab.Kube.Get(KubeResourceType.ServiceAccounts, ns, "sa"));
    }

    [Fact]
    public async Task Without_strict_validation_an_unknown_field_is_dropped_with_a_warning()
    {
        var ns = Namespace("warn");
        var body = Secret("warned");
        body["stringdata"] = new JsonObject { ["a"] = "b" };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/v1/namespaces/{ns}/secrets") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("299 - \"unknown field \\\"stringdata\\\"\"", response.Headers.GetValues("Warning"));
        Assert.Null(lab.Kube.Get(KubeResourceType.Secrets, ns, "warned")!["stringdata"]);
    }

    [Fact]
    public async Task The_openapi_v3_root_names_each_group_document_and_its_patch_takes_field_validation()
    {
        var root = JsonNode.Parse((await SendAsync(HttpMethod.Get, "/openapi/v3")).Text)!;
        foreach (var groupVersion in new[] { "api/v1", "apis/apps/v1", "apis/batch/v1", "apis/rbac.authorization.k8s.io/v1" })
        {
            var url = root["paths"]![groupVersion]!["serverRelativeURL"]!.GetValue<string>();
            var (status, text) = await SendAsync(HttpMethod.Get, url);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains("\"fieldValidation\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Delete_with_a_stale_resource_version_precondition_is_a_conflict_and_deletes_nothing()
    {
        var ns = Namespace("precondition");
        await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("s"));
        var stale = lab.Kube.Get(KubeResourceType.Secrets, ns, "s")!["metadata"]!["resourceVersion"]!.GetValue<string>();
        await SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/secrets/s", null); // no body: refused, changes nothing
        lab.Kube.Create(KubeResourceType.Secrets, Secret("other"), ns);
        var current = lab.Kube.Get(KubeResourceType.Secrets, ns, "s")!;
        current["metadata"]!["labels"] = new JsonObject { ["changed"] = "yes" };
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/secrets/s", current)).Status);

        var options = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "v1", ["preconditions"] = new JsonObject { ["resourceVersion"] = stale } };
        var (status, text) = await SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/secrets/s", options);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains($"Operation cannot be fulfilled on secrets \\\"s\\\": Precondition failed: ResourceVersion in precondition: {stale}, ResourceVersion in object meta:", text, StringComparison.Ordinal);
        Assert.NotNull(lab.Kube.Get(KubeResourceType.Secrets, ns, "s"));

        var fresh = lab.Kube.Get(KubeResourceType.Secrets, ns, "s")!["metadata"]!["resourceVersion"]!.GetValue<string>();
        options["preconditions"]!["resourceVersion"] = fresh;
        (status, text) = await SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/secrets/s", options);
        Assert.Equal(HttpStatusCode.OK, status);
        var answer = JsonNode.Parse(text)!;
        Assert.Equal("Status", answer["kind"]!.GetValue<string>());
        Assert.Equal("Success", answer["status"]!.GetValue<string>());
        Assert.Equal("s", answer["details"]!["name"]!.GetValue<string>());
        Assert.Null(lab.Kube.Get(KubeResourceType.Secrets, ns, "s"));
    }

    [Theory]
    [InlineData("True")]
    [InlineData("1")]
    [InlineData("")]
    public async Task A_boolean_query_parameter_parses_as_the_api_server_parses_it(string value)
    {
        var ns = Namespace("watchbool");
        var (status, text) = await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/serviceaccounts?watch={value}&timeoutSeconds=1");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ADDED", JsonNode.Parse(text.Split('\n')[0])!["type"]!.GetValue<string>());
        var (_, list) = await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/serviceaccounts?watch=False");
        Assert.Equal("ServiceAccountList", JsonNode.Parse(list)!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Limit_and_continue_page_through_a_list()
    {
        var ns = Namespace("chunks");
        foreach (var name in new[] { "a", "b", "c", "d", "e" }) lab.Kube.Create(KubeResourceType.Secrets, Secret(name), ns);
        var names = new List<string>();
        var path = $"/api/v1/namespaces/{ns}/secrets?labelSelector=app%3Dchunks&limit=2";
        var pages = 0;
        while (true)
        {
            var page = JsonNode.Parse((await SendAsync(HttpMethod.Get, path)).Text)!;
            pages++;
            names.AddRange(page["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
            if (page["metadata"]!["continue"]?.GetValue<string>() is not { Length: > 0 } next) break;
            Assert.True(page["metadata"]!["remainingItemCount"]!.GetValue<long>() > 0);
            path = $"/api/v1/namespaces/{ns}/secrets?labelSelector=app%3Dchunks&limit=2&continue={Uri.EscapeDataString(next)}";
        }
        Assert.Equal(["a", "b", "c", "d", "e"], names);
        Assert.Equal(3, pages);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/secrets?continue=bm90LWpzb24")).Status);
    }

    [Fact]
    public async Task Dry_run_all_answers_as_a_write_would_and_persists_nothing()
    {
        var ns = Namespace("dryrun");
        var (status, text) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets?dryRun=All", Secret("dry"));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("dry", JsonNode.Parse(text)!["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(lab.Kube.Get(KubeResourceType.Secrets, ns, "dry"));

        lab.Kube.Create(KubeResourceType.Secrets, Secret("kept"), ns);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/secrets/kept?dryRun=All")).Status);
        Assert.NotNull(lab.Kube.Get(KubeResourceType.Secrets, ns, "kept"));
        var kubectl = await lab.KubectlAsync("delete", "secret", "kept", "-n", ns, "--dry-run=server");
        Assert.Equal(0, kubectl.ExitCode);
        Assert.NotNull(lab.Kube.Get(KubeResourceType.Secrets, ns, "kept"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets?dryRun=Yes", Secret("x"))).Status);
    }
}
