using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

public sealed partial class HarborEmulator
{
    private object RobotJson(LabHarborRobot robot) => new
    {
        Id = robot.Id, Name = _robotNamePrefix + robot.StoredName, Description = robot.Description, Level = robot.Level, Duration = robot.Duration,
        Editable = true, Disable = robot.Disabled, ExpiresAt = robot.ExpiresAt,
        Permissions = robot.Permissions.Select(p => new
        {
            Kind = p.Kind, Namespace = p.Namespace,
            Access = p.Access.Select(a => new { Resource = a.Resource, Action = a.Action, Effect = a.Effect }).ToArray(),
        }).ToArray(),
        CreatorType = robot.CreatorType, CreatorRef = robot.CreatorRef, CreationTime = Time(robot.Created), UpdateTime = Time(robot.Updated),
    };

    /// <summary>What may manage this robot: system admins; for project robots also project admins (robot:... on the project);
    /// robots only with the permission, and never update (the catalogue does not offer robot:update).</summary>
    private bool CanManageRobot(Identity who, LabHarborRobot robot, string action)
    {
        if (who.SysAdmin) return true;
        if (who.Robot is not null && action == "update") return false;
        if (robot.Level == "system") return Can(who, null, "robot", action);
        var project = _projects.FirstOrDefault(p => p.Id == robot.ProjectId);
        return project is not null && (who.User is not null ? RoleOf(who, project) == 1 : Can(who, project, "robot", action));
    }

    /// <summary>GET /robots: q=Level=system (or none) lists system robots; q=Level=project,ProjectID=n a project's; name= exact, name=~ fuzzy.</summary>
    private Task ListRobotsAsync(ApiCall c)
    {
        var terms = (c.Query("q") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.Split('=', 2)).Where(t => t.Length == 2).ToDictionary(t => t[0], t => t[1], StringComparer.Ordinal);
        var level = terms.GetValueOrDefault("Level", "system");
        int projectId = 0;
        if (level == "project" && (!terms.TryGetValue("ProjectID", out var pid) || !int.TryParse(pid, out projectId) || projectId < 1))
            return FailAsync(c, 400, "BAD_REQUEST", "must with project ID when to query project robots");
        lock (_gate)
        {
            if (level == "project")
            {
                var project = _projects.FirstOrDefault(p => p.Id == projectId);
                if (project is null) return FailAsync(c, 404, "NOT_FOUND", $"project {projectId} not found");
                if (!(c.Who.SysAdmin || RoleOf(c.Who, project) is not null || Can(c.Who, project, "robot", "list")))
                    return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden");
            }
            else if (!Can(c.Who, null, "robot", "list"))
            {
                return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden");
            }
            var robots = _robots.Where(r => r.Level == level && r.ProjectId == (level == "project" ? projectId : 0));
            if (terms.TryGetValue("name", out var name))
                robots = name.StartsWith('~') ? robots.Where(r => r.StoredName.Contains(name[1..], StringComparison.Ordinal)) : robots.Where(r => r.StoredName == name);
            return ReplyPagedAsync(c, robots.OrderBy(r => r.Id).Select(RobotJson).ToList());
        }
    }

    private Task GetRobotAsync(ApiCall c, long id)
    {
        lock (_gate)
        {
            var robot = _robots.FirstOrDefault(r => r.Id == id);
            if (robot is null) return FailAsync(c, 404, "NOT_FOUND", $"robot {id} not found");
            if (!CanManageRobot(c.Who, robot, "read") && !(robot.ProjectId != 0 && _projects.FirstOrDefault(p => p.Id == robot.ProjectId) is { } project && RoleOf(c.Who, project) is not null))
                return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden");
            return ReplyAsync(c, 200, RobotJson(robot));
        }
    }

