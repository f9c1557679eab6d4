using System.Runtime.Versioning;
using HarborOps.Engine.CutOver;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using Xunit;

namespace HarborOps.Engine.Tests.CutOver;

/// <summary>
/// Update-ImageReference and Get-ImageReference against trees that try to lead them astray: links out of the folder
/// given, link loops, files their owner made read-only. Each such file is its own failure; the rest is rewritten.
/// </summary>
public sealed class ImageReferenceFileSafetyTests : IDisposable
{
    private const string Old = "contoso.azurecr.io";
    private const string Destination = "harbor.example.com/migrated";
    private const string Manifest = "image: contoso.azurecr.io/team/web:1.0\n";
    private const string Rewritten = "image: harbor.example.com/migrated/team/web:1.0\n";
    private readonly string _root = Directory.CreateTempSubdirectory("harborops-cutover-safety-").FullName;
    private readonly RegistryEngine _engine = new(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/harborops/config.json" });

    public void Dispose()
    {
        _engine.Dispose();
        Directory.Delete(_root, recursive: true); // removes links, never what they point at
    }

    private string Write(string relative, string text = Manifest)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<List<ImageReferenceFilePlan>> RewriteAsync(IReadOnlyList<string> paths, bool recurse = true, bool followSymlink = false)
    {
        var rewriter = new ImageReferenceRewriter(_engine);
        var plans = new List<ImageReferenceFilePlan>();
        var request = new ImageReferenceRewriteRequest(paths, [Old], Destination) { Recurse = recurse, FollowSymlink = followSymlink };
        await foreach (var plan in rewriter.PlanAsync(request, null, CancellationToken.None))
        {
            plans.Add(plan);
            // A walk in circles yields the same files again and again (and each link doubles the ways round): stop it.
            Assert.True(plans.Count < 100, $"the walk went round in circles: {plans[^1].Path}");
            if (plan.HasRewrite) await rewriter.CommitAsync(plan, CancellationToken.None);
        }
        return plans;
    }

    private static async Task<List<ImageReferenceFileScan>> ScanAsync(ImageReferenceScanRequest request)
    {
        var scans = new List<ImageReferenceFileScan>();
        await foreach (var scan in ImageReferenceScanner.ScanAsync(request, null, CancellationToken.None))
        {
            scans.Add(scan);
            Assert.True(scans.Count < 100, $"the walk went round in circles: {scan.Path}");
        }
        return scans;
    }

    [Fact]
    public async Task A_link_to_a_file_outside_the_folder_is_its_own_error_named_or_found_with_Recurse_and_is_followed_only_with_FollowSymlink()
    {
        var outside = Write("outside/shared-values.yaml");
        var deploy = Path.Combine(_root, "deploy");
        var inside = Write("deploy/app.yaml");
        Directory.CreateDirectory(Path.Combine(deploy, "nested"));
        var found = Path.Combine(deploy, "nested", "values.yaml");
        File.CreateSymbolicLink(found, outside);
        var named = Path.Combine(_root, "deploy", "named.yaml");
        File.CreateSymbolicLink(named, "../outside/shared-values.yaml");
        var outsideDirectory = Path.Combine(deploy, "shared");
        Directory.CreateSymbolicLink(outsideDirectory, Path.Combine(_root, "outside"));

        var plans = await RewriteAsync([deploy]);
        var named1 = await RewriteAsync([named], recurse: false);

        Assert.Equal(Manifest, File.ReadAllText(outside));
        Assert.Equal(Rewritten, File.ReadAllText(inside));
        var refused = plans.Concat(named1).Where(p => p.Failure is not null).ToList();
        Assert.Equal(Sorted(named, found, outsideDirectory, named), Sorted([.. refused.Select(p => p.Path)]));
        Assert.All(refused, p =>
        {
            Assert.Equal(CutOverErrorIds.LinkOutsideFolder, p.Failure!.ErrorId);
            Assert.Equal(p.Path, p.Failure.Target);
            Assert.Contains(p.Path, p.Failure.Message);
            Assert.Contains("-FollowSymlink", p.Failure.Message);
            Assert.False(p.Failure.IsTerminating);
        });

        // Get-ImageReference walks the same tree by the same rule.
        var scans = await ScanAsync(new ImageReferenceScanRequest([deploy]) { Recurse = true });
        Assert.Equal(Sorted(found, named, outsideDirectory), Sorted([.. scans.Where(s => s.Failure?.ErrorId == CutOverErrorIds.LinkOutsideFolder).Select(s => s.Path)]));
        var followed = await ScanAsync(new ImageReferenceScanRequest([deploy]) { Recurse = true, FollowSymlink = true });
        Assert.All(followed, s => Assert.Null(s.Failure));
        Assert.Equal(4, followed.Sum(s => s.References.Count)); // app.yaml, named.yaml, nested/values.yaml, shared/shared-values.yaml

        var asked = await RewriteAsync([named], recurse: false, followSymlink: true);
        Assert.Null(Assert.Single(asked).Failure);
        Assert.Equal(Rewritten, File.ReadAllText(outside));
        Assert.Equal(Path.Combine(_root, "outside", "shared-values.yaml"), new FileInfo(named).ResolveLinkTarget(true)!.FullName); // still a link
    }

    [Fact]
    public async Task A_link_loop_is_walked_once_and_a_loop_out_of_the_folder_is_reported_once()
    {
        var deploy = Path.Combine(_root, "deploy");
        var app = Write("deploy/app.yaml");
        var values = Write("deploy/charts/web/values.yaml");
        Directory.CreateSymbolicLink(Path.Combine(deploy, "charts", "web", "loop"), "..");   // back into the tree
        Directory.CreateSymbolicLink(Path.Combine(deploy, "charts", "again"), deploy);         // the top of the tree
        var up = Path.Combine(deploy, "up");
        Directory.CreateSymbolicLink(up, "..");                                                // out of the tree

        var plans = await RewriteAsync([deploy]);

        Assert.Equal([app, values], plans.Where(p => p.Failure is null).Select(p => p.Path).ToList());
        var failure = Assert.Single(plans, p => p.Failure is not null);
        Assert.Equal((up, CutOverErrorIds.LinkOutsideFolder), (failure.Path, failure.Failure!.ErrorId));
        Assert.Equal(Rewritten, File.ReadAllText(app));
        Assert.Equal(Rewritten, File.ReadAllText(values));

        // Asked to follow links, the walk still reads each real folder once, however many links lead to it.
        var scans = await ScanAsync(new ImageReferenceScanRequest([deploy]) { Recurse = true, FollowSymlink = true });
        Assert.All(scans, s => Assert.Null(s.Failure));
        Assert.Equal(scans.Count, scans.Select(s => RealPath(s.Path)).Distinct().Count());
        Assert.Contains(app, scans.Select(s => RealPath(s.Path)));
    }

    [Fact]
    [UnsupportedOSPlatform("windows")] // it sets and reads POSIX file modes
    public async Task A_read_only_file_is_its_own_error_and_keeps_its_bytes_and_mode_while_the_other_files_are_rewritten()
    {
        var deploy = Path.Combine(_root, "deploy");
        var before = Write("deploy/a.yaml");
        var locked = Write("deploy/b.yaml");
        var after = Write("deploy/c.yaml");
        var linkedLocked = Path.Combine(deploy, "d.yaml");
        File.CreateSymbolicLink(linkedLocked, locked);
        const UnixFileMode readOnly = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead; // 0444
        File.SetUnixFileMode(locked, readOnly);
        var time = File.GetLastWriteTimeUtc(locked);

        var plans = await RewriteAsync([deploy]);

        Assert.Equal(Rewritten, File.ReadAllText(before));
        Assert.Equal(Rewritten, File.ReadAllText(after));
        Assert.Equal(Manifest, File.ReadAllText(locked));
        Assert.Equal(readOnly, File.GetUnixFileMode(locked));
        Assert.Equal(time, File.GetLastWriteTimeUtc(locked));
        var refused = plans.Where(p => p.Failure is not null).ToList();
        Assert.Equal([locked, linkedLocked], refused.Select(p => p.Path).ToList());
        Assert.All(refused, p =>
        {
            Assert.Equal(CutOverErrorIds.FileReadOnly, p.Failure!.ErrorId);
            Assert.Equal(p.Path, p.Failure.Target);
            Assert.Contains(p.Path, p.Failure.Message);
            Assert.False(p.Failure.IsTerminating);
        });

        // A file made read-only after it was planned is refused at the write too, and stays as it was.
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var rewriter = new ImageReferenceRewriter(_engine);
        ImageReferenceFilePlan? plan = null;
        await foreach (var each in rewriter.PlanAsync(new ImageReferenceRewriteRequest([locked], [Old], Destination), null, CancellationToken.None)) plan = each;
        File.SetUnixFileMode(locked, readOnly);
        var error = await Assert.ThrowsAsync<HarborOpsException>(() => rewriter.CommitAsync(plan!, CancellationToken.None));
        Assert.Equal(CutOverErrorIds.FileReadOnly, error.ErrorId);
        Assert.Equal(Manifest, File.ReadAllText(locked));
    }

    private static List<string> Sorted(params string[] paths) => [.. paths.Order(StringComparer.Ordinal)];

    private static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var parts = new List<string>();
        var current = full;
        // Resolves every link along the path, so two paths to one file compare equal.
        while (true)
        {
            var info = new DirectoryInfo(current);
            if (info.LinkTarget is not null) return RealPath(Path.Combine(Path.GetFullPath(info.LinkTarget, Path.GetDirectoryName(current)!), Path.Combine(Enumerable.Reverse(parts).ToArray())));
            var parent = Path.GetDirectoryName(current);
            if (parent is null) return full;
            parts.Add(Path.GetFileName(current));
            current = parent;
        }
    }
}
