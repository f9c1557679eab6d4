using System.Diagnostics;
using System.Text;
using HarborOps.Engine.Tests.Child;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.CutOver;

/// <summary>Update-ImageReference on a file far larger than charts usually are: memory stays a small multiple of the file.</summary>
public sealed class ImageReferenceMemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("harborops-cutover-memory-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// A generated multi-document manifest of about 50 MiB: Deployments with an image from the old registry, long
    /// environment lists and a comment per document, like a rendered umbrella chart.
    /// </summary>
    internal static (long Size, int Images) WriteLargeManifest(string path, long targetBytes)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        var images = 0;
        for (var i = 0; writer.BaseStream.Length < targetBytes; i++)
        {
            writer.Write($"# rendered from chart app-{i}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels:\n    app: app-{i}\n");
            writer.Write($"spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n          image: contoso.azurecr.io/team/app-{i % 97}:1.{i % 13}.0\n          env:\n");
            for (var e = 0; e < 20; e++) writer.Write($"            - name: SETTING_{e}\n              value: \"value {e} of app {i}\"\n");
            writer.Write("---\n");
            images++;
            if (i % 64 == 0) writer.Flush();
        }
        writer.Flush();
        return (writer.BaseStream.Length, images);
    }

    [Fact]
    public async Task A_50_MiB_manifest_is_rewritten_whole_with_a_peak_under_ten_times_its_size()
    {
        var path = Path.Combine(_folder, "rendered.yaml");
        var (size, images) = WriteLargeManifest(path, 50L * 1024 * 1024);

        var clock = Stopwatch.StartNew();
        using var child = ChildProcess.Start("rewrite", path, "contoso.azurecr.io", "harbor.example.com/migrated");
        child.StandardInput.Close();
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(child.ExitCode == 0, $"the rewrite failed: {await stderr}");
        var peak = long.Parse(lines.Single(l => l.StartsWith("peak-rss-bytes ", StringComparison.Ordinal))["peak-rss-bytes ".Length..]);
        output.WriteLine($"{size / 1048576.0:0.0} MiB, {images} images: peak RSS {peak / 1048576.0:0} MiB ({(double)peak / size:0.0}x the file) in {clock.Elapsed.TotalSeconds:0.0} s");

        Assert.Equal($"rewritten {images}", lines.Single(l => l.StartsWith("rewritten ", StringComparison.Ordinal)));
        Assert.True(peak < 10 * size, $"peak RSS {peak / 1048576} MiB is over ten times the {size / 1048576} MiB file");
        // Spot checks: the first and the last image moved, and nothing else did (the file grew by exactly the new names).
        var growth = ("harbor.example.com/migrated".Length - "contoso.azurecr.io".Length) * (long)images;
        Assert.Equal(size + growth, new FileInfo(path).Length);
        using var reader = new StreamReader(path);
        string? line, first = null, last = null;
        while ((line = await reader.ReadLineAsync()) is not null)
            if (line.StartsWith("          image: ", StringComparison.Ordinal)) { first ??= line; last = line; }
        Assert.Equal("          image: harbor.example.com/migrated/team/app-0:1.0.0", first);
        Assert.Equal($"          image: harbor.example.com/migrated/team/app-{(images - 1) % 97}:1.{(images - 1) % 13}.0", last);
    }
}
