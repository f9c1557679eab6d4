using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Runs a project's tag retention policy now: deletes what its rules do not keep.</summary>
/// <remarks>
/// <para>Invoke-HarborRetention starts a real run of the project's policy in Harbor (POST
/// /api/v2.0/retentions/{id}/executions with dry_run false), waits for it and returns one object per artifact it
/// deleted (Action Delete) or would have deleted but an immutable tag protected (Action Immutable); -IncludeRetained
/// adds the ones it kept. An artifact's signatures are deleted with it. Run Test-HarborRetentionPolicy first: it is
/// the same evaluation without deleting. Freed space returns after the next garbage collection
/// (Start-HarborGarbageCollection). Needs a project admin, maintainer or developer.</para>
/// </remarks>
/// <example>
/// <code>Test-HarborRetentionPolicy -Project team-a; Invoke-HarborRetention -Project team-a -Confirm:$false</code>
/// <para>See what would go, then delete it.</para>
/// </example>
/// <errors>
/// <error id="HarborRetentionPolicyNotFound">The project has no retention policy; make one with Set-HarborRetentionPolicy.</error>
/// <error id="HarborRetentionFailed">Harbor's run ended in error.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from the caller.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Guests may not run retention.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached, or the run did not finish within -TimeoutSeconds.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsLifecycle.Invoke, "HarborRetention", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = OnlineHelp.CmdletPages + "Invoke-HarborRetention.md")]
[OutputType(typeof(HarborRetentionResult))]
public sealed class InvokeHarborRetentionCommand : HarborRetentionRunCommandBase
{
    /// <summary>How long to wait for Harbor's run. Default 1800.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 1800;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        await RunRetentionAsync(dryRun: false, TimeSpan.FromSeconds(TimeoutSeconds), "Invoke-HarborRetention", $"Retention of {Project}",
            () => ShouldProcessAsync($"project {Project}", "Run the retention policy (deletes the artifacts its rules do not keep)"), cancellationToken).ConfigureAwait(false);
    }
}
