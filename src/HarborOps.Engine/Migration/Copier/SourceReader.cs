using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Migration;

/// <summary>What the copy reads from its sources: manifests and image configs each read once per run, and HEADs.</summary>
internal sealed class SourceReader(CopyContext context)
{
    private const int MaxConfigBytes = 4 * 1024 * 1024;

    private readonly OncePerKey<string, ManifestContent> _manifests = new(StringComparer.Ordinal);
    private readonly OncePerKey<string, byte[]?> _configs = new(StringComparer.Ordinal);

    public Task<ManifestContent> ManifestAsync(RepositoryPlan plan, string digest, CancellationToken cancellationToken) =>
        _manifests.RunAsync(ItemKey(plan, digest), () =>
            context.AtSourceAsync(plan, () => plan.Source.GetManifestAsync(plan.SourceRepository, digest, cancellationToken), cancellationToken));

    /// <summary>A manifest by tag (always read: a tag moves); kept as the manifest of its digest too.</summary>
    public async Task<ManifestContent> ManifestByTagAsync(RepositoryPlan plan, string tag, CancellationToken cancellationToken)
    {
        var manifest = await context.AtSourceAsync(plan, () => plan.Source.GetManifestAsync(plan.SourceRepository, tag, cancellationToken), cancellationToken).ConfigureAwait(false);
        _manifests.TryAddResult(ItemKey(plan, manifest.Digest), manifest);
        return manifest;
    }

    /// <summary>An image config from the source (read once per run), or null when it is too large to be one.</summary>
    public Task<byte[]?> ConfigAsync(RepositoryPlan plan, OciDescriptor config, CancellationToken cancellationToken) =>
        _configs.RunAsync(ItemKey(plan, config.Digest), () =>
            context.AtSourceAsync(plan, async () =>
            {
                if (config.Size > MaxConfigBytes) return null;
                await using var stream = await plan.Source.OpenBlobAsync(plan.SourceRepository, config.Digest, config.Size, cancellationToken).ConfigureAwait(false);
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                return (byte[]?)buffer.ToArray();
            }, cancellationToken));

    /// <summary>The source's descriptor of <paramref name="reference"/>; null when the registry says it has none.</summary>
    public Task<OciDescriptor?> HeadAsync(RepositoryPlan plan, string reference, CancellationToken cancellationToken) =>
        context.AtSourceAsync(plan, () => plan.Source.HeadManifestAsync(plan.SourceRepository, reference, cancellationToken), cancellationToken);

    /// <summary>As <see cref="HeadAsync"/>, and also null when the registry answers that the tag or repository is not found.</summary>
    public async Task<OciDescriptor?> TryHeadAsync(RepositoryPlan plan, string reference, CancellationToken cancellationToken)
    {
        try
        {
            return await HeadAsync(plan, reference, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.ManifestNotFound or RegistryErrorIds.RepositoryNotFound)
        {
            return null;
        }
    }

    private static string ItemKey(RepositoryPlan plan, string digest) => $"{plan.Source.Registry}/{plan.SourceRepository}@{digest}";
}
