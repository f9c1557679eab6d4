namespace HarborOps.Models;

/// <summary>Harbor's health as GET /api/v2.0/health reports it, as Get-HarborHealth emits it.</summary>
public sealed class HarborHealthInfo
{
    public string Harbor { get; init; } = "";
    /// <summary>healthy only when every component is healthy; otherwise unhealthy.</summary>
    public string Status { get; init; } = "";
    public bool IsHealthy { get; init; }
    public HarborComponentHealth[] Components { get; init; } = [];
    /// <summary>The names of the unhealthy components, for a one-line view.</summary>
    public string[] Unhealthy => Components.Where(c => !c.IsHealthy).Select(c => c.Name).ToArray();
}

/// <summary>One Harbor component (core, database, jobservice, portal, redis, registry, registryctl, trivy) and its health.</summary>
public sealed class HarborComponentHealth
{
    public string Name { get; init; } = "";
    /// <summary>healthy or unhealthy.</summary>
    public string Status { get; init; } = "";
    public bool IsHealthy => string.Equals(Status, "healthy", StringComparison.OrdinalIgnoreCase);
    /// <summary>Harbor's checker error, when unhealthy.</summary>
    public string? Error { get; init; }
}

/// <summary>Harbor's version, auth mode, registry URL and local storage totals, as Get-HarborSystemInfo emits them.</summary>
public sealed class HarborSystemInfo
{
    public string Harbor { get; init; } = "";
    public string? HarborVersion { get; init; }
    /// <summary>db_auth, ldap_auth, oidc_auth, uaa_auth, http_auth.</summary>
    public string? AuthMode { get; init; }
    public string? RegistryUrl { get; init; }
    public string? ExternalUrl { get; init; }
    /// <summary>The registry's storage driver (filesystem, s3, azure, ...).</summary>
    public string? StorageProvider { get; init; }
    public bool? ReadOnly { get; init; }
    /// <summary>Size of Harbor's local storage volume in bytes; null when the caller may not read it (system admin only).</summary>
    public ulong? StorageTotalBytes { get; init; }
    public ulong? StorageFreeBytes { get; init; }
    /// <summary>Used share of the local volume in percent; null when unknown.</summary>
    public double? StoragePercentUsed => StorageTotalBytes is > 0 && StorageFreeBytes is { } free
        ? Math.Round((StorageTotalBytes.Value - free) * 100.0 / StorageTotalBytes.Value, 1) : null;
    /// <summary>Why the storage totals are missing (the caller is not a system admin), or null.</summary>
    public string? StorageNote { get; init; }
}

/// <summary>One garbage collection run, as Get-/Start-HarborGarbageCollection emit it.</summary>
public sealed class HarborGarbageCollectionInfo
{
    public string Harbor { get; init; } = "";
    public long Id { get; init; }
    /// <summary>Running, Success, Error or Stopped (Harbor's job status).</summary>
    public string Status { get; init; } = "";
    /// <summary>Manual or Schedule.</summary>
    public string Trigger { get; init; } = "";
    public bool DryRun { get; init; }
    public bool DeleteUntagged { get; init; }
    public int Workers { get; init; }
    /// <summary>Bytes freed (or, for a dry run, that a run would free) once the run has reported; null before.</summary>
    public long? FreedBytes { get; init; }
    public long? PurgedBlobs { get; init; }
    public long? PurgedManifests { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    /// <summary>When Harbor last updated the run (its end, once finished).</summary>
    public DateTimeOffset? UpdateTime { get; init; }
    public bool IsFinished => Status is "Success" or "Error" or "Stopped";
}

/// <summary>Harbor's garbage collection schedule, as Get-/Set-HarborGarbageCollectionSchedule emit it.</summary>
public sealed class HarborGarbageCollectionSchedule
{
    public string Harbor { get; init; } = "";
    /// <summary>None, Hourly, Daily, Weekly or Custom.</summary>
    public string Schedule { get; init; } = "None";
    /// <summary>Six fields, seconds first (0 0 2 * * 6 is Saturdays at 02:00).</summary>
    public string? Cron { get; init; }
    public DateTimeOffset? NextRun { get; init; }
    public bool DryRun { get; init; }
    public bool DeleteUntagged { get; init; }
    public int Workers { get; init; }
}

/// <summary>One retention rule: which repositories and tags it looks at, and which of them it keeps.</summary>
public sealed class HarborRetentionRule
{
    /// <summary>Harbor's template: latestPushedK, latestPulledN, nDaysSinceLastPush, nDaysSinceLastPull or always.</summary>
    public string Template { get; init; } = "";
    /// <summary>The template's number (artifacts for latest*, days for nDays*); null for always.</summary>
    public long? Value { get; init; }
    /// <summary>Doublestar pattern of repository names (without the project); ** is every repository.</summary>
    public string Repositories { get; init; } = "**";
    public bool ExcludeRepositories { get; init; }
    /// <summary>Doublestar pattern of tags; ** is every tag.</summary>
    public string Tags { get; init; } = "**";
    public bool ExcludeTags { get; init; }
    /// <summary>Whether the tag selector also takes untagged artifacts (Harbor's extras untagged).</summary>
    public bool? Untagged { get; init; }
    public bool Disabled { get; init; }

