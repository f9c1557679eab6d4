using System.Management.Automation;
using HarborOps.Engine.Entra;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Finds the users of a project's Entra groups whose tokens carry no groups claim because they are in too many groups.</summary>
/// <remarks>
/// <para>Entra ID leaves the groups claim out of a JWT for a user in more than 200 groups (nesting included; 150 for
/// SAML) and puts an overage pointer in its place (Microsoft Learn: "Configure group claims for applications by using
/// Microsoft Entra ID"). What the claim counts follows the app's groupMembershipClaims: SecurityGroup counts security
/// groups and directory roles, All adds distribution groups; administrative units never count. Harbor does not follow
/// the pointer (goharbor/harbor#22171), so such a user signs in to an empty Harbor. Test-HarborOidcGroupClaim lists the
/// users who reach the project through its Entra groups (transitive members, every page) and whose GroupCount is above
/// -Threshold, so an admin can fix them first (fewer groups, or an app-assigned groups claim).</para>
/// <para>GroupCount is the number of groups of every type the user is in, directly or through nesting (Graph's
/// transitiveMemberOf cast to group, /users/{id}/transitiveMemberOf/microsoft.graph.group/$count); directory roles and
/// administrative units are not in it. A user who holds directory roles reaches the limit that many groups earlier:
/// lower -Threshold by the roles your admins hold.</para>
/// <para>The project's Entra groups are its OIDC group members whose names are object ids Entra knows (as
/// Sync-HarborProjectMember manages them), or the groups given with -Group. One HarborOidcGroupClaimFinding per user
/// over the threshold; nothing when everyone is fine (the verbose stream says how many users were checked).</para>
/// </remarks>
/// <example>
/// <code>Test-HarborOidcGroupClaim team-a</code>
/// <para>The team-a users who would see an empty Harbor, with their group counts.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject | Test-HarborOidcGroupClaim -Threshold 180 | Export-Csv ./near-limit.csv</code>
/// <para>Everyone within 20 groups of the limit, in every project.</para>
/// </example>
/// <errors>
/// <error id="EntraGroupNotFound">A -Group name or id is unknown to Entra ID.</error>
/// <error id="EntraGroupAmbiguous">Several Entra groups have that display name; the message lists their ids.</error>
/// <error id="EntraOptionsInvalid">The sign-in parameters do not fit together.</error>
/// <error id="EntraAuthenticationFailed">No Entra ID token could be had, or Graph rejected it.</error>
/// <error id="EntraPermissionDenied">Graph refused: the identity lacks GroupMember.Read.All, or lacks User.ReadBasic.All (Graph then lists the members without their names).</error>
/// <error id="EntraThrottled">Graph still answered 429/503 after its retries.</error>
/// <error id="EntraUnreachable">Graph could not be reached.</error>
/// <error id="EntraRequestFailed">Graph failed otherwise.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborPermissionDenied">The Harbor credential may not list members.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsDiagnostic.Test, "HarborOidcGroupClaim", HelpUri = OnlineHelp.CmdletPages + "Test-HarborOidcGroupClaim.md")]
[OutputType(typeof(HarborOidcGroupClaimFinding))]
public sealed class TestHarborOidcGroupClaimCommand : EntraCommandBase
{
    /// <summary>The project (Get-HarborProject's Name binds here).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    /// <summary>Check these Entra groups (display names or object ids) instead of the project's own Entra group members.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Group { get; set; }

    /// <summary>Report users in more groups than this; 200 (Entra's JWT limit) by default. Lower it to see who is close.</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public int Threshold { get; set; } = 200;

    protected override void PrepareRecord() => ResolveEntraPaths();

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        using EntraDirectory directory = CreateDirectory();
        IReadOnlyList<EntraGroup> groups;
        if (Group is { Length: > 0 })
        {
            var resolved = new List<EntraGroup>();
            foreach (string group in Group) resolved.Add(await directory.ResolveGroupAsync(group, cancellationToken).ConfigureAwait(false));
            groups = resolved;
        }
        else
        {
            groups = await new ProjectGroupSync(CreateClient(), directory).ProjectGroupsAsync(Project, cancellationToken).ConfigureAwait(false);
        }

        var progress = StartProgress("Test-HarborOidcGroupClaim", $"Reading the members of {groups.Count} Entra group(s) of '{Project}'");
        GroupClaimReport report = await new GroupClaimCheck(directory).CheckAsync(Project, groups, Threshold, progress, cancellationToken).ConfigureAwait(false);
        WriteVerbose($"Project '{Project}': {report.UsersChecked} user(s) in {groups.Count} Entra group(s) checked; {report.Findings.Count} above {Threshold} groups.");
        foreach (HarborOidcGroupClaimFinding finding in report.Findings) WriteObject(finding);
    }
}
