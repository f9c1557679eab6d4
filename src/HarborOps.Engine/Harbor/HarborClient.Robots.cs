using System.Security;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>What a new robot may do. Presets are least privilege for the job named.</summary>
public enum HarborRobotPreset
{
    /// <summary>repository:pull and artifact:read: a Kubernetes pull secret.</summary>
    PullOnly,
    /// <summary>Pull, push, tags, labels and scans: a CI pipeline that publishes images.</summary>
    Push,
}

/// <summary>A new robot: project level (exactly one project) or system level (any projects, "*" for all).</summary>
public sealed record HarborRobotRequest(string Name)
{
    /// <summary>"project" or "system".</summary>
    public string Level { get; init; } = "project";
    public IReadOnlyList<string> Projects { get; init; } = [];
    /// <summary>"resource:action" pairs on the projects, such as "repository:pull"; empty means the preset's.</summary>
    public IReadOnlyList<string> Permissions { get; init; } = [];
    public HarborRobotPreset Preset { get; init; } = HarborRobotPreset.PullOnly;
    /// <summary>System robots only: "resource:action" pairs on the system (namespace "/").</summary>
    public IReadOnlyList<string> SystemPermissions { get; init; } = [];
    /// <summary>Lifetime in days; -1 never expires.</summary>
    public long DurationDays { get; init; } = 90;
    public string? Description { get; init; }
}

/// <summary>Changes to a robot; null leaves a setting as it is.</summary>
public sealed record HarborRobotUpdate
{
    /// <summary>Make the robot expire this many days from now (Harbor counts duration from creation; the client converts).</summary>
    public int? ExtendDays { get; init; }
    public bool? NeverExpire { get; init; }
    public bool? Disabled { get; init; }
    public string? Description { get; init; }
}

public sealed partial class HarborClient
{
    public static readonly IReadOnlyList<string> PullOnlyPermissions = ["repository:pull", "artifact:read"];
    public static readonly IReadOnlyList<string> PushPermissions =
        ["repository:pull", "repository:push", "artifact:read", "tag:create", "tag:list", "artifact-label:create", "scan:create"];

