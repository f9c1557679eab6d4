using HarborOps.Engine.Kube;
using Xunit;

namespace HarborOps.Engine.Tests.Kube;

/// <summary>Namespaces by name, wildcard and label selector, as every Kubernetes cmdlet selects them.</summary>
[Collection(KubeLabCollection.Name)]
public sealed class KubeNamespaceScopeTests(KubeLabFixture lab) : IDisposable
{
    public void Dispose() => lab.AssertAnswersMatchContract();

    [Fact]
    public async Task Resolves_names_wildcards_and_label_selectors()
    {
        var prefix = lab.Unique("scope");
        lab.Kube.CreateNamespace($"{prefix}-a", new Dictionary<string, string> { ["team"] = "a", ["harbor"] = "yes" });
        lab.Kube.CreateNamespace($"{prefix}-b", new Dictionary<string, string> { ["team"] = "b", ["harbor"] = "yes" });
        lab.Kube.CreateNamespace($"{prefix}-c", new Dictionary<string, string> { ["team"] = "c" });
        using var cluster = await KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = lab.Kubeconfig });
        async Task<IReadOnlyList<string>> Resolve(string[] names, string? selector) =>
            (await KubeNamespaceScope.ResolveAsync(cluster, names, selector, CancellationToken.None)).Names;

        Assert.True((await KubeNamespaceScope.ResolveAsync(cluster, [], null, CancellationToken.None)).All);
        Assert.Contains($"{prefix}-c", (await KubeNamespaceScope.ResolveAsync(cluster, [], null, CancellationToken.None, listAll: true)).Names);
        Assert.Equal(["not-listed"], await Resolve(["not-listed"], null)); // a name is taken as given
        Assert.Equal([$"{prefix}-a", $"{prefix}-b", $"{prefix}-c"], await Resolve([$"{prefix}-*"], null));
        Assert.Equal([$"{prefix}-a", $"{prefix}-b"], (await Resolve([], "harbor=yes")).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));
        Assert.Equal([$"{prefix}-b"], await Resolve([$"{prefix}-*"], "harbor=yes,team notin (a)"));
        Assert.Equal([$"{prefix}-c"], await Resolve([$"{prefix}-*"], "!harbor"));
    }
}
