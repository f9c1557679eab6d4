using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>New or changed project policies; null leaves a setting as it is.</summary>
public sealed record HarborProjectSettings
{
    public bool? Public { get; init; }
    public bool? AutoScan { get; init; }
    public bool? PreventVulnerable { get; init; }
    /// <summary>none, low, medium, high or critical.</summary>
    public string? Severity { get; init; }
    public bool? RequireCosignSignature { get; init; }
    public bool? ReuseSystemCveAllowlist { get; init; }
    /// <summary>Replaces the project's CVE allowlist (and stops reusing the system one).</summary>
    public IReadOnlyList<string>? CveAllowlist { get; init; }
    public DateTimeOffset? CveAllowlistExpiresAt { get; init; }
    /// <summary>Storage quota in bytes; -1 is unlimited.</summary>
    public long? StorageLimit { get; init; }
}

/// <summary>
/// Harbor's v2.0 REST API for projects, robots, artifacts, scans, quotas and members. Every call carries Basic
/// auth and a fresh X-Request-Id, sends no cookies, and fails with a <see cref="HarborException"/> whose id names
/// the problem. See research/harbor-api-and-tools.md for the behaviour beyond the swagger it follows.
/// </summary>
public sealed partial class HarborClient
{
    private static readonly Regex NamePattern = new("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", RegexOptions.CultureInvariant);
    internal static readonly string[] SeverityOrder = ["none", "unknown", "negligible", "low", "medium", "high", "critical"];

