using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>Harbor's project roles (role_id on the wire).</summary>
public enum HarborProjectRole
{
    ProjectAdmin = 1,
    Developer = 2,
    Guest = 3,
    Maintainer = 4,
    LimitedGuest = 5,
}

/// <summary>Harbor's user group kinds (group_type on the wire).</summary>
public enum HarborGroupType
{
    Ldap = 1,
    Http = 2,
    Oidc = 3,
}

/// <summary>A new member: a user by name, or a group by name and type (LDAP groups may be given by DN instead).</summary>
public sealed record HarborMemberRequest(HarborProjectRole Role)
{
    public string? UserName { get; init; }
    public string? GroupName { get; init; }
    public HarborGroupType GroupType { get; init; } = HarborGroupType.Oidc;
    public string? LdapGroupDn { get; init; }
}

public sealed partial class HarborClient
{
    // Read once per client (one cmdlet run): a sync adding many groups asks Harbor for its mode once.
    private string? _authMode;

    /// <summary>Harbor's auth_mode (db_auth, ldap_auth, oidc_auth, http_auth, uaa_auth) from GET /systeminfo, read once per client.</summary>
    public async Task<string> GetAuthModeAsync(CancellationToken cancellationToken)
    {
        if (_authMode is { } known) return known;
        var call = new HarborCall(HttpMethod.Get, "systeminfo") { Description = "reading Harbor's auth mode" };
        var info = (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<GeneralInfoDto>(call);
        return _authMode = info.AuthMode ?? "";
    }

    public async Task<IReadOnlyList<HarborProjectMemberInfo>> ListMembersAsync(string project, CancellationToken cancellationToken)
    {
        var members = new List<HarborProjectMemberInfo>();
        await foreach (var member in ListAsync<ProjectMemberEntityDto>(new HarborCall(HttpMethod.Get, $"projects/{ProjectSegment(project)}/members")
        {
            ProjectByName = true, Target = project, Description = $"listing the members of project '{project}'", NotFoundId = HarborErrorIds.ProjectNotFound,
            NotFoundMessage = $"Project '{project}' does not exist on {Connection.Url}",
        }, cancellationToken).ConfigureAwait(false))
        {
            members.Add(ToMemberInfo(project, member));
        }
        return members.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
    }

    public async Task<HarborProjectMemberInfo> AddMemberAsync(string project, HarborMemberRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var isUser = request.UserName is not null;
        if (isUser == (request.GroupName is not null || request.LdapGroupDn is not null))
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, "Name either a user or a group, not both and not neither.", project);
        // Harbor onboards a group only through its auth mode's authenticator: refuse what it cannot take before writing.
        if (!isUser) request = HarborGroupOnboarding.ForAuthMode(request, await GetAuthModeAsync(cancellationToken).ConfigureAwait(false), Connection.Url);
        var who = isUser ? $"user '{request.UserName}'" : $"{request.GroupType} group '{request.GroupName ?? request.LdapGroupDn}'";
        var body = new ProjectMemberDto
        {
            RoleId = (int)request.Role,
            MemberUser = isUser ? new UserEntityDto { Username = request.UserName } : null,
            MemberGroup = isUser ? null : new UserGroupDto { GroupName = request.GroupName, GroupType = (int)request.GroupType, LdapGroupDn = request.LdapGroupDn },
        };
        var response = await SendAsync(new HarborCall(HttpMethod.Post, $"projects/{ProjectSegment(project)}/members")
        {
            Body = body, ProjectByName = true, Target = isUser ? request.UserName : request.GroupName ?? request.LdapGroupDn,
            Description = $"adding {who} to project '{project}'",
            ConflictId = HarborErrorIds.MemberExists, ConflictHint = $"{who} is already a member of '{project}'; remove it first to change its role.",
            NotFoundId = HarborErrorIds.MemberNotFound,
            NotFoundMessage = request.LdapGroupDn is not null
                ? $"{who} is not in the LDAP directory {Connection.Url} searches (check the DN, and Harbor's LDAP group base DN and filter)"
                : $"{who} is not known to {Connection.Url} (a user must have logged in once, or exist in LDAP/OIDC)",
        }, cancellationToken).ConfigureAwait(false);
        var location = response.Header("Location");
        var idText = location?.TrimEnd('/').Split('/').LastOrDefault();
        var members = await ListMembersAsync(project, cancellationToken).ConfigureAwait(false);
        return (int.TryParse(idText, out var id) ? members.FirstOrDefault(m => m.MemberId == id) : null)
            ?? members.First(m => m.Name == (request.UserName ?? request.GroupName ?? LdapDistinguishedName.FirstValue(request.LdapGroupDn!)));
    }

    /// <summary>Changes a member's role in place (Harbor keeps the member id, so nothing is removed and re-added).</summary>
    public async Task UpdateMemberRoleAsync(string project, int memberId, HarborProjectRole role, CancellationToken cancellationToken) =>
        await SendAsync(new HarborCall(HttpMethod.Put, $"projects/{ProjectSegment(project)}/members/{memberId}")
        {
            Body = new RoleRequestDto { RoleId = (int)role }, ProjectByName = true, Target = memberId,
            Description = $"changing the role of member {memberId} in project '{project}' to {role}",
            NotFoundId = HarborErrorIds.MemberNotFound, NotFoundMessage = $"Project '{project}' has no member {memberId}",
        }, cancellationToken).ConfigureAwait(false);

    public async Task RemoveMemberAsync(string project, int memberId, CancellationToken cancellationToken) =>
        await SendAsync(new HarborCall(HttpMethod.Delete, $"projects/{ProjectSegment(project)}/members/{memberId}")
        {
            ProjectByName = true, Target = memberId, Description = $"removing member {memberId} from project '{project}'",
            NotFoundId = HarborErrorIds.MemberNotFound, NotFoundMessage = $"Project '{project}' has no member {memberId}",
        }, cancellationToken).ConfigureAwait(false);

    private HarborProjectMemberInfo ToMemberInfo(string project, ProjectMemberEntityDto member) => new()
    {
        Harbor = Connection.Url.ToString(), Project = project, MemberId = member.Id, Name = member.EntityName ?? "",
        EntityType = member.EntityType == "g" ? "Group" : "User",
        Role = Enum.IsDefined(typeof(HarborProjectRole), member.RoleId) ? ((HarborProjectRole)member.RoleId).ToString() : member.RoleName ?? member.RoleId.ToString(),
    };
}