    /// <summary>Validates permissions the way handler/robot.go does; returns the problem, the project of a project robot, and whether it is a 403.</summary>
    private (string? Problem, LabHarborProject? Project, bool Forbidden, List<LabRobotPermission> Permissions) ReadPermissions(Identity who, string level, JsonNode? node)
    {
        var permissions = new List<LabRobotPermission>();
        if (node is not JsonArray array || array.Count == 0) return ("bad request permission: empty permission", null, false, permissions);
        foreach (var item in array)
        {
            var kind = Str(item, "kind") ?? "";
            var ns = Str(item, "namespace") ?? "";
            if (item?["access"] is not JsonArray access || access.Count == 0) return ("bad request permission: empty access", null, false, permissions);
            var accesses = new List<LabRobotAccess>();
            foreach (var a in access)
            {
                var resource = Str(a, "resource") ?? "";
                var action = Str(a, "action") ?? "";
                var effect = Str(a, "effect") is { Length: > 0 } e ? e : "allow";
                var catalogue = kind == "system" ? SystemCatalogue : kind == "project" ? ProjectCatalogue : null;
                if (catalogue is null || !catalogue.TryGetValue(resource, out var actions) || !actions.Contains(action) || effect is not ("allow" or "deny"))
                    return ($"bad request permission: {resource}:{action}", null, false, permissions);
                accesses.Add(new LabRobotAccess(resource, action, effect));
            }
            if (kind == "system" && ns != "/") return ("bad request permission: system permissions need namespace /", null, false, permissions);
            permissions.Add(new LabRobotPermission(kind, ns, accesses));
        }
        LabHarborProject? project = null;
        if (level == "project")
        {
            if (permissions.Count != 1 || permissions[0].Kind != "project") return ("bad request permission: a project robot has exactly one project permission", null, false, permissions);
            project = _projects.FirstOrDefault(p => p.Name == permissions[0].Namespace);
            if (project is null) return ($"project {permissions[0].Namespace} not found", null, false, permissions);
        }
        else
        {
            foreach (var p in permissions.Where(p => p.Kind == "project" && p.Namespace != "*"))
                if (_projects.All(x => x.Name != p.Namespace)) return ($"project {p.Namespace} not found", null, false, permissions);
        }
        // A robot caller may only hand out what it holds itself (isValidPermissionScope).
        if (who.Robot is { } caller)
        {
            foreach (var permission in permissions)
                foreach (var access in permission.Access)
                {
                    var target = permission.Kind == "project" ? _projects.FirstOrDefault(x => x.Name == permission.Namespace) : null;
                    var held = caller.Permissions.Any(p => p.Kind == permission.Kind && (p.Namespace == permission.Namespace || p.Namespace == "*")
                        && p.Access.Any(a => a.Resource == access.Resource && a.Action == access.Action));
                    if (!held) return ($"the robot cannot grant {access.Resource}:{access.Action} that it does not hold", target, true, permissions);
                }
        }
        return (null, project, false, permissions);
    }

    private Task CreateRobotAsync(ApiCall c)
    {
        if (c.Who.IsAnonymous) return FailAsync(c, 401, "UNAUTHORIZED", "unauthorized");
        var body = ParseBody(c);
        var name = Str(body, "name") ?? "";
        var level = Str(body, "level") ?? "";
        if (level is not ("system" or "project")) return FailAsync(c, 400, "BAD_REQUEST", $"bad request level: {level}");
        if (!NamePattern.IsMatch(name) || name.Length > 255) return FailAsync(c, 400, "BAD_REQUEST", $"robot name is not in lower case or contains illegal characters: {name}");
        var duration = body?["duration"] is JsonValue d && d.TryGetValue<long>(out var days) ? days : 0;
        if (duration != -1 && (duration < 1 || duration > 2147483646)) return FailAsync(c, 400, "BAD_REQUEST", "bad request duration: must be -1 or a positive number of days");
        lock (_gate)
        {
            var (problem, project, forbidden, permissions) = ReadPermissions(c.Who, level, body?["permissions"]);
            if (forbidden) return FailAsync(c, 403, "DENIED", problem!);
            if (problem is not null) return FailAsync(c, problem.StartsWith("project ", StringComparison.Ordinal) ? 404 : 400, problem.StartsWith("project ", StringComparison.Ordinal) ? "NOT_FOUND" : "BAD_REQUEST", problem);
            var allowed = level == "system" ? c.Who.SysAdmin || Can(c.Who, null, "robot", "create")
                : c.Who.SysAdmin || (c.Who.User is not null ? RoleOf(c.Who, project!) == 1 : Can(c.Who, project, "robot", "create"));
            if (!allowed) return FailAsync(c, 403, "FORBIDDEN", "forbidden");
            var stored = level == "project" ? $"{project!.Name}+{name}" : name;
            if (_robots.Any(r => r.StoredName == stored && r.ProjectId == (project?.Id ?? 0)))
                return FailAsync(c, 409, "CONFLICT", $"robot account {project?.Id ?? 0}:{stored} already exists");
            // "disable" and "secret" are ignored on create (harbor#16884).
            var robot = new LabHarborRobot
            {
                Id = NextId(), StoredName = stored, Level = level, ProjectId = project?.Id ?? 0, Description = Str(body, "description") ?? "",
                Duration = duration, Permissions = permissions,
                CreatorType = c.Who.Robot is null ? "local" : "robot", CreatorRef = c.Who.User?.Id ?? (int)(c.Who.Robot?.Id ?? 0),
            };
            var secret = NewSecret();
            robot.SetSecret(secret);
            _robots.Add(robot);
            return ReplyAsync(c, 201, new { Id = robot.Id, Name = _robotNamePrefix + stored, Secret = secret, CreationTime = Time(robot.Created), ExpiresAt = robot.ExpiresAt },
                new Dictionary<string, string> { ["Location"] = $"/api/v2.0/robots/{robot.Id}" });
        }
    }