    /// <summary>
    /// Checks the credential for real: GET /users/current (a user), or for a robot (which gets 412 there) GET /v2/
    /// with Basic. Harbor runs requests with bad credentials as anonymous, so an endpoint that answers anonymous
    /// callers would hide a wrong password.
    /// </summary>
    public async Task<HarborConnectionInfo> ConnectAsync(CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, "users/current")
        {
            Description = "reading the current user", Target = Connection.Url.ToString(), AcceptStatus = s => s == 412,
        };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        string kind;
        var isAdmin = false;
        var userName = Connection.UserName;
        if (response.Status == 412)
        {
            // "get current user not available for security context: robot": the only identity that gets this.
            var v2 = await SendAsync(new HarborCall(HttpMethod.Get, "v2/")
            {
                FromBase = true, Description = "checking the robot credential at /v2/", Target = Connection.Url.ToString(),
            }, cancellationToken).ConfigureAwait(false);
            _ = v2;
            kind = "Robot";
        }
        else
        {
            var user = response.Read<UserRespDto>(call);
            userName = user.Username ?? userName;
            isAdmin = user.SysadminFlag;
            kind = "User";
        }
        // Robot paths need Harbor's robot name prefix: a system admin reads the setting, a project robot's own name tells it
        // against the projects the robot sees; otherwise it is learnt from the first robot Harbor returns.
        if (isAdmin) await ReadRobotNamePrefixAsync(cancellationToken).ConfigureAwait(false);
        else if (kind == "Robot" && RobotNamePrefix is null) await LearnRobotNamePrefixFromProjectsAsync(userName, cancellationToken).ConfigureAwait(false);
        var infoCall = new HarborCall(HttpMethod.Get, "systeminfo") { Description = "reading the system information" };
        var info = (await SendAsync(infoCall, cancellationToken).ConfigureAwait(false)).Read<GeneralInfoDto>(infoCall);
        return new HarborConnectionInfo
        {
            Harbor = Connection.Url.ToString(), Registry = Registry, UserName = userName, Kind = kind, IsSystemAdmin = isAdmin,
            HarborVersion = info.HarborVersion, SkipCertificateCheck = Connection.SkipCertificateCheck, RobotNamePrefix = RobotNamePrefix,
        };
    }

    // ---------------------------------------------------------------- projects

    public async Task<HarborProjectInfo> GetProjectAsync(string project, CancellationToken cancellationToken)
    {
        var dto = await GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false);
        var summaryCall = new HarborCall(HttpMethod.Get, $"projects/{ProjectSegment(project)}/summary")
        {
            ProjectByName = true, Target = project, Description = $"the summary of project '{project}'",
            NotFoundId = HarborErrorIds.ProjectNotFound,
        };
        var summary = (await SendAsync(summaryCall, cancellationToken).ConfigureAwait(false)).Read<ProjectSummaryDto>(summaryCall);
        return ToProjectInfo(dto, summary.Quota?.Hard?.GetValueOrDefault("storage"), summary.Quota?.Used?.GetValueOrDefault("storage"), summary.Registry);
    }

    /// <summary>Projects visible to the caller whose name matches the wildcard pattern (every project when null), by name.</summary>
    public async IAsyncEnumerable<HarborProjectInfo> ListProjectsAsync(string? namePattern,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = namePattern is null ? null : Wildcard(namePattern);
        var list = new List<ProjectDto>();
        await foreach (var dto in ListAsync<ProjectDto>(new HarborCall(HttpMethod.Get, "projects?with_detail=true") { Description = "listing projects" }, cancellationToken).ConfigureAwait(false))
            if (filter is null || filter.IsMatch(dto.Name)) list.Add(dto);
        foreach (var dto in list.OrderBy(p => p.Name, StringComparer.Ordinal))
            yield return ToProjectInfo(dto, null, null, await ProxyCacheRegistryAsync(dto, cancellationToken).ConfigureAwait(false));
    }

    internal async Task<ProjectDto> GetProjectDtoAsync(string project, CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, $"projects/{ProjectSegment(project)}")
        {
            ProjectByName = true, Target = project, Description = $"reading project '{project}'", NotFoundId = HarborErrorIds.ProjectNotFound,
            NotFoundMessage = $"Project '{project}' does not exist on {Connection.Url} or is hidden from '{Connection.UserName}'. Get-HarborProject lists the projects you can see.",
        };
        return (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<ProjectDto>(call);
    }

    public Task<HarborProjectInfo> CreateProjectAsync(string project, HarborProjectSettings settings, CancellationToken cancellationToken) =>
        CreateProjectAsync(project, settings, null, cancellationToken);

    /// <summary>An ordinary project, or with <paramref name="proxyCacheRegistryId"/> a proxy cache of that registry endpoint.</summary>
    private async Task<HarborProjectInfo> CreateProjectAsync(string project, HarborProjectSettings settings, long? proxyCacheRegistryId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!NamePattern.IsMatch(project) || project.Length > 255)
            throw new HarborException(HarborErrorIds.ProjectNameInvalid, FailureKind.InvalidArgument,
                $"'{project}' is not a valid Harbor project name: use lower-case letters and digits, separated by single '.', '_' or '-' (at most 255 characters).", project);
        var metadata = MetadataOf(settings, new Dictionary<string, string> { ["public"] = "false" });
        var body = new ProjectReqDto
        {
            ProjectName = project, Metadata = metadata, CveAllowlist = AllowlistOf(settings, null), StorageLimit = settings.StorageLimit,
            RegistryId = proxyCacheRegistryId,
        };
        await SendAsync(new HarborCall(HttpMethod.Post, "projects")
        {
            Body = body, Target = project, Description = $"creating project '{project}'",
            ConflictId = HarborErrorIds.ProjectExists,
            ConflictHint = $"Project '{project}' already exists; change it with Set-HarborProject.",
            // The name is checked above, so Harbor's 400 for a proxy cache is about its registry (a type it is not configured to proxy).
            BadRequestId = proxyCacheRegistryId is null ? HarborErrorIds.ProjectNameInvalid : HarborErrorIds.ProxyCacheTypeUnsupported,
        }, cancellationToken).ConfigureAwait(false);
        return await GetProjectAsync(project, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the policies with PUT /projects/{name} (metadata and allowlist) and the quota with PUT /quotas/{id},
    /// because Harbor ignores storage_limit on a project update.</summary>
    public async Task<HarborProjectInfo> UpdateProjectAsync(string project, HarborProjectSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var current = await GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false);
        var metadata = MetadataOf(settings, new Dictionary<string, string>(current.Metadata ?? [], StringComparer.Ordinal));
        var body = new ProjectReqDto { Metadata = metadata, CveAllowlist = AllowlistOf(settings, current) };
        await SendAsync(new HarborCall(HttpMethod.Put, $"projects/{ProjectSegment(project)}")
        {
            Body = body, ProjectByName = true, Target = project, Description = $"updating project '{project}'",
            NotFoundId = HarborErrorIds.ProjectNotFound,
        }, cancellationToken).ConfigureAwait(false);
        if (settings.StorageLimit is { } limit)
            await SetQuotaAsync(current, limit, cancellationToken).ConfigureAwait(false);
        return await GetProjectAsync(project, cancellationToken).ConfigureAwait(false);
    }

    private async Task SetQuotaAsync(ProjectDto project, long limit, CancellationToken cancellationToken)
    {
        var listCall = new HarborCall(HttpMethod.Get, $"quotas?reference=project&reference_id={project.ProjectId}") { Target = project.Name, Description = $"finding the quota of project '{project.Name}'" };
        QuotaDto? quota = null;
        await foreach (var q in ListAsync<QuotaDto>(listCall, cancellationToken).ConfigureAwait(false)) { quota = q; break; }
        if (quota is null)
            throw new HarborException(HarborErrorIds.PreconditionFailed, FailureKind.NotFound,
                $"Project '{project.Name}' has no quota to change; Harbor may have per-project quotas turned off (quota_per_project_enable).", project.Name);
        await SendAsync(new HarborCall(HttpMethod.Put, $"quotas/{quota.Id}")
        {
            Body = new QuotaUpdateReqDto { Hard = new Dictionary<string, long> { ["storage"] = limit } },
            Target = project.Name, Description = $"setting the storage quota of project '{project.Name}'",
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a project; with <paramref name="deleteRepositories"/> its repositories first (Harbor refuses a non-empty project with 412).</summary>
    public async Task DeleteProjectAsync(string project, bool deleteRepositories, CancellationToken cancellationToken)
    {
        if (deleteRepositories)
        {
            foreach (var repository in await ListRepositoriesAsync(project, cancellationToken).ConfigureAwait(false))
            {
                await SendAsync(new HarborCall(HttpMethod.Delete, $"projects/{ProjectSegment(project)}/repositories/{RepositorySegment(repository)}")
                {
                    Target = $"{project}/{repository}", Description = $"deleting repository '{project}/{repository}'",
                    NotFoundId = HarborErrorIds.RepositoryNotFound, AcceptStatus = s => s == 404,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        await SendAsync(new HarborCall(HttpMethod.Delete, $"projects/{ProjectSegment(project)}")
        {
            ProjectByName = true, Target = project, Description = $"deleting project '{project}'",
            NotFoundId = HarborErrorIds.ProjectNotFound,
            NotFoundMessage = $"Project '{project}' does not exist on {Connection.Url}",
            PreconditionId = HarborErrorIds.ProjectNotEmpty,
        }, cancellationToken).ConfigureAwait(false);
    }

    internal HarborProjectInfo ToProjectInfo(ProjectDto dto, long? hard, long? used, RegistryDto? proxyCacheRegistry = null)
    {
        var meta = dto.Metadata ?? [];
        bool Flag(string key) => meta.TryGetValue(key, out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);
        return new HarborProjectInfo
        {
            Harbor = Connection.Url.ToString(), Name = dto.Name, ProjectId = dto.ProjectId, Public = Flag("public"), AutoScan = Flag("auto_scan"),
            PreventVulnerable = Flag("prevent_vul"), Severity = meta.GetValueOrDefault("severity"), RequireCosignSignature = Flag("enable_content_trust_cosign"),
            ReuseSystemCveAllowlist = !meta.TryGetValue("reuse_sys_cve_allowlist", out var reuse) || !string.Equals(reuse, "false", StringComparison.OrdinalIgnoreCase),
            CveAllowlist = dto.CveAllowlist?.Items?.Select(i => i.CveId ?? "").Where(i => i.Length > 0).ToArray() ?? [],
            CveAllowlistExpiresAt = dto.CveAllowlist?.ExpiresAt is > 0 and var exp ? DateTimeOffset.FromUnixTimeSeconds(exp) : null,
            RepositoryCount = dto.RepoCount, StorageLimit = hard, StorageUsed = used, OwnerName = dto.OwnerName, CreationTime = dto.CreationTime,
            ProxyCacheRegistryId = dto.RegistryId > 0 ? dto.RegistryId : null, ProxyCacheEndpoint = dto.RegistryId > 0 ? proxyCacheRegistry?.Name : null,
            ProxyCacheUrl = dto.RegistryId > 0 ? proxyCacheRegistry?.Url : null, ProxyCacheType = dto.RegistryId > 0 ? proxyCacheRegistry?.Type : null,
        };
    }

    /// <summary>Metadata values are strings on the wire ("true", "critical"); Harbor rejects booleans.</summary>
    private static Dictionary<string, string> MetadataOf(HarborProjectSettings settings, Dictionary<string, string> metadata)
    {
        static string Bool(bool value) => value ? "true" : "false";
        if (settings.Public is { } isPublic) metadata["public"] = Bool(isPublic);
        if (settings.AutoScan is { } autoScan) metadata["auto_scan"] = Bool(autoScan);
        if (settings.PreventVulnerable is { } prevent) metadata["prevent_vul"] = Bool(prevent);
        if (settings.Severity is { } severity) metadata["severity"] = NormalizeSeverity(severity);
        if (settings.PreventVulnerable == true && !metadata.ContainsKey("severity")) metadata["severity"] = "critical";
        if (settings.RequireCosignSignature is { } cosign) metadata["enable_content_trust_cosign"] = Bool(cosign);
        if (settings.CveAllowlist is not null) metadata["reuse_sys_cve_allowlist"] = "false";
        if (settings.ReuseSystemCveAllowlist is { } reuse) metadata["reuse_sys_cve_allowlist"] = Bool(reuse);
        // Never sent back: Harbor keeps it itself and refuses a changed value.
        metadata.Remove("retention_id");
        return metadata;
    }

    private static CveAllowlistDto? AllowlistOf(HarborProjectSettings settings, ProjectDto? current)
    {
        if (settings.CveAllowlist is null && settings.CveAllowlistExpiresAt is null) return null;
        var items = settings.CveAllowlist ?? current?.CveAllowlist?.Items?.Select(i => i.CveId ?? "").ToList() ?? [];
        var expires = settings.CveAllowlistExpiresAt?.ToUnixTimeSeconds() ?? current?.CveAllowlist?.ExpiresAt;
        return new CveAllowlistDto
        {
            Items = items.Where(i => !string.IsNullOrWhiteSpace(i)).Select(i => new CveAllowlistItemDto { CveId = i.Trim() }).ToList(),
            ExpiresAt = expires,
        };
    }

    public static string NormalizeSeverity(string severity)
    {
        var value = severity.Trim().ToLowerInvariant();
        if (value == "negligible") value = "none";
        if (value is not ("none" or "low" or "medium" or "high" or "critical"))
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                $"'{severity}' is not a Harbor severity. Use None, Low, Medium, High or Critical.", severity);
        return value;
    }

    /// <summary>Rank of a Harbor severity for comparisons (None lowest, Critical highest); unknown text ranks as Unknown.</summary>
    public static int SeverityRank(string? severity)
    {
        var index = Array.IndexOf(SeverityOrder, (severity ?? "none").Trim().ToLowerInvariant());
        return index < 0 ? 1 : index;
    }

    internal static Regex Wildcard(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    // ---------------------------------------------------------------- usage

    /// <summary>Storage used and quota of every project, largest use first, in one paged call to /quotas.</summary>
    public async Task<IReadOnlyList<HarborProjectUsage>> GetProjectUsageAsync(string? namePattern, CancellationToken cancellationToken)
    {
        var filter = namePattern is null ? null : Wildcard(namePattern);
        var usage = new List<HarborProjectUsage>();
        await foreach (var quota in ListAsync<QuotaDto>(new HarborCall(HttpMethod.Get, "quotas?reference=project&sort=-used.storage")
        { Description = "listing project quotas" }, cancellationToken).ConfigureAwait(false))
        {
            var name = quota.Ref?.GetValueOrDefault("name").ToString() ?? "";
            if (filter is not null && !filter.IsMatch(name)) continue;
            var id = quota.Ref is not null && quota.Ref.TryGetValue("id", out var idElement) && idElement.TryGetInt32(out var parsed) ? parsed : 0;
            var hard = quota.Hard?.GetValueOrDefault("storage", -1) ?? -1;
            var used = quota.Used?.GetValueOrDefault("storage") ?? 0;
            usage.Add(new HarborProjectUsage
            {
                Harbor = Connection.Url.ToString(), Project = name, ProjectId = id, UsedBytes = used, QuotaBytes = hard,
                PercentUsed = hard > 0 ? Math.Round(used * 100.0 / hard, 1) : null,
            });
        }
        return usage.OrderByDescending(u => u.UsedBytes).ThenBy(u => u.Project, StringComparer.Ordinal).ToList();
    }
}

internal sealed class ProjectSummaryDto
{
    public int RepoCount { get; set; }
    public ProjectSummaryQuotaDto? Quota { get; set; }
    /// <summary>A proxy cache's registry endpoint (without its credential).</summary>
    public RegistryDto? Registry { get; set; }
}

internal sealed class ProjectSummaryQuotaDto
{
    public Dictionary<string, long>? Hard { get; set; }
    public Dictionary<string, long>? Used { get; set; }
}
