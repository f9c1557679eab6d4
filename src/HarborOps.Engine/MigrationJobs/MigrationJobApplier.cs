using HarborOps.Engine.Errors;
using HarborOps.Engine.Kube;
using k8s;
using k8s.Models;
using static HarborOps.Engine.MigrationJobs.MigrationJobContract;

namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// Creates a migration's objects through the Kubernetes API: the ServiceAccount (an existing one keeps its other
/// settings and gets the workload identity annotations merged in), then the Job or CronJob. A Job of that name that
/// already exists is an error (KubeResourceExists): Job templates are immutable, and replacing a running migration
/// by accident would lose its progress.
/// </summary>
public sealed class MigrationJobApplier(KubeCluster cluster)
{
    public async Task ApplyAsync(MigrationJobManifest manifest, CancellationToken cancellationToken)
    {
        await EnsureServiceAccountAsync(manifest.ServiceAccount, cancellationToken).ConfigureAwait(false);
        if (manifest.Job is { } job) await CreateJobAsync(job, cancellationToken).ConfigureAwait(false);
        else
        {
            var cronJob = manifest.CronJob!;
            var ns = cronJob.Metadata.NamespaceProperty;
            await cluster.CallAsync(KubeOperation.Create("cronjobs", ns, cronJob.Metadata.Name, "batch"),
                (c, ct) => c.BatchV1.CreateNamespacedCronJobAsync(cronJob, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
    }

    internal Task<V1Job> CreateJobAsync(V1Job job, CancellationToken cancellationToken)
    {
        var ns = job.Metadata.NamespaceProperty;
        return cluster.CallAsync(KubeOperation.Create("jobs", ns, job.Metadata.Name, "batch"),
            (c, ct) => c.BatchV1.CreateNamespacedJobAsync(job, ns, cancellationToken: ct), cancellationToken);
    }

    private async Task EnsureServiceAccountAsync(V1ServiceAccount account, CancellationToken cancellationToken)
    {
        var ns = account.Metadata.NamespaceProperty;
        var name = account.Metadata.Name;
        try
        {
            await cluster.CallAsync(KubeOperation.Create("serviceaccounts", ns, name),
                (c, ct) => c.CoreV1.CreateNamespacedServiceAccountAsync(account, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeException e) when (e.IsAlreadyExists)
        {
            if (account.Metadata.Annotations is not { Count: > 0 } annotations) return;
            // a merge patch of the annotations alone: the account's secrets, imagePullSecrets and labels stay as they are
            var patch = new V1Patch(KubernetesJson.Serialize(new { metadata = new { annotations } }), V1Patch.PatchType.MergePatch);
            await cluster.CallAsync(KubeOperation.Patch("serviceaccounts", ns, name),
                (c, ct) => c.CoreV1.PatchNamespacedServiceAccountAsync(patch, name, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A new Job that runs only the shards of <paramref name="job"/> that did not complete, with the original's pod
    /// template: completion index i of the new Job copies the i-th of those shards (HARBOROPS_SHARDS). Kubernetes has
    /// no way to re-open indexes of a finished Job, and while the Job runs its controller already retries a failed index
    /// alone (backoffLimitPerIndex), so a re-run is only for a Job that has finished.
    /// </summary>
    internal static V1Job RerunOf(V1Job job, IReadOnlyList<int> shards, string name)
    {
        if (shards.Count == 0)
            throw new MigrationJobException(MigrationJobErrorIds.NothingToRerun, FailureKind.InvalidArgument,
                $"Job {job.Metadata.NamespaceProperty}/{job.Metadata.Name} has no failed shard to run again.", $"{job.Metadata.NamespaceProperty}/{job.Metadata.Name}");
        var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(job.Spec.Template));
        // the controller's labels name the old Job; the API server sets the new Job's own
        foreach (var label in new[] { ControllerUidLabel, JobNameLabel, "controller-uid", "job-name" }) template.Metadata?.Labels?.Remove(label);
        var container = template.Spec.Containers.FirstOrDefault(c => c.Name == ContainerName)
            ?? throw new MigrationJobException(MigrationJobErrorIds.NotAMigrationJob, FailureKind.InvalidData,
                $"Job {job.Metadata.NamespaceProperty}/{job.Metadata.Name} has no \"{ContainerName}\" container; it is not a migration Job HarborOps made.", job.Metadata.Name);
        container.Env ??= [];
        container.Env = container.Env.Where(e => e.Name != ShardsVariable).Append(MigrationJobManifest.Env(ShardsVariable, string.Join(',', shards))).ToList();
        var shardCount = job.Metadata.Annotations?.TryGetValue(ShardCountAnnotation, out var count) == true ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : shards.Max() + 1;
        var annotations = MigrationJobManifest.ShardAnnotations(shardCount, shards);
        annotations[RerunOfAnnotation] = job.Metadata.Name;
        return new V1Job
        {
            ApiVersion = "batch/v1", Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = name, NamespaceProperty = job.Metadata.NamespaceProperty,
                Labels = job.Metadata.Labels?.Where(l => l.Key != ControllerUidLabel && l.Key != "controller-uid").ToDictionary(l => l.Key, l => l.Value),
                Annotations = annotations,
            },
            Spec = new V1JobSpec
            {
                CompletionMode = "Indexed", Completions = shards.Count, Parallelism = shards.Count,
                BackoffLimitPerIndex = job.Spec.BackoffLimitPerIndex ?? 3,
                PodFailurePolicy = job.Spec.PodFailurePolicy ?? MigrationJobManifest.FailurePolicy(),
                Template = template,
            },
        };
    }

    /// <summary>"name-rerun-N", cut so the Job's pod hostnames stay within 63 characters.</summary>
    public static string RerunName(string name, int attempt, int shards)
    {
        var suffix = $"-rerun-{attempt}";
        var max = 63 - 1 - (shards - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length - suffix.Length;
        return (name.Length > max ? name[..max].TrimEnd('-') : name) + suffix;
    }
}
