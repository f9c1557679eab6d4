using HarborOps.Engine.Errors;

namespace HarborOps.Engine.MigrationJobs;

/// <summary>A migration Job that cannot be made or read as asked (the Kubernetes calls themselves fail as <see cref="Kube.KubeException"/>).</summary>
public sealed class MigrationJobException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null)
    : HarborOpsException(errorId, kind, message, target, inner);

/// <summary>Stable error ids of New-RegistryMigrationJob and Get-RegistryMigrationJob. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class MigrationJobErrorIds
{
    /// <summary>A parameter the Job cannot be made from (a name Kubernetes refuses, a shard count out of range, a schedule that is not cron).</summary>
    public const string Invalid = "MigrationJobInvalid";
    /// <summary>The Job is not a migration Job HarborOps made (no shard count in its pods' environment).</summary>
    public const string NotAMigrationJob = "MigrationJobNotHarborOps";
    /// <summary>-RerunFailed on a Job with no failed index.</summary>
    public const string NothingToRerun = "MigrationJobNothingFailed";
    /// <summary>Get-RegistryMigrationJob given a CronJob that has not started a run yet.</summary>
    public const string NoRunYet = "MigrationJobNoRunYet";
    /// <summary>-Path could not be written.</summary>
    public const string WriteFailed = "MigrationJobWriteFailed";
}
