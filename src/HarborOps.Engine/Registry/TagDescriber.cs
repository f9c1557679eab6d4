using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Store;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Describes the tags of one listing (digest, media type, platforms, size, referrers), with per-call caches so that
/// thousands of tags of one image cost one manifest read: manifests and configs by digest, referrers by digest.
/// </summary>
internal sealed class TagDescriber(IImageStore store, string repository, ImageReference reference, bool includeReferrers)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<(ManifestContent Manifest, string[] Platforms, long Size)>>> _manifests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<OciPlatform?>>> _configs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<RegistryReferrerInfo>>>> _referrers = new(StringComparer.Ordinal);

    public IReadOnlySet<string>? KnownTags { get; set; }

    /// <summary>
    /// A tag the store's inventory listed with its digest. One locked against reads (ACR readEnabled=false) is shown
    /// with what the listing says, without platforms or size, rather than failing the whole listing.
    /// </summary>
    public async Task<RegistryTagInfo?> DescribeListedAsync(TaggedManifest entry, CancellationToken cancellationToken)
    {
        if (entry.ReadEnabled)
        {
            try
            {
                return await DescribeAsync(entry.Tag, entry.Manifest.Digest, mustExist: false, cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.ManifestNotFound)
            {
                return null; // deleted between listing and reading: it is simply gone
            }
        }
        return new RegistryTagInfo
        {
            Registry = reference.Registry,
            Repository = reference.Repository,
            Tag = entry.Tag,
            Digest = entry.Manifest.Digest,
            MediaType = entry.Manifest.MediaType,
            Reference = $"{reference.RepositoryReference}:{entry.Tag}",
        };
    }

    public async Task<RegistryTagInfo?> DescribeAsync(string tag, string manifestReference, bool mustExist, CancellationToken cancellationToken)
    {
        string digest;
        if (manifestReference.Contains(':'))
        {
            digest = manifestReference;
        }
        else
        {
            var head = await store.HeadManifestAsync(repository, manifestReference, cancellationToken).ConfigureAwait(false);
            if (head is null)
            {
                if (!mustExist) return null; // deleted between listing and reading: it is simply gone
                // A HEAD 404 has no body to tell a missing repository from a missing tag: ask again with a GET
                // (a registry whose HEAD is wrong gets its GET believed) and, if that is not found either, let the
                // tag list say whether the repository exists at all.
                try
                {
                    head = (await store.GetManifestAsync(repository, manifestReference, cancellationToken).ConfigureAwait(false)).ToDescriptor();
                }
                catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.ManifestNotFound)
                {
                    // Distribution says MANIFEST_UNKNOWN even when the whole repository is missing; its tag list knows.
                    await using var pages = store.ListTagPagesAsync(repository, cancellationToken).GetAsyncEnumerator(cancellationToken);
                    await pages.MoveNextAsync().ConfigureAwait(false);
                    throw;
                }
            }
            digest = head.Digest;
        }
        (ManifestContent Manifest, string[] Platforms, long Size) details;
        try
        {
            var headedTag = manifestReference.Contains(':') ? null : manifestReference;
            details = await _manifests.GetOrAdd(digest, d => new Lazy<Task<(ManifestContent, string[], long)>>(() => ReadAsync(d, headedTag, cancellationToken))).Value.ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.UnsupportedMediaType && !mustExist)
        {
            // One legacy (schema 1) tag must not hide every other tag of the repository: list it with what the
            // registry's headers say, without platforms or size.
            var head = await store.HeadManifestAsync(repository, manifestReference, cancellationToken).ConfigureAwait(false);
            return new RegistryTagInfo
            {
                Registry = reference.Registry,
                Repository = reference.Repository,
                Tag = tag,
                Digest = digest,
                MediaType = head?.MediaType ?? "",
                Reference = tag.Length > 0 ? $"{reference.RepositoryReference}:{tag}" : $"{reference.RepositoryReference}@{digest}",
            };
        }
        RegistryReferrerInfo[]? found = null;
        bool? signed = null;
        if (includeReferrers)
        {
            found = (await _referrers.GetOrAdd(digest, d => new Lazy<Task<IReadOnlyList<RegistryReferrerInfo>>>(
                () => ReferrerDiscovery.DiscoverAsync(store, repository, d, KnownTags, cancellationToken))).Value.ConfigureAwait(false)).ToArray();
            signed = found.Any(ReferrerDiscovery.IsSignature);
        }
        var baseReference = reference.RepositoryReference;
        return new RegistryTagInfo
        {
            Registry = reference.Registry,
            Repository = reference.Repository,
            Tag = tag,
            Digest = digest,
            MediaType = details.Manifest.MediaType,
            Platforms = details.Platforms,
            Size = details.Size,
            Referrers = found,
            Signed = signed,
            Reference = tag.Length > 0 ? $"{baseReference}:{tag}" : $"{baseReference}@{digest}",
        };
    }

    private async Task<(ManifestContent, string[], long)> ReadAsync(string digest, string? headedTag, CancellationToken cancellationToken)
    {
        var manifest = headedTag is null
            ? await store.GetManifestAsync(repository, digest, cancellationToken).ConfigureAwait(false)
            : await HeadDigests.ReadAsync(() => store.GetManifestAsync(repository, digest, cancellationToken),
                () => store.GetManifestAsync(repository, headedTag, cancellationToken), digest, $"{reference.RepositoryReference}:{headedTag}").ConfigureAwait(false);
        if (manifest.IsIndex)
        {
            var platforms = manifest.Manifests
                .Where(m => m.Platform is { Os.Length: > 0 } p && p.Os != "unknown")
                .Select(m => m.Platform!.ToString()).Distinct(StringComparer.Ordinal).ToArray();
            return (manifest, platforms, manifest.Size);
        }
        var size = manifest.Size + manifest.Blobs().Sum(b => b.Size);
        string[] own = [];
        if (manifest.Config is { } config && config.MediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig)
        {
            var platform = await _configs.GetOrAdd(config.Digest, _ => new Lazy<Task<OciPlatform?>>(() => ReadPlatformAsync(config, cancellationToken))).Value.ConfigureAwait(false);
            if (platform is not null) own = [platform.ToString()];
        }
        return (manifest, own, size);
    }

    private async Task<OciPlatform?> ReadPlatformAsync(OciDescriptor config, CancellationToken cancellationToken)
    {
        const long MaxConfigBytes = 4 * 1024 * 1024;
        if (config.Size > MaxConfigBytes) return null;
        await using var stream = await store.OpenBlobAsync(repository, config.Digest, config.Size, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return ManifestContent.ReadConfigPlatform(buffer.ToArray());
    }
}
