using System.Runtime.ExceptionServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Repository names a registry's catalog (/v2/_catalog, ACR's /acr/v1/_catalog) sends are data, not the user's input:
/// a name that breaks the grammar ('../x', 'a//b', uppercase, a newline, too long) would reach request URLs and layout
/// paths as it is, so it is that repository's own failure, reported before anything uses it, and the listing goes on.
/// </summary>
internal static class ListedRepositories
{
    /// <summary>
    /// True when <paramref name="repository"/> may be used; otherwise its failure goes to <paramref name="onInvalid"/>
    /// (the name as listed, and the failure), or, with none, ends the listing. A layout's names are its own directories,
    /// which its store checks as paths.
    /// </summary>
    public static bool Admit(IImageStore store, string repository, Action<string, HarborOpsException>? onInvalid)
    {
        if (store.Registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal)) return true;
        if (ManifestChecks.InvalidRepository(repository, store.Registry) is not { } invalid) return true;
        if (onInvalid is null) ExceptionDispatchInfo.Throw(invalid);
        onInvalid(repository, invalid);
        return false;
    }
}
