using System.Globalization;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>Harbor's auth_mode values (goharbor/harbor src/common/const.go: DBAuth, LDAPAuth, OIDCAuth).</summary>
public static class HarborAuthModes
{
    public const string Database = "db_auth";
    public const string Ldap = "ldap_auth";
    public const string Oidc = "oidc_auth";

    public static bool IsKnown(string mode) => mode is Database or Ldap or Oidc;
}

// Project members as goharbor/harbor onboards them. The rules, from Harbor's source:
// - src/controller/member/controller.go Create: a member_user by user_id or username, a member_group by id, by
//   ldap_group_dn or by group_name. A group by DN or by name that is not in Harbor's user group table yet goes through
//   auth.SearchAndOnBoardGroup, i.e. through the authenticator of the configured auth mode. Then 409 "The project member
//   specified already exist" for a duplicate, and only then 400 for a role outside 1..5.
// - src/core/auth/authenticator.go: DefaultAuthenticateHelper.SearchGroup answers NotFoundError "<key> not found" (404);
//   db_auth (src/core/auth/db/db.go) does not override it, so the database mode onboards no group.
// - src/core/auth/oidc/oidc.go: SearchGroup skips the search and OnBoardGroup creates an OIDC group (group_type 3) of any
//   name.
// - src/core/auth/ldap/ldap.go: SearchGroup parses the key as a DN (auth.ErrInvalidLDAPGroupDN, a plain error, so
//   Harbor's SendError answers 500 "internal server error"), searches the directory (404 "failed to searh ldap group with
//   groupDN:<dn>", Harbor's spelling) and OnBoardGroup stores an LDAP group (group_type 1) named after the directory entry
//   or after group_name when the request gives one; src/pkg/usergroup/manager.go lower-cases the stored DN.
public sealed partial class HarborEmulator
{
    private readonly Dictionary<string, string> _ldapGroups = new(StringComparer.OrdinalIgnoreCase);
    private string _authMode = HarborAuthModes.Database;

    /// <summary>The auth mode /systeminfo reports and member onboarding follows.</summary>
    public string AuthMode { get { lock (_gate) return _authMode; } }

    /// <summary>Switches the auth mode, as an admin would in Harbor's configuration (groups already onboarded stay).</summary>
    public void SetAuthMode(string mode)
    {
        if (!HarborAuthModes.IsKnown(mode)) throw new ArgumentException($"The emulator knows the auth modes db_auth, oidc_auth and ldap_auth, not '{mode}'.", nameof(mode));
        lock (_gate) _authMode = mode;
    }

    /// <summary>Adds a group to the emulated LDAP directory that ldap_auth searches; its name defaults to the DN's first value.</summary>
    public void AddLdapGroup(string dn, string? name = null)
    {
        if (!LooksLikeDn(dn)) throw new ArgumentException($"'{dn}' is not an LDAP DN.", nameof(dn));
        lock (_gate) _ldapGroups[dn] = string.IsNullOrEmpty(name) ? FirstDnValue(dn) : name;
    }

    /// <summary>The lab control calls of this topic (POST /_lab/auth-mode, /_lab/ldap-groups); false when the path is not one.</summary>
    private bool TryControlMembers(string path, JsonNode? body)
    {
        switch (path)
        {
            case "auth-mode":
                SetAuthMode(Str(body, "auth_mode") ?? "");
                return true;
            case "ldap-groups":
                AddLdapGroup(Str(body, "dn") ?? "", Str(body, "name"));
                return true;
            default:
                return false;
        }
    }

    private static string RoleName(int role) => role switch { 1 => "projectAdmin", 2 => "developer", 3 => "guest", 4 => "maintainer", 5 => "limitedGuest", _ => "unknown" };

    private static object MemberJson(LabHarborMember m) => new
    {
        Id = m.Id, ProjectId = m.ProjectId, EntityName = m.EntityName, RoleName = RoleName(m.RoleId), RoleId = m.RoleId, EntityId = m.EntityId, EntityType = m.EntityType,
    };

    private Task ListMembersAsync(ApiCall c, LabHarborProject project)
    {
        if (!Can(c.Who, project, "member", "list")) return FailAsync(c, 403, "FORBIDDEN", "forbidden");
        var filter = c.Query("entityname");
        List<object> members;
        lock (_gate) members = _members.Where(m => m.ProjectId == project.Id && (filter is null || m.EntityName.Contains(filter, StringComparison.Ordinal)))
            .OrderBy(m => m.Id).Select(MemberJson).ToList();
        return ReplyPagedAsync(c, members);
    }

