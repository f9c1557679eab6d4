using System.Text.Json;

namespace HarborOps.Engine.Harbor;

// Wire shapes of Harbor's v2.0 API (contracts/harbor-v2.0-swagger.yaml), snake_case through HarborHttp.Json.
// Only the fields HarborOps reads or writes; unknown fields in responses are ignored.

internal sealed class UserRespDto
{
    public int UserId { get; set; }
    public string? Username { get; set; }
    public bool SysadminFlag { get; set; }
}

internal sealed class GeneralInfoDto
{
    public string? HarborVersion { get; set; }
    public string? ExternalUrl { get; set; }
    public string? AuthMode { get; set; }
}

internal sealed class ProjectDto
{
    public int ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string? OwnerName { get; set; }
    public DateTimeOffset? CreationTime { get; set; }
    public int RepoCount { get; set; }
    /// <summary>The registry endpoint a proxy-cache project mirrors; 0 (or absent) for an ordinary project.</summary>
    public long RegistryId { get; set; }
    public Dictionary<string, string>? Metadata { get; set; }
    public CveAllowlistDto? CveAllowlist { get; set; }
}

internal sealed class ProjectReqDto
{
    public string? ProjectName { get; set; }
    public Dictionary<string, string>? Metadata { get; set; }
    public CveAllowlistDto? CveAllowlist { get; set; }
    public long? StorageLimit { get; set; }
    /// <summary>Set only to create a proxy-cache project of that registry endpoint.</summary>
    public long? RegistryId { get; set; }
}

internal sealed class CveAllowlistDto
{
    public int? Id { get; set; }
    public int? ProjectId { get; set; }
    public long? ExpiresAt { get; set; }
    public List<CveAllowlistItemDto>? Items { get; set; }
}

internal sealed class CveAllowlistItemDto
{
    public string? CveId { get; set; }
}

internal sealed class QuotaDto
{
    public int Id { get; set; }
    public Dictionary<string, JsonElement>? Ref { get; set; }
    public Dictionary<string, long>? Hard { get; set; }
    public Dictionary<string, long>? Used { get; set; }
}

internal sealed class QuotaUpdateReqDto
{
    public Dictionary<string, long>? Hard { get; set; }
}

internal sealed class RobotDto
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public string Level { get; set; } = "";
    public long? Duration { get; set; }
    public bool Editable { get; set; }
    public bool Disable { get; set; }
    public long ExpiresAt { get; set; }
    public List<RobotPermissionDto>? Permissions { get; set; }
    public string? CreatorType { get; set; }
    public int? CreatorRef { get; set; }
    public DateTimeOffset? CreationTime { get; set; }
    public DateTimeOffset? UpdateTime { get; set; }
}

internal sealed class RobotCreateDto
{
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public string Level { get; set; } = "";
    public bool Disable { get; set; }
    public long Duration { get; set; }
    public List<RobotPermissionDto> Permissions { get; set; } = [];
}

internal sealed class RobotCreatedDto
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string? Secret { get; set; }
    public DateTimeOffset? CreationTime { get; set; }
    public long ExpiresAt { get; set; }
}

internal sealed class RobotSecDto
{
    public string? Secret { get; set; }
}

internal sealed class RobotPermissionDto
{
    public string Kind { get; set; } = "";
    public string Namespace { get; set; } = "";
    public List<AccessDto> Access { get; set; } = [];
}

internal sealed class AccessDto
{
    public string Resource { get; set; } = "";
    public string Action { get; set; } = "";
    public string? Effect { get; set; }
}

internal sealed class RepositoryDto
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Name { get; set; } = "";
    public long ArtifactCount { get; set; }
}

