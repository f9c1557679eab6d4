using System.Collections;
using System.Management.Automation;
using HarborOps.Engine.Entra;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Makes a Harbor project's Entra ID group members match a list of Entra groups, each with a role.</summary>
/// <remarks>
/// <para>With Entra ID as Harbor's OIDC provider, the groups claim of a token carries group object ids, so the Harbor
/// OIDC group of an Entra group is named by its object id. Sync-HarborProjectMember takes groups by display name or
/// object id, resolves the names through Microsoft Graph (a name several groups share is an error that lists their ids;
/// an unknown one names it), then adds the missing groups as OIDC group members, changes the roles that differ and, with
/// -Prune, removes the Entra group members nobody asked for any more. Nothing in Harbor changes until every group
/// resolved.</para>
/// <para>Which members it manages: group members whose name is a GUID that Entra resolves to a group. Users, LDAP and
/// HTTP groups and OIDC groups with other names are never touched; a GUID Entra does not know (a deleted group, another
/// tenant's) is left in place with a warning (remove it with Remove-HarborProjectMember).</para>
/// <para>Harbor's auth mode first: Sync-HarborProjectMember reads it (GET /api/v2.0/systeminfo, auth_mode) before Entra
/// or any change. Entra groups become members as OIDC groups, so Harbor must use oidc_auth with Entra ID as its OIDC
/// provider; any other mode stops the run naming it (HarborGroupsUnsupported), except ldap_auth (Harbor reading the
/// directory over LDAP, such as Entra Domain Services): there each group is given by its DN (cn=...,dc=...), Entra is not
/// asked, and it becomes an LDAP group member, recognised later by the name Harbor gives it (the DN's first value); a
/// group given by name or id stops the run (HarborLdapGroupDnRequired). -Prune removes only Entra (OIDC) groups.</para>
/// <para>Idempotent: a second run with the same groups changes nothing and writes nothing. One HarborProjectGroupChange
/// per change (Added, RoleChanged, Removed); -WhatIf lists each change instead. Groups come as a hashtable (-Group) or
/// piped objects with GroupName (display name or object id) and Role properties, such as Import-Csv rows.</para>
/// <para>Signing in: DefaultAzureCredential unless -ClientSecret, -CertificatePath or -ManagedIdentity says otherwise.
/// The identity needs the Graph application permissions GroupMember.Read.All and User.ReadBasic.All. Microsoft.Graph is
/// loaded (into HarborOps' private load context) only when this command or Test-HarborOidcGroupClaim runs.</para>
/// </remarks>
/// <example>
/// <code>Sync-HarborProjectMember team-a -Group @{ 'team-a-devs' = 'Developer'; 'team-a-leads' = 'Maintainer' } -Prune</code>
/// <para>team-a's Entra members become exactly team-a-devs (Developer) and team-a-leads (Maintainer).</para>
/// </example>
/// <example>
/// <code>Sync-HarborProjectMember team-a -Group @{ 'CN=team-a-devs,OU=AADDC Users,DC=contoso,DC=com' = 'Developer' }</code>
/// <para>On a Harbor that uses LDAP (ldap_auth), the group's DN becomes an LDAP group member with that role.</para>
/// </example>
/// <example>
/// <code>Import-Csv ./team-a-groups.csv | Sync-HarborProjectMember team-a -WhatIf</code>
/// <para>Shows what the CSV (columns GroupName, Role) would change, without changing it.</para>
/// </example>
/// <example>
/// <code>Sync-HarborProjectMember team-a -Group @{ '1b4e28ba-2fa1-11d2-883f-0016d3cca427' = 'Guest' } -TenantId contoso.onmicrosoft.com -ClientId $appId -ClientSecret $secret</code>
/// <para>A group by object id, signing in as an app registration with a client secret.</para>
/// </example>
/// <errors>
/// <error id="EntraGroupNotFound">A group name or id is unknown to Entra ID; nothing was changed in that project.</error>
/// <error id="EntraGroupAmbiguous">Several Entra groups have that display name; the message lists their ids.</error>
/// <error id="EntraOptionsInvalid">The sign-in parameters do not fit together, or a group is wanted with two roles.</error>
/// <error id="EntraAuthenticationFailed">No Entra ID token could be had, or Graph rejected it.</error>
/// <error id="EntraPermissionDenied">Graph refused: the identity lacks GroupMember.Read.All or User.ReadBasic.All.</error>
/// <error id="EntraThrottled">Graph still answered 429/503 after its retries.</error>
/// <error id="EntraUnreachable">Graph could not be reached.</error>
/// <error id="EntraRequestFailed">Graph failed otherwise.</error>
/// <error id="HarborGroupsUnsupported">Harbor's auth mode (named in the message) is neither oidc_auth nor ldap_auth; nothing was changed.</error>
/// <error id="HarborLdapGroupDnRequired">Harbor uses ldap_auth and a group is given by name or id, not by DN; nothing was changed.</error>
/// <error id="HarborMemberNotFound">Harbor uses ldap_auth and a group's DN is not in its directory.</error>
/// <error id="HarborRequestInvalid">A role is not ProjectAdmin, Maintainer, Developer, Guest or LimitedGuest.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborPermissionDenied">The Harbor credential may not manage members.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsData.Sync, "HarborProjectMember", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = TableSet, HelpUri = OnlineHelp.CmdletPages + "Sync-HarborProjectMember.md")]
[OutputType(typeof(HarborProjectGroupChange))]
public sealed class SyncHarborProjectMemberCommand : EntraCommandBase
{
    private const string TableSet = "Table";
    private const string PipelineSet = "Pipeline";