    private Task GetMemberAsync(ApiCall c, LabHarborProject project, string id)
    {
        if (!Can(c.Who, project, "member", "read")) return FailAsync(c, 403, "FORBIDDEN", "forbidden");
        lock (_gate)
        {
            var member = _members.FirstOrDefault(m => m.ProjectId == project.Id && m.Id.ToString(CultureInfo.InvariantCulture) == id);
            return member is null ? FailAsync(c, 404, "NOT_FOUND", $"member {id} not found") : ReplyAsync(c, 200, MemberJson(member));
        }
    }

    /// <summary>Why a member could not be resolved: Harbor's status, error code and message.</summary>
    private sealed record MemberFailure(int Status, string Code, string Message)
    {
        public static MemberFailure BadRequest(string message) => new(400, "BAD_REQUEST", message);
        public static MemberFailure NotFound(string message) => new(404, "NOT_FOUND", message);
        // A plain Go error (not a lib/errors one) reaches SendError as a 500 whose cause Harbor only logs.
        public static readonly MemberFailure Internal = new(500, "UNKNOWN", "internal server error");
    }

    private Task AddMemberAsync(ApiCall c, LabHarborProject project)
    {
        if (!Can(c.Who, project, "member", "create")) return FailAsync(c, 403, "FORBIDDEN", "forbidden");
        var body = ParseBody(c);
        var role = body?["role_id"] is JsonValue r && r.TryGetValue<int>(out var roleId) ? roleId : 0;
        lock (_gate)
        {
            var user = body?["member_user"] as JsonObject;
            var group = body?["member_group"] as JsonObject;
            var userId = Int(user, "user_id");
            var userName = Str(user, "username");
            var groupId = Int(group, "id");
            var groupName = Str(group, "group_name");
            var dn = Str(group, "ldap_group_dn");
            if (userId <= 0 && string.IsNullOrEmpty(userName) && groupId <= 0 && string.IsNullOrEmpty(groupName) && string.IsNullOrEmpty(dn))
                return FailAsync(c, 400, "BAD_REQUEST", "at least one of member_user or member_group must be provided");

            // controller.go's order: user by id, group by id, user by name, group by DN, group by name.
            var (entityId, type, name, failure) =
                userId > 0 ? UserById(userId)
                : groupId > 0 ? GroupById(groupId)
                : !string.IsNullOrEmpty(userName) ? UserByName(userName)
                : !string.IsNullOrEmpty(dn) ? GroupByDn(dn, groupName)
                : GroupByName(groupName!, Int(group, "group_type"));
            if (failure is not null) return FailAsync(c, failure.Status, failure.Code, failure.Message);

            if (_members.Any(m => m.ProjectId == project.Id && m.EntityType == type && m.EntityId == entityId))
                return FailAsync(c, 409, "CONFLICT", "The project member specified already exist");
            if (role is < 1 or > 5) return FailAsync(c, 400, "BAD_REQUEST", "Failed to update project member, role is not in 1,2,3");
            var member = new LabHarborMember { Id = NextId(), ProjectId = project.Id, EntityId = entityId, EntityType = type, EntityName = name, RoleId = role };
            _members.Add(member);
            return ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/projects/{project.Id}/members/{member.Id}" });
        }
    }

    private (int Id, string Type, string Name, MemberFailure? Failure) UserById(int id) =>
        _users.FirstOrDefault(u => u.Id == id) is { } user ? (user.Id, "u", user.Name, null) : (0, "u", "", MemberFailure.BadRequest($"User {id} not found"));

    private (int Id, string Type, string Name, MemberFailure? Failure) GroupById(int id) =>
        _groups.FirstOrDefault(g => g.Id == id) is { } group ? (group.Id, "g", group.Name, null) : (0, "g", "", MemberFailure.BadRequest($"Group {id} not found"));

    /// <summary>A user Harbor does not know is searched through the auth mode; the emulator's LDAP and OIDC know no more users.</summary>
    private (int Id, string Type, string Name, MemberFailure? Failure) UserByName(string name)
    {
        if (_users.FirstOrDefault(u => u.Name == name) is { } user) return (user.Id, "u", user.Name, null);
        var message = _authMode switch
        {
            HarborAuthModes.Database => $"user {name} is not found",        // db.go SearchUser finds none: SearchAndOnBoardUser's 404
            HarborAuthModes.Ldap => $"no user found: {name}",               // ldap.go SearchUser
            _ => $"{name} not found",                                        // DefaultAuthenticateHelper.SearchUser
        };
        return (0, "u", "", MemberFailure.NotFound(message));
    }

