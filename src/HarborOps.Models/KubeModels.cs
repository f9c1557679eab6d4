namespace HarborOps.Models;

/// <summary>
/// One image a cluster uses, as Get-WorkloadImage emits it: per namespace, owning workload (pods resolved through
/// their ReplicaSet or Job to the Deployment or CronJob), container, and where the image comes from.
/// </summary>
public sealed class WorkloadImageInfo
{
    public string Namespace { get; init; } = "";
    /// <summary>Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet (one no Deployment owns), Pod (a bare pod), or another owner's kind.</summary>
    public string WorkloadKind { get; init; } = "";
    public string Workload { get; init; } = "";
    public string Container { get; init; } = "";
    /// <summary>Container, Init or Ephemeral.</summary>
    public string ContainerKind { get; init; } = "";
    /// <summary>The image exactly as the pod spec names it.</summary>
    public string Image { get; init; } = "";
    /// <summary>
    /// The image as a full reference (registry/repository:tag, with @digest when the spec pins one), empty when the image
    /// is not a valid reference. Copy-RegistryImage (-Source) and Test-RegistryImage (-Reference) bind it by property name,
    /// as they bind the Reference of every other output.
    /// </summary>
    public string Reference { get; init; } = "";
    /// <summary>The image's registry, normalised (docker.io for Docker Hub and short names); empty when the image is not a valid reference.</summary>
    public string Registry { get; init; } = "";
    /// <summary>The repository in the registry (library/nginx for "nginx").</summary>
    public string Repository { get; init; } = "";
    public string? Tag { get; init; }
    /// <summary>The manifest digest: pinned in the reference, or what the running pods resolved (when they all agree).</summary>
    public string? Digest { get; init; }
    /// <summary>Every digest the pods report, more than one during a rollout that changed what the tag points to.</summary>
    public string[] Digests { get; init; } = [];
    /// <summary>The imagePullSecrets the pods use (their own, or their ServiceAccount's, as admission adds them).</summary>
    public string[] PullSecrets { get; init; } = [];
    public string ServiceAccount { get; init; } = "";
    /// <summary>Pods running this container now; 0 for a workload with none (a CronJob between runs, a Deployment scaled to zero).</summary>
    public int PodCount { get; init; }
    /// <summary>The pods' names (at most the first 20).</summary>
    public string[] Pods { get; init; } = [];

    public override string ToString() => $"{Namespace}/{WorkloadKind}/{Workload} {Container}: {Image}";
}
