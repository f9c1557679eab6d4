using System.Collections;
using System.Management.Automation;
using HarborOps.Engine.MigrationJobs;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Writes, or creates in a cluster, the Kubernetes Indexed Job (or CronJob) that runs Copy-RegistryImage sharded over many pods.</summary>
/// <remarks>
/// <para>New-RegistryMigrationJob makes what a cluster needs to run a migration where the bandwidth is: an Indexed Job
/// with one completion per shard (completions = parallelism = -ShardCount), each pod copying the repositories of its
/// shard (Copy-RegistryImage -ShardCount/-ShardIndex, the index from JOB_COMPLETION_INDEX), and a ServiceAccount. With
/// -WorkloadIdentityClientId the ServiceAccount carries the azure.workload.identity/client-id annotation and the pods
/// the azure.workload.identity/use label, so Azure Container Registry is reached through DefaultAzureCredential with no
/// secret (the entrypoint runs Set-RegistryCredential -UseAzureIdentity for each source registry). Harbor's robot
/// credential comes from the Secret -HarborSecretName (keys username and password) as environment variables; its value
/// is never in the YAML.</para>
/// <para>A failed index is retried alone by the Job controller up to -BackoffLimitPerIndex times. The podFailurePolicy
/// does not retry what cannot succeed: the entrypoint exits 2 on bad input or configuration (FailJob: every index
/// would fail the same way) and 3 when a scheduled run's parity check finds a difference (FailIndex); exit 1 (some tags
/// failed, a registry unreachable) is retried; evicted pods (DisruptionTarget) are not counted. The copy's parameters
/// reach the pod as one JSON document in HARBOROPS_COPY_PARAMETERS, which the entrypoint reads as data and splats into
/// Copy-RegistryImage: no value is ever part of a command line, so quotes, $() or newlines stay text.</para>
/// <para>The pods run as user 10001 with a read-only root filesystem, HOME and TMPDIR on an emptyDir, all capabilities
/// dropped, and leave a compact JSON shard summary in /dev/termination-log (the last log lines when they die before
/// writing it), which Get-RegistryMigrationJob reads back. Pin -Image by digest so every pod and every retry runs the
/// same bits.</para>
/// <para>-Schedule makes a CronJob instead (concurrencyPolicy Forbid) for the weeks both registries live side by side:
/// each run copies what changed (the copy is incremental by digest: unchanged tags cost one request; -SinceWindow
/// limits it to tags created within the window before the run) and then runs Compare-RegistryParity -FailOnDifference
/// on its shard, so a run fails while the registries differ. Parity compares every platform, so -Schedule does not
/// take -Platform (an index the copy filtered has another digest: every run would fail).
/// Get-RegistryMigrationJob given the CronJob's name reports its latest run.</para>
/// <para>By default the objects are returned with their YAML (the Yaml property) and written to -Path; -Apply creates
/// them through the Kubernetes API (-Kubeconfig, -Context or -InCluster), asking for confirmation per object.
/// -RerunFailed takes a finished Job (from Get-RegistryMigrationJob) and makes a new Job running only the shards that
/// did not complete.</para>
/// </remarks>
/// <example>
/// <code>New-RegistryMigrationJob -Name acr-to-harbor -Namespace migration -Image harbor.example.com/tools/harborops@sha256:4b1c... -Source contoso.azurecr.io -Destination harbor.example.com/migrated -ShardCount 8 -WorkloadIdentityClientId 00000000-0000-0000-0000-000000000000 -HarborSecretName harbor-robot -Path ./migration.yaml</code>
/// <para>Writes the ServiceAccount and an 8-shard Indexed Job to migration.yaml, for review and kubectl apply -f.</para>
/// </example>
/// <example>
/// <code>New-RegistryMigrationJob -Name acr-sync -Namespace migration -Image $image -Source contoso.azurecr.io -Destination harbor.example.com/migrated -ShardCount 4 -Schedule '0 */6 * * *' -HarborSecretName harbor-robot -Apply</code>
/// <para>Creates a CronJob that keeps Harbor in step with ACR every six hours and fails a run while parity finds a difference.</para>
/// </example>
/// <example>
/// <code>Get-RegistryMigrationJob -Name acr-to-harbor -Namespace migration | New-RegistryMigrationJob -RerunFailed -Apply</code>
/// <para>Runs the shards of a finished Job that failed again, in a new Job named acr-to-harbor-rerun-1.</para>
/// </example>
/// <errors>
/// <error id="MigrationJobInvalid">A parameter Kubernetes or the copy would refuse (a name, the shard count, the schedule, a quantity, an oci: source); the message names it.</error>
/// <error id="MigrationJobWriteFailed">-Path could not be written.</error>
/// <error id="MigrationJobNothingFailed">-RerunFailed on a Job that is still running, or whose shards all completed.</error>
/// <error id="MigrationJobNotHarborOps">-RerunFailed on a Job HarborOps did not make (no harborops container).</error>
/// <error id="KubeResourceExists">A Job or CronJob of that name already exists; pick another -Name or delete the old one.</error>
/// <error id="KubeResourceNotFound">-RerunFailed: no such Job, or the namespace does not exist.</error>
/// <error id="KubeRequestInvalid">The API server refused an object; its message is included.</error>
/// <error id="KubePermissionDenied">The cluster credential lacks a verb on a resource (the message names both).</error>
/// <error id="KubeAuthenticationFailed">The API server rejected the cluster credential.</error>
/// <error id="KubeApiUnreachable">The API server could not be reached.</error>
/// <error id="KubeconfigNotFound">No kubeconfig and not running in a pod.</error>
/// <error id="KubeContextNotFound">The kubeconfig has no such context.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.New, "RegistryMigrationJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = JobSet, HelpUri = OnlineHelp.CmdletPages + "New-RegistryMigrationJob.md")]
[OutputType(typeof(RegistryMigrationJob))]
public sealed class NewRegistryMigrationJobCommand : KubeCommandBase
{
    private const string JobSet = "Job";
    private const string RerunSet = "Rerun";

