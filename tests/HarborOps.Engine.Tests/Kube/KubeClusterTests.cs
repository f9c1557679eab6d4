using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Kube;
using HarborOps.Lab;
using HarborOps.Lab.Kube;
using k8s;
using k8s.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Kube;

/// <summary>Cluster access through KubernetesClient against the emulator: configuration, and every failure mapped to a
/// stable id whose message names the verb, resource, namespace and the fix, never a credential.</summary>
[Collection(KubeLabCollection.Name)]
public sealed class KubeClusterTests(KubeLabFixture lab) : IDisposable
{
    public void Dispose() => lab.AssertAnswersMatchContract();

    private Task<KubeCluster> ConnectAsync(string context = KubeLabFixture.AdminContext, List<string>? log = null) =>
        KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = lab.Kubeconfig, Context = context }, log is null ? null : log.Add);

    private void AssertNoSecrets(Exception e)
    {
        Assert.DoesNotContain(lab.Kube.AdminToken, e.ToString());
        Assert.DoesNotContain(lab.Reader.Token, e.ToString());
    }

    [Fact]
    public async Task Connects_with_a_context_and_reads_through_the_lab_ca()
    {
        var log = new List<string>();
        using var cluster = await ConnectAsync(log: log);
        Assert.Equal(KubeLabFixture.AdminContext, cluster.Context);
        Assert.Equal("default", cluster.DefaultNamespace);
        var namespaces = await cluster.CallAsync(KubeOperation.List("namespaces"), (c, ct) => c.CoreV1.ListNamespaceAsync(cancellationToken: ct), CancellationToken.None);
        Assert.Contains(namespaces.Items, n => n.Metadata.Name == "kube-system");
        Assert.Contains(log, l => l.StartsWith("GET /api/v1/namespaces?watch=false -> 200", StringComparison.Ordinal));
        Assert.All(log, l => Assert.DoesNotContain(lab.Kube.AdminToken, l));
    }

    [Fact]
    public async Task A_missing_context_names_the_contexts_that_exist()
    {
        var e = await Assert.ThrowsAsync<KubeException>(() => ConnectAsync("prod"));
        Assert.Equal(KubeErrorIds.ContextNotFound, e.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, e.Kind);
        Assert.Contains("has no context \"prod\"; its contexts are: lab-admin, lab-reader", e.Message);
        Assert.Contains("-Context", e.Message);
        AssertNoSecrets(e);
    }

    [Fact]
    public async Task A_missing_kubeconfig_says_where_it_looked_and_how_to_fix_it()
    {
        var missing = Path.Combine(lab.Directory, "nope", "config");
        var e = await Assert.ThrowsAsync<KubeException>(() => KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = missing }));
        Assert.Equal(KubeErrorIds.KubeconfigNotFound, e.ErrorId);
        Assert.Contains($"{missing} does not exist", e.Message);
        Assert.Contains("-Kubeconfig", e.Message);
    }

    [Fact]
    public async Task In_cluster_outside_a_pod_says_what_is_missing()
    {
        Assert.Null(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")); // the test host is not a pod
        var e = await Assert.ThrowsAsync<KubeException>(() => KubeCluster.ConnectAsync(new KubeConnectionRequest { InCluster = true }));
        Assert.Equal(KubeErrorIds.InClusterUnavailable, e.ErrorId);
        Assert.Contains("KUBERNETES_SERVICE_HOST", e.Message);
    }

    [Fact]
    public async Task An_unparsable_kubeconfig_is_reported_with_its_path()
    {
        var broken = Path.Combine(lab.Directory, "broken.kubeconfig");
        await File.WriteAllTextAsync(broken, "apiVersion: v1\nclusters: [ {name: x\n");
        var e = await Assert.ThrowsAsync<KubeException>(() => KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = broken }));
        Assert.Equal(KubeErrorIds.KubeconfigInvalid, e.ErrorId);
        Assert.Contains(broken, e.Message);
    }

    [Fact]
    public async Task Forbidden_names_verb_resource_namespace_and_the_rbac_fix()
    {
        var ns = lab.Unique("engine-rbac");
        lab.Kube.CreateNamespace(ns);
        using var cluster = await ConnectAsync(KubeLabFixture.ReaderContext);
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "pull" }, StringData = new Dictionary<string, string> { ["a"] = "sensitive-value" } };
        var e = await Assert.ThrowsAsync<KubeException>(() => cluster.CallAsync(KubeOperation.Create("secrets", ns, "pull"),
            (c, ct) => c.CoreV1.CreateNamespacedSecretAsync(secret, ns, cancellationToken: ct), CancellationToken.None));
        Assert.Equal(KubeErrorIds.PermissionDenied, e.ErrorId);
        Assert.Equal(FailureKind.PermissionDenied, e.Kind);
        Assert.Equal(403, e.StatusCode);
        Assert.Equal($"{ns}/pull", e.Target);
        Assert.Contains($"Not allowed to create secrets \"pull\" in namespace \"{ns}\"", e.Message);
        Assert.Contains($"User \"lab-reader\" cannot create resource \"secrets\" in API group \"\" in the namespace \"{ns}\"", e.Message);
        Assert.Contains($"kubectl create role harborops --verb=create --resource=secrets -n {ns}", e.Message);
        Assert.DoesNotContain("sensitive-value", e.ToString());
        AssertNoSecrets(e);

        var apps = await Assert.ThrowsAsync<KubeException>(() => cluster.CallAsync(KubeOperation.Patch("deployments", ns, "web", "apps"),
            (c, ct) => c.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), "web", ns, cancellationToken: ct), CancellationToken.None));
        Assert.Contains("--resource=deployments.apps", apps.Message);
    }

    [Fact]
    public async Task A_revoked_token_is_an_authentication_failure()
    {
        var grant = lab.Kube.AddToken("short-lived", KubeAccessRule.ReadAll);
        var path = KubeConfigFile.Write(Path.Combine(lab.Directory, "revoked.kubeconfig"), lab.Kube, "c", new KubeConfigContext("c", "u", grant.Token));
        using var cluster = await KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = path });
        lab.Kube.RevokeToken(grant.Token);
        var e = await Assert.ThrowsAsync<KubeException>(() => cluster.CallAsync(KubeOperation.List("namespaces"),
            (c, ct) => c.CoreV1.ListNamespaceAsync(cancellationToken: ct), CancellationToken.None));
        Assert.Equal(KubeErrorIds.AuthenticationFailed, e.ErrorId);
        Assert.True(e.IsTerminating);
        Assert.DoesNotContain(grant.Token, e.ToString());
    }

    [Fact]
    public async Task Not_found_and_get_or_default()
    {
        using var cluster = await ConnectAsync();
        var e = await Assert.ThrowsAsync<KubeException>(() => cluster.CallAsync(KubeOperation.Get("secrets", "default", "absent"),
            (c, ct) => c.CoreV1.ReadNamespacedSecretAsync("absent", "default", cancellationToken: ct), CancellationToken.None));
        Assert.Equal(KubeErrorIds.NotFound, e.ErrorId);
        Assert.True(e.IsNotFound);
        Assert.Contains("secrets \"absent\" not found", e.Message);
        Assert.Null(await cluster.GetOrDefaultAsync(KubeOperation.Get("secrets", "default", "absent"),
            (c, ct) => c.CoreV1.ReadNamespacedSecretAsync("absent", "default", cancellationToken: ct), CancellationToken.None));
    }

    [Fact]
    public async Task A_stale_resource_version_is_a_conflict_and_Retry_on_conflict_rereads()
    {
        var ns = lab.Unique("engine-conflict");
        lab.Kube.CreateNamespace(ns);
        using var cluster = await ConnectAsync();
        var stale = await cluster.CallAsync(KubeOperation.Get("serviceaccounts", ns, "default"),
            (c, ct) => c.CoreV1.ReadNamespacedServiceAccountAsync("default", ns, cancellationToken: ct), CancellationToken.None);
        var fresh = await cluster.CallAsync(KubeOperation.Get("serviceaccounts", ns, "default"),
            (c, ct) => c.CoreV1.ReadNamespacedServiceAccountAsync("default", ns, cancellationToken: ct), CancellationToken.None);
        fresh.ImagePullSecrets = [new V1LocalObjectReference { Name = "first" }];
        await cluster.CallAsync(KubeOperation.Update("serviceaccounts", ns, "default"),
            (c, ct) => c.CoreV1.ReplaceNamespacedServiceAccountAsync(fresh, "default", ns, cancellationToken: ct), CancellationToken.None);
        stale.ImagePullSecrets = [new V1LocalObjectReference { Name = "second" }];
        var e = await Assert.ThrowsAsync<KubeException>(() => cluster.CallAsync(KubeOperation.Update("serviceaccounts", ns, "default"),
            (c, ct) => c.CoreV1.ReplaceNamespacedServiceAccountAsync(stale, "default", ns, cancellationToken: ct), CancellationToken.None));
        Assert.Equal(KubeErrorIds.Conflict, e.ErrorId);
        Assert.True(e.IsConflict);

        // two injected conflicts, then the third read-merge-write lands and keeps "first"
        lab.Kube.InjectConflicts("serviceaccounts", 2, ns);
        var attempts = 0;
        var merged = await KubeCluster.RetryOnConflictAsync(async ct =>
        {
            attempts++;
            var account = await cluster.CallAsync(KubeOperation.Get("serviceaccounts", ns, "default"),
                (c, t) => c.CoreV1.ReadNamespacedServiceAccountAsync("default", ns, cancellationToken: t), ct);
            account.ImagePullSecrets = [.. account.ImagePullSecrets ?? [], new V1LocalObjectReference { Name = "second" }];
            return await cluster.CallAsync(KubeOperation.Update("serviceaccounts", ns, "default"),
                (c, t) => c.CoreV1.ReplaceNamespacedServiceAccountAsync(account, "default", ns, cancellationToken: t), ct);
        }, CancellationToken.None);
        Assert.Equal(3, attempts);
        Assert.Equal(["first", "second"], merged.ImagePullSecrets.Select(s => s.Name));
    }

    [Fact]
    public async Task An_unreachable_server_names_the_server_and_context()
    {
        using var cluster = await ConnectAsync();
        lab.Kube.Unreachable = true;
        try
        {
            var e = await Assert.ThrowsAsync<KubeException>(() => cluster.CallAsync(KubeOperation.List("namespaces"),
                (c, ct) => c.CoreV1.ListNamespaceAsync(cancellationToken: ct), CancellationToken.None));
            Assert.Equal(KubeErrorIds.Unreachable, e.ErrorId);
            Assert.Equal(FailureKind.ConnectionFailed, e.Kind);
            Assert.Contains($"Cannot reach the Kubernetes API server at {lab.Kube.Server}", e.Message);
            Assert.Contains("context \"lab-admin\"", e.Message);
            AssertNoSecrets(e);
        }
        finally
        {
            lab.Kube.Unreachable = false;
        }
    }

    [Fact]
    public async Task An_untrusted_server_certificate_is_a_tls_failure()
    {
        // a kubeconfig whose CA is not the emulator's: what a stale or wrong certificate-authority-data does
        using var other = new LabCertificateAuthority("not the lab CA");
        var yaml = File.ReadAllText(lab.Kubeconfig);
        var ours = Convert.ToBase64String(Encoding.ASCII.GetBytes(lab.Kube.CertificateAuthority.Pem));
        var wrong = Convert.ToBase64String(Encoding.ASCII.GetBytes(other.Pem));
        var path = Path.Combine(lab.Directory, "wrong-ca.kubeconfig");
        await File.WriteAllTextAsync(path, yaml.Replace(ours, wrong, StringComparison.Ordinal));
        using var cluster = await KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = path, Context = KubeLabFixture.AdminContext });
        var e = await Assert.ThrowsAsync<KubeException>(() => cluster.CallAsync(KubeOperation.List("namespaces"),
            (c, ct) => c.CoreV1.ListNamespaceAsync(cancellationToken: ct), CancellationToken.None));
        Assert.Equal(KubeErrorIds.TlsFailed, e.ErrorId);
        AssertNoSecrets(e);
    }
}