    public override string ToString()
    {
        var keep = Template switch
        {
            "latestPushedK" => $"keep the {Value} most recently pushed",
            "latestPulledN" => $"keep the {Value} most recently pulled",
            "nDaysSinceLastPush" => $"keep those pushed within {Value} days",
            "nDaysSinceLastPull" => $"keep those pulled within {Value} days",
            "always" => "always keep",
            _ => $"{Template} {Value}",
        };
        return $"{keep} of tags {(ExcludeTags ? "not " : "")}{Tags} in repositories {(ExcludeRepositories ? "not " : "")}{Repositories}{(Disabled ? " (disabled)" : "")}";
    }
}

/// <summary>A project's tag retention policy, as Get-/Set-HarborRetentionPolicy emit it.</summary>
public sealed class HarborRetentionPolicy
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    public long Id { get; init; }
    public HarborRetentionRule[] Rules { get; init; } = [];
}

/// <summary>What a retention run (or its dry run) does with one artifact, as Test-HarborRetentionPolicy emits it.</summary>
public sealed class HarborRetentionResult
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    public string Repository { get; init; } = "";
    public string Digest { get; init; } = "";
    public string[] Tags { get; init; } = [];
    public DateTimeOffset? PushTime { get; init; }
    /// <summary>Retain, Delete, Immutable (a rule would delete it but an immutable tag protects it) or Error.</summary>
    public string Action { get; init; } = "";
    public bool DryRun { get; init; }
    /// <summary>Digests of the artifact's signatures (cosign accessories); they share its fate.</summary>
    public string[] Signatures { get; init; } = [];
    /// <summary>What happens to the signatures: Harbor deletes an artifact's accessories with it and keeps them with it.</summary>
    public string? SignatureNote { get; init; }
    public long ExecutionId { get; init; }
}

/// <summary>A tag immutability rule of a project, as Get-/New-HarborImmutableTagRule emit it.</summary>
public sealed class HarborImmutableTagRule
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    public long Id { get; init; }
    public string Repositories { get; init; } = "**";
    public bool ExcludeRepositories { get; init; }
    public string Tags { get; init; } = "**";
    public bool ExcludeTags { get; init; }
    public bool Disabled { get; init; }
}

/// <summary>How a project's storage grew over the snapshots in a usage history file, as Get-HarborProjectUsage -History emits it.</summary>
public sealed class HarborProjectUsageGrowth
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    public DateTimeOffset Since { get; init; }
    public DateTimeOffset Until { get; init; }
    public int Snapshots { get; init; }
    public long FirstUsedBytes { get; init; }
    public long LastUsedBytes { get; init; }
    public long GrowthBytes => LastUsedBytes - FirstUsedBytes;
    /// <summary>Growth per day over the period (null with one snapshot or none apart in time).</summary>
    public double? BytesPerDay { get; init; }
    /// <summary>The quota at the last snapshot; -1 is unlimited.</summary>
    public long QuotaBytes { get; init; }
    /// <summary>Days until the quota is full at this rate; null when unlimited, not growing, or unknown.</summary>
    public double? DaysToQuota => QuotaBytes > 0 && BytesPerDay is > 0 ? Math.Round(Math.Max(0, QuotaBytes - LastUsedBytes) / BytesPerDay.Value, 1) : null;
}
