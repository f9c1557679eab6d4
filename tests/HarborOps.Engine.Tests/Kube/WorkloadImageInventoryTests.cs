using System.Text.Json.Nodes;
using HarborOps.Engine.Kube;
using HarborOps.Lab.Kube;
using HarborOps.Models;
using k8s;
using k8s.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Kube;

/// <summary>Get-WorkloadImage's engine against the emulator: owners resolved through ReplicaSets and Jobs, every container
/// kind, digests from pins and from what pods resolved, pull secrets from pods and ServiceAccounts, filters.</summary>
[Collection(KubeLabCollection.Name)]
public sealed class WorkloadImageInventoryTests(KubeLabFixture lab) : IDisposable
{
    public void Dispose() => lab.AssertAnswersMatchContract();

    private const string Acr = "myacr.azurecr.io";
    private const string WebDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string PinnedDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    private static JsonObject PodTemplate(string app, string image, string? init = null, string? pullSecret = null, string restartPolicy = "Always")
    {
        var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = app, ["image"] = image }), ["restartPolicy"] = restartPolicy };
        if (init is not null) spec["initContainers"] = new JsonArray(new JsonObject { ["name"] = "setup", ["image"] = init });
        if (pullSecret is not null) spec["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = pullSecret });
        return new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = app } }, ["spec"] = spec };
    }

    private static JsonObject Workload(string name, JsonObject template, int? replicas = null)
    {
        var spec = new JsonObject { ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } }, ["template"] = template };
        if (replicas is not null) spec["replicas"] = replicas;
        return new JsonObject { ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec };
    }

    /// <summary>A namespace with one of everything, its pods running.</summary>
    private async Task<string> SeedAsync(string prefix)
    {
        var ns = lab.Unique(prefix);
        var kube = lab.Kube;
        kube.CreateNamespace(ns);
        using (var cluster = await ConnectAsync())
        {
            await cluster.CallAsync(KubeOperation.Patch("serviceaccounts", ns, "default"), (c, ct) => c.CoreV1.PatchNamespacedServiceAccountAsync(
                new V1Patch("{\"imagePullSecrets\":[{\"name\":\"acr-pull\"}]}", V1Patch.PatchType.MergePatch), "default", ns, cancellationToken: ct), CancellationToken.None);
        }
        kube.SetImageDigest($"{Acr}/team/web:1.0", WebDigest);
        kube.Create(KubeResourceType.Deployments, Workload("web", PodTemplate("web", $"{Acr}/team/web:1.0", init: "busybox:1.36"), replicas: 2), ns);
        kube.Create(KubeResourceType.Deployments, Workload("api", PodTemplate("api", $"harbor.lab:8443/team/api:2.1", pullSecret: "harbor-pull")), ns);
        kube.Create(KubeResourceType.StatefulSets, Workload("db", PodTemplate("db", $"harbor.lab:8443/platform/postgres@{PinnedDigest}")), ns);
        kube.Create(KubeResourceType.DaemonSets, Workload("agent", PodTemplate("agent", $"{Acr}/agents/log:2")), ns);
        kube.Create(KubeResourceType.Jobs, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "migrate" },
            ["spec"] = new JsonObject { ["template"] = PodTemplate("migrate", $"{Acr}/jobs/migrate:5", restartPolicy: "Never") },
        }, ns);
        foreach (var cron in new[] { "nightly", "idle" })
            kube.Create(KubeResourceType.CronJobs, new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = cron },
                ["spec"] = new JsonObject
                {
                    ["schedule"] = "0 2 * * *",
                    ["jobTemplate"] = new JsonObject { ["spec"] = new JsonObject { ["template"] = PodTemplate(cron, $"{Acr}/jobs/{cron}:3", restartPolicy: "OnFailure") } },
                },
            }, ns);
        kube.RunCronJob(ns, "nightly");
        kube.Create(KubeResourceType.Pods, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "debug" },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "shell", ["image"] = "nginx" }) },
        }, ns);
        using (var cluster = await ConnectAsync())
        {
            // ephemeral containers only arrive through their subresource, as kubectl debug adds them
            await cluster.CallAsync(KubeOperation.Patch("pods", ns, "debug"), (c, ct) => c.CoreV1.PatchNamespacedPodEphemeralcontainersAsync(
                new V1Patch("{\"spec\":{\"ephemeralContainers\":[{\"name\":\"debugger\",\"image\":\"ghcr.io/tools/netshoot:v1\"}]}}", V1Patch.PatchType.StrategicMergePatch),
                "debug", ns, cancellationToken: ct), CancellationToken.None);
        }
        // pods: web 2, api 1, db 1, agent 2 (two nodes), migrate 1, nightly 1, debug 1
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (kube.List(KubeResourceType.Pods, ns).Count(p => p["status"]?["phase"]?.GetValue<string>() is "Running" or "Succeeded") < 9
               || kube.List(KubeResourceType.Deployments, ns).Any(d => d["status"]?["updatedReplicas"] is null))
        {
            Assert.True(DateTime.UtcNow < deadline, "the emulator's controllers did not start every pod: " + string.Join(", ", kube.List(KubeResourceType.Pods, ns).Select(p => p["metadata"]!["name"])));
            await Task.Delay(25);
        }
        Assert.Empty(kube.Failures);
        return ns;
    }

    private Task<KubeCluster> ConnectAsync(string context = KubeLabFixture.AdminContext) =>
        KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = lab.Kubeconfig, Context = context });

    private async Task<IReadOnlyList<WorkloadImageInfo>> ListAsync(WorkloadImageRequest request, string context = KubeLabFixture.AdminContext)
    {
        using var cluster = await ConnectAsync(context);
        return await WorkloadImageInventory.ListAsync(cluster, request, null, CancellationToken.None);
    }

    [Fact]
    public async Task Resolves_pods_to_their_workloads_with_registry_digest_and_pull_secrets()
    {
        var ns = await SeedAsync("wi-all");
        var rows = await ListAsync(new WorkloadImageRequest { Namespaces = [ns] });
        string Key(WorkloadImageInfo r) => $"{r.WorkloadKind}/{r.Workload}/{r.Container}";
        Assert.Equal(
            ["CronJob/idle/idle", "CronJob/nightly/nightly", "DaemonSet/agent/agent", "Deployment/api/api", "Deployment/web/setup", "Deployment/web/web",
             "Job/migrate/migrate", "Pod/debug/shell", "Pod/debug/debugger", "StatefulSet/db/db"],
            rows.Select(Key));
        var byKey = rows.ToDictionary(Key);

        var web = byKey["Deployment/web/web"]; // Pod -> ReplicaSet -> Deployment
        Assert.Equal((Acr, "team/web", "1.0", WebDigest), (web.Registry, web.Repository, web.Tag, web.Digest));
        Assert.Equal(2, web.PodCount);
        Assert.Equal(["acr-pull"], web.PullSecrets); // the ServiceAccount's, added to the pods by admission
        var init = byKey["Deployment/web/setup"];
        Assert.Equal(("Init", "docker.io", "library/busybox", "1.36"), (init.ContainerKind, init.Registry, init.Repository, init.Tag));
        Assert.Equal(["harbor-pull"], byKey["Deployment/api/api"].PullSecrets); // the pod's own secrets win over the account's
        Assert.Equal(PinnedDigest, byKey["StatefulSet/db/db"].Digest);
        Assert.Equal("harbor.lab:8443", byKey["StatefulSet/db/db"].Registry);
        Assert.Equal(2, byKey["DaemonSet/agent/agent"].PodCount);
        var nightly = byKey["CronJob/nightly/nightly"]; // Pod -> Job -> CronJob
        Assert.Equal(1, nightly.PodCount);
        Assert.StartsWith("nightly-", Assert.Single(nightly.Pods));
        var idle = byKey["CronJob/idle/idle"]; // never ran: from its template, with the account's secret
        Assert.Equal((0, null as string), (idle.PodCount, idle.Digest));
        Assert.Equal(["acr-pull"], idle.PullSecrets);
        Assert.Equal(1, byKey["Job/migrate/migrate"].PodCount);
        var debugger = byKey["Pod/debug/debugger"];
        Assert.Equal(("Ephemeral", "ghcr.io", "tools/netshoot"), (debugger.ContainerKind, debugger.Registry, debugger.Repository));
        var shell = byKey["Pod/debug/shell"];
        Assert.Equal(("docker.io", "library/nginx", "latest"), (shell.Registry, shell.Repository, shell.Tag));
        Assert.NotNull(shell.Digest); // what the node resolved, from the pod's imageID
    }

    [Fact]
    public async Task Filters_by_registry_and_by_namespace_wildcard()
    {
        var first = await SeedAsync("wi-filter");
        var second = await SeedAsync("wi-filter");
        var fromAcr = await ListAsync(new WorkloadImageRequest { Namespaces = ["wi-filter-*"], Registries = [Acr] });
        Assert.Equal([first, second], fromAcr.Select(r => r.Namespace).Distinct());
        Assert.All(fromAcr, r => Assert.Equal(Acr, r.Registry));
        Assert.Equal(["agent", "idle", "migrate", "nightly", "web"], fromAcr.Where(r => r.Namespace == first).Select(r => r.Container).Order());

        var hub = await ListAsync(new WorkloadImageRequest { Namespaces = [first], Registries = ["index.docker.io"] }); // normalised like any reference
        Assert.Equal(["setup", "shell"], hub.Select(r => r.Container).Order());
        var wildcard = await ListAsync(new WorkloadImageRequest { Namespaces = [first], Registries = ["*.lab:8443"] });
        Assert.Equal(["api", "db"], wildcard.Select(r => r.Container).Order());
    }

    [Fact]
    public async Task A_namespace_scoped_identity_must_name_its_namespaces()
    {
        var ns = await SeedAsync("wi-rbac");
        var grant = lab.Kube.AddToken("team-reader", new KubeAccessRule(["list"], ["*"], [ns], ApiGroups: ["*"]));
        var path = KubeConfigFile.Write(Path.Combine(lab.Directory, $"{ns}.kubeconfig"), lab.Kube, "team", new KubeConfigContext("team", "team-reader", grant.Token));
        using var cluster = await KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = path });
        var e = await Assert.ThrowsAnyAsync<KubeException>(() => WorkloadImageInventory.ListAsync(cluster, new WorkloadImageRequest(), null, CancellationToken.None));
        Assert.Equal(KubeErrorIds.PermissionDenied, e.ErrorId);
        Assert.Contains("cluster-wide", e.Message);
        var rows = await WorkloadImageInventory.ListAsync(cluster, new WorkloadImageRequest { Namespaces = [ns] }, null, CancellationToken.None);
        Assert.Equal(10, rows.Count);
    }

    [Theory]
    [InlineData("docker.io/library/nginx@sha256:3333333333333333333333333333333333333333333333333333333333333333", "sha256:3333333333333333333333333333333333333333333333333333333333333333")]
    [InlineData("docker-pullable://nginx@sha256:4444444444444444444444444444444444444444444444444444444444444444", "sha256:4444444444444444444444444444444444444444444444444444444444444444")]
    [InlineData("sha256:5555555555555555555555555555555555555555555555555555555555555555", null)] // a config id, not a manifest digest
    [InlineData("", null)]
    public void ReadsTheManifestDigestFromAnImageId(string imageId, string? expected) =>
        Assert.Equal(expected, WorkloadImageInventory.DigestOf(imageId));
}
