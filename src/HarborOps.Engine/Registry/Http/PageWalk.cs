using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// One walk along a paged listing's Link rel="next" chain (tags, catalog, referrers, ACR's /acr/v1). A link to a page
/// this walk has already read ends it at once: a registry that links a page to itself (or back to an earlier one) would
/// otherwise be followed until the page cap, 100,000 requests later.
/// </summary>
internal sealed class PageWalk(string registry)
{
    private const int MaxPages = 100_000;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private int _pages;

    /// <summary>The next page to read after <paramref name="response"/>, or null when the listing is complete.</summary>
    public Uri? Next(RegistryResponse response, RegistryRequest request)
    {
        _pages++;
        _seen.Add(response.RequestUri.AbsoluteUri);
        var next = LinkHeader.FindNext(response.Headers("Link"), response.RequestUri);
        if (next is null) return null;
        if (!_seen.Add(next.AbsoluteUri))
            throw new RegistryException(RegistryErrorIds.PagingLoop, FailureKind.InvalidData,
                $"Registry '{registry}' linked the next page of {request.Description} back to a page it had already sent ({next.PathAndQuery}) after {_pages} page(s); stopping instead of reading it again. The registry's paging is broken; what it listed so far was not complete.",
                request.Target ?? registry);
        if (_pages >= MaxPages)
            throw new RegistryException(RegistryErrorIds.PagingLoop, FailureKind.InvalidData,
                $"Registry '{registry}' kept sending next-page links for {request.Description} after {_pages} pages; stopping.", request.Target ?? registry);
        return next;
    }
}
