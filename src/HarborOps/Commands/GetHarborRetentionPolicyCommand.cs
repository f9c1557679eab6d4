using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets a project's tag retention policy and its rules.</summary>
/// <remarks>
/// <para>Reads the policy the project's retention_id names (GET /api/v2.0/retentions/{id}). Each rule says which
/// repositories and tags it looks at (doublestar patterns; ** is all) and which of them it keeps (the most recently
/// pushed N, those pushed within N days, or always); artifacts that no rule keeps are deleted when the policy runs.
/// Nothing is written for a project without a policy. Needs a project admin, maintainer or developer.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborRetentionPolicy -Project team-a | Select-Object -ExpandProperty Rules</code>
/// <para>The rules of team-a's policy.</para>
/// </example>
/// <errors>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from the caller.</error>
/// <error id="HarborRetentionPolicyNotFound">The project names a policy Harbor no longer has.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Guests may not read retention policies.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborRetentionPolicy", HelpUri = OnlineHelp.CmdletPages + "Get-HarborRetentionPolicy.md")]
[OutputType(typeof(HarborRetentionPolicy))]
public sealed class GetHarborRetentionPolicyCommand : HarborProjectCommandBase
{
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        if (await CreateClient().GetRetentionPolicyAsync(Project, cancellationToken).ConfigureAwait(false) is { } policy)
        {
            WriteObject(policy);
        }
    }
}
