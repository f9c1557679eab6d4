using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Removes a user or group from a Harbor project.</summary>
/// <remarks>
/// <para>Remove-HarborProjectMember takes the member by name (user or group name) or by its member id, as
/// Get-HarborProjectMember outputs it. The user or group keeps its other memberships.</para>
/// </remarks>
/// <example>
/// <code>Remove-HarborProjectMember team-a -Name alice</code>
/// <para>Takes alice out of team-a after confirmation.</para>
/// </example>
/// <example>
/// <code>Get-HarborProjectMember team-a | Where-Object Role -eq Guest | Remove-HarborProjectMember -Confirm:$false</code>
/// <para>Removes every guest of team-a.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborMemberNotFound">No such member in the project.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborPermissionDenied">The credential may not remove members.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Remove, "HarborProjectMember", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet, HelpUri = OnlineHelp.CmdletPages + "Remove-HarborProjectMember.md")]
[OutputType(typeof(void))]
public sealed class RemoveHarborProjectMemberCommand : HarborCommandBase
{
    private const string IdSet = "Id";
    private const string NameSet = "Name";

    /// <summary>The project.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    /// <summary>The member id, as Get-HarborProjectMember outputs it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    public int MemberId { get; set; }

    /// <summary>The user or group name of the member.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = ParameterSetName == NameSet ? Name : MemberId;
        HarborClient client = CreateClient();
        var members = await client.ListMembersAsync(Project, cancellationToken).ConfigureAwait(false);
        HarborProjectMemberInfo member = (ParameterSetName == NameSet
                ? members.FirstOrDefault(m => string.Equals(m.Name, Name, StringComparison.Ordinal))
                : members.FirstOrDefault(m => m.MemberId == MemberId))
            ?? throw new HarborException(HarborErrorIds.MemberNotFound, FailureKind.NotFound,
                $"Project '{Project}' has no member {CurrentTarget}. Get-HarborProjectMember {Project} lists them.", CurrentTarget);
        if (!await ShouldProcessAsync(Project, $"Remove {member.EntityType.ToLowerInvariant()} '{member.Name}' ({member.Role})").ConfigureAwait(false))
        {
            return;
        }

        await client.RemoveMemberAsync(Project, member.MemberId, cancellationToken).ConfigureAwait(false);
    }
}
