using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gives a Harbor robot a new secret in place; the old secret stops working at once.</summary>
/// <remarks>
/// <para>Reset-HarborRobotSecret asks Harbor for a new random secret and returns the credential like New-HarborRobot
/// does. There is no grace period: every pull secret with the old secret fails from the next login. The expiry does not
/// move (use Set-HarborRobot -ExtendDays). For rotation without an outage, create a second robot, roll its secret out,
/// then remove the old one.</para>
/// </remarks>
/// <example>
/// <code>Reset-HarborRobotSecret k8s-pull -Project team-a | Sync-PullSecret -Namespace team-a</code>
/// <para>Refreshes the robot's secret and writes it into the namespace's pull secret right away.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborRobotNotFound">No such robot.</error>
/// <error id="HarborPermissionDenied">The caller may not refresh robot secrets (a user with project admin or system admin; never a robot).</error>
/// <error id="HarborResponseInvalid">Harbor refreshed the secret but returned none.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Reset, "HarborRobotSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet, HelpUri = OnlineHelp.CmdletPages + "Reset-HarborRobotSecret.md")]
[OutputType(typeof(HarborRobotCredential))]
public sealed class ResetHarborRobotSecretCommand : HarborRobotTargetCommandBase
{
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Target;
        HarborClient client = CreateClient();
        HarborRobotInfo robot = await ResolveRobotAsync(client, cancellationToken).ConfigureAwait(false);
        if (!await ShouldProcessAsync(robot.Name, "Replace the secret (the old secret stops working at once)").ConfigureAwait(false))
        {
            return;
        }

        HarborRobotCredential credential = await client.RefreshRobotSecretAsync(robot.Id, cancellationToken).ConfigureAwait(false);
        WriteWarning($"The old secret of {robot.Name} stopped working now: every pull secret that still holds it fails from its next login. Roll the new one out at once.");
        WriteObject(ToPipelineCredential(credential));
    }
}
