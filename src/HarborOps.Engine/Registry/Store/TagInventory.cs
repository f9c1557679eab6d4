using System.Runtime.CompilerServices;

namespace HarborOps.Engine.Registry.Store;

/// <summary>
/// The inventory every store can give: its tag list with one manifest HEAD per tag, read with bounded parallelism.
/// Stores with a bulk listing (ACR's _manifests, an OCI layout's index) answer from that instead.
/// </summary>
internal static class TagInventory
{
    public static IAsyncEnumerable<IReadOnlyList<TaggedManifest>> HeadEachTagAsync(IImageStore store, string repository, int parallelism,
        CancellationToken cancellationToken) =>
        HeadEachTagAsync(store, repository, parallelism, wanted: null, cancellationToken);

    /// <summary>
    /// The same for the tags <paramref name="wanted"/> accepts only (null: every tag): a caller that ignores some tags
    /// (a filter, referrer tags) saves their HEADs where the store has no bulk listing.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<TaggedManifest>> HeadEachTagAsync(IImageStore store, string repository, int parallelism,
        Func<string, bool>? wanted, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var limiter = new SemaphoreSlim(Math.Max(1, parallelism));
        await foreach (var tags in store.ListTagPagesAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            var heads = tags.Where(tag => wanted?.Invoke(tag) ?? true).Select(async tag =>
            {
                await limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var head = await store.HeadManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                    // A tag deleted between the listing and its HEAD is simply gone.
                    return head is null ? null : new TaggedManifest(tag, head);
                }
                finally
                {
                    limiter.Release();
                }
            }).ToList();
            var page = await Task.WhenAll(heads).ConfigureAwait(false);
            yield return page.OfType<TaggedManifest>().ToList();
        }
    }
}
