using System.Security;

namespace HarborOps.Models;

/// <summary>The Harbor session Connect-Harbor opened (never the secret).</summary>
public sealed class HarborConnectionInfo
{
    /// <summary>Harbor's base URL, such as https://harbor.example.com.</summary>
    public string Harbor { get; init; } = "";
    /// <summary>The registry host (host[:port]) image references use for this Harbor.</summary>
    public string Registry { get; init; } = "";
    public string UserName { get; init; } = "";
    /// <summary>User (local, LDAP or OIDC CLI secret) or Robot.</summary>
    public string Kind { get; init; } = "";
    public bool IsSystemAdmin { get; init; }
    /// <summary>Harbor's version as GET /systeminfo reports it to a logged-in caller.</summary>
    public string? HarborVersion { get; init; }
    public bool SkipCertificateCheck { get; init; }
    /// <summary>Harbor's robot name prefix (its setting robot_name_prefix, robot$ by default) when given or learnt; empty when unknown.</summary>
    public string? RobotNamePrefix { get; init; }
}

/// <summary>A Harbor project with its policies, as Get-HarborProject emits it.</summary>
public sealed class HarborProjectInfo
{
    public string Harbor { get; init; } = "";
    public string Name { get; init; } = "";
    public int ProjectId { get; init; }
    public bool Public { get; init; }
    /// <summary>Scan every artifact on push.</summary>
    public bool AutoScan { get; init; }
    /// <summary>Refuse pulls of artifacts that are unscanned or vulnerable at or above <see cref="Severity"/>.</summary>
    public bool PreventVulnerable { get; init; }
    /// <summary>none, low, medium, high or critical.</summary>
    public string? Severity { get; init; }
    /// <summary>Refuse pulls of artifacts without a cosign signature.</summary>
    public bool RequireCosignSignature { get; init; }
    public bool ReuseSystemCveAllowlist { get; init; }
    public string[] CveAllowlist { get; init; } = [];
    public DateTimeOffset? CveAllowlistExpiresAt { get; init; }
    public int RepositoryCount { get; init; }
    /// <summary>Storage quota in bytes; -1 is unlimited; null when Harbor did not say.</summary>
    public long? StorageLimit { get; init; }
    public long? StorageUsed { get; init; }
    public string? OwnerName { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    /// <summary>Whether the project is a proxy cache (a pull-through mirror of a registry endpoint).</summary>
    public bool IsProxyCache => ProxyCacheRegistryId is not null;
    /// <summary>The id of the registry endpoint a proxy-cache project mirrors; null for an ordinary project.</summary>
    public long? ProxyCacheRegistryId { get; init; }
    /// <summary>The name of the registry endpoint a proxy-cache project mirrors (as Get-HarborRegistryEndpoint lists it).</summary>
    public string? ProxyCacheEndpoint { get; init; }
    /// <summary>The URL of the mirrored registry endpoint.</summary>
    public string? ProxyCacheUrl { get; init; }
    /// <summary>Harbor's adapter type of the mirrored endpoint (docker-hub, github-ghcr, ...).</summary>
    public string? ProxyCacheType { get; init; }
}

/// <summary>An artifact a project gate would refuse to serve, as Test-HarborProjectGate emits it.</summary>
public sealed class HarborGateFinding
{
    public string Project { get; init; } = "";
    public string Repository { get; init; } = "";
    public string Digest { get; init; } = "";
    public string[] Tags { get; init; } = [];
    /// <summary>Why the gate refuses it: NeverScanned, ScanNotSuccessful, Vulnerable and/or Unsigned.</summary>
    public string[] Reasons { get; init; } = [];
    /// <summary>The artifact's highest severity (after the CVE allowlist) when it was scanned.</summary>
    public string? Severity { get; init; }
    public string Detail { get; init; } = "";
    /// <summary>"registry/project/repository@digest".</summary>
    public string Reference { get; init; } = "";
}

/// <summary>A robot account, as Get-HarborRobot emits it (never its secret).</summary>
public sealed class HarborRobotInfo
{
    public string Harbor { get; init; } = "";
    public long Id { get; init; }
    /// <summary>The full name to log in with: robot$name or robot$project+name.</summary>
    public string Name { get; init; } = "";
    /// <summary>The name without prefix and project.</summary>
    public string ShortName { get; init; } = "";
    /// <summary>system or project.</summary>
    public string Level { get; init; } = "";
    /// <summary>The project of a project robot.</summary>
    public string? Project { get; init; }
    public string? Description { get; init; }
    public bool Disabled { get; init; }
    /// <summary>Lifetime in days counted from CreationTime; -1 never expires.</summary>
    public long DurationDays { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    /// <summary>Null when the robot never expires.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Whole days until expiry (negative once expired); null when it never expires.</summary>
    public int? DaysLeft { get; init; }
    public bool Expired { get; init; }
    /// <summary>"namespace:resource:action" for each permission, such as "team-a:repository:pull".</summary>
    public string[] Permissions { get; init; } = [];
}

/// <summary>
/// A robot's login, as New-HarborRobot and Reset-HarborRobotSecret emit it. Binds by property name into
/// Sync-PullSecret (Registry, UserName, Secret, ExpiresAt); the secret is a SecureString.
/// </summary>
public sealed class HarborRobotCredential
{
    /// <summary>The registry host (host[:port]) to log in to.</summary>
    public string Registry { get; init; } = "";
    /// <summary>The robot's full name: robot$name or robot$project+name.</summary>
    public string UserName { get; init; } = "";
    public SecureString Secret { get; init; } = new();
    /// <summary>Null when the robot never expires.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    public long RobotId { get; init; }
    public string Harbor { get; init; } = "";

