using System.Net;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Azure Container Registry's own listing API (/acr/v1, research §2.5): the catalog, and every manifest of a repository
/// with its tags, digest, media type, times and lock state in one paged call, where the OCI API needs a request per tag.
/// </summary>
internal sealed class AcrListing(RemoteRegistryStore store, NetworkCredential? credential)
{
    private string Registry => store.Registry;
    private string Name(string repository) => $"{Registry}/{repository}";

    /// <summary>ACR wants this scope for every listing of a repository (/v2 tag lists included).</summary>
    public static string MetadataRead(string repository) => TokenScope.Repository(repository, "metadata_read");

    public IAsyncEnumerable<IReadOnlyList<string>> ListRepositoryPagesAsync(CancellationToken cancellationToken) =>
        store.ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, $"/acr/v1/_catalog?n={store.PageSize}")
        {
            AbsoluteUri = next,
            Scopes = [TokenScope.Catalog],
            Credential = credential,
            Accept = ["application/json"],
            Target = Registry,
            Description = $"the repository catalog of '{Registry}' (/acr/v1/_catalog)",
        }, (response, request) => (IReadOnlyList<string>)RemoteRegistryStore.ReadStringArray(response.Body, "repositories", request), cancellationToken);

    /// <summary>
    /// /acr/v1/{repo}/_manifests, one page at a time, as tag inventory entries: one per tag of each manifest, with the
    /// manifest's createdTime and lastUpdateTime and its readEnabled lock. Untagged manifests (index children,
    /// referrers) are not tags and are left out.
    /// </summary>
    public IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListManifestPagesAsync(string repository, CancellationToken cancellationToken) =>
        store.ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, $"/acr/v1/{repository}/_manifests?n={store.PageSize}")
        {
            AbsoluteUri = next,
            Scopes = [MetadataRead(repository)],
            Credential = credential,
            Accept = ["application/json"],
            Target = Name(repository),
            Description = $"the manifest list of '{Name(repository)}' (/acr/v1/_manifests)",
            NotFoundErrorId = RegistryErrorIds.RepositoryNotFound,
        }, (response, request) => (IReadOnlyList<TaggedManifest>)ReadManifests(response.Body, request), cancellationToken);

    private static List<TaggedManifest> ReadManifests(byte[]? body, RegistryRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(body ?? []);
            var result = new List<TaggedManifest>();
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
                return result;
            foreach (var manifest in manifests.EnumerateArray())
            {
                if (!manifest.TryGetProperty("tags", out var tags) || tags.ValueKind != JsonValueKind.Array) continue;
                var digest = ListingJson.String(manifest, "digest");
                if (digest is null || !ImageReference.IsValidDigest(digest))
                    throw new JsonException($"a manifest entry has no valid digest ('{digest}')");
                // ACR's imageSize is the whole image (manifest, config, layers), not the manifest's own size, which
                // the listing does not give: 0 says unknown.
                var descriptor = new OciDescriptor(MediaTypes.Normalize(ListingJson.String(manifest, "mediaType")), digest, 0);
                var created = ListingJson.Time(manifest, "createdTime");
                var updated = ListingJson.Time(manifest, "lastUpdateTime");
                var readEnabled = !(manifest.TryGetProperty("changeableAttributes", out var attributes) && attributes.ValueKind == JsonValueKind.Object
                    && attributes.TryGetProperty("readEnabled", out var read) && read.ValueKind == JsonValueKind.False);
                foreach (var tag in tags.EnumerateArray())
                    if (tag.ValueKind == JsonValueKind.String && tag.GetString() is { Length: > 0 } name)
                        result.Add(new TaggedManifest(name, descriptor) { CreatedOn = created, UpdatedOn = updated, ReadEnabled = readEnabled });
            }
            return result;
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.InvalidData,
                $"Registry '{request.Registry}' answered {request.Description} with something that is not ACR's manifest list ({ex.Message}).", request.Target, ex);
        }
    }
}
