namespace HarborOps.Engine.Kube;

/// <summary>
/// Where the cluster is: a kubeconfig (the file given, else $KUBECONFIG, else ~/.kube/config) with a context (the
/// file's current one by default), or the in-cluster configuration of a pod's ServiceAccount (asked for, or used when
/// no kubeconfig exists and KUBERNETES_SERVICE_HOST is set, as in a CronJob or a runbook pod).
/// </summary>
public sealed record KubeConnectionRequest
{
    public string? KubeconfigPath { get; init; }
    public string? Context { get; init; }
    public bool InCluster { get; init; }
    /// <summary>Per-request timeout of the HTTP client (watches are bounded by their own timeout).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);
}
