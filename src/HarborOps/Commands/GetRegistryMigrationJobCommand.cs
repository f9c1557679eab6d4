using System.Management.Automation;
using HarborOps.Engine.MigrationJobs;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Reports a running or finished migration Job: each shard's state and the summary it left, aggregated with progress.</summary>
/// <remarks>
/// <para>Get-RegistryMigrationJob reads the Job that New-RegistryMigrationJob made and its pods. Each index's state
/// comes from the Job's status (completedIndexes and failedIndexes, as "1,3-5") and from its latest pod, found by the
/// batch.kubernetes.io/job-completion-index label the Job controller sets: Pending, Running, Retrying (a pod failed and
/// the controller is running the index again, up to backoffLimitPerIndex), Succeeded or Failed. The summary each shard
/// left in its pod's termination message (tags copied, skipped and failed, bytes moved, its failures) is added up into
/// the migration's totals; a message that is not a summary (garbage, cut off, or the last log lines of a pod that died
/// before writing one) is reported as unreadable with what it says, never a crash.</para>
/// <para>Given a CronJob's name (New-RegistryMigrationJob -Schedule), it reports the CronJob's latest run: the Job
/// its controller (or kubectl create job --from=cronjob/NAME) started most recently.</para>
/// <para>The output has the totals and progress (PercentDone, Succeeded, Failed, Running of Total), FailedShards, and
/// per index the details in Indexes (pipe them to Format-Table). While the Job runs, its controller
/// retries a failed index by itself; once it has finished with failed shards, pipe the output to
/// New-RegistryMigrationJob -RerunFailed to run just those shards again in a new Job.</para>
/// </remarks>
/// <example>
/// <code>Get-RegistryMigrationJob -Name acr-to-harbor -Namespace migration</code>
/// <para>Shows the migration's phase, progress, tags copied and bytes moved.</para>
/// </example>
/// <example>
/// <code>(Get-RegistryMigrationJob acr-to-harbor -Namespace migration).Indexes | Where-Object State -eq Failed | Format-List Index, Shard, ExitMeaning, Error</code>
/// <para>Lists the failed shards with their errors.</para>
/// </example>
/// <example>
/// <code>New-RegistryMigrationJob @parameters -Apply | Get-RegistryMigrationJob</code>
/// <para>Creates the Job and reads its state straight away.</para>
/// </example>
/// <example>
/// <code>Get-RegistryMigrationJob acr-sync -Namespace migration</code>
/// <para>acr-sync is the CronJob of the dual-registry period (New-RegistryMigrationJob -Schedule): reports its latest run,
/// whose Name is the Job the CronJob started and whose CronJob is acr-sync.</para>
/// </example>
/// <errors>
/// <error id="KubeResourceNotFound">No Job and no CronJob of that name in the namespace.</error>
/// <error id="MigrationJobNoRunYet">The name is a CronJob's that has not started a run yet (the message gives the kubectl command that starts one).</error>
/// <error id="KubePermissionDenied">The cluster credential may not get jobs or list pods in the namespace (the message names the rule).</error>
/// <error id="KubeAuthenticationFailed">The API server rejected the cluster credential.</error>
/// <error id="KubeApiUnreachable">The API server could not be reached.</error>
/// <error id="KubeconfigNotFound">No kubeconfig and not running in a pod.</error>
/// <error id="KubeContextNotFound">The kubeconfig has no such context.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "RegistryMigrationJob", HelpUri = OnlineHelp.CmdletPages + "Get-RegistryMigrationJob.md")]
[OutputType(typeof(RegistryMigrationJobStatus))]
public sealed class GetRegistryMigrationJobCommand : KubeCommandBase
{
    /// <summary>The Job's name, or a CronJob's: then its latest run (a Job the CronJob started) is reported.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The Job's namespace; by default the context's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.KubeNamespaceCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Namespace { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var cluster = await ConnectClusterAsync().ConfigureAwait(false);
        var ns = Namespace ?? cluster.DefaultNamespace;
        CurrentTarget = $"{ns}/{Name}";
        var status = await new MigrationJobReader(cluster).StatusAsync(ns, Name, cancellationToken).ConfigureAwait(false);
        foreach (var unreadable in status.Indexes.Where(i => !i.HasSummary && i.ExitCode is not null))
            WriteVerbose($"Index {unreadable.Index} ({unreadable.Pod}) left no readable shard summary: {unreadable.Error}");
        WriteObject(status);
    }
}
