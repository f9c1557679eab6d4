using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Registry.Store;

/// <summary>
/// What the engine needs from a place that holds images: a remote registry or an OCI image layout directory. The copy
/// engine reads from one and writes to another through this interface only. Repository is "team/app" for a registry;
/// for a layout it is the path below the layout root ("" for the root itself). Blobs and manifests are verified
/// against their digests on the way in and out.
/// </summary>
public interface IImageStore
{
    /// <summary>Registry name (host[:port], docker.io) or "oci:&lt;directory&gt;".</summary>
    string Registry { get; }

    /// <summary>Repositories, one page at a time (a registry's catalog; a layout's layout directories).</summary>
    IAsyncEnumerable<IReadOnlyList<string>> ListRepositoryPagesAsync(CancellationToken cancellationToken);

    /// <summary>Tags of a repository, one page at a time, in the store's order (callers sort).</summary>
    IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, CancellationToken cancellationToken);

    /// <summary>
    /// Tags of a repository with the manifest each points at, one page at a time: the inventory that parity checks and
    /// copy planning diff by digest. Stores with a bulk listing answer in a few requests; others HEAD each tag.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListTaggedManifestPagesAsync(string repository, CancellationToken cancellationToken);

    /// <summary>
    /// True when <see cref="ListTaggedManifestPagesAsync"/> costs about as much as the tag list (ACR's _manifests
    /// listing): then callers read digests, times and locks from it instead of asking per tag.
    /// </summary>
    bool HasBulkInventory => false;

    /// <summary>Digest, media type and size of a manifest by tag or digest; null when absent.</summary>
    Task<OciDescriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken);

    /// <summary>The manifest's exact bytes, verified against the requested digest and the store's own digest header.</summary>
    Task<ManifestContent> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken);

    /// <summary>Stores the manifest bytes verbatim under a tag or under its digest; returns the digest.</summary>
    Task<string> PutManifestAsync(string repository, string reference, ManifestContent manifest, CancellationToken cancellationToken);

    /// <summary>Size of a blob, or null when the repository does not have it.</summary>
    Task<long?> HeadBlobAsync(string repository, string digest, CancellationToken cancellationToken);

    /// <summary>A stream of the blob that throws DigestMismatch at its end when the content does not match.</summary>
    Task<Stream> OpenBlobAsync(string repository, string digest, long? expectedSize, CancellationToken cancellationToken);

    /// <summary>Stores a blob; the content is verified against the digest before it becomes visible.</summary>
    Task PutBlobAsync(string repository, string digest, long size, Stream content, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a blob that already sits in <paramref name="fromRepository"/> of this store part of
    /// <paramref name="repository"/> without moving its bytes (a registry's cross-repository mount). False when the
    /// store declined (no mount support, blob gone, no pull right there); the caller uploads instead.
    /// </summary>
    Task<bool> TryMountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken);

    /// <summary>
    /// Referrers of a digest from the store's referrers API (filtered by artifact type when given), or null when the
    /// store has no such API and callers must use the tag schema.
    /// </summary>
    Task<IReadOnlyList<OciDescriptor>?> GetReferrersAsync(string repository, string digest, string? artifactType, CancellationToken cancellationToken);
}
