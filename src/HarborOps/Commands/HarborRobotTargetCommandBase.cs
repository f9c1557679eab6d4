using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Names one robot: by id (what Get-HarborRobot and New-HarborRobot output), or by name within a project.</summary>
public abstract class HarborRobotTargetCommandBase : HarborCommandBase
{
    protected const string IdSet = "Id";
    protected const string NameSet = "Name";

    /// <summary>The robot's id, as Get-HarborRobot (Id) and New-HarborRobot (RobotId) output it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("RobotId")]
    public long Id { get; set; }

    /// <summary>The robot's full name (robot$team-a+ci) or short name (ci, with -Project for a project robot).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborRobotCompleter))]
    public string Name { get; set; } = "";

    /// <summary>The project of a robot named by its short name.</summary>
    [Parameter(ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string? Project { get; set; }

    /// <summary>The robot this record names.</summary>
    protected async Task<HarborRobotInfo> ResolveRobotAsync(HarborClient client, CancellationToken cancellationToken) =>
        await client.FindRobotAsync(ParameterSetName == IdSet ? Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : Name, Project, cancellationToken)
            .ConfigureAwait(false);

    protected object Target => ParameterSetName == IdSet ? Id : Name;
}
