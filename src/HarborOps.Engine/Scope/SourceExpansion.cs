using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Scope;

/// <summary>
/// The one expansion of sources into the repositories they cover and where each lands, used by the copy and the parity
/// check alike, so that a parity check of a copy's request compares exactly the repositories the copy took.
/// </summary>
public static class SourceExpansion
{
    /// <summary>
    /// Expands <paramref name="sources"/> in their order: a Prefix or Registry source into the repositories its catalog
    /// lists (those equal to or below the prefix, with a valid name), a Repository or Image source into its own repository;
    /// each mapped through <paramref name="mapping"/>. A repository named twice is taken once (an image source is its own
    /// item, keyed by repository, tag and digest, since it reads only that image). What is left out goes to <paramref name="failures"/>.
    /// <paramref name="storeOf"/> opens (once, by the caller's rules) the store of a source's registry or layout; listing a
    /// catalog is reported under the caller's <paramref name="activity"/>.
    /// <para>Of a sharded run (<paramref name="shard"/>), only what the shard owns is returned, and only its own
    /// repositories' mapping failures and invalid names are reported (a source that cannot be listed is every shard's
    /// failure); <see cref="ExpandedScope.AllDestinationRepositories"/> still names where every shard's repositories land.
    /// With <see cref="ShardBy.Tag"/> every repository is returned and its tags are split by <see cref="ExpandedRepository.OwnsTag"/>.</para>
    /// </summary>
    public static async Task<ExpandedScope> ExpandAsync(IEnumerable<CopySource> sources, Func<string, IImageStore> storeOf, RepositoryMapping mapping,
        ShardPartition shard, ISourceExpansionFailures failures, IProgress<OperationProgress>? progress, string activity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(storeOf);
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(failures);
        var expanded = new List<ExpandedRepository>();
        var others = new List<ExpandedRepository>();
        var everywhere = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var owned = new ShardOwnedFailures(shard, failures);
        foreach (var source in sources)
        {
            var store = storeOf(source.Registry);
            foreach (var repository in await ListAsync(store, source, owned, progress, activity, cancellationToken).ConfigureAwait(false))
            {
                var key = source.Kind == CopySourceKind.Image ? $"{store.Registry}/{repository}:{source.Tag}@{source.Digest}" : $"{store.Registry}/{repository}";
                if (!seen.Add(key)) continue;
                string mapped;
                try
                {
                    mapped = mapping.MapRepository(repository, store.ItemName(repository));
                }
                catch (HarborOpsException ex) when (ex.ErrorId == ScopeErrorIds.MappingInvalid)
                {
                    owned.MappingFailed(store, repository, ex);
                    continue;
                }
                everywhere.Add(mapped);
                if (Owns(shard, source, repository))
                    expanded.Add(new ExpandedRepository(store, repository, mapped, source) { Shard = shard });
                else if (source.Kind != CopySourceKind.Image)
                    others.Add(new ExpandedRepository(store, repository, mapped, source) { Shard = shard.Of(ShardPartition.ShardOf(repository, shard.Count)) });
            }
        }
        return new ExpandedScope(expanded, everywhere) { OtherShards = others };
    }

    private static bool Owns(ShardPartition shard, CopySource source, string repository) =>
        source.Kind != CopySourceKind.Image ? shard.OwnsRepository(repository)
        : source.Tag is { } tag ? shard.OwnsTag(repository, tag)
        : shard.OwnsDigest(repository, source.Digest!);

    /// <summary>The failures of the repositories a shard owns; a listing failure is every shard's.</summary>
    private sealed class ShardOwnedFailures(ShardPartition shard, ISourceExpansionFailures failures) : ISourceExpansionFailures
    {
        public void ListingFailed(CopySource source, HarborOpsException failure) => failures.ListingFailed(source, failure);

        public void NameInvalid(IImageStore store, string name, HarborOpsException failure)
        {
            if (shard.OwnsRepository(name)) failures.NameInvalid(store, name, failure);
        }

        public void MappingFailed(IImageStore store, string repository, HarborOpsException failure)
        {
            if (shard.OwnsRepository(repository)) failures.MappingFailed(store, repository, failure);
        }
    }

    /// <summary>The repositories of one source; a listing that fails is reported, and what it listed before is kept.</summary>
    private static async Task<List<string>> ListAsync(IImageStore store, CopySource source, ISourceExpansionFailures failures,
        IProgress<OperationProgress>? progress, string activity, CancellationToken cancellationToken)
    {
        var repositories = new List<string>();
        if (source.Kind is CopySourceKind.Prefix or CopySourceKind.Registry)
            progress?.Report(new OperationProgress(activity, $"Listing repositories of {source.Text}"));
        try
        {
            await foreach (var repository in RepositoriesAsync(store, source, (name, invalid) => failures.NameInvalid(store, name, invalid), cancellationToken).ConfigureAwait(false))
                repositories.Add(repository);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            failures.ListingFailed(source, ex);
        }
        return repositories;
    }

    /// <summary>
    /// The repositories a Prefix or Registry source covers, in catalog order: every repository of the store, or those
    /// equal to or below the prefix. A Repository or Image source covers just its own repository. A listed name that
    /// breaks the repository grammar goes to <paramref name="onInvalidName"/> and is left out.
    /// </summary>
    private static async IAsyncEnumerable<string> RepositoriesAsync(IImageStore store, CopySource source, Action<string, HarborOpsException> onInvalidName,
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
