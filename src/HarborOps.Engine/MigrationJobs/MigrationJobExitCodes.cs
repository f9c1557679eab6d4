namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// The exit codes of the container entrypoint (deploy/container/entrypoint.ps1), which the Job's podFailurePolicy
/// reads through onExitCodes. Documented in about_HarborOps and docs/running-in-kubernetes.md; never renumbered, since
/// Jobs created by an older module keep their policy. Kubernetes' own codes stay apart: 137 (SIGKILL, out of memory)
/// and 143 (SIGTERM) are counted against backoffLimitPerIndex like any other failure.
/// </summary>
public static class MigrationJobExitCodes
{
    /// <summary>Every tag of the shard was copied (and, on a schedule, parity found no difference).</summary>
    public const int Success = 0;
    /// <summary>Some tags failed, or a registry could not be reached or refused the credential: worth retrying, so the
    /// controller retries the index alone until backoffLimitPerIndex.</summary>
    public const int Retryable = 1;
    /// <summary>Bad input or configuration (a parameter the copy refuses, a missing setting, an unreadable parameter
    /// document): every index would fail the same way, so the policy fails the whole Job at once (FailJob).</summary>
    public const int BadConfiguration = 2;
    /// <summary>On a schedule: the copy ran but Compare-RegistryParity -FailOnDifference still found a difference. The
    /// policy fails the index without retrying it (FailIndex); the next scheduled run copies again.</summary>
    public const int ParityDifference = 3;

    /// <summary>What an exit code of the entrypoint means, for Get-RegistryMigrationJob.</summary>
    public static string Describe(int exitCode) => exitCode switch
    {
        Success => "success",
        Retryable => "some tags failed or a registry was unreachable (retried)",
        BadConfiguration => "bad input or configuration (Job failed, not retried)",
        ParityDifference => "parity found a difference after the copy (not retried)",
        137 => "killed (SIGKILL: out of memory or deadline)",
        143 => "terminated (SIGTERM)",
        _ => $"exit code {exitCode}",
    };
}