    public async Task<HarborRobotCredential> CreateRobotAsync(HarborRobotRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = request.Name.Trim();
        if (!NamePattern.IsMatch(name) || name.Length > 255)
            throw new HarborException(HarborErrorIds.RobotNameInvalid, FailureKind.InvalidArgument,
                $"'{request.Name}' is not a valid robot name: use lower-case letters and digits separated by single '.', '_' or '-' (no '$' or '+': Harbor adds the prefix and project itself).",
                request.Name);
        var level = request.Level.Trim().ToLowerInvariant();
        if (level is not ("project" or "system"))
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, $"Robot level '{request.Level}' is neither project nor system.", request.Name);
        if (level == "project" && request.Projects.Count != 1)
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                $"A project robot belongs to exactly one project; {request.Projects.Count} were given. Use -Level System for a robot over several projects.", request.Name);
        if (request.DurationDays == 0 || request.DurationDays < -1)
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                $"A robot lives -1 (never expires) or 1 or more days; {request.DurationDays} is neither.", request.Name);
        var access = (request.Permissions.Count > 0 ? request.Permissions
            : request.Preset == HarborRobotPreset.Push ? PushPermissions : PullOnlyPermissions).Select(p => ParseAccess(p, request.Name)).ToList();
        var permissions = request.Projects.Select(p => new RobotPermissionDto { Kind = "project", Namespace = p, Access = access }).ToList();
        if (request.SystemPermissions.Count > 0)
        {
            if (level != "system")
                throw new HarborException(HarborErrorIds.RobotPermissionInvalid, FailureKind.InvalidArgument,
                    "System permissions need a system-level robot (-Level System).", request.Name);
            permissions.Insert(0, new RobotPermissionDto { Kind = "system", Namespace = "/", Access = request.SystemPermissions.Select(p => ParseAccess(p, request.Name)).ToList() });
        }
        if (permissions.Count == 0)
            throw new HarborException(HarborErrorIds.RobotPermissionInvalid, FailureKind.InvalidArgument,
                "The robot would have no permission: name at least one project (or '*' for all, system robots only).", request.Name);

        var body = new RobotCreateDto
        {
            Name = name, Description = request.Description, Level = level, Duration = request.DurationDays, Permissions = permissions,
        };
        var call = new HarborCall(HttpMethod.Post, "robots")
        {
            Body = body, Target = name, Description = $"creating robot '{name}'",
            ConflictId = HarborErrorIds.RobotNameConflict,
            ConflictHint = $"A robot named '{name}' already exists there; pick another name, or remove the old one with Remove-HarborRobot.",
            BadRequestId = HarborErrorIds.RobotPermissionInvalid,
            NotFoundId = HarborErrorIds.ProjectNotFound,
            NotFoundMessage = $"A project of robot '{name}' ({string.Join(", ", request.Projects)}) does not exist",
        };
        HarborResponse response;
        try
        {
            response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (HarborException ex) when (ex.StatusCode == 403)
        {
            throw new HarborException(HarborErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"'{Connection.UserName}' may not create robot '{name}' with these permissions ({ex.Message}). Project robots need a project admin; a robot caller can only grant what it holds itself.",
                name, ex, ex.StatusCode, ex.HarborErrorCode, ex.RequestId);
        }
        var created = response.Read<RobotCreatedDto>(call);
        LearnRobotNamePrefix(created.Name, level == "project" ? $"{request.Projects[0]}+{name}" : name);
        return new HarborRobotCredential
        {
            Harbor = Connection.Url.ToString(), Registry = Registry, UserName = created.Name, RobotId = created.Id,
            Secret = ToSecureString(created.Secret ?? ""), ExpiresAt = FromUnix(created.ExpiresAt),
        };
    }

    /// <summary>Project robots of a project, or the system robots when <paramref name="project"/> is null.</summary>
    public async Task<IReadOnlyList<HarborRobotInfo>> ListRobotsAsync(string? project, CancellationToken cancellationToken)
    {
        string query;
        if (project is null)
        {
            // A system robot's name is <prefix><name>: its short name needs the prefix, which only /configurations tells.
            await ReadRobotNamePrefixAsync(cancellationToken).ConfigureAwait(false);
            query = "Level=system";
        }
        else
        {
            var dto = await GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false);
            query = $"Level=project,ProjectID={dto.ProjectId}";
        }
        var robots = new List<HarborRobotInfo>();
        await foreach (var robot in ListAsync<RobotDto>(new HarborCall(HttpMethod.Get, $"robots?q={Query(query)}")
        { Target = project, Description = project is null ? "listing system robots" : $"listing the robots of project '{project}'" }, cancellationToken).ConfigureAwait(false))
            robots.Add(ToRobotInfo(robot));
        return robots.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>A robot by id, full name (robot$team+ci, or with this Harbor's robot name prefix) or short name within the
    /// project (or the system robots).</summary>
    public async Task<HarborRobotInfo> FindRobotAsync(string nameOrId, string? project, CancellationToken cancellationToken)
    {
        if (long.TryParse(nameOrId, out var id)) return ToRobotInfo(await GetRobotDtoAsync(id, cancellationToken).ConfigureAwait(false));
        // Names cannot hold '+', so one means a project robot's full name, whose project the prefix tells.
        HarborRobotName? parts = null;
        if (project is null && nameOrId.Contains('+'))
        {
            parts = await ParseRobotNameAsync(nameOrId, cancellationToken).ConfigureAwait(false);
            project = parts?.Project;
        }
        var robots = await ListRobotsAsync(project, cancellationToken).ConfigureAwait(false);
        var unknownPrefix = nameOrId.Contains('+') && parts is null && RobotNamePrefix is null
            ? $" Harbor's robot name prefix is unknown to '{Connection.UserName}' (only system admins may read it), so the project in '{nameOrId}' could not be told: give -Project, or Connect-Harbor -RobotNamePrefix."
            : "";
        return robots.FirstOrDefault(r => r.Name == nameOrId || r.ShortName == nameOrId)
            ?? throw new HarborException(HarborErrorIds.RobotNotFound, FailureKind.NotFound,
                $"No robot '{nameOrId}' among the {(project is null ? "system robots" : $"robots of project '{project}'")} on {Connection.Url}. Get-HarborRobot{(project is null ? "" : " -Project " + project)} lists them.{unknownPrefix}",
                nameOrId);
    }

    private async Task<RobotDto> GetRobotDtoAsync(long id, CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, $"robots/{id}")
        {
            Target = id, Description = $"reading robot {id}", NotFoundId = HarborErrorIds.RobotNotFound,
            NotFoundMessage = $"Robot {id} does not exist on {Connection.Url}",
        };
        return (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<RobotDto>(call);
    }

    /// <summary>PUT of the whole robot: Harbor wants the full prefixed name and the level unchanged, and counts
    /// duration from creation_time, so "N more days from today" becomes ceil(age in days) + N.</summary>
    public async Task<HarborRobotInfo> UpdateRobotAsync(long id, HarborRobotUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        var robot = await GetRobotDtoAsync(id, cancellationToken).ConfigureAwait(false);
        if (update.ExtendDays is { } days)
        {
            if (days < 1) throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, $"-ExtendDays must be 1 or more; {days} is not.", robot.Name);
            var age = DateTimeOffset.UtcNow - (robot.CreationTime ?? DateTimeOffset.UtcNow);
            robot.Duration = (long)Math.Ceiling(Math.Max(0, age.TotalDays)) + days;
        }
        if (update.NeverExpire == true) robot.Duration = -1;
        // Omitting disable re-enables the robot, so always send the intended state.
        if (update.Disabled is { } disabled) robot.Disable = disabled;
        if (update.Description is not null) robot.Description = update.Description;
        await SendAsync(new HarborCall(HttpMethod.Put, $"robots/{id}")
        {
            Body = robot, Target = robot.Name, Description = $"updating robot '{robot.Name}'", NotFoundId = HarborErrorIds.RobotNotFound,
        }, cancellationToken).ConfigureAwait(false);
        return ToRobotInfo(await GetRobotDtoAsync(id, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>PATCH with no secret: Harbor makes a new one and returns it. The old secret stops working at once and the
    /// expiry does not move.</summary>
    public async Task<HarborRobotCredential> RefreshRobotSecretAsync(long id, CancellationToken cancellationToken)
    {
        var robot = await GetRobotDtoAsync(id, cancellationToken).ConfigureAwait(false);
        var call = new HarborCall(HttpMethod.Patch, $"robots/{id}")
        {
            Body = new RobotSecDto(), Target = robot.Name, Description = $"refreshing the secret of robot '{robot.Name}'",
            NotFoundId = HarborErrorIds.RobotNotFound,
        };
        var secret = (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<RobotSecDto>(call);
        if (string.IsNullOrEmpty(secret.Secret))
            throw new HarborException(HarborErrorIds.ResponseInvalid, FailureKind.InvalidData,
                $"Harbor refreshed the secret of robot '{robot.Name}' but returned none; the old secret no longer works. Refresh it again to get a usable one.", robot.Name);
        return new HarborRobotCredential
        {
            Harbor = Connection.Url.ToString(), Registry = Registry, UserName = robot.Name, RobotId = robot.Id,
            Secret = ToSecureString(secret.Secret), ExpiresAt = FromUnix(robot.ExpiresAt),
        };
    }

    public async Task DeleteRobotAsync(long id, CancellationToken cancellationToken) =>
        await SendAsync(new HarborCall(HttpMethod.Delete, $"robots/{id}")
        {
            Target = id, Description = $"deleting robot {id}", NotFoundId = HarborErrorIds.RobotNotFound,
            NotFoundMessage = $"Robot {id} does not exist on {Connection.Url}",
        }, cancellationToken).ConfigureAwait(false);

    internal HarborRobotInfo ToRobotInfo(RobotDto robot)
    {
        LearnRobotNamePrefix(robot);
        var shortName = ShortRobotName(robot.Name);
        var project = robot.Level == "project" ? robot.Permissions?.FirstOrDefault()?.Namespace ?? (RobotNamePrefix is { } prefix ? HarborRobotName.Split(robot.Name, prefix)?.Project : null) : null;
        var expires = FromUnix(robot.ExpiresAt);
        var now = DateTimeOffset.UtcNow;
        return new HarborRobotInfo
        {
            Harbor = Connection.Url.ToString(), Id = robot.Id, Name = robot.Name, ShortName = shortName,
            Level = robot.Level, Project = project, Description = robot.Description, Disabled = robot.Disable, DurationDays = robot.Duration ?? -1,
            CreationTime = robot.CreationTime, ExpiresAt = expires,
            DaysLeft = expires is null ? null : (int)Math.Floor((expires.Value - now).TotalDays),
            Expired = expires is not null && expires <= now,
            Permissions = (robot.Permissions ?? []).SelectMany(p => p.Access.Select(a => $"{p.Namespace}:{a.Resource}:{a.Action}")).ToArray(),
        };
    }

    private static AccessDto ParseAccess(string permission, string robot)
    {
        var parts = permission.Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw new HarborException(HarborErrorIds.RobotPermissionInvalid, FailureKind.InvalidArgument,
                $"Permission '{permission}' is not 'resource:action' (such as repository:pull or artifact:read).", robot);
        return new AccessDto { Resource = parts[0], Action = parts[1] };
    }

    private static DateTimeOffset? FromUnix(long seconds) => seconds <= 0 ? null : DateTimeOffset.FromUnixTimeSeconds(seconds);

    internal static SecureString ToSecureString(string value)
    {
        var secure = new SecureString();
        foreach (var c in value) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }
}