    public override string ToString() => $"{UserName} @ {Registry}";
}

/// <summary>An artifact of a Harbor repository with its tags, scan overview and signature status.</summary>
public sealed class HarborArtifactInfo
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    /// <summary>Repository name inside the project (without the project prefix).</summary>
    public string Repository { get; init; } = "";
    public string Digest { get; init; } = "";
    public string[] Tags { get; init; } = [];
    public string? MediaType { get; init; }
    /// <summary>IMAGE, CHART, ...</summary>
    public string? Type { get; init; }
    public long Size { get; init; }
    public DateTimeOffset? PushTime { get; init; }
    /// <summary>Pending, Running, Success, Error, Stopped; null when never scanned.</summary>
    public string? ScanStatus { get; init; }
    /// <summary>Highest severity the last scan found (None ... Critical).</summary>
    public string? Severity { get; init; }
    public int? VulnerabilityCount { get; init; }
    public int? FixableCount { get; init; }
    /// <summary>True when a cosign signature accessory is attached.</summary>
    public bool Signed { get; init; }
    /// <summary>True for an image index (its children are checked when pulled).</summary>
    public bool IsIndex { get; init; }
    /// <summary>"registry/project/repository@digest", ready to bind into -Reference of other cmdlets.</summary>
    public string Reference { get; init; } = "";
}

/// <summary>One vulnerability of a scan report, as Get-HarborVulnerability emits it.</summary>
public sealed class HarborVulnerability
{
    /// <summary>The artifact it was found in ("registry/project/repository@digest").</summary>
    public string Reference { get; init; } = "";
    public string Id { get; init; } = "";
    public string Package { get; init; } = "";
    public string? Version { get; init; }
    public string? FixVersion { get; init; }
    public string Severity { get; init; } = "";
    public double? CvssScoreV3 { get; init; }
    public string? Description { get; init; }
    public string[] Links { get; init; } = [];
    /// <summary>True when the project's CVE allowlist exempts it from the pull gate.</summary>
    public bool Allowlisted { get; init; }
}

/// <summary>Storage used and quota of one project, as Get-HarborProjectUsage emits it.</summary>
public sealed class HarborProjectUsage
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    public int ProjectId { get; init; }
    public long UsedBytes { get; init; }
    /// <summary>-1 is unlimited.</summary>
    public long QuotaBytes { get; init; }
    /// <summary>Used share of the quota in percent; null when unlimited.</summary>
    public double? PercentUsed { get; init; }
}

