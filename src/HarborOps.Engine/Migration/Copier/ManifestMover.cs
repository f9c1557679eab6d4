using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Makes manifests present at the destination, each only after everything under it: an image's blobs, an index's
/// child manifests (by digest, once per destination repository). Also writes a tag's own manifest.
/// </summary>
internal sealed class ManifestMover(CopyContext context, CopyTally tally, SourceReader source, BlobMover blobs)
{
    private readonly OncePerKey<string, bool> _manifestsByDigest = new(StringComparer.Ordinal);
    private readonly ChildManifestSizes _childSizes = new();

    /// <summary>Blobs of an image, or child manifests of an index, present at the destination (copied when missing).</summary>
    public async Task EnsureDependenciesAsync(RepositoryPlan plan, ManifestContent manifest, TagCounters counters, CancellationToken cancellationToken)
    {
        if (manifest.IsIndex)
        {
            await Task.WhenAll(manifest.Manifests.Select(child => _childSizes.RequireAsync(child, EnsureManifestByDigestAsync(plan, child.Digest, counters, cancellationToken), plan.SourceName))).ConfigureAwait(false);
            return;
        }
        var needed = manifest.Blobs().Where(b => context.Request.IncludeForeignLayers || !IsForeign(b));
        await Task.WhenAll(needed.Select(blob => blobs.EnsureBlobAsync(plan, blob, counters, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>The blobs under a manifest (for an index, under its children), without writing any manifest.</summary>
    public async Task EnsureBlobsAsync(RepositoryPlan plan, ManifestContent manifest, TagCounters counters, CancellationToken cancellationToken)
    {
        if (!manifest.IsIndex)
        {
            await EnsureDependenciesAsync(plan, manifest, counters, cancellationToken).ConfigureAwait(false);
            return;
        }
        await Task.WhenAll(manifest.Manifests.Select(async child =>
        {
            var content = await source.ManifestAsync(plan, child.Digest, cancellationToken).ConfigureAwait(false);
            if (!content.IsIndex) await EnsureDependenciesAsync(plan, content, counters, cancellationToken).ConfigureAwait(false);
        })).ConfigureAwait(false);
    }

    /// <summary>
    /// A manifest present at the destination under its digest: a HEAD when it is there (then everything under it is,
    /// since it was only ever written after its dependencies), else its dependencies and then a PUT by digest.
    /// True when it was (or, planning, would be) written.
    /// </summary>
    public Task<bool> EnsureManifestByDigestAsync(RepositoryPlan plan, string digest, TagCounters counters, CancellationToken cancellationToken) =>
        _manifestsByDigest.RunAsync(plan.DestinationRepository + "@" + digest, () => EnsureManifestByDigestOnceAsync(plan, digest, counters, cancellationToken));

    private async Task<bool> EnsureManifestByDigestOnceAsync(RepositoryPlan plan, string digest, TagCounters counters, CancellationToken cancellationToken)
    {
        var destination = context.DestinationStore;
        if (!plan.DestinationIsNew)
        {
            var present = await context.AtDestinationAsync(() => destination.HeadManifestAsync(plan.DestinationRepository, digest, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (present is not null) { _childSizes.Known(digest, present.Size); return false; }
        }
        var manifest = _childSizes.Known(await source.ManifestAsync(plan, digest, cancellationToken).ConfigureAwait(false));
        await EnsureDependenciesAsync(plan, manifest, counters, cancellationToken).ConfigureAwait(false);
        if (context.PlanOnly) return true;
        await PutAsync(plan, digest, digest, manifest, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Writes <paramref name="manifest"/> under <paramref name="reference"/> (a tag, or its digest), which the caller
    /// calls only once everything under it is present, and records <paramref name="digest"/> in the journal.
    /// </summary>
    public async Task PutAsync(RepositoryPlan plan, string reference, string digest, ManifestContent manifest, CancellationToken cancellationToken)
    {
        var destination = context.DestinationStore;
        await context.BeforeFirstWriteAsync(plan, cancellationToken).ConfigureAwait(false);
        await context.AtDestinationAsync(() => destination.PutManifestAsync(plan.DestinationRepository, reference, manifest, cancellationToken), cancellationToken).ConfigureAwait(false);
        tally.ManifestWritten();
        if (context.Journal is { } journal) await journal.RecordManifestAsync(plan.DestinationRepository, digest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A layer registries fetch from its URLs (non-distributable), copied only with -IncludeForeignLayers.</summary>
    internal static bool IsForeign(OciDescriptor blob) =>
        blob.Urls.Count > 0
        || blob.MediaType.Contains(".foreign.", StringComparison.Ordinal)
        || blob.MediaType.Contains(".nondistributable.", StringComparison.Ordinal);
}
