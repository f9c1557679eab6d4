using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Runs Harbor's retention dry run for a project and returns what it would delete.</summary>
/// <remarks>
/// <para>Test-HarborRetentionPolicy starts a dry run of the project's policy in Harbor itself (POST
/// /api/v2.0/retentions/{id}/executions with dry_run true), waits for it, and reads every task's log: one object per
/// artifact Harbor would delete (Action Delete) or would delete but an immutable tag protects (Action Immutable); with
/// -IncludeRetained also the ones it keeps. Nothing is deleted. Each result lists the artifact's signatures and says
/// what happens to them: Harbor deletes an artifact's signatures with it, so none is left without its image.</para>
/// </remarks>
/// <example>
/// <code>Test-HarborRetentionPolicy -Project team-a | Format-Table Repository, Tags, PushTime, Action</code>
/// <para>The artifacts team-a's policy would delete.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject team-* | Test-HarborRetentionPolicy | Group-Object Project | Select-Object Name, Count</code>
/// <para>How many artifacts each team would lose.</para>
/// </example>
/// <errors>
/// <error id="HarborRetentionPolicyNotFound">The project has no retention policy; make one with Set-HarborRetentionPolicy.</error>
/// <error id="HarborRetentionFailed">Harbor's dry run ended in error.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from the caller.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Guests may not run retention.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached, or the dry run did not finish within -TimeoutSeconds.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsDiagnostic.Test, "HarborRetentionPolicy", HelpUri = OnlineHelp.CmdletPages + "Test-HarborRetentionPolicy.md")]
[OutputType(typeof(HarborRetentionResult))]
public sealed class TestHarborRetentionPolicyCommand : HarborRetentionRunCommandBase
{
    /// <summary>How long to wait for Harbor's dry run. Default 600.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 600;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        await RunRetentionAsync(dryRun: true, TimeSpan.FromSeconds(TimeoutSeconds), "Test-HarborRetentionPolicy", $"Retention dry run of {Project}", approve: null,
            cancellationToken).ConfigureAwait(false);
    }
}
