namespace HarborOps.Engine.CutOver;

/// <summary>
/// Where links really lead, and whether a file may be replaced: the rules that keep the cut-over inside the tree it
/// was given and away from files their owner made read-only.
/// </summary>
internal static class FileLinks
{
    // Linux's own limit on links in one path (ELOOP); a longer chain is a loop.
    private const int MaxLinkHops = 40;

    /// <summary>
    /// The path with every link along it resolved (realpath(3) without P/Invoke), or null when the links go round in
    /// a loop. Components that do not exist are kept as written.
    /// </summary>
    public static string? RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var current = Path.GetPathRoot(full)!;
        var remaining = new LinkedList<string>(Components(full));
        var hops = 0;
        while (remaining.First is { } first)
        {
            remaining.RemoveFirst();
            var part = first.Value;
            if (part == ".") continue;
            // current holds no link, so its parent is the real parent.
            if (part == "..") { current = Path.GetDirectoryName(current) ?? current; continue; }
            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++hops > MaxLinkHops) return null;
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(Path.GetFullPath(target))!;
            foreach (var component in Enumerable.Reverse(Components(target))) remaining.AddFirst(component);
        }
        return current;
    }

    /// <summary>True when <paramref name="realPath"/> is <paramref name="realRoot"/> or below it.</summary>
    public static bool IsWithin(string realPath, string realRoot)
    {
        if (realPath == realRoot) return true;
        var prefix = Path.EndsInDirectorySeparator(realRoot) ? realRoot : realRoot + Path.DirectorySeparatorChar;
        return realPath.StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// False when the file's mode does not let us write it. Root may replace any file (and a rename needs only the
    /// folder's write bit), so the kernel would not refuse; a read-only mode is its owner's word, so root is held to the
    /// owner's write bit, and anyone else to what the kernel grants them on the file itself.
    /// </summary>
    public static bool MayWrite(string path)
    {
        if (OperatingSystem.IsWindows()) return !File.GetAttributes(path).HasFlag(FileAttributes.ReadOnly);
        if (Environment.IsPrivilegedProcess) return (File.GetUnixFileMode(path) & UnixFileMode.UserWrite) != 0;
        try
        {
            // Opening for writing without truncating changes neither the bytes nor the time.
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        catch (IOException)
        {
            return true; // locked or gone: the write itself reports that
        }
    }

    private static string[] Components(string path) =>
        path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries)
            .Where((part, index) => index > 0 || !Path.IsPathRooted(path) || Path.GetPathRoot(path)!.TrimEnd('/', '\\') != part).ToArray();
}
