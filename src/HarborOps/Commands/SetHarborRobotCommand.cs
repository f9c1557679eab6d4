using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Extends, disables or re-enables a Harbor robot, or changes its description.</summary>
/// <remarks>
/// <para>Harbor counts a robot's duration from its creation, not from the change, so -ExtendDays 90 is turned into the
/// duration that makes the robot expire 90 days from now. -Disable stops the robot at once (every login fails) without
/// deleting it; -Enable lets it in again. The secret does not change. Robots cannot update robots in Harbor: use a user.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborRobot -Project team-a -ExpiringWithinDays 14 | Set-HarborRobot -ExtendDays 90</code>
/// <para>Gives every team-a robot that expires within two weeks another 90 days from today.</para>
/// </example>
/// <example>
/// <code>Set-HarborRobot ci -Project team-a -Disable</code>
/// <para>Stops robot$team-a+ci until it is enabled again.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborRobotNotFound">No such robot.</error>
/// <error id="HarborRequestInvalid">The change is not valid (such as -ExtendDays 0).</error>
/// <error id="HarborPermissionDenied">The caller may not update robots (project admin or system admin; never a robot).</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Set, "HarborRobot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet, HelpUri = OnlineHelp.CmdletPages + "Set-HarborRobot.md")]
[OutputType(typeof(HarborRobotInfo))]
public sealed class SetHarborRobotCommand : HarborRobotTargetCommandBase
{
    /// <summary>Make the robot expire this many days from now.</summary>
    [Parameter]
    [ValidateRange(1, 36500)]
    public int? ExtendDays { get; set; }

    /// <summary>Make the robot never expire.</summary>
    [Parameter]
    public SwitchParameter NeverExpire { get; set; }

    /// <summary>Stop the robot: every login with it fails until -Enable.</summary>
    [Parameter]
    public SwitchParameter Disable { get; set; }

    /// <summary>Let a disabled robot log in again.</summary>
    [Parameter]
    public SwitchParameter Enable { get; set; }

    /// <summary>A new description.</summary>
    [Parameter]
    public string? Description { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Target;
        if (Disable && Enable)
        {
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, "-Disable and -Enable contradict each other; give one.", Target);
        }

        HarborClient client = CreateClient();
        HarborRobotInfo robot = await ResolveRobotAsync(client, cancellationToken).ConfigureAwait(false);
        var update = new HarborRobotUpdate
        {
            ExtendDays = ExtendDays, NeverExpire = NeverExpire ? true : null, Disabled = Disable ? true : Enable ? false : robot.Disabled, Description = Description,
        };
        var what = new List<string>();
        if (ExtendDays is not null) what.Add($"expire in {ExtendDays} days");
        if (NeverExpire) what.Add("never expire");
        if (Disable) what.Add("disable");
        if (Enable) what.Add("enable");
        if (Description is not null) what.Add("set description");
        if (!await ShouldProcessAsync(robot.Name, what.Count == 0 ? "Update robot (no change)" : "Update robot: " + string.Join(", ", what)).ConfigureAwait(false))
        {
            return;
        }

        WriteObject(await client.UpdateRobotAsync(robot.Id, update, cancellationToken).ConfigureAwait(false));
    }
}
