using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>
/// Harbor's system settings the lab models, as GET/PUT /api/v2.0/configurations serve them. Per Harbor's
/// src/server/v2.0/handler/config.go, both require system access to "configuration" (RequireSystemAccess: 401 for
/// anonymous, 403 otherwise); only system admins hold it, as src/common/rbac/system/policies.go grants it to them and
/// the robot permission catalogue (src/common/rbac/const.go PoliciesMap) does not offer it. The response is
/// ConfigurationsResponse: every item is {"value": ..., "editable": ...} (src/lib/config/models/model.go Value).
/// </summary>
public sealed partial class HarborEmulator
{
    private string _robotNamePrefix;

    /// <summary>The robot_name_prefix in force: what v2 robots are named with and logged in by (src/lib/config/userconfig.go RobotPrefix).</summary>
    public string RobotNamePrefix { get { lock (_gate) return _robotNamePrefix; } }

    /// <summary>Changes robot_name_prefix as an admin would in Harbor's settings. Harbor stores robots without it, so
    /// every existing robot is renamed at once (src/controller/robot/controller.go populate adds it on every read).</summary>
    public void SetRobotNamePrefix(string prefix)
    {
        var valid = ValidRobotNamePrefix(prefix) ?? throw new ArgumentException("robot_name_prefix cannot be empty or contain only spaces", nameof(prefix));
        lock (_gate) _robotNamePrefix = valid;
    }

    /// <summary>src/pkg/config/manager.go ValidateCfg: the value is trimmed and must not be empty.</summary>
    private static string? ValidRobotNamePrefix(string? prefix) => prefix?.Trim() is { Length: > 0 } trimmed ? trimmed : null;

    /// <summary>The name a caller is known by: a user's name, a robot's full (prefixed) name.</summary>
    private string NameOf(Identity identity) =>
        identity.User?.Name ?? (identity.Robot is null ? "anonymous" : RobotNamePrefix + identity.Robot.StoredName);

    private Task? RouteConfigurationsAsync(ApiCall c) =>
        c.Is("GET", "configurations") ? GetConfigurationsAsync(c)
        : c.Is("PUT", "configurations") ? UpdateConfigurationsAsync(c)
        : null;

    private Task GetConfigurationsAsync(ApiCall c)
    {
        if (!c.Who.SysAdmin) return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", c.Who.IsAnonymous ? "unauthorized" : NameOf(c.Who));
        static object Item(object value) => new { Value = value, Editable = true };
        var settings = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["auth_mode"] = Item(AuthMode), // the emulator's current auth mode, as /systeminfo shows it
            ["project_creation_restriction"] = Item("everyone"),
            ["read_only"] = Item(false),
            ["robot_name_prefix"] = Item(RobotNamePrefix),
            ["robot_token_duration"] = Item(30),
            ["self_registration"] = Item(false),
            ["token_expiration"] = Item((int)_options.TokenLifetime.TotalMinutes),
        };
        return ReplyAsync(c, 200, settings);
    }

    /// <summary>PUT takes a subset of the settings; the lab changes robot_name_prefix only and refuses what it does not model.</summary>
    private Task UpdateConfigurationsAsync(ApiCall c)
    {
        if (!c.Who.SysAdmin) return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", c.Who.IsAnonymous ? "unauthorized" : NameOf(c.Who));
        if (ParseBody(c) is not JsonObject body || body.Count == 0) return FailAsync(c, 400, "BAD_REQUEST", "Missing configure item");
        foreach (var (key, _) in body)
            if (key != "robot_name_prefix") return FailAsync(c, 400, "BAD_REQUEST", $"the lab does not emulate changing configuration item {key}");
        if (ValidRobotNamePrefix(Str(body, "robot_name_prefix")) is not { } prefix)
            return FailAsync(c, 400, "BAD_REQUEST", "robot_name_prefix cannot be empty or contain only spaces");
        lock (_gate) _robotNamePrefix = prefix;
        return ReplyAsync(c, 200, null);
    }
}
