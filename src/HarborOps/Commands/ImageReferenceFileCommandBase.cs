using System.Management.Automation;
using HarborOps.Infrastructure;

namespace HarborOps.Commands;

/// <summary>The file selection Get-ImageReference and Update-ImageReference share: paths, recursion and name globs.</summary>
public abstract class ImageReferenceFileCommandBase : HarborOpsCmdlet
{
    /// <summary>Files and folders to read (wildcards allowed). Binds FullName of Get-ChildItem output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Also read the folders below each folder given.</summary>
    [Parameter]
    public SwitchParameter Recurse { get; set; }

    /// <summary>
    /// Wildcards a file name must match when found in a folder. The default reads YAML files and Dockerfiles: *.yaml,
    /// *.yml, Dockerfile, Dockerfile.*, *.Dockerfile, Containerfile.
    /// </summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Wildcards of file or folder names, or of paths relative to the folder given ("charts/*/tests"), to leave out.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>
    /// Follow file and folder links that lead out of the folder given (for a named file, out of its folder). Without it
    /// such a link is reported as ImageReferenceLinkOutsideFolder and nothing it leads to is read or changed; links
    /// inside the folder are always followed. Each real folder is read once either way, so link loops end.
    /// </summary>
    [Parameter]
    public SwitchParameter FollowSymlink { get; set; }

    /// <summary>The -Path values as file system paths, resolved on the pipeline thread in <see cref="HarborOpsCmdlet.PrepareRecord"/>.</summary>
    protected List<string> ResolvedPaths { get; } = [];

    protected override void PrepareRecord()
    {
        ResolvedPaths.Clear();
        foreach (var path in Path)
        {
            try
            {
                ResolvedPaths.AddRange(GetResolvedProviderPathFromPSPath(path, out _));
            }
            catch (ItemNotFoundException)
            {
                // The engine reports it as ImageReferencePathNotFound with the path as target, and the other paths go on.
                ResolvedPaths.Add(GetUnresolvedProviderPathFromPSPath(path));
            }
        }
    }
}
