namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// What New-RegistryMigrationJob makes a migration Job from: where it runs (name, namespace, image, ServiceAccount),
/// how it is sharded and retried, the credentials it reaches the registries with (workload identity for ACR, a Secret
/// for Harbor's robot), and the copy's own parameters, which travel to the pod as one JSON document in an
/// environment variable and are never spliced into a command line.
/// </summary>
public sealed record MigrationJobRequest
{
    public string Name { get; init; } = "";
    public string Namespace { get; init; } = "default";
    /// <summary>The container image with pwsh and HarborOps (deploy/container/Dockerfile); pin it by digest.</summary>
    public string Image { get; init; } = "";
    public int ShardCount { get; init; } = 4;
    /// <summary>How often the controller retries one failed index before it counts as failed.</summary>
    public int BackoffLimitPerIndex { get; init; } = 3;
    public string ServiceAccountName { get; init; } = "harborops-migration";
    /// <summary>The Entra application (or user-assigned managed identity) client id the ServiceAccount is federated with; null for no workload identity.</summary>
    public string? WorkloadIdentityClientId { get; init; }
    public string? WorkloadIdentityTenantId { get; init; }
    /// <summary>The Secret holding Harbor's robot credential (keys <see cref="HarborSecretUsernameKey"/> and <see cref="HarborSecretPasswordKey"/>); null for none.</summary>
    public string? HarborSecretName { get; init; }
    public string HarborSecretUsernameKey { get; init; } = "username";
    public string HarborSecretPasswordKey { get; init; } = "password";
    public string CpuRequest { get; init; } = "500m";
    public string MemoryRequest { get; init; } = "512Mi";
    public string? CpuLimit { get; init; } = "2";
    public string MemoryLimit { get; init; } = "2Gi";
    /// <summary>Cron schedule: makes a CronJob for the dual-registry period instead of a one-off Job.</summary>
    public string? Schedule { get; init; }
    /// <summary>On a schedule, copy only tags created within this window before each run (Copy-RegistryImage -Since); null copies incrementally by digest.</summary>
    public TimeSpan? SinceWindow { get; init; }
    public MigrationCopyParameters Copy { get; init; } = new();
}

/// <summary>The Copy-RegistryImage parameters a shard runs with (names as the cmdlet spells them).</summary>
public sealed record MigrationCopyParameters
{
    public IReadOnlyList<string> Source { get; init; } = [];
    public string Destination { get; init; } = "";
    public string? DestinationPrefix { get; init; }
    public int StripPrefixSegments { get; init; }
    public IReadOnlyDictionary<string, string>? Rename { get; init; }
    public IReadOnlyList<string>? Include { get; init; }
    public IReadOnlyList<string>? Exclude { get; init; }
    public string? IncludeRegex { get; init; }
    public string? ExcludeRegex { get; init; }
    public IReadOnlyList<string>? Platform { get; init; }
    public bool NoClobber { get; init; }
    public bool ExcludeReferrers { get; init; }
    public bool CreateProject { get; init; }
    public int ThrottleLimit { get; init; } = 8;
}
