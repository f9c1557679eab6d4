using HarborOps.Lab.Kube;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>One Kubernetes emulator for the Kubernetes test classes, with a kubeconfig whose "lab-admin" context may do
/// everything and whose "lab-reader" context may only read. Tests create their own namespaces (<see cref="Unique"/>).</summary>
public sealed class KubeLabFixture : IAsyncLifetime
{
    public const string AdminContext = "lab-admin";
    public const string ReaderContext = "lab-reader";
    private int _names;
    private int _failuresSeen;

    public KubeEmulator Kube { get; private set; } = null!;
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("harborops-kube-").FullName;
    public string Kubeconfig { get; private set; } = null!;
    public KubeTokenGrant Reader { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Kube = await KubeEmulator.StartAsync(new KubeEmulatorOptions { RolloutStepInterval = TimeSpan.FromMilliseconds(40) });
        Reader = Kube.AddToken("lab-reader", KubeAccessRule.ReadAll);
        Kubeconfig = KubeConfigFile.Write(Path.Combine(Directory, "kubeconfig"), Kube, AdminContext,
            new KubeConfigContext(AdminContext, KubeEmulator.AdminUser, Kube.AdminToken),
            new KubeConfigContext(ReaderContext, Reader.User, Reader.Token));
    }

    public async Task DisposeAsync()
    {
        if (Kube is not null) await Kube.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>A name no other test uses (a valid namespace name).</summary>
    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";

    public Task<LabKubectl.Result> KubectlAsync(params string[] arguments) => LabKubectl.RunAsync(Kubeconfig, AdminContext, arguments);

    public Task<LabKubectl.Result> KubectlAsAsync(string context, params string[] arguments) => LabKubectl.RunAsync(Kubeconfig, context, arguments);

    /// <summary>kubectl that must succeed; its stdout.</summary>
    public async Task<string> KubectlOkAsync(params string[] arguments)
    {
        var result = await KubectlAsync(arguments);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}");
        AssertAnswersMatchContract();
        return result.StandardOutput;
    }

    /// <summary>
    /// Fails when the emulator, since the last check, answered outside the Kubernetes OpenAPI (tests/contracts/kubernetes)
    /// or failed itself. Tests in the collection run one after another, so each test class checks after every test
    /// (Dispose) and the failure lands on the test that caused it.
    /// </summary>
    public void AssertAnswersMatchContract()
    {
        var failures = Kube.Failures;
        var fresh = failures.Skip(_failuresSeen).ToList();
        _failuresSeen = failures.Count;
        Assert.True(fresh.Count == 0, "The Kubernetes emulator broke its contract:\n" + string.Join("\n", fresh));
    }
}

[CollectionDefinition(Name)]
public sealed class KubeLabCollection : ICollectionFixture<KubeLabFixture>
{
    public const string Name = "kube lab";
}
