using HarborOps.Engine.Errors;
using HarborOps.Engine.Kube;
using HarborOps.Models;
using k8s;
using k8s.Models;
using static HarborOps.Engine.MigrationJobs.MigrationJobContract;

namespace HarborOps.Engine.MigrationJobs;

/// <summary>Get-RegistryMigrationJob's engine: reads a Job and its pods and aggregates them (<see cref="MigrationJobStatusBuilder"/>),
/// and re-runs the shards of a finished Job that did not complete. The cmdlets call <see cref="StatusAsync"/> and
/// <see cref="PlanRerunAsync"/>, whose answers hold no KubernetesClient type: the cmdlet assembly loads in the default
/// context, where KubernetesClient is not.</summary>
public sealed class MigrationJobReader(KubeCluster cluster)
{
    /// <summary>The migration's state, aggregated over its indexes and their shard summaries.</summary>
    public async Task<RegistryMigrationJobStatus> StatusAsync(string ns, string name, CancellationToken cancellationToken) =>
        (await ReadAsync(ns, name, cancellationToken).ConfigureAwait(false)).Status;

    /// <summary>A new Job for the shards of the finished Job <paramref name="name"/> that did not complete, named so it does not collide.</summary>
    public async Task<MigrationJobRerun> PlanRerunAsync(string ns, string name, CancellationToken cancellationToken)
    {
        var (status, job) = await ReadAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var rerun = PlanRerun(status, job, await JobNamesAsync(ns, cancellationToken).ConfigureAwait(false));
        return new MigrationJobRerun(cluster, rerun, status.FailedShards);
    }

    internal async Task<(RegistryMigrationJobStatus Status, V1Job Job)> ReadAsync(string ns, string name, CancellationToken cancellationToken)
    {
        V1Job job;
        try
        {
            job = await cluster.CallAsync(KubeOperation.Get("jobs", ns, name, "batch"),
                (c, ct) => c.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeException notFound) when (notFound.ErrorId == KubeErrorIds.NotFound)
        {
            // New-RegistryMigrationJob -Schedule writes a CronJob, whose runs are Jobs named after it: its latest run.
            job = await LatestRunOfCronJobAsync(ns, name, notFound, cancellationToken).ConfigureAwait(false);
        }
        // the controller-uid selects this Job's pods only, not those of an earlier Job of the same name
        var selector = job.Metadata.Uid is { Length: > 0 } uid ? $"{ControllerUidLabel}={uid}" : $"{JobNameLabel}={name}";
        var pods = new List<V1Pod>();
        string? continueToken = null;
        do
        {
            var page = await cluster.CallAsync(KubeOperation.List("pods", ns),
                (c, ct) => c.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, limit: 500, continueParameter: continueToken, cancellationToken: ct),
                cancellationToken).ConfigureAwait(false);
            pods.AddRange(page.Items);
            continueToken = page.Metadata?.ContinueProperty;
            if (pods.Count > 100_000) break; // a runaway list is not a Job's
        }
        while (!string.IsNullOrEmpty(continueToken));
        return (MigrationJobStatusBuilder.Build(job, pods), job);
    }

    /// <summary>Creates a Job running the shards of <paramref name="job"/> that did not complete (see <see cref="MigrationJobApplier.RerunOf"/>).</summary>
    internal static V1Job PlanRerun(RegistryMigrationJobStatus status, V1Job job, IReadOnlyCollection<string> existingNames)
    {
        if (status.Phase is not ("Complete" or "Failed"))
            throw new MigrationJobException(MigrationJobErrorIds.NothingToRerun, FailureKind.Conflict,
                $"Job {status.Namespace}/{status.Name} is still {status.Phase.ToLowerInvariant()}: its controller retries a failed index by itself "
                + "(backoffLimitPerIndex). Run -RerunFailed after the Job has finished.", $"{status.Namespace}/{status.Name}");
        var shards = status.Indexes.Where(i => i.State != MigrationIndexState.Succeeded).Select(i => i.Shard).Distinct().Order().ToList();
        var attempt = 1;
        string name;
        do name = MigrationJobApplier.RerunName(status.Name, attempt++, Math.Max(1, shards.Count));
        while (existingNames.Contains(name));
        return MigrationJobApplier.RerunOf(job, shards, name);
    }

    /// <summary>
    /// The most recent Job the CronJob <paramref name="name"/> started (its controller owns it, as it owns a Job made
    /// with kubectl create job --from=cronjob/...). Without such a CronJob, the Job's own not-found error stands.
    /// </summary>
    private async Task<V1Job> LatestRunOfCronJobAsync(string ns, string name, KubeException jobNotFound, CancellationToken cancellationToken)
    {
        V1CronJob cronJob;
        try
        {
            cronJob = await cluster.CallAsync(KubeOperation.Get("cronjobs", ns, name, "batch"),
                (c, ct) => c.BatchV1.ReadNamespacedCronJobAsync(name, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeException ex) when (ex.ErrorId is KubeErrorIds.NotFound or KubeErrorIds.PermissionDenied)
        {
            throw jobNotFound;
        }
        var jobs = await cluster.CallAsync(KubeOperation.List("jobs", ns, "batch"),
            (c, ct) => c.BatchV1.ListNamespacedJobAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        var uid = cronJob.Metadata.Uid;
        var latest = jobs.Items
            .Where(j => !string.IsNullOrEmpty(uid) && (j.Metadata.OwnerReferences ?? []).Any(o => o.Kind == "CronJob" && o.Uid == uid && o.Controller == true))
            .OrderByDescending(j => j.Metadata.CreationTimestamp ?? DateTime.MinValue)
            .ThenByDescending(j => j.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return latest ?? throw new MigrationJobException(MigrationJobErrorIds.NoRunYet, FailureKind.NotFound,
            $"CronJob {ns}/{name} has not started a run yet (schedule '{cronJob.Spec?.Schedule}'{(cronJob.Spec?.Suspend == true ? ", suspended" : "")}). "
            + $"Get-RegistryMigrationJob reports its latest run once one has started; to start one now: kubectl create job --from=cronjob/{name} {name}-manual -n {ns}",
            $"{ns}/{name}");
    }

    internal async Task<IReadOnlyCollection<string>> JobNamesAsync(string ns, CancellationToken cancellationToken)
    {
        var list = await cluster.CallAsync(KubeOperation.List("jobs", ns, "batch"),
            (c, ct) => c.BatchV1.ListNamespacedJobAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return list.Items.Select(j => j.Metadata.Name).ToHashSet(StringComparer.Ordinal);
    }
}

/// <summary>A planned re-run of failed shards: its name and shards, its output object, and its creation.</summary>
public sealed class MigrationJobRerun
{
    private readonly KubeCluster _cluster;
    private readonly V1Job _job;

    internal MigrationJobRerun(KubeCluster cluster, V1Job job, IReadOnlyList<int> failedShards)
    {
        _cluster = cluster;
        _job = job;
        FailedShards = failedShards;
    }

    public string Name => _job.Metadata.Name;
    public string Namespace => _job.Metadata.NamespaceProperty;
    /// <summary>The shards that failed (the re-run also runs any that never finished).</summary>
    public IReadOnlyList<int> FailedShards { get; }

    internal V1Job Job => _job;

    public RegistryMigrationJob Describe(bool applied) => MigrationJobOutput.Describe(_job, applied);

    public Task CreateAsync(CancellationToken cancellationToken) => new MigrationJobApplier(_cluster).CreateJobAsync(_job, cancellationToken);
}
