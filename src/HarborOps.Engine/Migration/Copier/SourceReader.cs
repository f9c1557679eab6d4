using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Migration;

/// <summary>What the copy reads from its sources: manifests and image configs each read once per run, and HEADs.</summary>
internal sealed class SourceReader(CopyContext context)
{
    private const int MaxConfigBytes = 4 * 1024 * 1024;

    private readonly OncePerKey<string, ManifestContent> _manifests = new(StringComparer.Ordinal);
    private readonly OncePerKey<string, byte[]?> _configs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ManifestContent> _readByTag = new(StringComparer.Ordinal);
    private Task _readForShards = Task.CompletedTask;

    /// <summary>
    /// The read of what every shard copies has started: a read by tag waits for it, since it may hold that manifest (the
    /// tag's blobs would wait for it anyway, to know which shard uploads them).
    /// </summary>
    public void ReadingForShards(Task read) => _readForShards = read;

    /// <summary>
    /// A manifest of this shard's tag (or, <paramref name="tag"/> null, an index's child) that the read of what every
    /// shard copies (<see cref="ShardedBlobOwners"/>) fetched before the tag's copy starts: the copy takes it instead of a
    /// second GET of the same thing, which the source (ACR counts reads a minute) would answer again.
    /// </summary>
    public void KeepRead(string registry, string repository, string? tag, ManifestContent manifest)
    {
        if (tag is not null) _readByTag[TagKey(registry, repository, tag)] = manifest;
        _manifests.TryAddResult($"{registry}/{repository}@{manifest.Digest}", manifest);
    }

    public Task<ManifestContent> ManifestAsync(RepositoryPlan plan, string digest, CancellationToken cancellationToken) =>
        _manifests.RunAsync(ItemKey(plan, digest), () =>
            context.AtSourceAsync(plan, () => plan.Source.GetManifestAsync(plan.SourceRepository, digest, cancellationToken), cancellationToken));

    /// <summary>
    /// A manifest by tag (read each time: a tag moves), but for one this run already read for its shard's read of every
    /// shard (<see cref="KeepRead"/>), taken once; kept as the manifest of its digest too.
    /// </summary>
    public async Task<ManifestContent> ManifestByTagAsync(RepositoryPlan plan, string tag, CancellationToken cancellationToken)
    {
        if (!_readForShards.IsCompleted) await _readForShards.ConfigureAwait(false);
        if (_readByTag.TryRemove(TagKey(plan.Source.Registry, plan.SourceRepository, tag), out var read)) return read;
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

    private static string TagKey(string registry, string repository, string tag) => $"{registry}/{repository}:{tag}";
}
