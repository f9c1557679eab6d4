using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Adds a user or a group (LDAP, HTTP or OIDC) to a Harbor project with a role.</summary>
/// <remarks>
/// <para>Add-HarborProjectMember makes a user or a group a member of the project. A group is named by its name and
/// type (an OIDC group is created in Harbor on the fly, as Harbor does at login) or, for LDAP, by its DN. Roles:
/// ProjectAdmin, Maintainer, Developer, Guest, LimitedGuest. Only project admins and system admins may add members.</para>
/// <para>Harbor onboards a group only through its auth mode, so for a group Add-HarborProjectMember first reads the mode
/// (GET /api/v2.0/systeminfo, auth_mode) and stops before any change where the group cannot work: db_auth (Harbor's own
/// user database) and uaa_auth take no groups; oidc_auth takes any OIDC group name, http_auth any HTTP group name;
/// ldap_auth finds a group in the directory by its DN, so there -Group takes a DN (cn=...,dc=...) and makes it an LDAP
/// group member, as -LdapGroupDn does, and a plain name is refused.</para>
/// </remarks>
/// <example>
/// <code>Add-HarborProjectMember team-a -Group team-a-devs -GroupType Oidc -Role Developer</code>
/// <para>Lets the OIDC group team-a-devs push and pull in team-a.</para>
/// </example>
/// <example>
/// <code>Add-HarborProjectMember team-a -Group 'cn=team-a-devs,ou=groups,dc=example,dc=com' -Role Developer</code>
/// <para>On a Harbor that uses LDAP (ldap_auth): the directory's group team-a-devs becomes an LDAP group member.</para>
/// </example>
/// <example>
/// <code>Add-HarborProjectMember team-a -User alice -Role ProjectAdmin</code>
/// <para>Makes alice an admin of team-a.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborMemberExists">The user or group is already a member.</error>
/// <error id="HarborMemberNotFound">The user is unknown to Harbor, or the LDAP group's DN is not in its directory.</error>
/// <error id="HarborGroupsUnsupported">Harbor's auth mode (named in the message) cannot onboard that group: db_auth and uaa_auth take none, oidc_auth and http_auth no LDAP DN. Nothing was changed.</error>
/// <error id="HarborLdapGroupDnRequired">Harbor uses ldap_auth and the group is a name, not a DN. Nothing was changed.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborRequestInvalid">The role or group type is not valid.</error>
/// <error id="HarborPermissionDenied">The credential may not add members.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Add, "HarborProjectMember", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = UserSet, HelpUri = OnlineHelp.CmdletPages + "Add-HarborProjectMember.md")]
[OutputType(typeof(HarborProjectMemberInfo))]
public sealed class AddHarborProjectMemberCommand : HarborCommandBase
{
    private const string UserSet = "User";
    private const string GroupSet = "Group";
    private const string LdapDnSet = "LdapGroupDn";

    /// <summary>The project.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    /// <summary>A user name (local, LDAP or OIDC).</summary>
    [Parameter(Mandatory = true, ParameterSetName = UserSet)]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = "";

    /// <summary>A group name; its type is -GroupType. Where Harbor uses ldap_auth, the group's DN (it becomes an LDAP group).</summary>
    [Parameter(Mandatory = true, ParameterSetName = GroupSet)]
    [ValidateNotNullOrEmpty]
    public string Group { get; set; } = "";

    /// <summary>An LDAP group by its distinguished name.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LdapDnSet)]
    [ValidateNotNullOrEmpty]
    public string LdapGroupDn { get; set; } = "";

    /// <summary>The group's type: Oidc (default), Ldap or Http (auth proxy).</summary>
    [Parameter(ParameterSetName = GroupSet)]
    [ValidateSet("Oidc", "Ldap", "Http")]
    public string GroupType { get; set; } = "Oidc";

    /// <summary>The member's role: ProjectAdmin, Maintainer, Developer, Guest or LimitedGuest.</summary>
    [Parameter(Mandatory = true)]
    [ValidateSet("ProjectAdmin", "Maintainer", "Developer", "Guest", "LimitedGuest")]
    public string Role { get; set; } = "";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        // Engine enums stay out of the parameter types: a cmdlet's field types load at import, before the engine can resolve.
        var role = Enum.Parse<HarborProjectRole>(Role, ignoreCase: true);
        var request = ParameterSetName switch
        {
            GroupSet => new HarborMemberRequest(role) { GroupName = Group, GroupType = Enum.Parse<HarborGroupType>(GroupType, ignoreCase: true) },
            LdapDnSet => new HarborMemberRequest(role) { LdapGroupDn = LdapGroupDn, GroupType = HarborGroupType.Ldap },
            _ => new HarborMemberRequest(role) { UserName = User },
        };
        string who = ParameterSetName switch { GroupSet => $"{GroupType} group '{Group}'", LdapDnSet => $"LDAP group '{LdapGroupDn}'", _ => $"user '{User}'" };
        CurrentTarget = who;
        if (!await ShouldProcessAsync(Project, $"Add {who} as {Role}").ConfigureAwait(false))
        {
            return;
        }

        WriteObject(await CreateClient().AddMemberAsync(Project, request, cancellationToken).ConfigureAwait(false));
    }
}
