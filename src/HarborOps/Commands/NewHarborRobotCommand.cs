using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Creates a Harbor robot account and returns its credential (full robot$ name, secret as SecureString, expiry).</summary>
/// <remarks>
/// <para>New-HarborRobot uses Harbor's v2 robot API (the project robot API was removed in Harbor 2.13). A project robot
/// belongs to one project; a system robot (-Level System) may hold permissions in several projects ('*' for all) and
/// system permissions. -Preset PullOnly (the default: repository:pull, artifact:read) suits a Kubernetes pull secret,
/// Push a CI pipeline; -Permission names resource:action pairs exactly.</para>
/// <para>The output binds by property name into Sync-PullSecret (Registry, UserName, Secret, ExpiresAt) and, through
/// its Credential property, into Set-RegistryCredential. The secret is shown once by Harbor and only ever kept as a
/// SecureString here.</para>
/// </remarks>
/// <example>
/// <code>New-HarborRobot k8s-pull -Project team-a -DurationDays 120</code>
/// <para>A pull-only robot for team-a that expires in 120 days.</para>
/// </example>
/// <example>
/// <code>New-HarborRobot ci -Project team-a -Preset Push -DurationDays 30 | Set-RegistryCredential</code>
/// <para>A push robot whose credential the session then uses for the registry.</para>
/// </example>
/// <example>
/// <code>New-HarborRobot scanner -Level System -Project '*' -Permission 'artifact:read','scan:create' -DurationDays -1</code>
/// <para>A system robot that may scan in every project and never expires.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborRobotNameInvalid">The name breaks Harbor's rules.</error>
/// <error id="HarborRobotNameConflict">A robot of that name exists in the project.</error>
/// <error id="HarborRobotPermissionInvalid">A permission is not in Harbor's robot catalogue or does not fit the level.</error>
/// <error id="HarborRequestInvalid">The level, project count or duration is not valid.</error>
/// <error id="HarborProjectNotFound">A project of the robot does not exist.</error>
/// <error id="HarborPermissionDenied">The caller may not create this robot or grant these permissions.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.New, "HarborRobot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "New-HarborRobot.md")]
[OutputType(typeof(HarborRobotCredential))]
public sealed class NewHarborRobotCommand : HarborCommandBase
{
    /// <summary>The robot's name without prefix or project (lower case, digits, single . _ - between); Harbor makes robot$project+name of it.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The project of a project robot, or the projects ('*' for all) of a system robot.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("ProjectName")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string[] Project { get; set; } = [];

    /// <summary>Project (the default) or System.</summary>
    [Parameter]
    [ValidateSet("Project", "System")]
    public string Level { get; set; } = "Project";

    /// <summary>PullOnly (repository:pull, artifact:read) or Push (pull, push, tags, labels, scans). Ignored when -Permission is given.</summary>
    [Parameter]
    [ValidateSet("PullOnly", "Push")]
    public string Preset { get; set; } = "PullOnly";

    /// <summary>Exact project permissions as resource:action, such as repository:pull.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Permission { get; set; }

    /// <summary>System permissions (system robots only) as resource:action, such as project:create.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SystemPermission { get; set; }

    /// <summary>Lifetime in days from now; -1 never expires. Default 90.</summary>
    [Parameter]
    [ValidateRange(-1, 2147483646)]
    public int DurationDays { get; set; } = 90;

    /// <summary>What the robot is for (Harbor has no labels on robots; the description is where ownership goes).</summary>
    [Parameter]
    public string? Description { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        var request = new HarborRobotRequest(Name)
        {
            Level = Level.ToLowerInvariant(), Projects = Project, Preset = Enum.Parse<HarborRobotPreset>(Preset, ignoreCase: true), Permissions = Permission ?? [], SystemPermissions = SystemPermission ?? [],
            DurationDays = DurationDays, Description = Description,
        };
        string scope = Project.Length == 0 ? "the system" : string.Join(", ", Project);
        if (!await ShouldProcessAsync(Name, $"Create {Level.ToLowerInvariant()} robot in {scope} ({(Permission is null ? Preset : string.Join(", ", Permission))}, {(DurationDays == -1 ? "never expires" : $"{DurationDays} days")})").ConfigureAwait(false))
        {
            return;
        }

        HarborRobotCredential credential = await CreateClient().CreateRobotAsync(request, cancellationToken).ConfigureAwait(false);
        WriteVerbose($"Created robot {credential.UserName} (id {credential.RobotId}), expires {credential.ExpiresAt?.ToString("u") ?? "never"}.");
        WriteObject(ToPipelineCredential(credential));
    }
}
