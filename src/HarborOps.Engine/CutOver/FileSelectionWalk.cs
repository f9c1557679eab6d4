using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// The files a selection names, for Get-ImageReference and Update-ImageReference alike, so both read the same tree.
/// The tree is the folder given (for a named file, its folder): a link that leads out of it is not followed unless the
/// selection says FollowSymlink, since a rewrite through it would change files nobody named. Each real folder is read
/// once, so a link loop (loop -> ..) ends instead of walking the same folders until the path is too long.
/// </summary>
internal static class FileSelectionWalk
{
    /// <summary>
    /// Each file in a stable order, with the failure that keeps it from being read (a path that does not exist, a folder
    /// that cannot be listed, a link out of the tree). Named files are read whatever their name; files found in folders
    /// must match the include globs. .git folders are never entered.
    /// </summary>
    public static IEnumerable<(string Path, HarborOpsException? Failure)> Enumerate(ImageReferenceFileSelection selection)
    {
        var include = (selection.Include.Count == 0 ? ImageReferenceFileSelection.DefaultInclude : selection.Include).Select(Glob).ToArray();
        var exclude = selection.Exclude.Select(Glob).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var given in selection.Paths)
        {
            var full = Path.GetFullPath(given);
            if (File.Exists(full))
            {
                if (exclude.Any(g => g.IsMatch(Path.GetFileName(full))) || !seen.Add(full)) continue;
                var folder = FileLinks.RealPath(Path.GetDirectoryName(full)!) ?? Path.GetDirectoryName(full)!;
                yield return (full, OutsideTree(full, folder, selection.FollowSymlink, isFolder: false));
                continue;
            }
            if (!Directory.Exists(full))
            {
                yield return (full, new HarborOpsException(CutOverErrorIds.PathNotFound, FailureKind.NotFound,
                    $"'{given}' is neither a file nor a folder. Check the path.", given));
                continue;
            }
            var root = FileLinks.RealPath(full) ?? full;
            if (!visited.Add(root)) continue;
            var pending = new Stack<string>();
            pending.Push(full);
            while (pending.Count > 0)
            {
                var dir = pending.Pop();
                string[] files, dirs;
                HarborOpsException? failure = null;
                try
                {
                    files = Directory.GetFiles(dir);
                    dirs = selection.Recurse ? Directory.GetDirectories(dir) : [];
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    files = dirs = [];
                    failure = new HarborOpsException(CutOverErrorIds.FileUnreadable, FailureKind.PermissionDenied,
                        $"The folder '{dir}' cannot be listed ({ex.Message}); its files were skipped.", dir, ex);
                }
                if (failure is not null)
                {
                    yield return (dir, failure);
                    continue;
                }
                Array.Sort(files, StringComparer.Ordinal);
                foreach (var file in files)
                {
                    var name = Path.GetFileName(file);
                    var relative = Path.GetRelativePath(full, file).Replace('\\', '/');
                    if (include.Any(g => g.IsMatch(name)) && !exclude.Any(g => g.IsMatch(name) || g.IsMatch(relative)) && seen.Add(file))
                        yield return (file, OutsideTree(file, root, selection.FollowSymlink, isFolder: false));
                }
                Array.Sort(dirs, StringComparer.Ordinal);
                var next = new List<string>();
                foreach (var sub in dirs)
                {
                    var name = Path.GetFileName(sub);
                    var relative = Path.GetRelativePath(full, sub).Replace('\\', '/');
                    if (name == ".git" || exclude.Any(g => g.IsMatch(name) || g.IsMatch(relative))) continue;
                    if (OutsideTree(sub, root, selection.FollowSymlink, isFolder: true) is { } outside)
                    {
                        yield return (sub, outside);
                        continue;
                    }
                    // A folder reached before, through a link or a loop, is not read again.
                    if (visited.Add(FileLinks.RealPath(sub) ?? sub)) next.Add(sub);
                }
                for (var i = next.Count - 1; i >= 0; i--) pending.Push(next[i]);
            }
        }
    }

    /// <summary>The failure for a link that leads out of <paramref name="realRoot"/> when links are not to be followed there.</summary>
    private static HarborOpsException? OutsideTree(string path, string realRoot, bool followSymlink, bool isFolder)
    {
        if (followSymlink || new FileInfo(path).LinkTarget is null) return null;
        var real = FileLinks.RealPath(path);
        if (real is null || FileLinks.IsWithin(real, realRoot)) return null; // a loop of links fails when read, as any unreadable file
        var what = isFolder ? "folder" : "file";
        return new HarborOpsException(CutOverErrorIds.LinkOutsideFolder, FailureKind.PermissionDenied,
            $"'{path}' is a link to the {what} '{real}', outside '{realRoot}', so it was skipped and nothing it leads to was read or changed. " +
            "Add -FollowSymlink to follow links out of the folder, or give that folder itself.", path);
    }

    private static Regex Glob(string pattern) => Wildcard.ToRegex(pattern);
}