    /// <summary>The project (New-HarborProject's and Get-HarborProject's Name binds here).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    /// <summary>The wanted groups: display name or object id (a DN where Harbor uses ldap_auth) = role (ProjectAdmin, Maintainer, Developer, Guest, LimitedGuest).</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = TableSet)]
    [ValidateNotNull]
    public Hashtable Group { get; set; } = [];

    /// <summary>One wanted group, by display name or object id (from piped objects' GroupName or GroupId).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PipelineSet, ValueFromPipelineByPropertyName = true)]
    [Alias("GroupId")]
    [ValidateNotNullOrEmpty]
    public string GroupName { get; set; } = "";

    /// <summary>The role of -GroupName: ProjectAdmin, Maintainer, Developer, Guest or LimitedGuest.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PipelineSet, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("ProjectAdmin", "Maintainer", "Developer", "Guest", "LimitedGuest")]
    public string Role { get; set; } = "";

    /// <summary>Also remove the project's Entra group members (GUID-named groups Entra knows) that are not wanted.</summary>
    [Parameter]
    public SwitchParameter Prune { get; set; }

    // Gathered over the pipeline as plain strings (engine types must not be field types); synced per project at the end.
    private readonly List<(string Project, string Group, string Role)> _wanted = [];

    protected override void PrepareRecord() => ResolveEntraPaths();

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        if (ParameterSetName == PipelineSet)
        {
            _wanted.Add((Project, GroupName, Role));
            return Task.CompletedTask;
        }

        if (Group.Count == 0) _wanted.Add((Project, "", ""));
        foreach (DictionaryEntry entry in Group)
        {
            var wanted = DesiredGroupMember.FromTableEntry(entry.Key?.ToString(), entry.Value?.ToString() ?? "", Project);
            _wanted.Add((Project, wanted.Group, wanted.Role.ToString()));
        }
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_wanted.Count == 0) return;
        HarborClient harbor = CreateClient();
        using EntraDirectory directory = CreateDirectory();
        var sync = new ProjectGroupSync(harbor, directory);
        foreach (var project in _wanted.GroupBy(w => w.Project, StringComparer.Ordinal))
        {
            var desired = project.Where(w => w.Group.Length > 0)
                .Select(w => new DesiredGroupMember(w.Group, Enum.Parse<HarborProjectRole>(w.Role, ignoreCase: true))).ToList();
            await RunItemAsync(project.Key, async () =>
            {
                ProjectGroupPlan plan = await sync.PlanAsync(project.Key, desired, Prune, cancellationToken).ConfigureAwait(false);
                foreach (string unknown in plan.UnknownGuidGroups)
                    WriteWarning($"Project '{project.Key}' has OIDC group member '{unknown}', which Entra ID does not know (a deleted group, or another tenant's): left in place. Remove it with Remove-HarborProjectMember if it is stale.");
                WriteVerbose($"Project '{project.Key}': {plan.Changes.Count} change(s) to its Entra group members.");
                foreach (PlannedGroupChange change in plan.Changes)
                {
                    CurrentTarget = change.Group.DisplayName;
                    if (!await ShouldProcessAsync(project.Key, change.Describe()).ConfigureAwait(false)) continue;
                    WriteObject(await sync.ApplyAsync(change, cancellationToken).ConfigureAwait(false));
                }
            }).ConfigureAwait(false);
        }
    }
}