internal sealed class ArtifactDto
{
    public long Id { get; set; }
    public string? Type { get; set; }
    public string? MediaType { get; set; }
    public string? ManifestMediaType { get; set; }
    public long ProjectId { get; set; }
    public long RepositoryId { get; set; }
    public string? RepositoryName { get; set; }
    public string Digest { get; set; } = "";
    public long Size { get; set; }
    public DateTimeOffset? PushTime { get; set; }
    public List<TagDto>? Tags { get; set; }
    public List<ReferenceDto>? References { get; set; }
    public Dictionary<string, NativeReportSummaryDto>? ScanOverview { get; set; }
    public List<AccessoryDto>? Accessories { get; set; }
}

internal sealed class TagDto
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
}

internal sealed class ReferenceDto
{
    public string? ChildDigest { get; set; }
}

internal sealed class AccessoryDto
{
    public long Id { get; set; }
    public string? Type { get; set; }
    public string? Digest { get; set; }
    public string? SubjectArtifactDigest { get; set; }
}

internal sealed class NativeReportSummaryDto
{
    public string? ReportId { get; set; }
    public string? ScanStatus { get; set; }
    public string? Severity { get; set; }
    public VulnerabilitySummaryDto? Summary { get; set; }
    public int? CompletePercent { get; set; }
}

internal sealed class VulnerabilitySummaryDto
{
    public int Total { get; set; }
    public int Fixable { get; set; }
    public Dictionary<string, int>? Summary { get; set; }
}

internal sealed class ScanTypeDto
{
    public string ScanType { get; set; } = "vulnerability";
}

internal sealed class VulnerabilityReportDto
{
    public string? Severity { get; set; }
    public List<VulnerabilityItemDto>? Vulnerabilities { get; set; }
}

internal sealed class VulnerabilityItemDto
{
    public string Id { get; set; } = "";
    public string? Package { get; set; }
    public string? Version { get; set; }
    public string? FixVersion { get; set; }
    public string? Severity { get; set; }
    public string? Description { get; set; }
    public List<string>? Links { get; set; }
    public CvssDto? PreferredCvss { get; set; }
}

internal sealed class CvssDto
{
    public double? ScoreV3 { get; set; }
}

internal sealed class ScanAllScheduleDto
{
    public ScheduleObjDto Schedule { get; set; } = new();
}

internal sealed class ScheduleObjDto
{
    public string Type { get; set; } = "Manual";
}

internal sealed class ScanAllStatsDto
{
    public int Total { get; set; }
    public int Completed { get; set; }
    public Dictionary<string, int>? Metrics { get; set; }
    public bool Ongoing { get; set; }
}

/// <summary>PUT projects/{p}/members/{id}: the one field a member's update carries.</summary>
internal sealed class RoleRequestDto
{
    public int RoleId { get; set; }
}

internal sealed class ProjectMemberDto
{
    public int RoleId { get; set; }
    public UserEntityDto? MemberUser { get; set; }
    public UserGroupDto? MemberGroup { get; set; }
}

internal sealed class UserEntityDto
{
    public string? Username { get; set; }
}

internal sealed class UserGroupDto
{
    public string? GroupName { get; set; }
    public int? GroupType { get; set; }
    public string? LdapGroupDn { get; set; }
}

internal sealed class ProjectMemberEntityDto
{
    public int Id { get; set; }
    public int ProjectId { get; set; }
    public string? EntityName { get; set; }
    public string? RoleName { get; set; }
    public int RoleId { get; set; }
    public int EntityId { get; set; }
    public string? EntityType { get; set; }
}

/// <summary>Harbor's error body: {"errors":[{"code":"...","message":"..."}]}.</summary>
internal sealed class HarborErrorsDto
{
    public List<HarborErrorDto>? Errors { get; set; }
}

internal sealed class HarborErrorDto
{
    public string? Code { get; set; }
    public string? Message { get; set; }
}

/// <summary>GET /configurations (system admins only): the settings the client reads; every item is {"value", "editable"}.</summary>
internal sealed class ConfigurationsDto
{
    public StringConfigItemDto? RobotNamePrefix { get; set; }
}

internal sealed class StringConfigItemDto
{
    public string? Value { get; set; }
    public bool Editable { get; set; }
}
