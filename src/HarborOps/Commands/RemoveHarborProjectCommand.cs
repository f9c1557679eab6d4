using System.Management.Automation;
using HarborOps.Infrastructure;

namespace HarborOps.Commands;

/// <summary>Deletes a Harbor project; with -Force its repositories first.</summary>
/// <remarks>
/// <para>Harbor refuses to delete a project that still has repositories (HarborProjectNotEmpty). -Force deletes every
/// repository of the project first, with all their images and signatures. Deleted data frees disk only after Harbor's
/// garbage collection runs.</para>
/// </remarks>
/// <example>
/// <code>Remove-HarborProject team-old</code>
/// <para>Deletes an empty project after confirmation.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject sandbox-* | Remove-HarborProject -Force -Confirm:$false</code>
/// <para>Deletes every sandbox project with its repositories, without asking.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist.</error>
/// <error id="HarborProjectNotEmpty">The project still has repositories; use -Force.</error>
/// <error id="HarborPermissionDenied">The credential may not delete the project.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Remove, "HarborProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = OnlineHelp.CmdletPages + "Remove-HarborProject.md")]
[OutputType(typeof(void))]
public sealed class RemoveHarborProjectCommand : HarborCommandBase
{
    /// <summary>The project to delete.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Delete the project's repositories (images, signatures) first.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        if (!await ShouldProcessAsync(Name, Force ? "Delete project and all its repositories" : "Delete project").ConfigureAwait(false))
        {
            return;
        }

        await CreateClient().DeleteProjectAsync(Name, Force, cancellationToken).ConfigureAwait(false);
    }
}
