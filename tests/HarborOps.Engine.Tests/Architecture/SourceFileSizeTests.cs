using Xunit;

namespace HarborOps.Engine.Tests.Architecture;

/// <summary>
/// One concept per file: no C# source file of the repository (product, tests, lab, bench) runs over 500 lines. A file
/// that grows past it holds more than one thing; split it where the concepts part (a partial class per concern, as the
/// emulators do), not at line 500.
/// </summary>
public sealed class SourceFileSizeTests
{
    private const int MaxLines = 500;

    [Fact]
    public void No_source_file_runs_over_500_lines()
    {
        var root = RepositoryFiles.Root();
        var files = new[] { "src", "tests", "bench" }.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();

        Assert.True(files.Count > 300, $"Only {files.Count} source files found: the rule no longer sees the repository.");
        var tooLong = files.Select(path => (Path: Path.GetRelativePath(root, path), Lines: File.ReadLines(path).Count())).Where(f => f.Lines > MaxLines)
            .Select(f => $"{f.Path}: {f.Lines} lines").ToList();
        Assert.True(tooLong.Count == 0, $"Split these files where their concepts part (at most {MaxLines} lines each):\n" + string.Join("\n", tooLong));
    }
}
