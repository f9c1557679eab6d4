using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets Harbor robot accounts with their expiry and days left (never their secrets).</summary>
/// <remarks>
/// <para>With -Project, Get-HarborRobot lists that project's robots; without, the system robots. Harbor sends no warning
/// before a robot expires, so -ExpiringWithinDays is the way to find the ones to rotate.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborRobot -Project team-a</code>
/// <para>The robots of team-a with expiry and days left.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject | Get-HarborRobot -ExpiringWithinDays 14</code>
/// <para>Every project robot that expires within two weeks (or has expired).</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborPermissionDenied">The credential may not list these robots.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborRobot", HelpUri = OnlineHelp.CmdletPages + "Get-HarborRobot.md")]
[OutputType(typeof(HarborRobotInfo))]
public sealed class GetHarborRobotCommand : HarborCommandBase
{
    /// <summary>The project whose robots to list; the system robots when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string? Project { get; set; }

    /// <summary>Only robots whose short or full name matches this wildcard pattern.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? RobotName { get; set; }

    /// <summary>Only robots that expire within this many days (expired ones included); never-expiring robots are left out.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? ExpiringWithinDays { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        var pattern = RobotName is null ? null : new WildcardPattern(RobotName, WildcardOptions.IgnoreCase);
        foreach (HarborRobotInfo robot in await CreateClient().ListRobotsAsync(Project, cancellationToken).ConfigureAwait(false))
        {
            if (pattern is not null && !pattern.IsMatch(robot.ShortName) && !pattern.IsMatch(robot.Name)) continue;
            if (ExpiringWithinDays is { } days && (robot.DaysLeft is null || robot.DaysLeft > days)) continue;
            WriteObject(robot);
        }
    }
}
