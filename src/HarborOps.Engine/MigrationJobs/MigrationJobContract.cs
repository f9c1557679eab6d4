namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// The contract between the Job HarborOps writes and the container's entrypoint (deploy/container/entrypoint.ps1):
/// environment variable names, the container's name and command, the mount that makes a read-only root filesystem
/// workable, and the labels and annotations Get-RegistryMigrationJob reads back. Tests hold the entrypoint to it.
/// </summary>
public static class MigrationJobContract
{
    public const string ContainerName = "harborops";
    public const string EntrypointPath = "/opt/harborops/entrypoint.ps1";
    /// <summary>The pod's command: the script file, with no -Command text, so no value is ever parsed as code.</summary>
    public static readonly IReadOnlyList<string> Command = ["pwsh", "-NoLogo", "-NoProfile", "-NonInteractive", "-File", EntrypointPath];

    /// <summary>"copy" (a Job) or "sync" (a CronJob run: copy, then Compare-RegistryParity -FailOnDifference).</summary>
    public const string ModeVariable = "HARBOROPS_MODE";
    /// <summary>The Copy-RegistryImage parameters as one JSON object; the entrypoint accepts only known names.</summary>
    public const string CopyParametersVariable = "HARBOROPS_COPY_PARAMETERS";
    public const string ShardCountVariable = "HARBOROPS_SHARD_COUNT";
    /// <summary>A re-run's shards, comma-separated: the pod of completion index i copies the i-th of them.</summary>
    public const string ShardsVariable = "HARBOROPS_SHARDS";
    /// <summary>Registries (comma-separated hosts) to sign in to with Set-RegistryCredential -UseAzureIdentity.</summary>
    public const string AzureIdentityRegistriesVariable = "HARBOROPS_AZURE_IDENTITY_REGISTRIES";
    public const string SinceWindowVariable = "HARBOROPS_SINCE_WINDOW_SECONDS";
    public const string HarborUsernameVariable = "HARBOROPS_DESTINATION_USERNAME";
    public const string HarborPasswordVariable = "HARBOROPS_DESTINATION_PASSWORD";
    public const string SummaryPathVariable = "HARBOROPS_SHARD_SUMMARY_PATH";
    /// <summary>Set by the Job controller in every pod of an Indexed Job.</summary>
    public const string CompletionIndexVariable = "JOB_COMPLETION_INDEX";

    public const string WorkVolume = "work";
    public const string WorkMountPath = "/work";
    public const string TerminationMessagePath = "/dev/termination-log";
    /// <summary>The numeric user and group the image runs as (deploy/container/Dockerfile USER).</summary>
    public const long RunAsUser = 10001;

    public const string ShardCountAnnotation = "harborops.io/shard-count";
    public const string ShardsAnnotation = "harborops.io/shards";
    public const string RerunOfAnnotation = "harborops.io/rerun-of";
    public const string MigrationLabel = "harborops.io/migration";
    public const string WorkloadIdentityClientIdAnnotation = "azure.workload.identity/client-id";
    public const string WorkloadIdentityTenantIdAnnotation = "azure.workload.identity/tenant-id";
    public const string WorkloadIdentityUseLabel = "azure.workload.identity/use";

    /// <summary>The Job controller's labels on an Indexed Job's pods (kubernetes.io/docs/reference/labels-annotations-taints).</summary>
    public const string JobNameLabel = "batch.kubernetes.io/job-name";
    public const string ControllerUidLabel = "batch.kubernetes.io/controller-uid";
    public const string CompletionIndexLabel = "batch.kubernetes.io/job-completion-index";
    public const string IndexFailureCountAnnotation = "batch.kubernetes.io/job-index-failure-count";
}
