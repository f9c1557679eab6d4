using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;

namespace HarborOps.Commands;

/// <summary>Removes a tag immutability rule from a project.</summary>
/// <remarks>
/// <para>Deletes the rule (DELETE /api/v2.0/projects/{project}/immutabletagrules/{id}); the tags it protected can then
/// be pushed over and deleted again. Pipe Get-HarborImmutableTagRule into it. Needs a project admin or
/// maintainer.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborImmutableTagRule -Project team-a | Where-Object Tags -eq 'v*' | Remove-HarborImmutableTagRule -WhatIf</code>
/// <para>Which rule would be removed.</para>
/// </example>
/// <errors>
/// <error id="HarborImmutableTagRuleNotFound">The project has no rule with that id.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from the caller.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Only project admins and maintainers may remove immutable tag rules.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Remove, "HarborImmutableTagRule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = OnlineHelp.CmdletPages + "Remove-HarborImmutableTagRule.md")]
[OutputType(typeof(void))]
public sealed class RemoveHarborImmutableTagRuleCommand : HarborCommandBase
{
    /// <summary>The project.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    /// <summary>The rule's id (Get-HarborImmutableTagRule output binds by its Id).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, long.MaxValue)]
    public long Id { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Id;
        HarborClient client = CreateClient();
        if (!await ShouldProcessAsync($"immutable tag rule {Id} of project {Project}", "Remove").ConfigureAwait(false)) return;
        await client.DeleteImmutableTagRuleAsync(Project, Id, cancellationToken).ConfigureAwait(false);
    }
}
