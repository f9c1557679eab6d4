using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Changes a Harbor project's policies and quota; asks before switching on a gate that would block artifacts.</summary>
/// <remarks>
/// <para>Set-HarborProject changes only what it is given: -AutoScan:$false turns scan on push off, a policy left out
/// stays as it is. The quota is changed through Harbor's quota API, because Harbor ignores it on a project update.</para>
/// <para>Before it switches on -PreventVulnerable or -RequireCosignSignature (or tightens -Severity), it checks every
/// artifact of the project the way Test-HarborProjectGate does. If some would be refused on pull, it warns with their
/// number and asks for confirmation even without -Confirm; -Force skips the question (for scripts), -WhatIf shows the
/// count and changes nothing.</para>
/// </remarks>
/// <example>
/// <code>Set-HarborProject team-a -PreventVulnerable -Severity Critical -RequireCosignSignature</code>
/// <para>Switches both pull gates on, after saying how many artifacts they would block and asking.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject team-* | Set-HarborProject -AutoScan -StorageQuotaGB 100 -Force</code>
/// <para>Turns on scan on push and sets a 100 GB quota for every team project, without questions.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborRequestInvalid">Harbor refused a policy value.</error>
/// <error id="HarborPermissionDenied">The credential may not change the project or its quota (quotas need a system admin).</error>
/// <error id="HarborPreconditionFailed">The project has no quota to change.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Set, "HarborProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Set-HarborProject.md")]
[OutputType(typeof(HarborProjectInfo))]
public sealed class SetHarborProjectCommand : HarborProjectSettingsCommandBase
{
    /// <summary>The project to change.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Switch gates on without asking, even when artifacts would be blocked.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        HarborClient client = CreateClient();
        HarborProjectInfo current = await client.GetProjectAsync(Name, cancellationToken).ConfigureAwait(false);
        HarborProjectSettings settings = Settings();
        HarborGateChange gates = HarborGateChange.Of(current, settings);
        int blocked = 0;
        if (gates.Tightens)
        {
            var findings = await client.TestProjectGateAsync(Name, gates.Policy,
                StartProgress("Set-HarborProject", $"Checking what the gates of {Name} would block"), cancellationToken).ConfigureAwait(false);
            blocked = findings.Count;
            if (blocked > 0) WriteWarning(HarborGateBlockedSummary.Of(Name, findings));
        }

        string action = blocked > 0 ? $"Change project ({Describe()}); this blocks pulls of {blocked} artifact(s)" : $"Change project ({Describe()})";
        if (!await ShouldProcessAsync(Name, action).ConfigureAwait(false))
        {
            return;
        }

        if (blocked > 0 && !Force
            && !await ShouldContinueAsync($"Pulls of {blocked} artifact(s) in '{Name}' will be refused with 412 from now on. Switch the gates on anyway?", "Harbor pull gates").ConfigureAwait(false))
        {
            return;
        }

        WriteObject(await client.UpdateProjectAsync(Name, settings, cancellationToken).ConfigureAwait(false));
    }
}
