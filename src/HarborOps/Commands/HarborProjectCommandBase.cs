using System.Management.Automation;

namespace HarborOps.Commands;

/// <summary>
/// Base of the Harbor cmdlets that act on one project named first on the command line or piped from Get-HarborProject
/// (which binds by its Name): retention policies and immutable tag rules.
/// </summary>
public abstract class HarborProjectCommandBase : HarborCommandBase
{
    /// <summary>The project (Get-HarborProject output binds by its Name).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";
}
