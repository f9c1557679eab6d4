namespace HarborOps.Lab;

/// <summary>Where lab registries keep their storage.</summary>
public static class LabDirectories
{
    public const string OverrideVariable = "HARBOROPS_LAB_DIR";
    private const string SharedMemory = "/dev/shm";

    /// <summary>
    /// <c>$HARBOROPS_LAB_DIR</c> if set, else a folder on tmpfs (/dev/shm) when there is one, else the temp dir.
    /// tmpfs because a registry writes several small files per tag: on a disk (ext4 with discard here) pushing 1,500
    /// tags and deleting them afterwards took many seconds, in RAM it takes a fraction of that.
    /// </summary>
    public static string Root { get; } = ChooseRoot();

    private const string OwnerFile = "owner";
    private static readonly Lazy<int> Swept = new(SweepStaleDirectories);

    /// <summary>Creates a directory for one lab part, owned by this process. The first call also deletes directories
    /// whose owner is gone (a test host killed outright cannot clean up after itself).</summary>
    public static string CreateOwned(string prefix)
    {
        _ = Swept.Value;
        var directory = Path.Combine(Root, $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}");
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, OwnerFile), OwnerStamp(Environment.ProcessId) ?? "");
        return directory;
    }

    /// <summary>pid plus the process start time, so a recycled pid is not taken for the owner.</summary>
    private static string? OwnerStamp(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the ")" that closes the command name start at field 3; start time is field 22.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return $"{pid} {fields[19]}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Deletes lab directories whose owning process is gone; returns how many.</summary>
    public static int SweepStale() => SweepStaleDirectories();

    private static int SweepStaleDirectories()
    {
        var deleted = 0;
        foreach (var directory in System.IO.Directory.EnumerateDirectories(Root))
        {
            try
            {
                var ownerFile = Path.Combine(directory, OwnerFile);
                if (!File.Exists(ownerFile)) continue; // being created right now, or not ours
                var stamp = File.ReadAllText(ownerFile).Trim();
                if (stamp.Length == 0 || !int.TryParse(stamp.Split(' ')[0], out var pid) || OwnerStamp(pid) == stamp) continue;
                System.IO.Directory.Delete(directory, recursive: true);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another sweeper got there first, or it is not ours to delete
            }
        }
        return deleted;
    }

    private static string ChooseRoot()
    {
        var configured = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        if (System.IO.Directory.Exists(SharedMemory))
        {
            try
            {
                var candidate = Path.Combine(SharedMemory, "harborops-lab");
                System.IO.Directory.CreateDirectory(candidate);
                return candidate;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // read-only or not ours: fall back to the temp dir
            }
        }
        return Path.Combine(Path.GetTempPath(), "harborops-lab");
    }
}