    /// <summary>The Job's (or CronJob's) name: a DNS label, at most 52 characters for a CronJob. With -RerunFailed, the Job to re-run.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The namespace; by default "default" in YAML, the context's namespace with -Apply.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.KubeNamespaceCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Namespace { get; set; }

    /// <summary>The container image with pwsh and HarborOps (deploy/container/Dockerfile); pin it by digest (registry/repository@sha256:...).</summary>
    [Parameter(Mandatory = true, ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string Image { get; set; } = "";

    /// <summary>What each shard copies from, as Copy-RegistryImage -Source takes it (a registry, a prefix "registry/team/*", a repository).</summary>
    [Parameter(Mandatory = true, ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string[] Source { get; set; } = [];

    /// <summary>Where to, as Copy-RegistryImage -Destination takes it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>How many shards (pods): completions and parallelism of the Indexed Job. Default 4.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateRange(1, MigrationJobValidation.MaxShards)]
    public int ShardCount { get; set; } = 4;

    /// <summary>How often the controller retries one failed index alone before it counts as failed. Default 3.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateRange(0, 100)]
    public int BackoffLimitPerIndex { get; set; } = 3;

    /// <summary>The ServiceAccount the pods run as (created, or annotated when it exists). Default harborops-migration.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string ServiceAccountName { get; set; } = "harborops-migration";

    /// <summary>The client id of the Entra application or managed identity federated with the ServiceAccount (Azure workload identity).</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string? WorkloadIdentityClientId { get; set; }

    /// <summary>The Entra tenant of the workload identity, when it is not the cluster's default.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string? WorkloadIdentityTenantId { get; set; }

    /// <summary>The Secret with Harbor's robot credential (keys username and password), e.g. from New-HarborRobot.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string? HarborSecretName { get; set; }

    /// <summary>CPU request per pod (default 500m).</summary>
    [Parameter(ParameterSetName = JobSet)]
    public string CpuRequest { get; set; } = "500m";

    /// <summary>Memory request per pod (default 512Mi).</summary>
    [Parameter(ParameterSetName = JobSet)]
    public string MemoryRequest { get; set; } = "512Mi";

    /// <summary>CPU limit per pod (default 2).</summary>
    [Parameter(ParameterSetName = JobSet)]
    public string CpuLimit { get; set; } = "2";

    /// <summary>Memory limit per pod (default 2Gi).</summary>
    [Parameter(ParameterSetName = JobSet)]
    public string MemoryLimit { get; set; } = "2Gi";

    /// <summary>A cron schedule ("0 */6 * * *"): make a CronJob that copies and then checks parity on every run (not with -Platform).</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string? Schedule { get; set; }

    /// <summary>With -Schedule: copy only tags created within this window before each run (Copy-RegistryImage -Since). Without it each run is a full incremental copy.</summary>
    [Parameter(ParameterSetName = JobSet)]
    public TimeSpan? SinceWindow { get; set; }

    /// <summary>Copy-RegistryImage -DestinationPrefix for every shard.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string? DestinationPrefix { get; set; }

    /// <summary>Copy-RegistryImage -StripPrefixSegments.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateRange(0, 32)]
    public int StripPrefixSegments { get; set; }

    /// <summary>Copy-RegistryImage -Rename.</summary>
    [Parameter(ParameterSetName = JobSet)]
    public Hashtable? Rename { get; set; }

    /// <summary>Copy-RegistryImage -Include (tag wildcards).</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Copy-RegistryImage -Exclude (tag wildcards).</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>Copy-RegistryImage -IncludeRegex.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string? IncludeRegex { get; set; }

    /// <summary>Copy-RegistryImage -ExcludeRegex.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string? ExcludeRegex { get; set; }

    /// <summary>Copy-RegistryImage -Platform.</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Platform { get; set; }

    /// <summary>Copy-RegistryImage -NoClobber.</summary>
    [Parameter(ParameterSetName = JobSet)]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Copy-RegistryImage -ExcludeReferrers.</summary>
    [Parameter(ParameterSetName = JobSet)]
    public SwitchParameter ExcludeReferrers { get; set; }

    /// <summary>Copy-RegistryImage -CreateProject (the robot needs the right to create projects).</summary>
    [Parameter(ParameterSetName = JobSet)]
    public SwitchParameter CreateProject { get; set; }

    /// <summary>Copy-RegistryImage -ThrottleLimit per pod (default 8).</summary>
    [Parameter(ParameterSetName = JobSet)]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 8;

    /// <summary>Make a new Job that runs only the shards of the finished Job -Name that did not complete.</summary>
    [Parameter(Mandatory = true, ParameterSetName = RerunSet)]
    public SwitchParameter RerunFailed { get; set; }

    /// <summary>Also write the YAML (all objects, multi-document) to this file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Create the objects in the cluster through the Kubernetes API.</summary>
    [Parameter]
    public SwitchParameter Apply { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var cluster = Apply || RerunFailed ? await ConnectClusterAsync().ConfigureAwait(false) : null;
        var ns = Namespace ?? cluster?.DefaultNamespace ?? "default";
        RegistryMigrationJob result;
        if (RerunFailed)
        {
            var rerun = await new MigrationJobReader(cluster!).PlanRerunAsync(ns, Name, cancellationToken).ConfigureAwait(false);
            var applied = Apply && await ShouldProcessAsync($"Job {ns}/{rerun.Name}", $"Create (re-runs shards {string.Join(',', rerun.FailedShards)} of {Name})").ConfigureAwait(false);
            if (applied) await rerun.CreateAsync(cancellationToken).ConfigureAwait(false);
            result = rerun.Describe(applied);
        }
        else
        {
            var manifest = MigrationJobManifest.Build(Request(ns));
            var applied = false;
            if (Apply)
            {
                var kind = Schedule is null ? "Job" : "CronJob";
                if (await ShouldProcessAsync($"ServiceAccount {ns}/{ServiceAccountName} and {kind} {ns}/{Name}", $"Create ({ShardCount} shards)").ConfigureAwait(false))
                {
                    await new MigrationJobApplier(cluster!).ApplyAsync(manifest, cancellationToken).ConfigureAwait(false);
                    applied = true;
                }
            }
            result = MigrationJobOutput.Describe(manifest, applied);
            if (!Image.Contains("@sha256:", StringComparison.Ordinal))
                WriteWarning($"-Image {Image} is not pinned by digest: pods and retries may run different images. Use registry/repository@sha256:<digest>.");
        }
        if (Path is not null)
        {
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            if (await ShouldProcessAsync(path, "Write the migration Job's YAML").ConfigureAwait(false))
                await MigrationJobManifest.WriteYamlAsync(path, result.Yaml, cancellationToken).ConfigureAwait(false);
        }
        WriteObject(result);
    }

    private MigrationJobRequest Request(string ns) => new()
    {
        Name = Name, Namespace = ns, Image = Image, ShardCount = ShardCount, BackoffLimitPerIndex = BackoffLimitPerIndex,
        ServiceAccountName = ServiceAccountName, WorkloadIdentityClientId = WorkloadIdentityClientId, WorkloadIdentityTenantId = WorkloadIdentityTenantId,
        HarborSecretName = HarborSecretName, CpuRequest = CpuRequest, MemoryRequest = MemoryRequest, CpuLimit = CpuLimit, MemoryLimit = MemoryLimit,
        Schedule = Schedule, SinceWindow = SinceWindow,
        Copy = new MigrationCopyParameters
        {
            Source = Source, Destination = Destination, DestinationPrefix = DestinationPrefix, StripPrefixSegments = StripPrefixSegments,
            Rename = Rename is null ? null : ToRepositoryRenames(Rename), Include = Include, Exclude = Exclude,
            IncludeRegex = IncludeRegex, ExcludeRegex = ExcludeRegex, Platform = Platform, NoClobber = NoClobber, ExcludeReferrers = ExcludeReferrers,
            CreateProject = CreateProject, ThrottleLimit = ThrottleLimit,
        },
    };
}
