using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets the members of a Harbor project (users and groups) with their roles.</summary>
/// <remarks>
/// <para>Get-HarborProjectMember lists a project's members: users and LDAP, HTTP or OIDC groups, each with its role
/// (ProjectAdmin, Maintainer, Developer, Guest, LimitedGuest). The output pipes into Remove-HarborProjectMember.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborProjectMember team-a</code>
/// <para>Who has which role in team-a.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborPermissionDenied">The credential may not list the members.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborProjectMember", HelpUri = OnlineHelp.CmdletPages + "Get-HarborProjectMember.md")]
[OutputType(typeof(HarborProjectMemberInfo))]
public sealed class GetHarborProjectMemberCommand : HarborCommandBase
{
    /// <summary>The project (Get-HarborProject's Name binds here).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        foreach (HarborProjectMemberInfo member in await CreateClient().ListMembersAsync(Project, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(member);
        }
    }
}
