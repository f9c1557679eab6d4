namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>Files the tests read from the repository itself (contracts, fixtures, help), found from the test binaries up.</summary>
public static class RepositoryFiles
{
    public static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "HarborOps.sln"))) return directory.FullName;
        throw new InvalidOperationException($"No HarborOps.sln above {AppContext.BaseDirectory}.");
    }
}
