using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;
using k8s;

namespace HarborOps.Engine.Rotation;

/// <summary>
/// The pull-secret services over one cluster connection. The cmdlets hold this engine type only: KubernetesClient's
/// types never reach the cmdlet assembly, which must not reference third-party assemblies.
/// </summary>
public sealed class PullSecretCluster : IDisposable
{
    private readonly IKubernetes kubernetes;
    private readonly bool owned;

    public PullSecretCluster(IKubernetes kubernetes, bool ownsClient = false)
    {
        this.kubernetes = kubernetes ?? throw new ArgumentNullException(nameof(kubernetes));
        owned = ownsClient;
    }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// A kubeconfig file (its current context, or <paramref name="context"/>), or the in-cluster ServiceAccount when no
    /// kubeconfig is given and the process runs in a pod.
    /// </summary>
    public static PullSecretCluster Connect(string? kubeconfig, string? context)
    {
        KubernetesClientConfiguration config;
        try
        {
            config = string.IsNullOrEmpty(kubeconfig) && context is null && KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(string.IsNullOrEmpty(kubeconfig) ? null : kubeconfig, context);
        }
        catch (Exception ex) when (ex is k8s.Exceptions.KubeConfigException or FileNotFoundException or InvalidOperationException)
        {
            throw new PullSecretException("KubeConfigInvalid", Errors.FailureKind.InvalidArgument,
                $"No usable cluster configuration ({(kubeconfig is null ? "default kubeconfig" : $"kubeconfig '{kubeconfig}'")}{(context is null ? "" : $", context '{context}'")}): {ex.Message}. Pass -Kubeconfig and -Context, or run inside a pod with a ServiceAccount.",
                context ?? kubeconfig, ex);
        }
        return new PullSecretCluster(new Kubernetes(config), ownsClient: true);
    }

    public PullSecretSync Sync() => new(kubernetes, Clock);

    public WorkloadRestarter Restarter() => new(kubernetes, Clock);

    public PullSecretRotator Rotator(HarborClient harbor, PullVerifier verifier, Action<string>? log) =>
        new(kubernetes, harbor, verifier, Clock) { Log = log };

    public PullSecretStatusReader StatusReader(PullVerifier? verifier) => new(kubernetes, verifier, Clock);

    /// <summary>A verifier with its own registry engine, so each check asks Harbor's token service afresh.</summary>
    public static PullVerifier Verifier(HarborClient harbor, RegistryEngine registry) => new(registry, harbor);

    public void Dispose()
    {
        if (owned) kubernetes.Dispose();
    }
}
