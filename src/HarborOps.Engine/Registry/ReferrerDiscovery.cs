using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Store;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Finds what refers to a digest the way a robust copier must (research §1.13): the referrers API when the store has
/// one, else the referrers tag schema ("sha256-&lt;hex&gt;" index), and in both cases cosign's legacy tags
/// "sha256-&lt;hex&gt;.sig/.att/.sbom".
/// </summary>
public static class ReferrerDiscovery
{
    public const string ReferrersApi = "ReferrersApi";
    public const string ReferrersTagSchema = "ReferrersTagSchema";
    public const string CosignTag = "CosignTag";
    private static readonly string[] CosignSuffixes = [".sig", ".att", ".sbom"];

    /// <summary>
    /// Referrers of <paramref name="digest"/>. <paramref name="knownTags"/> is the repository's full tag set when the
    /// caller already listed it (saves probing tags that do not exist); null means probe.
    /// </summary>
    public static async Task<IReadOnlyList<RegistryReferrerInfo>> DiscoverAsync(IImageStore store, string repository, string digest,
        IReadOnlySet<string>? knownTags, CancellationToken cancellationToken)
    {
        var result = new List<RegistryReferrerInfo>();
        var api = await store.GetReferrersAsync(repository, digest, null, cancellationToken).ConfigureAwait(false);
        var schemaTag = Digests.ToTagSchemaTag(digest);
        if (api is not null)
        {
            result.AddRange(api.Select(d => ToInfo(d, ReferrersApi, null, digest)));
        }
        else if (knownTags is null || knownTags.Contains(schemaTag))
        {
            var index = await TryGetManifestAsync(store, repository, schemaTag, cancellationToken).ConfigureAwait(false);
            if (index is { IsIndex: true })
                result.AddRange(index.Manifests.Select(d => ToInfo(d, ReferrersTagSchema, schemaTag, digest)));
        }

        foreach (var suffix in CosignSuffixes)
        {
            var tag = schemaTag + suffix;
            if (knownTags is not null && !knownTags.Contains(tag)) continue;
            var manifest = await TryGetManifestAsync(store, repository, tag, cancellationToken).ConfigureAwait(false);
            if (manifest is null) continue;
            var artifactType = manifest.ArtifactType
                ?? manifest.Layers.FirstOrDefault()?.MediaType
                ?? manifest.Config?.MediaType;
            result.Add(new RegistryReferrerInfo
            {
                Digest = manifest.Digest,
                MediaType = manifest.MediaType,
                ArtifactType = artifactType,
                Source = CosignTag,
                Tag = tag,
                SubjectDigest = digest,
            });
        }
        return result;
    }

    /// <summary>True when a referrer is a signature (cosign or Notation), by artifact type or cosign's .sig tag.</summary>
    public static bool IsSignature(RegistryReferrerInfo referrer) =>
        referrer.ArtifactType is MediaTypes.CosignSignatureLayer or MediaTypes.CosignSignatureArtifact or MediaTypes.NotationSignature
            || (referrer.ArtifactType?.StartsWith("application/vnd.dev.sigstore.bundle", StringComparison.Ordinal) ?? false)
            || (referrer.Source == CosignTag && (referrer.Tag?.EndsWith(".sig", StringComparison.Ordinal) ?? false));

    private static RegistryReferrerInfo ToInfo(OciDescriptor d, string source, string? tag, string subject) => new()
    {
        Digest = d.Digest,
        MediaType = d.MediaType,
        ArtifactType = d.ArtifactType,
        Source = source,
        Tag = tag,
        SubjectDigest = subject,
    };

    private static async Task<ManifestContent?> TryGetManifestAsync(IImageStore store, string repository, string tag, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.ManifestNotFound)
        {
            return null;
        }
    }
}
