using System.Runtime.CompilerServices;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Registry;

/// <summary>The listings of a remote registry: catalog and tag pages (ACR's /acr/v1 where the registry is ACR) and the tag inventory.</summary>
internal sealed partial class RemoteRegistryStore
{
    public async IAsyncEnumerable<IReadOnlyList<string>> ListRepositoryPagesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (IsAcr)
        {
            await foreach (var page in Acr.ListRepositoryPagesAsync(cancellationToken).ConfigureAwait(false)) yield return page;
            yield break;
        }
        await foreach (var page in ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, $"/v2/_catalog?n={PageSize}")
        {
            AbsoluteUri = next,
            Scopes = [TokenScope.Catalog],
            Credential = _credential,
            Accept = ["application/json"],
            Target = Registry,
            Description = $"the repository catalog of '{Registry}'",
            AcceptStatus = status => status is 404 or 405,
        }, (response, request) => response.StatusCode is 404 or 405
            ? throw new RegistryException(RegistryErrorIds.CatalogUnsupported, FailureKind.NotSupported,
                $"Registry '{Registry}' does not offer a repository catalog (/v2/_catalog answered HTTP {response.StatusCode}). Name the repositories explicitly, or use the registry's own API (Harbor projects, GitHub packages).",
                Registry, statusCode: response.StatusCode)
            : ReadStringArray(response.Body, "repositories", request), cancellationToken).ConfigureAwait(false))
            yield return page;
    }

    public IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, CancellationToken cancellationToken) =>
        ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, $"/v2/{repository}/tags/list?n={PageSize}")
        {
            AbsoluteUri = next,
            // ACR wants metadata_read for listings; asking for it up front saves a 401 and a second token per repository.
            Scopes = [IsAcr ? AcrListing.MetadataRead(repository) : Pull(repository)],
            Credential = _credential,
            Accept = ["application/json"],
            Target = Name(repository),
            Description = $"the tag list of '{Name(repository)}'",
            NotFoundErrorId = RegistryErrorIds.RepositoryNotFound,
        }, (response, request) => (IReadOnlyList<string>)ReadStringArray(response.Body, "tags", request), cancellationToken);

    /// <summary>
    /// A paged listing: the first request (next is null), then one per Link rel="next" until the registry stops
    /// linking (see <see cref="PageWalk"/> for the cut-off). Each page is read while its response is open and handed out before
    /// the next is asked for, so a caller that stops early sends no further request.
    /// </summary>
    internal async IAsyncEnumerable<TPage> ReadPagesAsync<TPage>(Func<Uri?, RegistryRequest> requestFor, Func<RegistryResponse, RegistryRequest, TPage> readPage,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? next = null;
        var walk = new PageWalk(Registry);
        do
        {
            var request = requestFor(next);
            TPage page;
            using (var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false))
            {
                page = readPage(response, request);
                next = walk.Next(response, request);
            }
            yield return page;
        }
        while (next is not null);
    }

    public IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListTaggedManifestPagesAsync(string repository, CancellationToken cancellationToken) =>
        IsAcr
            ? Acr.ListManifestPagesAsync(repository, cancellationToken)
            : TagInventory.HeadEachTagAsync(this, repository, _options.TagDetailParallelism, cancellationToken);

    public bool HasBulkInventory => IsAcr;

    /// <summary>Azure Container Registry (by its suffix or the engine's AcrHosts): listed with its own /acr/v1 API.</summary>
    public bool IsAcr => _pipeline.IsAcr(Registry);

    private AcrListing Acr => new(this, _credential);

    internal static List<string> ReadStringArray(byte[]? body, string property, RegistryRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(body ?? []);
            var result = new List<string>();
            // Registries send "tags": null for a repository whose tags were all deleted.
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var array) && array.ValueKind == JsonValueKind.Array)
                foreach (var item in array.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.String) result.Add(item.GetString()!);
            return result;
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.InvalidData,
                $"Registry '{request.Registry}' answered {request.Description} with something that is not JSON.", request.Target, ex);
        }
    }
}
