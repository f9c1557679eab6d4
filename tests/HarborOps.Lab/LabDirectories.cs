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
