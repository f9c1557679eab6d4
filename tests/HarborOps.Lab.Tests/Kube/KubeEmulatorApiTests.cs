using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Lab.Kube;
using Xunit;

namespace HarborOps.Lab.Tests.Kube;

/// <summary>The emulator at the HTTP level, where clients differ: the exact Status objects, optimistic concurrency,
/// validation the API server does, the strategic merge patch's list semantics, admission, watches and faults.</summary>
[Collection(KubeLabCollection.Name)]
public sealed class KubeEmulatorApiTests(KubeLabFixture lab) : IDisposable
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

    private async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, string contentType = "application/json")
    {
        var (status, text) = await SendRawAsync(method, path, body, contentType);
        return (status, JsonNode.Parse(text)!.AsObject());
    }

    private async Task<(HttpStatusCode Status, string Text)> SendRawAsync(HttpMethod method, string path, JsonNode? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType);
        if (request.Content is not null) request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private string Namespace(string prefix)
    {
        var ns = lab.Unique(prefix);
        lab.Kube.CreateNamespace(ns);
        return ns;
    }

    private static JsonObject Secret(string name, string type = "Opaque", string data = "dmFsdWU=") => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = name }, ["type"] = type,
        ["data"] = new JsonObject { [type == "kubernetes.io/dockerconfigjson" ? ".dockerconfigjson" : "key"] = data },
    };

    [Fact]
    public async Task Not_found_is_the_api_servers_status_object()
    {
        var (status, body) = await SendRawAsync(HttpMethod.Get, "/api/v1/namespaces/default/secrets/absent");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"secrets \"absent\" not found","reason":"NotFound","details":{"name":"absent","kind":"secrets"},"code":404}""",
            body);
        var (_, apps) = await SendAsync(HttpMethod.Get, "/apis/apps/v1/namespaces/default/deployments/absent");
        Assert.Equal("deployments.apps \"absent\" not found", apps["message"]!.GetValue<string>());
        Assert.Equal("apps", apps["details"]!["group"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_token_is_unauthorized()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/namespaces");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Unauthorized", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_stale_resource_version_conflicts_and_a_no_op_write_keeps_the_version()
    {
        var ns = Namespace("api-rv");
        var (_, created) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("s"));
        var version = created["metadata"]!["resourceVersion"]!.GetValue<string>();
        var (same, unchanged) = await SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/secrets/s", created);
        Assert.Equal(HttpStatusCode.OK, same);
        Assert.Equal(version, unchanged["metadata"]!["resourceVersion"]!.GetValue<string>());

        var changed = (JsonObject)created.DeepClone();
        changed["data"]!["key"] = "b3RoZXI=";
        var (ok, updated) = await SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/secrets/s", changed);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.NotEqual(version, updated["metadata"]!["resourceVersion"]!.GetValue<string>());

        var (conflict, status) = await SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/secrets/s", changed); // still carries the old version
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal("Conflict", status["reason"]!.GetValue<string>());
        Assert.Equal("Operation cannot be fulfilled on secrets \"s\": the object has been modified; please apply your changes to the latest version and try again",
            status["message"]!.GetValue<string>());
        // a patch that names a stale version conflicts too
        var (patchConflict, _) = await SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/secrets/s",
            new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = version } }, KubePatch.MergePatch);
        Assert.Equal(HttpStatusCode.Conflict, patchConflict);
        var (exists, already) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("s"));
        Assert.Equal((HttpStatusCode.Conflict, "AlreadyExists"), (exists, already["reason"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Secrets_are_validated_as_the_api_server_does()
    {
        var ns = Namespace("api-secret");
        var (missing, body) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "pull" }, ["type"] = "kubernetes.io/dockerconfigjson", ["data"] = new JsonObject { ["other"] = "e30=" },
        });
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "Invalid"), (missing, body["reason"]!.GetValue<string>()));
        Assert.Equal("Secret \"pull\" is invalid: data[.dockerconfigjson]: Required value", body["message"]!.GetValue<string>());

        var (badJson, invalid) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets",
            Secret("pull", "kubernetes.io/dockerconfigjson", Convert.ToBase64String("not json"u8.ToArray())));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badJson);
        Assert.Contains("<secret contents redacted>", invalid["message"]!.GetValue<string>());

        // a registry host is not a valid label value (':' is not allowed): managed-by labels must carry it in an annotation
        var labelled = Secret("labelled");
        labelled["metadata"]!["labels"] = new JsonObject { ["harborops.io/registry"] = "harbor.example.com:8443" };
        var (badLabel, label) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", labelled);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badLabel);
        Assert.StartsWith("Secret \"labelled\" is invalid: metadata.labels: Invalid value: \"harbor.example.com:8443\"", label["message"]!.GetValue<string>());

        var immutable = Secret("frozen");
        immutable["immutable"] = true;
        var (_, frozen) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", immutable);
        frozen["data"]!["key"] = "bmV3";
        var (refused, why) = await SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/secrets/frozen", frozen);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused);
        Assert.Equal("Secret \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set", why["message"]!.GetValue<string>());

        var (intoNowhere, nowhere) = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/no-such-namespace/secrets", Secret("x"));
        Assert.Equal((HttpStatusCode.NotFound, "namespaces \"no-such-namespace\" not found"), (intoNowhere, nowhere["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Strategic_merge_merges_pod_spec_lists_by_name_and_merge_patch_replaces_them()
    {
        var ns = Namespace("api-smp");
        var deployment = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "web" },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "web" } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "web" }, ["annotations"] = new JsonObject { ["team"] = "a" } },
                    ["spec"] = new JsonObject
                    {
                        ["containers"] = new JsonArray(new JsonObject { ["name"] = "web", ["image"] = "acr.io/web:1" }, new JsonObject { ["name"] = "proxy", ["image"] = "acr.io/proxy:1" }),
                        ["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = "acr" }),
                    },
                },
            },
        };
        await SendAsync(HttpMethod.Post, $"/apis/apps/v1/namespaces/{ns}/deployments", deployment);
        var (_, patched) = await SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/web", JsonNode.Parse("""
            {"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}},
             "spec":{"containers":[{"name":"web","image":"harbor.io/web:1"}],"imagePullSecrets":[{"name":"harbor"}]}}}}
            """), KubePatch.StrategicMergePatch);
        var template = patched["spec"]!["template"]!;
        Assert.Equal(["harbor.io/web:1", "acr.io/proxy:1"], template["spec"]!["containers"]!.AsArray().Select(c => c!["image"]!.GetValue<string>()));
        Assert.Equal(["acr", "harbor"], template["spec"]!["imagePullSecrets"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal("a", template["metadata"]!["annotations"]!["team"]!.GetValue<string>()); // other annotations survive a restart
        Assert.Equal(2, patched["metadata"]!["generation"]!.GetValue<long>());

        var (_, deleted) = await SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/web",
            JsonNode.Parse("""{"spec":{"template":{"spec":{"imagePullSecrets":[{"name":"acr","$patch":"delete"}]}}}}"""), KubePatch.StrategicMergePatch);
        Assert.Equal(["harbor"], deleted["spec"]!["template"]!["spec"]!["imagePullSecrets"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));

        var (_, merged) = await SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/web",
            JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x/y:1"}]}}}}"""), KubePatch.MergePatch);
        Assert.Equal(["only"], merged["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));

        var (failedTest, testStatus) = await SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/web",
            JsonNode.Parse("""[{"op":"test","path":"/spec/replicas","value":5},{"op":"replace","path":"/spec/replicas","value":2}]"""), KubePatch.JsonPatch);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, failedTest);
        Assert.Contains("testing value /spec/replicas failed", testStatus["message"]!.GetValue<string>());
        var (unsupported, _) = await SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/web", new JsonObject(), "application/xml");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported);
    }

    [Fact]
    public async Task Pods_get_their_service_accounts_pull_secrets_and_a_missing_account_is_forbidden()
    {
        var ns = Namespace("api-admission");
        await SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/serviceaccounts/default",
            JsonNode.Parse("""{"imagePullSecrets":[{"name":"from-account"}]}"""), KubePatch.MergePatch);
        JsonObject Pod(string name, string? account = null, string? secret = null)
        {
            var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "nginx:1" }) };
            if (account is not null) spec["serviceAccountName"] = account;
            if (secret is not null) spec["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = secret });
            return new JsonObject { ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec };
        }
        var (_, inherited) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/pods", Pod("a"));
        Assert.Equal("from-account", inherited["spec"]!["imagePullSecrets"]![0]!["name"]!.GetValue<string>());
        var (_, own) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/pods", Pod("b", secret: "own"));
        Assert.Equal(["own"], own["spec"]!["imagePullSecrets"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        var (forbidden, status) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/pods", Pod("c", account: "builder"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.Equal($"pods \"c\" is forbidden: error looking up service account {ns}/builder: serviceaccount \"builder\" not found", status["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Label_and_field_selectors_filter_lists_and_bad_selectors_are_bad_requests()
    {
        var ns = Namespace("api-selectors");
        foreach (var (name, tier) in new[] { ("a", "gold"), ("b", "silver"), ("c", (string?)null) })
        {
            var secret = Secret(name);
            if (tier is not null) secret["metadata"]!["labels"] = new JsonObject { ["tier"] = tier };
            await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", secret);
        }
        async Task<string[]> Names(string query) =>
            (await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/secrets?{query}")).Body["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).ToArray();
        Assert.Equal(["a"], await Names("labelSelector=tier%3Dgold"));
        Assert.Equal(["b", "c"], await Names("labelSelector=tier%20notin%20(gold)"));
        Assert.Equal(["c"], await Names("labelSelector=!tier"));
        Assert.Equal(["a", "b"], await Names("labelSelector=tier%20in%20(gold,silver)"));
        Assert.Equal(["b"], await Names("fieldSelector=metadata.name%3Db"));
        Assert.Equal(["a", "c"], await Names("fieldSelector=metadata.name!%3Db"));
        var (bad, status) = await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/secrets?fieldSelector=spec.foo%3Dx");
        Assert.Equal((HttpStatusCode.BadRequest, "field label not supported: spec.foo"), (bad, status["message"]!.GetValue<string>()));
        var list = (await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/secrets")).Body;
        Assert.Equal("SecretList", list["kind"]!.GetValue<string>());
        Assert.Null(list["items"]![0]!["kind"]); // items of a list carry no kind, as the API server serves them
    }

    [Fact]
    public async Task A_watch_from_a_resource_version_replays_what_followed_it()
    {
        var ns = Namespace("api-watch");
        var (_, created) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("w"));
        var from = created["metadata"]!["resourceVersion"]!.GetValue<string>();
        await SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/secrets/w", JsonNode.Parse("""{"metadata":{"labels":{"x":"1"}}}"""), KubePatch.MergePatch);
        await SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/secrets/w");
        using var response = await _http.GetAsync($"api/v1/namespaces/{ns}/secrets?watch=true&resourceVersion={from}&timeoutSeconds=1", HttpCompletionOption.ResponseHeadersRead);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["MODIFIED", "DELETED"], lines.Select(l => JsonNode.Parse(l)!["type"]!.GetValue<string>()));
        Assert.Equal("Secret", JsonNode.Parse(lines[0])!["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Injected_faults_answer_the_next_matching_requests_only()
    {
        var ns = Namespace("api-faults");
        lab.Kube.InjectFault(new KubeFault { Verb = "create", Resource = "secrets", Namespace = ns, Code = 500, Reason = "InternalError", Times = 2 });
        Assert.Equal(HttpStatusCode.InternalServerError, (await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("f"))).Status);
        Assert.Equal(HttpStatusCode.InternalServerError, (await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("f"))).Status);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("f"))).Status);
        Assert.Contains(lab.Kube.Requests, r => r.Path == $"/api/v1/namespaces/{ns}/secrets" && r.Status == 201 && r.User == KubeEmulator.AdminUser);
    }

    [Fact]
    public async Task Deleting_a_namespace_or_an_owner_takes_what_it_holds_with_it()
    {
        var ns = Namespace("api-gc");
        lab.Kube.Create(KubeResourceType.Jobs, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "once" },
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["spec"] = new JsonObject { ["restartPolicy"] = "Never", ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) } } },
        }, ns);
        await lab.Kube.WaitForAsync(KubeResourceType.Jobs, ns, "once", j => j["status"]?["succeeded"] is not null, TimeSpan.FromSeconds(10));
        var pod = Assert.Single(lab.Kube.List(KubeResourceType.Pods, ns));
        Assert.Equal("Succeeded", pod["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("Job", pod["metadata"]!["ownerReferences"]![0]!["kind"]!.GetValue<string>());
        await SendAsync(HttpMethod.Delete, $"/apis/batch/v1/namespaces/{ns}/jobs/once");
        Assert.Empty(lab.Kube.List(KubeResourceType.Pods, ns));
        await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/secrets", Secret("gone"));
        await SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        Assert.Empty(lab.Kube.List(KubeResourceType.Secrets, ns));
        Assert.Empty(lab.Kube.List(KubeResourceType.ServiceAccounts, ns));
    }

    [Fact]
    public async Task The_lab_control_surface_drives_the_emulator_from_another_process()
    {
        var ns = Namespace("api-control");
        async Task<HttpStatusCode> Control(HttpMethod method, string path, object? body = null)
        {
            using var request = new HttpRequestMessage(method, "_lab/" + path);
            if (body is not null) request.Content = JsonContent(body);
            using var response = await _http.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.NoContent, await Control(HttpMethod.Post, "faults", new { verb = "get", resource = "secrets", @namespace = ns, code = 503, reason = "ServiceUnavailable" }));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/secrets/x")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/secrets/x")).Status);

        Assert.Equal(HttpStatusCode.NoContent, await Control(HttpMethod.Put, "image-digests", new { image = "acr.io/ctl:1", digest = "sha256:" + new string('7', 64) }));
        var (_, pod) = await SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/pods", JsonNode.Parse("""{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"acr.io/ctl:1"}]}}"""));
        Assert.Equal("acr.io/ctl@sha256:" + new string('7', 64), pod["status"]!["containerStatuses"]![0]!["imageID"]!.GetValue<string>());

        lab.Kube.Create(KubeResourceType.Deployments, JsonNode.Parse("""{"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"acr.io/ctl:1"}]}}}}""")!.AsObject(), ns);
        await lab.Kube.WaitForAsync(KubeResourceType.Deployments, ns, "d", d => d["status"]?["updatedReplicas"]?.GetValue<int>() == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.NoContent, await Control(HttpMethod.Put, "stall", new { kind = "Deployment", @namespace = ns, name = "d", stalled = true }));
        await SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/d",
            JsonNode.Parse("""{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}}}}}"""), KubePatch.StrategicMergePatch);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonObject? stalled;
        while ((stalled = lab.Kube.List(KubeResourceType.Pods, ns).FirstOrDefault(p => p["status"]?["phase"]?.GetValue<string>() == "Pending")) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the stalled rollout made no waiting pod");
            await Task.Delay(20);
        }
        Assert.Equal("ImagePullBackOff", stalled["status"]!["containerStatuses"]![0]!["state"]!["waiting"]!["reason"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, await Control(HttpMethod.Put, "stall", new { kind = "Deployment", @namespace = ns, name = "absent" }));

        Assert.Equal(HttpStatusCode.NoContent, await Control(HttpMethod.Put, "unreachable", new { unreachable = true }));
        await Assert.ThrowsAsync<HttpRequestException>(() => _http.GetAsync("api/v1/namespaces"));
        Assert.Equal(HttpStatusCode.NoContent, await Control(HttpMethod.Put, "unreachable", new { unreachable = false }));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/api/v1/namespaces")).Status);
    }

    private static StringContent JsonContent(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}
