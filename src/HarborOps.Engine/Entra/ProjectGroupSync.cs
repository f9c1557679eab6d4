using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Models;

namespace HarborOps.Engine.Entra;

/// <summary>A wanted member: an Entra group by display name or object id, with its Harbor role.</summary>
public sealed record DesiredGroupMember(string Group, HarborProjectRole Role)
{
    /// <summary>The roles in the order people meet them, from the most to the least rights, as the messages list them.</summary>
    private static readonly string[] RoleNames = ["ProjectAdmin", "Maintainer", "Developer", "Guest", "LimitedGuest"];

    /// <summary>
    /// One entry of a wanted-groups table (-Group @{ name = role }) of <paramref name="project"/>: the group must be named
    /// and the role one of Harbor's, in any case; throws HarborRequestInvalid saying which is wrong.
    /// </summary>
    public static DesiredGroupMember FromTableEntry(string? group, string? role, string project)
    {
        if (string.IsNullOrWhiteSpace(group))
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, "A -Group key is empty; give each group's display name or object id.", project);
        var canonical = RoleNames.FirstOrDefault(r => string.Equals(r, role, StringComparison.OrdinalIgnoreCase))
            ?? throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                $"'{role}' (for group '{group}') is not a Harbor role; use one of {string.Join(", ", RoleNames)}.", group);
        return new DesiredGroupMember(group, Enum.Parse<HarborProjectRole>(canonical));
    }
}

/// <summary>
/// What a sync would do to one member; applied one by one so the cmdlet can confirm each. Where Harbor uses ldap_auth the
/// group is an LDAP group given by DN (<see cref="LdapGroupDn"/>; then Group holds the DN as id and Harbor's name for it).
/// </summary>
public sealed record PlannedGroupChange(string Project, EntraGroup Group, string Action, int MemberId, HarborProjectRole? OldRole, HarborProjectRole? NewRole)
{
    public string? LdapGroupDn { get; init; }

    public const string Added = "Added";
    public const string RoleChanged = "RoleChanged";
    public const string Removed = "Removed";

    public string Describe() => LdapGroupDn is { } dn ? Action switch
    {
        Added => $"Add LDAP group '{dn}' as {NewRole}",
        _ => $"Change the role of LDAP group '{dn}' from {OldRole} to {NewRole}",
    } : Action switch
    {
        Added => $"Add Entra group '{Group.DisplayName}' ({Group.Id}) as {NewRole}",
        RoleChanged => $"Change the role of Entra group '{Group.DisplayName}' ({Group.Id}) from {OldRole} to {NewRole}",
        _ => $"Remove Entra group '{Group.DisplayName}' ({Group.Id}) (was {OldRole})",
    };
}

/// <summary>The plan of one project: the changes, and the GUID-named groups -Prune left alone because Entra does not know them.</summary>
public sealed record ProjectGroupPlan(string Project, IReadOnlyList<PlannedGroupChange> Changes, IReadOnlyList<string> UnknownGuidGroups);