/// <summary>A member of a project (a user or a group) with its role.</summary>
public sealed class HarborProjectMemberInfo
{
    public string Harbor { get; init; } = "";
    public string Project { get; init; } = "";
    public int MemberId { get; init; }
    public string Name { get; init; } = "";
    /// <summary>User or Group.</summary>
    public string EntityType { get; init; } = "";
    /// <summary>ProjectAdmin, Maintainer, Developer, Guest or LimitedGuest.</summary>
    public string Role { get; init; } = "";
}

/// <summary>Where a scan of one artifact stands, as Start-HarborScan emits it.</summary>
public sealed class HarborScanStatus
{
    public string Project { get; init; } = "";
    public string Repository { get; init; } = "";
    public string Digest { get; init; } = "";
    /// <summary>Pending, Running, Success, Error or Stopped.</summary>
    public string Status { get; init; } = "";
    public string? Severity { get; init; }
    public int? VulnerabilityCount { get; init; }
    public string Reference { get; init; } = "";
}

/// <summary>A registry endpoint Harbor replicates from or to (Administration > Registries).</summary>
public sealed class HarborRegistryEndpointInfo
{
    public string Harbor { get; init; } = "";
    public long Id { get; init; }
    public string Name { get; init; } = "";
    /// <summary>Harbor's adapter type: harbor, docker-hub, docker-registry, azure-acr, github-ghcr, ...</summary>
    public string Type { get; init; } = "";
    public string Url { get; init; } = "";
    public bool Insecure { get; init; }
    public string? AccessKey { get; init; }
    public string? Status { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
}

/// <summary>A replication policy: from which endpoint, which repositories and tags, into which namespace.</summary>
public sealed class HarborReplicationPolicyInfo
{
    public string Harbor { get; init; } = "";
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string? SourceRegistry { get; init; }
    public long? SourceRegistryId { get; init; }
    public string? DestinationNamespace { get; init; }
    public int? DestinationNamespaceReplaceCount { get; init; }
    /// <summary>The name filter (a doublestar pattern such as "team/**").</summary>
    public string? NameFilter { get; init; }
    /// <summary>The tag filter as Harbor stores it, with the signature tags pattern when they are kept.</summary>
    public string? TagFilter { get; init; }
    public string? Trigger { get; init; }
    public bool Override { get; init; }
    public bool Enabled { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
}

/// <summary>One run of a replication policy with its task counts.</summary>
public sealed class HarborReplicationExecutionInfo
{
    public string Harbor { get; init; } = "";
    public long Id { get; init; }
    public long PolicyId { get; init; }
    /// <summary>InProgress, Succeed, Failed or Stopped.</summary>
    public string Status { get; init; } = "";
    public string? StatusText { get; init; }
    public string? Trigger { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public int Total { get; init; }
    public int Succeed { get; init; }
    public int Failed { get; init; }
    public int InProgress { get; init; }
    public int Stopped { get; init; }
    public bool IsFinished => Status is "Succeed" or "Failed" or "Stopped";
    /// <summary>The tasks, when they were asked for.</summary>
    public HarborReplicationTaskInfo[] Tasks { get; init; } = [];
}

/// <summary>One task of a replication execution: a source repository and its tags, copied to the destination.</summary>
public sealed class HarborReplicationTaskInfo
{
    public long Id { get; init; }
    public long ExecutionId { get; init; }
    public string Status { get; init; } = "";
    public string? Operation { get; init; }
    public string? ResourceType { get; init; }
    public string? Source { get; init; }
    public string? Destination { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
}
