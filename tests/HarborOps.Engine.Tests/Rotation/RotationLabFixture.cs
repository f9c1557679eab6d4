using System.Net;
using System.Text.Json.Nodes;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Kube;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Harbor;
using HarborOps.Lab.Kube;
using Xunit;

namespace HarborOps.Engine.Tests.Rotation;

/// <summary>The Harbor emulator (with its real registry) and the Kubernetes emulator side by side, as the rotation sees
/// them; one image pushed into every project a test makes, so pulls have something to pull.</summary>
public class RotationLabFixture : IAsyncLifetime
{
    public const string AdminContext = "lab-admin";
    private int _names;

    public HarborEmulator Harbor { get; private set; } = null!;
    public KubeEmulator Kube { get; private set; } = null!;
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("harborops-rotation-").FullName;
    public string Kubeconfig { get; private set; } = null!;

    public HarborClientOptions FastOptions { get; } = new()
    {
        MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(100), RequestTimeout = TimeSpan.FromSeconds(20),
    };

    public async Task InitializeAsync()
    {
        var harbor = HarborEmulator.StartAsync(new HarborEmulatorOptions { RobotNamePrefix = RobotNamePrefix });
        var kube = KubeEmulator.StartAsync(new KubeEmulatorOptions { RolloutStepInterval = TimeSpan.FromMilliseconds(30) });
        try
        {
            await Task.WhenAll(harbor, kube);
        }
        catch
        {
            if (harbor.IsCompletedSuccessfully) await harbor.Result.DisposeAsync();
            if (kube.IsCompletedSuccessfully) await kube.Result.DisposeAsync();
            throw;
        }
        (Harbor, Kube) = (harbor.Result, kube.Result);
        Kubeconfig = KubeConfigFile.Write(Path.Combine(Directory, "kubeconfig"), Kube, AdminContext,
            new KubeConfigContext(AdminContext, KubeEmulator.AdminUser, Kube.AdminToken));
    }

    public async Task DisposeAsync()
    {
        if (Kube is not null) await Kube.DisposeAsync();
        if (Harbor is not null) await Harbor.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>
    /// Fails when the Kubernetes emulator, since the last check, answered outside the Kubernetes OpenAPI
    /// (tests/contracts/kubernetes) or failed itself; test classes call it after each test so the failure lands on the
    /// test that caused it.
    /// </summary>
    public void AssertAnswersMatchContract()
    {
        var failures = Kube.Failures;
        var fresh = failures.Skip(_kubeFailuresSeen).ToList();
        _kubeFailuresSeen = failures.Count;
        Assert.True(fresh.Count == 0, "The Kubernetes emulator broke its contract:\n" + string.Join("\n", fresh));
    }

    private int _kubeFailuresSeen;

    /// <summary>Harbor's robot_name_prefix setting in this lab.</summary>
    public virtual string RobotNamePrefix => HarborEmulator.DefaultRobotNamePrefix;

    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";

    public HarborClient Admin() => new(new HarborConnection(Harbor.BaseUri, new NetworkCredential(Harbor.AdminUser, Harbor.AdminPassword)), null, FastOptions);

    public Task<KubeCluster> ClusterAsync(string context = AdminContext) =>
        KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = Kubeconfig, Context = context });

    /// <summary>A registry engine of its own (fresh token cache), reading no docker config.</summary>
    public RegistryEngine NewRegistryEngine() => new(new RegistryEngineOptions
    {
        DockerConfigPath = Path.Combine(Directory, "no-docker-config", "config.json"), MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20),
    });

    /// <summary>A Harbor project with one image in it.</summary>
    public async Task<string> NewProjectAsync(string prefix = "proj")
    {
        var name = Unique(prefix);
        await Admin().CreateProjectAsync(name, new HarborProjectSettings(), CancellationToken.None);
        await LabContent.PushImageAsync(Harbor.AdminEndpoint, $"{name}/app", "1.0", null, CancellationToken.None);
        return name;
    }

    /// <summary>A namespace (with its default ServiceAccount, as the controller makes it).</summary>
    public string NewNamespace(string prefix = "ns", IReadOnlyDictionary<string, string>? labels = null)
    {
        var name = Unique(prefix);
        Kube.CreateNamespace(name, labels);
        return name;
    }

    public void CreateDeployment(string ns, string name, string image, string? pullSecret = null, IReadOnlyDictionary<string, string>? templateAnnotations = null,
        int replicas = 2, string? serviceAccount = null) =>
        CreateWorkload(KubeResourceType.Deployments, ns, name, image, pullSecret, templateAnnotations, replicas, serviceAccount);

    /// <summary>A Deployment (progress deadline 2 s), StatefulSet or DaemonSet whose pods run <paramref name="image"/>.</summary>
    public void CreateWorkload(KubeResourceType type, string ns, string name, string image, string? pullSecret = null,
        IReadOnlyDictionary<string, string>? templateAnnotations = null, int replicas = 2, string? serviceAccount = null)
    {
        var podSpec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = image }) };
        if (serviceAccount is not null) podSpec["serviceAccountName"] = serviceAccount;
        if (pullSecret is not null) podSpec["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = pullSecret });
        var metadata = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } };
        if (templateAnnotations is not null) metadata["annotations"] = new JsonObject(templateAnnotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value)));
        var spec = new JsonObject
        {
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject { ["metadata"] = metadata, ["spec"] = podSpec },
        };
        if (type != KubeResourceType.DaemonSets) spec["replicas"] = replicas;
        if (type == KubeResourceType.Deployments) spec["progressDeadlineSeconds"] = 2;
        if (type == KubeResourceType.StatefulSets) spec["serviceName"] = name;
        Kube.Create(type, new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = type.Kind,
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = spec,
        }, ns);
    }
}

[CollectionDefinition(Name)]
public sealed class RotationLabCollection : ICollectionFixture<RotationLabFixture>
{
    public const string Name = "rotation lab";
}

/// <summary>The rotation lab with a Harbor that names robots svc-project+name, as installations do where '$' breaks shells.</summary>
public sealed class SvcPrefixRotationLabFixture : RotationLabFixture
{
    public override string RobotNamePrefix => "svc-";
}

[CollectionDefinition(Name)]
public sealed class SvcPrefixRotationLabCollection : ICollectionFixture<SvcPrefixRotationLabFixture>
{
    public const string Name = "rotation lab, robot prefix svc-";
}
