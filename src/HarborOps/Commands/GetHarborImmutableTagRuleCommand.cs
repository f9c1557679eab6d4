using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets a project's tag immutability rules.</summary>
/// <remarks>
/// <para>Lists the project's immutable tag rules (GET /api/v2.0/projects/{project}/immutabletagrules): a tag that an
/// enabled rule matches cannot be pushed over or deleted, and retention skips it. Needs a project admin or
/// maintainer.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborImmutableTagRule -Project team-a</code>
/// <para>Which tags of team-a are immutable.</para>
/// </example>
/// <errors>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from the caller.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Only project admins and maintainers may read immutable tag rules.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborImmutableTagRule", HelpUri = OnlineHelp.CmdletPages + "Get-HarborImmutableTagRule.md")]
[OutputType(typeof(HarborImmutableTagRule))]
public sealed class GetHarborImmutableTagRuleCommand : HarborProjectCommandBase
{
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        foreach (HarborImmutableTagRule rule in await CreateClient().ListImmutableTagRulesAsync(Project, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(rule);
        }
    }
}