    private (int Id, string Type, string Name, MemberFailure? Failure) GroupByDn(string dn, string? altName)
    {
        if (_groups.FirstOrDefault(g => g.Type == 1 && string.Equals(g.LdapDn, dn, StringComparison.OrdinalIgnoreCase)) is { } known)
            return (known.Id, "g", known.Name, null);
        return SearchAndOnboardGroup(dn, altName);
    }

    private (int Id, string Type, string Name, MemberFailure? Failure) GroupByName(string name, int type)
    {
        // "all group type can be added to project member by name": an onboarded group of that name and type is used as is.
        if (_groups.FirstOrDefault(g => g.Name == name && g.Type == type) is { } known) return (known.Id, "g", known.Name, null);
        return SearchAndOnboardGroup(name, null);
    }

    /// <summary>auth.SearchAndOnBoardGroup: the configured mode's authenticator searches the key and onboards what it finds.</summary>
    private (int Id, string Type, string Name, MemberFailure? Failure) SearchAndOnboardGroup(string key, string? altName)
    {
        switch (_authMode)
        {
            case HarborAuthModes.Oidc:
                return (Onboard(key, 3, null).Id, "g", key, null);
            case HarborAuthModes.Ldap:
                if (!LooksLikeDn(key)) return (0, "g", "", MemberFailure.Internal);
                if (!_ldapGroups.TryGetValue(key, out var directoryName))
                    return (0, "g", "", MemberFailure.NotFound($"failed to searh ldap group with groupDN:{key}"));
                var group = Onboard(string.IsNullOrEmpty(altName) ? directoryName : altName, 1, key.ToLowerInvariant());
                return (group.Id, "g", group.Name, null);
            default:
                return (0, "g", "", MemberFailure.NotFound($"{key} not found"));
        }
    }

    /// <summary>usergroup.Manager.Onboard: an existing group of that name and type (and DN for LDAP) is reused.</summary>
    private LabHarborGroup Onboard(string name, int type, string? dn)
    {
        var existing = _groups.FirstOrDefault(g => g.Name == name && g.Type == type);
        if (existing is not null && existing.LdapDn == dn) return existing;
        // manager.go onBoardLdapUserGroup: a name another DN holds falls back to the DN as the name.
        var group = new LabHarborGroup { Id = NextId(), Name = existing is null ? name : dn!, Type = type, LdapDn = dn };
        _groups.Add(group);
        return group;
    }

    /// <summary>What go-ldap's ParseDN accepts, in the small: attribute=value pairs separated by unescaped commas or pluses.</summary>
    private static bool LooksLikeDn(string text) =>
        !string.IsNullOrWhiteSpace(text) && SplitDn(text).All(part => part.IndexOf('=') is var eq && eq > 0 && part[..eq].Trim().Length > 0);

    private static string FirstDnValue(string dn)
    {
        var first = SplitDn(dn)[0];
        return first[(first.IndexOf('=') + 1)..].Trim();
    }

    private static List<string> SplitDn(string dn)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < dn.Length; i++)
        {
            if (dn[i] == '\\') i++;
            else if (dn[i] is ',' or '+') { parts.Add(dn[start..i]); start = i + 1; }
        }
        parts.Add(dn[start..]);
        return parts;
    }

    private static int Int(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<int>(out var i) ? i : 0;

    private Task UpdateMemberAsync(ApiCall c, LabHarborProject project, string id)
    {
        if (!Can(c.Who, project, "member", "update")) return FailAsync(c, 403, "FORBIDDEN", "forbidden");
        var body = ParseBody(c);
        // RoleRequest: role_id only; Harbor answers 400 for a role outside 1..5.
        var role = body?["role_id"] is JsonValue r && r.TryGetValue<int>(out var roleId) ? roleId : 0;
        if (role is < 1 or > 5) return FailAsync(c, 400, "BAD_REQUEST", $"invalid role_id {role}");
        lock (_gate)
        {
            var member = _members.FirstOrDefault(m => m.ProjectId == project.Id && m.Id.ToString(CultureInfo.InvariantCulture) == id);
            if (member is null) return FailAsync(c, 404, "NOT_FOUND", $"member {id} not found");
            member.RoleId = role;
            return ReplyAsync(c, 200, null);
        }
    }

    private Task DeleteMemberAsync(ApiCall c, LabHarborProject project, string id)
    {
        if (!Can(c.Who, project, "member", "delete")) return FailAsync(c, 403, "FORBIDDEN", "forbidden");
        lock (_gate)
        {
            var removed = _members.RemoveAll(m => m.ProjectId == project.Id && m.Id.ToString(CultureInfo.InvariantCulture) == id);
            return removed == 0 ? FailAsync(c, 404, "NOT_FOUND", $"member {id} not found") : ReplyAsync(c, 200, null);
        }
    }
}