/// <summary>
/// Makes a Harbor project's Entra group members match a wanted set. With Entra as Harbor's OIDC provider the groups
/// claim carries object ids, so Harbor's OIDC group for an Entra group is named by the group's object id. A group member
/// counts as managed here when its name is a GUID that Entra resolves to a group: users, LDAP/HTTP groups and OIDC groups
/// with other names are never touched, and a GUID Entra does not know (a deleted group, another tenant's) is reported,
/// not removed. Harbor takes OIDC groups only in its oidc_auth mode: the plan asks Harbor's auth mode first and refuses
/// any other, except ldap_auth, where each wanted group must be given by its LDAP DN (Entra is not asked) and becomes an
/// LDAP group member; such a group is recognised among the members by the name Harbor gives it, the DN's first value.
/// </summary>
public sealed class ProjectGroupSync(HarborClient harbor, EntraDirectory directory)
{
    public async Task<ProjectGroupPlan> PlanAsync(string project, IReadOnlyList<DesiredGroupMember> desired, bool prune, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(project);
        // Harbor's auth mode decides whether these groups can be members at all: ask it before Entra or any write.
        var authMode = await harbor.GetAuthModeAsync(cancellationToken).ConfigureAwait(false);
        HarborGroupOnboarding.EnsureGroupSyncPossible(authMode, harbor.Connection.Url);
        var ldap = authMode == HarborAuthMode.Ldap;
        if (ldap && desired.FirstOrDefault(d => !LdapDistinguishedName.IsDistinguishedName(d.Group)) is { } notDn)
            throw HarborGroupOnboarding.DnRequired(notDn.Group, harbor.Connection.Url);
        // Resolve every wanted group first: a misspelt name stops the run before Harbor is changed at all.
        var wanted = new Dictionary<string, (EntraGroup Group, HarborProjectRole Role)>(StringComparer.OrdinalIgnoreCase);
        foreach (var member in desired)
        {
            var group = ldap
                ? new EntraGroup(member.Group, LdapDistinguishedName.FirstValue(member.Group))
                : await directory.ResolveGroupAsync(member.Group, cancellationToken).ConfigureAwait(false);
            if (wanted.TryGetValue(group.Id, out var already) && already.Role != member.Role)
                throw new EntraException(EntraErrorIds.OptionsInvalid, FailureKind.InvalidArgument,
                    $"Entra group '{group.DisplayName}' ({group.Id}) is wanted twice in project '{project}', as {already.Role} and as {member.Role}; give it once.", member.Group);
            wanted[group.Id] = (group, member.Role);
        }

        var members = await harbor.ListMembersAsync(project, cancellationToken).ConfigureAwait(false);
        var guidGroups = members.Where(m => m.EntityType == "Group" && Guid.TryParse(m.Name, out _)).ToList();
        var changes = new List<PlannedGroupChange>();
        foreach (var (id, (group, role)) in wanted.OrderBy(w => w.Value.Group.DisplayName, StringComparer.Ordinal))
        {
            // Harbor names an onboarded LDAP group after its directory entry (the DN itself when another DN holds that name).
            var existing = ldap
                ? members.FirstOrDefault(m => m.EntityType == "Group" && (string.Equals(m.Name, group.DisplayName, StringComparison.OrdinalIgnoreCase) || string.Equals(m.Name, id, StringComparison.OrdinalIgnoreCase)))
                : guidGroups.FirstOrDefault(m => string.Equals(m.Name, id, StringComparison.OrdinalIgnoreCase));
            var dn = ldap ? id : null;
            if (existing is null)
                changes.Add(new PlannedGroupChange(project, group, PlannedGroupChange.Added, 0, null, role) { LdapGroupDn = dn });
            else if (ParseRole(existing.Role) is var current && current != role)
                changes.Add(new PlannedGroupChange(project, group, PlannedGroupChange.RoleChanged, existing.MemberId, current, role) { LdapGroupDn = dn });
        }

        var unknown = new List<string>();
        if (prune)
        {
            foreach (var member in guidGroups.Where(m => !wanted.ContainsKey(m.Name)).OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                var group = await directory.FindGroupByIdAsync(member.Name, cancellationToken).ConfigureAwait(false);
                if (group is null) unknown.Add(member.Name);
                else changes.Add(new PlannedGroupChange(project, group, PlannedGroupChange.Removed, member.MemberId, ParseRole(member.Role), null));
            }
        }
        return new ProjectGroupPlan(project, changes, unknown);
    }

    public async Task<HarborProjectGroupChange> ApplyAsync(PlannedGroupChange change, CancellationToken cancellationToken)
    {
        var memberId = change.MemberId;
        switch (change.Action)
        {
            case PlannedGroupChange.Added:
                var request = change.LdapGroupDn is { } dn
                    ? new HarborMemberRequest(change.NewRole!.Value) { LdapGroupDn = dn, GroupType = HarborGroupType.Ldap }
                    : new HarborMemberRequest(change.NewRole!.Value) { GroupName = change.Group.Id, GroupType = HarborGroupType.Oidc };
                var added = await harbor.AddMemberAsync(change.Project, request, cancellationToken).ConfigureAwait(false);
                memberId = added.MemberId;
                break;
            case PlannedGroupChange.RoleChanged:
                await harbor.UpdateMemberRoleAsync(change.Project, change.MemberId, change.NewRole!.Value, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await harbor.RemoveMemberAsync(change.Project, change.MemberId, cancellationToken).ConfigureAwait(false);
                break;
        }
        return new HarborProjectGroupChange
        {
            Harbor = harbor.Connection.Url.ToString(), Project = change.Project, GroupName = change.Group.DisplayName, GroupId = change.Group.Id,
            Action = change.Action, OldRole = change.OldRole?.ToString(), NewRole = change.NewRole?.ToString(), MemberId = memberId,
        };
    }

    /// <summary>The project's Entra groups: its OIDC group members whose names are object ids Entra knows.</summary>
    public async Task<IReadOnlyList<EntraGroup>> ProjectGroupsAsync(string project, CancellationToken cancellationToken)
    {
        var groups = new List<EntraGroup>();
        foreach (var member in await harbor.ListMembersAsync(project, cancellationToken).ConfigureAwait(false))
        {
            if (member.EntityType == "Group" && Guid.TryParse(member.Name, out _)
                && await directory.FindGroupByIdAsync(member.Name, cancellationToken).ConfigureAwait(false) is { } group)
                groups.Add(group);
        }
        return groups;
    }

    private static HarborProjectRole ParseRole(string role) => Enum.TryParse<HarborProjectRole>(role, ignoreCase: true, out var parsed) ? parsed : 0;
}
