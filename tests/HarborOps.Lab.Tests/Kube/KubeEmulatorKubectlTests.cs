using System.Text.Json.Nodes;
using HarborOps.Lab.Kube;
using Xunit;

namespace HarborOps.Lab.Tests.Kube;

/// <summary>The real kubectl against the emulator: if kubectl is happy with it, the emulator speaks the API server's
/// language (discovery, Status errors, patches, watches, rollout status).</summary>
[Collection(KubeLabCollection.Name)]
public sealed class KubeEmulatorKubectlTests(KubeLabFixture lab) : IDisposable
{
    /// <summary>Every answer this test caused is held to the Kubernetes OpenAPI.</summary>
    public void Dispose() => lab.AssertAnswersMatchContract();

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Kubectl_is_installed()
    {
        // A missing kubectl fails every test here with the install command rather than skipping them.
        Assert.True(File.Exists(LabPrerequisites.RequireKubectl()));
        Assert.Equal("kubectl is not installed: apt-get install -y kubernetes-client", LabPrerequisites.MissingToolMessage("kubectl", "kubernetes-client"));
    }

    [Fact]
    public async Task Namespaces_are_created_listed_and_selected_by_label()
    {
        var ns = lab.Unique("kubectl-ns");
        Assert.Contains($"namespace/{ns} created", await lab.KubectlOkAsync("create", "namespace", ns));
        await lab.KubectlOkAsync("label", "namespace", ns, "team=payments", "tier=gold");
        var selected = Parse(await lab.KubectlOkAsync("get", "namespaces", "-l", "team in (payments,billing),!legacy", "-o", "json"));
        Assert.Contains(ns, selected["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        var excluded = Parse(await lab.KubectlOkAsync("get", "namespaces", "-l", "tier notin (gold)", "-o", "json"));
        Assert.DoesNotContain(ns, excluded["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        var table = await lab.KubectlOkAsync("get", "namespace", ns);
        Assert.Contains(ns, table);
        // the ServiceAccount controller's default account appears in a new namespace
        Assert.Contains("default", await lab.KubectlOkAsync("get", "serviceaccounts", "-n", ns, "-o", "name"));

        var duplicate = await lab.KubectlAsync("create", "namespace", ns);
        Assert.NotEqual(0, duplicate.ExitCode);
        Assert.Contains($"namespaces \"{ns}\" already exists", duplicate.StandardError);
        var missing = await lab.KubectlAsync("get", "namespace", ns + "-missing");
        Assert.Contains($"namespaces \"{ns}-missing\" not found", missing.StandardError);
    }

    [Fact]
    public async Task Docker_registry_secret_round_trips_and_its_type_is_immutable()
    {
        var ns = lab.Unique("kubectl-secret");
        lab.Kube.CreateNamespace(ns);
        await lab.KubectlOkAsync("create", "secret", "docker-registry", "pull", "-n", ns, "--docker-server=harbor.lab:5000",
            "--docker-username=robot$pull", "--docker-password=s3cret");
        var secret = Parse(await lab.KubectlOkAsync("get", "secret", "pull", "-n", ns, "-o", "json"));
        Assert.Equal("kubernetes.io/dockerconfigjson", secret["type"]!.GetValue<string>());
        var config = JsonNode.Parse(Convert.FromBase64String(secret["data"]![".dockerconfigjson"]!.GetValue<string>()))!;
        Assert.Equal("robot$pull", config["auths"]!["harbor.lab:5000"]!["username"]!.GetValue<string>());

        // The type is immutable, as the API server enforces it (a client that "fixes" a wrong-typed secret must delete it).
        var changed = await lab.KubectlAsync("patch", "secret", "pull", "-n", ns, "--type=merge", "-p", "{\"type\":\"Opaque\"}");
        Assert.NotEqual(0, changed.ExitCode);
        Assert.Contains($"Secret \"pull\" is invalid: type: Invalid value: \"Opaque\": field is immutable", changed.StandardError);
    }

    [Fact]
    public async Task Service_account_image_pull_secrets_are_replaced_by_a_strategic_patch_and_appended_by_a_json_patch()
    {
        var ns = lab.Unique("kubectl-sa");
        lab.Kube.CreateNamespace(ns);
        await lab.KubectlOkAsync("patch", "serviceaccount", "default", "-n", ns, "-p", "{\"imagePullSecrets\":[{\"name\":\"existing\"}]}");
        // ServiceAccount.imagePullSecrets is atomic: a strategic merge patch replaces the list (why clients read-merge-write)
        await lab.KubectlOkAsync("patch", "serviceaccount", "default", "-n", ns, "-p", "{\"imagePullSecrets\":[{\"name\":\"harbor\"}]}");
        var account = Parse(await lab.KubectlOkAsync("get", "serviceaccount", "default", "-n", ns, "-o", "json"));
        Assert.Equal(["harbor"], account["imagePullSecrets"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        await lab.KubectlOkAsync("patch", "serviceaccount", "default", "-n", ns, "--type=json", "-p", "[{\"op\":\"add\",\"path\":\"/imagePullSecrets/-\",\"value\":{\"name\":\"second\"}}]");
        await lab.KubectlOkAsync("patch", "serviceaccount", "default", "-n", ns, "--type=merge", "-p", "{\"metadata\":{\"labels\":{\"managed\":\"yes\"}}}");
        account = Parse(await lab.KubectlOkAsync("get", "serviceaccount", "default", "-n", ns, "-o", "json"));
        Assert.Equal(["harbor", "second"], account["imagePullSecrets"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal("yes", account["metadata"]!["labels"]!["managed"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reader_is_forbidden_to_write_with_the_api_servers_wording()
    {
        var ns = lab.Unique("kubectl-rbac");
        lab.Kube.CreateNamespace(ns);
        var denied = await lab.KubectlAsAsync(KubeLabFixture.ReaderContext, "create", "secret", "generic", "x", "-n", ns, "--from-literal=a=b");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains($"secrets is forbidden: User \"lab-reader\" cannot create resource \"secrets\" in API group \"\" in the namespace \"{ns}\"", denied.StandardError);
        var allowed = await lab.KubectlAsAsync(KubeLabFixture.ReaderContext, "get", "serviceaccount", "default", "-n", ns, "-o", "name");
        Assert.Equal(0, allowed.ExitCode);

        var onlySecretsInOneNamespace = lab.Kube.AddToken("ops", new KubeAccessRule(["get"], ["secrets"], [ns]));
        var config = KubeConfigFile.Write(Path.Combine(lab.Directory, $"ops-{ns}.kubeconfig"), lab.Kube, "ops", new KubeConfigContext("ops", "ops", onlySecretsInOneNamespace.Token));
        var elsewhere = await LabKubectl.RunAsync(config, "ops", ["get", "secret", "x", "-n", "default"]);
        Assert.Contains("secrets \"x\" is forbidden: User \"ops\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\"", elsewhere.StandardError);
        var deployments = await LabKubectl.RunAsync(config, "ops", ["get", "deployment", "web", "-n", ns]);
        Assert.Contains($"deployments.apps \"web\" is forbidden: User \"ops\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"{ns}\"", deployments.StandardError);
    }

    private async Task CreateDeploymentAsync(string ns, string name, int replicas, int progressDeadlineSeconds = 600)
    {
        var manifest = new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { ["app"] = name } },
            ["spec"] = new JsonObject
            {
                ["replicas"] = replicas, ["progressDeadlineSeconds"] = progressDeadlineSeconds,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "harbor.lab/team/web:1.0" }) },
                },
            },
        };
        var result = await LabKubectl.RunAsync(lab.Kubeconfig, KubeLabFixture.AdminContext, ["create", "-f", "-"], manifest.ToJsonString());
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task Rollout_restart_rolls_the_deployment_and_rollout_status_follows_it_to_the_end()
    {
        var ns = lab.Unique("kubectl-rollout");
        lab.Kube.CreateNamespace(ns);
        await CreateDeploymentAsync(ns, "web", replicas: 3);
        var first = await lab.KubectlOkAsync("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s");
        Assert.Contains("successfully rolled out", first);
        var before = Parse(await lab.KubectlOkAsync("get", "deployment", "web", "-n", ns, "-o", "json"));

        // Held until kubectl is watching, so that it sees the rollout in progress rather than only its end.
        lab.Kube.SetStalled("Deployment", ns, "web");
        Assert.Contains("restarted", await lab.KubectlOkAsync("rollout", "restart", "deployment/web", "-n", ns));
        var following = lab.KubectlOkAsync("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!lab.Kube.ActiveWatches.Contains($"deployments.apps in {ns}"))
        {
            Assert.True(DateTime.UtcNow < deadline, "kubectl rollout status never started watching");
            await Task.Delay(20);
        }
        lab.Kube.SetStalled("Deployment", ns, "web", stalled: false);
        var status = await following;
        Assert.Contains("Waiting for deployment \"web\" rollout to finish", status);
        Assert.Contains("deployment \"web\" successfully rolled out", status);

        var after = Parse(await lab.KubectlOkAsync("get", "deployment", "web", "-n", ns, "-o", "json"));
        Assert.NotNull(after["spec"]!["template"]!["metadata"]!["annotations"]![KubeEmulator.RestartedAtAnnotation]);
        Assert.Equal(before["metadata"]!["generation"]!.GetValue<long>() + 1, after["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal(after["metadata"]!["generation"]!.GetValue<long>(), after["status"]!["observedGeneration"]!.GetValue<long>());
        Assert.Equal(3, after["status"]!["updatedReplicas"]!.GetValue<int>());
        var progressing = after["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "Progressing")!;
        Assert.Equal("NewReplicaSetAvailable", progressing["reason"]!.GetValue<string>());
        // Deployment -> two ReplicaSets (the old one scaled to zero) -> three pods of the new one
        var replicaSets = Parse(await lab.KubectlOkAsync("get", "replicasets", "-n", ns, "-l", "app=web", "-o", "json"))["items"]!.AsArray();
        Assert.Equal(2, replicaSets.Count);
        var pods = Parse(await lab.KubectlOkAsync("get", "pods", "-n", ns, "-l", "app=web", "-o", "json"))["items"]!.AsArray();
        Assert.Equal(3, pods.Count);
        var current = replicaSets.Single(r => r!["spec"]!["replicas"]!.GetValue<int>() == 3)!;
        Assert.All(pods, p => Assert.Equal(current["metadata"]!["uid"]!.GetValue<string>(), p!["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_stalled_rollout_fails_rollout_status_with_the_progress_deadline()
    {
        var ns = lab.Unique("kubectl-stall");
        lab.Kube.CreateNamespace(ns);
        await CreateDeploymentAsync(ns, "api", replicas: 1, progressDeadlineSeconds: 1);
        await lab.KubectlOkAsync("rollout", "status", "deployment/api", "-n", ns, "--timeout=30s");
        lab.Kube.SetStalled("Deployment", ns, "api");
        await lab.KubectlOkAsync("rollout", "restart", "deployment/api", "-n", ns);
        var status = await lab.KubectlAsync("rollout", "status", "deployment/api", "-n", ns, "--timeout=30s");
        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains("deployment \"api\" exceeded its progress deadline", status.StandardError);
        var stalled = lab.Kube.Get(KubeResourceType.Deployments, ns, "api")!;
        var progressing = stalled["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "Progressing")!;
        Assert.Equal(("False", "ProgressDeadlineExceeded"), (progressing["status"]!.GetValue<string>(), progressing["reason"]!.GetValue<string>()));

        lab.Kube.SetStalled("Deployment", ns, "api", stalled: false);
        Assert.Contains("successfully rolled out", await lab.KubectlOkAsync("rollout", "status", "deployment/api", "-n", ns, "--timeout=30s"));
    }

    [Fact]
    public async Task Stateful_set_and_daemon_set_roll_out_again_after_a_restart()
    {
        var ns = lab.Unique("kubectl-sts-ds");
        lab.Kube.CreateNamespace(ns);
        foreach (var kind in new[] { "StatefulSet", "DaemonSet" })
        {
            var name = kind.ToLowerInvariant();
            var spec = new JsonObject
            {
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name }, ["annotations"] = new JsonObject { ["team"] = "a" } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "harbor.lab/team/app:1" }) },
                },
            };
            if (kind == "StatefulSet") spec["replicas"] = 2;
            var manifest = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = kind, ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns }, ["spec"] = spec };
            var created = await LabKubectl.RunAsync(lab.Kubeconfig, KubeLabFixture.AdminContext, ["create", "-f", "-"], manifest.ToJsonString());
            Assert.True(created.ExitCode == 0, created.Output);
        }
        await lab.KubectlOkAsync("rollout", "status", "statefulset/statefulset", "-n", ns, "--timeout=30s");
        await lab.KubectlOkAsync("rollout", "status", "daemonset/daemonset", "-n", ns, "--timeout=30s");
        var before = lab.Kube.List(KubeResourceType.Pods, ns).Select(p => p["metadata"]!["uid"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(4, before.Count); // two replicas, one pod on each of two nodes

        await lab.KubectlOkAsync("rollout", "restart", "statefulset/statefulset", "daemonset/daemonset", "-n", ns);
        var sts = await lab.KubectlOkAsync("rollout", "status", "statefulset/statefulset", "-n", ns, "--timeout=30s");
        // apps/v1 defaults a RollingUpdate partition of 0, so kubectl reports a partitioned roll out, as against a real cluster
        Assert.Contains("partitioned roll out complete: 2 new pods have been updated", sts);
        Assert.Contains("successfully rolled out", await lab.KubectlOkAsync("rollout", "status", "daemonset/daemonset", "-n", ns, "--timeout=30s"));

        var after = lab.Kube.List(KubeResourceType.Pods, ns);
        Assert.Equal(4, after.Count);
        Assert.DoesNotContain(after, p => before.Contains(p["metadata"]!["uid"]!.GetValue<string>())); // every pod replaced
        Assert.Equal(["statefulset-0", "statefulset-1"], after.Select(p => p["metadata"]!["name"]!.GetValue<string>()).Where(n => n.StartsWith("statefulset-", StringComparison.Ordinal)).Order());
        var template = lab.Kube.Get(KubeResourceType.DaemonSets, ns, "daemonset")!["spec"]!["template"]!["metadata"]!["annotations"]!;
        Assert.Equal("a", template["team"]!.GetValue<string>()); // the restart kept the template's other annotations
        Assert.NotNull(template[KubeEmulator.RestartedAtAnnotation]);
    }
}
