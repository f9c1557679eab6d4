namespace HarborOps.Engine.Harbor;

/// <summary>How Harbor's artifact API is told which artifact of a repository: its tag or its digest.</summary>
public static class HarborArtifactReference
{
    /// <summary>
    /// The tag or digest of what a user or the pipeline gave: "v1", "sha256:...", or a full
    /// "registry/project/repository@sha256:..." reference (Get-HarborArtifact's Reference), whose digest follows the last '@'.
    /// </summary>
    public static string TagOrDigest(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var at = reference.LastIndexOf('@');
        return at >= 0 ? reference[(at + 1)..] : reference;
    }
}
