using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Scope;

/// <summary>
/// The one expansion of a source into the repositories it covers, used by the copy and the parity check alike, so that a
/// parity check of a copy's request compares exactly the repositories the copy took.
/// </summary>
public static class SourceExpansion
{
    /// <summary>
    /// The repositories a Prefix or Registry source covers, in catalog order: every repository of the store, or those
    /// equal to or below the prefix. A Repository or Image source covers just its own repository. A listed name that
    /// breaks the repository grammar goes to <paramref name="onInvalidName"/> (with none, it ends the listing) and is left out.
    /// </summary>
    public static async IAsyncEnumerable<string> RepositoriesAsync(IImageStore store, CopySource source, Action<string, HarborOpsException>? onInvalidName,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (source.Kind is CopySourceKind.Image or CopySourceKind.Repository)
        {
            yield return source.Repository;
            yield break;
        }
        var prefix = source.Kind == CopySourceKind.Prefix ? source.Repository : "";
        await foreach (var page in store.ListRepositoryPagesAsync(cancellationToken).ConfigureAwait(false))
            foreach (var name in page)
                if ((prefix.Length == 0 || name == prefix || name.StartsWith(prefix + "/", StringComparison.Ordinal)) && ListedRepositories.Admit(store, name, onInvalidName))
                    yield return name;
    }
}