    private static string NewSecret()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        // 32 random alphanumerics, with at least one of each class so it also passes Harbor's own secret rule.
        while (true)
        {
            var secret = new string(Enumerable.Range(0, 32).Select(_ => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]).ToArray());
            if (SecretRule.IsMatch(secret)) return secret;
        }
    }

    private Task UpdateRobotAsync(ApiCall c, long id)
    {
        var body = ParseBody(c);
        lock (_gate)
        {
            var robot = _robots.FirstOrDefault(r => r.Id == id);
            if (robot is null) return FailAsync(c, 404, "NOT_FOUND", $"robot {id} not found");
            if (!CanManageRobot(c.Who, robot, "update")) return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden");
            if (Str(body, "name") != _robotNamePrefix + robot.StoredName || Str(body, "level") != robot.Level)
                return FailAsync(c, 400, "BAD_REQUEST", "cannot update the level or name of robot");
            var (problem, project, forbidden, permissions) = ReadPermissions(c.Who, robot.Level, body?["permissions"]);
            if (problem is not null) return FailAsync(c, forbidden ? 403 : 400, forbidden ? "DENIED" : "BAD_REQUEST", problem);
            if (robot.Level == "project" && project!.Id != robot.ProjectId) return FailAsync(c, 400, "BAD_REQUEST", "cannot update the project id of robot");
            var duration = body?["duration"] is JsonValue d && d.TryGetValue<long>(out var days) ? days : robot.Duration;
            if (duration != -1 && (duration < 1 || duration > 2147483646)) return FailAsync(c, 400, "BAD_REQUEST", "bad request duration");
            robot.Duration = duration;
            robot.Permissions = permissions;
            robot.Description = Str(body, "description") ?? "";
            // An omitted "disable" re-enables the robot, as in Harbor.
            robot.Disabled = body?["disable"] is JsonValue dis && dis.TryGetValue<bool>(out var disabled) && disabled;
            robot.Updated = DateTimeOffset.UtcNow;
            return ReplyAsync(c, 200, null);
        }
    }

    private Task RefreshRobotAsync(ApiCall c, long id)
    {
        var body = ParseBody(c);
        lock (_gate)
        {
            var robot = _robots.FirstOrDefault(r => r.Id == id);
            if (robot is null) return FailAsync(c, 404, "NOT_FOUND", $"robot {id} not found");
            if (!CanManageRobot(c.Who, robot, "update")) return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden");
            var given = Str(body, "secret");
            if (string.IsNullOrEmpty(given))
            {
                var secret = NewSecret();
                robot.SetSecret(secret);
                robot.Updated = DateTimeOffset.UtcNow;
                return ReplyAsync(c, 200, new { Secret = secret });
            }
            if (!SecretRule.IsMatch(given))
                return FailAsync(c, 400, "BAD_REQUEST", "the secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number");
            robot.SetSecret(given);
            robot.Updated = DateTimeOffset.UtcNow;
            return ReplyAsync(c, 200, new Dictionary<string, string>());
        }
    }

    private Task DeleteRobotAsync(ApiCall c, long id)
    {
        lock (_gate)
        {
            var robot = _robots.FirstOrDefault(r => r.Id == id);
            if (robot is null) return FailAsync(c, 404, "NOT_FOUND", $"robot {id} not found");
            if (!CanManageRobot(c.Who, robot, "delete")) return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden");
            _robots.Remove(robot);
            return ReplyAsync(c, 200, null);
        }
    }
}
