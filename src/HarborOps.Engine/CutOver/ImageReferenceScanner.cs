using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Models;

namespace HarborOps.Engine.CutOver;

/// <summary>Which files to read: files and folders, recursion, and name globs.</summary>
public record ImageReferenceFileSelection(IReadOnlyList<string> Paths)
{
    /// <summary>The names read when no -Include is given: YAML files and Dockerfiles.</summary>
    public static readonly IReadOnlyList<string> DefaultInclude = ["*.yaml", "*.yml", "Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile"];

    /// <summary>Descend into the folders below each folder given.</summary>
    public bool Recurse { get; init; }
    /// <summary>Wildcards a file name must match (any of them) when found in a folder; empty means <see cref="DefaultInclude"/>.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];
    /// <summary>Wildcards of file or folder names (or paths relative to the folder given) to leave out.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];
    /// <summary>Follow file and folder links that lead out of the folder given (links inside it are always followed).</summary>
    public bool FollowSymlink { get; init; }
}

/// <summary>Get-ImageReference's request: the files, and optionally only references to these registries.</summary>
public sealed record ImageReferenceScanRequest(IReadOnlyList<string> Paths) : ImageReferenceFileSelection(Paths)
{
    public IReadOnlyList<string> Registries { get; init; } = [];
}

/// <summary>The references of one file, or why it was skipped.</summary>
public sealed record ImageReferenceFileScan(string Path, IReadOnlyList<ImageReferenceInfo> References, HarborOpsException? Failure);

/// <summary>Reads image references out of files: the read side of the cut-over, and the parser Update-ImageReference rewrites by.</summary>
public static class ImageReferenceScanner
{
    private static readonly HashSet<string> HelmMetadataFiles = new(StringComparer.Ordinal) { "Chart.yaml", "Chart.lock" };

    public static async IAsyncEnumerable<ImageReferenceFileScan> ScanAsync(ImageReferenceScanRequest request, IProgress<OperationProgress>? progress,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var registries = request.Registries.Select(ImageReference.NormalizeRegistry).ToHashSet(StringComparer.Ordinal);
        var count = 0;
        foreach (var (path, failure) in FileSelectionWalk.Enumerate(request))
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new OperationProgress("Reading image references", path, path, ++count));
            if (failure is not null)
            {
                yield return new ImageReferenceFileScan(path, [], failure);
                continue;
            }
            ScannedFile? scanned = null;
            HarborOpsException? skipped = null;
            try
            {
                scanned = await ScanFileAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                skipped = ex;
            }
            if (scanned is null)
            {
                yield return new ImageReferenceFileScan(path, [], skipped);
                continue;
            }
            var references = scanned.Sites.Where(s => s.IsImage)
                .Select(site => AssembledReference.Of(site).ToInfo(scanned.File, site))
                .Where(info => registries.Count == 0 || (info.Registry is not null && registries.Contains(info.Registry)))
                .ToList();
            yield return new ImageReferenceFileScan(path, references, null);
        }
        progress?.Report(new OperationProgress("Reading image references", $"{count} files", Completed: count, IsComplete: true));
    }

    internal sealed record ScannedFile(TextFile File, IReadOnlyList<ReferenceSite> Sites);

    internal static async Task<ScannedFile> ScanFileAsync(string path, CancellationToken cancellationToken)
    {
        var file = await TextFile.ReadAsync(path, cancellationToken).ConfigureAwait(false);
        return new ScannedFile(file, FindSites(file));
    }

    internal static IReadOnlyList<ReferenceSite> FindSites(TextFile file)
    {
        var name = Path.GetFileName(file.Path);
        if (IsDockerfile(name)) return LineReferenceFinder.FindInDockerfile(file).ToList();
        if (HelmMetadataFiles.Contains(name)) return [];
        if (IsChartTemplate(file.Path)) return LineReferenceFinder.FindInTemplate(file, 0, file.LineCount - 1, ImageReferenceForm.HelmTemplate).ToList();
        return YamlReferenceFinder.Find(file);
    }

    private static bool IsDockerfile(string name) =>
        name is "Dockerfile" or "Containerfile" || name.StartsWith("Dockerfile.", StringComparison.Ordinal)
        || name.EndsWith(".Dockerfile", StringComparison.OrdinalIgnoreCase);

    /// <summary>A file below a chart's templates/ folder is Go template text, not YAML (its folder's parent holds Chart.yaml).</summary>
    private static bool IsChartTemplate(string path)
    {
        for (var dir = Path.GetDirectoryName(path); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Path.GetFileName(dir) == "templates" && Path.GetDirectoryName(dir) is { } chart && File.Exists(Path.Combine(chart, "Chart.yaml")))
                return true;
        }
        return false;
    }
}
