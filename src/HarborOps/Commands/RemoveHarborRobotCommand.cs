using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Deletes a Harbor robot account; its secret stops working at once.</summary>
/// <remarks>
/// <para>Remove-HarborRobot deletes the robot. Pull secrets that hold its credential fail from then on (registry tokens
/// already issued live until they expire, 30 minutes by default). In an overlapping rotation, remove the old robot only
/// after the new secret is rolled out.</para>
/// </remarks>
/// <example>
/// <code>Remove-HarborRobot ci -Project team-a</code>
/// <para>Deletes robot$team-a+ci after confirmation.</para>
/// </example>
/// <example>
/// <code>Get-HarborRobot -Project team-a | Where-Object Expired | Remove-HarborRobot -Confirm:$false</code>
/// <para>Deletes the expired robots of team-a.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborRobotNotFound">No such robot.</error>
/// <error id="HarborPermissionDenied">The caller may not delete the robot.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Remove, "HarborRobot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet, HelpUri = OnlineHelp.CmdletPages + "Remove-HarborRobot.md")]
[OutputType(typeof(void))]
public sealed class RemoveHarborRobotCommand : HarborRobotTargetCommandBase
{
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Target;
        HarborClient client = CreateClient();
        HarborRobotInfo robot = await ResolveRobotAsync(client, cancellationToken).ConfigureAwait(false);
        if (!await ShouldProcessAsync(robot.Name, "Delete robot (its secret stops working at once)").ConfigureAwait(false))
        {
            return;
        }

        await client.DeleteRobotAsync(robot.Id, cancellationToken).ConfigureAwait(false);
    }
}
