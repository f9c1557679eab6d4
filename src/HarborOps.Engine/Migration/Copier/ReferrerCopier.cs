using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>Copies one tag of a plan (the tag copier's entry point, which the referrer walks call back).</summary>
internal delegate Task<CopyResult?> CopyTagStep(RepositoryPlan plan, TagWork work, string? subject, bool probeReferrers, CancellationToken cancellationToken);

/// <summary>
/// Copies what refers to an image, after it: its referrer tags (the tag-schema index and cosign's .sig/.att/.sbom, from
/// the tag list or found by HEAD probes), the referrers API's untagged manifests and, recursively, their own referrers;
/// each walk once per destination repository and digest.
/// </summary>
internal sealed class ReferrerCopier(CopyContext context, CopyTally tally, SourceReader source, ManifestMover manifests, CopyTagStep copyTag)
{
    private static readonly string[] CosignSuffixes = [".sig", ".att", ".sbom"];

    private readonly OncePerKey<string> _walks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ReferrersApiProbe> _sourceReferrersApis = new(StringComparer.Ordinal);
    private readonly ReferrersIndexWriter _index = new(context, tally);

    /// <summary>The referrers of a tag just copied (or found unchanged); for an index -Platform rewrote, those of its kept children.</summary>
    public async Task CopyReferrersOfTagAsync(TagJob job, TagDecision decision, CancellationToken cancellationToken)
    {
        var plan = job.Plan;
        var digest = job.Digest!;
        var manifest = decision.Manifest;
        if (decision.SourceDigest is not null)
        {
            // A rewritten index: the kept children are the source's, byte for byte, and so are their referrers.
            await Task.WhenAll(manifest!.Manifests.Select(child =>
                CopyReferrersAsync(plan, child.Digest, null, job.ProbeReferrers, childrenAreReferrers: false, cancellationToken))).ConfigureAwait(false);
            return;
        }
        // A referrers index lists referrers, whose own referrers (a signed SBOM) must come along as well.
        var isReferrersIndex = job.Subject is not null && job.Tag == Digests.ToTagSchemaTag(job.Subject);
        if (isReferrersIndex && manifest is null && job.ProbeReferrers)
        {
            try { manifest = await source.ManifestAsync(plan, digest, cancellationToken).ConfigureAwait(false); }
            catch (HarborOpsException ex) when (!ex.IsTerminating) { tally.EmitFailure(job.SourceName, job.DestinationName, plan.SourceRepository, plan.DestinationRepository, ex, job.Subject); }
        }
        await CopyReferrersAsync(plan, digest, manifest, job.ProbeReferrers, isReferrersIndex, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// While a subject's blobs move, its referrer tags that the destination does not have yet (cosign's .sig/.att/.sbom,
    /// the tag-schema index) are read and their blobs moved too, so that after the subject's tag only their manifests
    /// remain to be written: referrers are still written after their subject, but no longer wait for it to start.
    /// </summary>
    public void PrefetchTagsOf(RepositoryPlan plan, string digest, CancellationToken cancellationToken)
    {
        if (context.PlanOnly || plan.SourceTags is null) return;
        foreach (var tag in plan.ReferrerTagsOf(digest))
            if (plan.DestinationTags is { } existing && !existing.Contains(tag))
                _ = plan.ReferrerPrefetches.RunAsync(tag, async () =>
                {
                    var counters = new TagCounters();
                    return new ReferrerPrefetch(await PrefetchAsync(plan, tag, counters, cancellationToken).ConfigureAwait(false), counters);
                });
    }

    /// <summary>A referrer tag's manifest with its blobs present at the destination; null when that failed (the tag's own copy then tries again and reports).</summary>
    private async Task<ManifestContent?> PrefetchAsync(RepositoryPlan plan, string tag, TagCounters counters, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = await source.ManifestByTagAsync(plan, tag, cancellationToken).ConfigureAwait(false);
            await manifests.EnsureBlobsAsync(plan, manifest, counters, cancellationToken).ConfigureAwait(false);
            return manifest;
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            return null;
        }
    }

    /// <summary>A referrer tag whose subject no copied tag reached: its subject first, by digest, when the source still has it.</summary>
    public async Task CopyOrphanTagAsync(RepositoryPlan plan, string tag, CancellationToken cancellationToken)
    {
        var subject = TagSelection.SubjectOfReferrerTag(tag)!;
        try
        {
            var head = await source.HeadAsync(plan, subject, cancellationToken).ConfigureAwait(false);
            if (head is not null)
                await manifests.EnsureManifestByDigestAsync(plan, subject, new TagCounters(), cancellationToken).ConfigureAwait(false);
        }
        catch (HarborOpsException failure) when (!failure.IsTerminating)
        {
            // The subject could not be copied; the referrer tag is still tried and reports its own result below.
        }
        await copyTag(plan, new TagWork(tag, null), subject, probeReferrers: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies what refers to <paramref name="digest"/>, after it: its referrer tags (the tag-schema index and cosign's
    /// .sig/.att/.sbom), the referrers API's untagged manifests, and, recursively, their own referrers.
    /// </summary>
    private Task CopyReferrersAsync(RepositoryPlan plan, string digest, ManifestContent? manifest, bool probe, bool childrenAreReferrers, CancellationToken cancellationToken) =>
        _walks.RunAsync(plan.DestinationRepository + "@" + digest, () => CopyReferrersOnceAsync(plan, digest, manifest, probe, childrenAreReferrers, cancellationToken));

    private async Task CopyReferrersOnceAsync(RepositoryPlan plan, string digest, ManifestContent? manifest, bool probe, bool childrenAreReferrers, CancellationToken cancellationToken)
    {
        var schemaTag = Digests.ToTagSchemaTag(digest);
        var tags = new List<string>();
        bool? sourceHasSchemaTag = null;
        if (plan.SourceTags is not null)
        {
            tags.AddRange(plan.ReferrerTagsOf(digest));
            sourceHasSchemaTag = plan.SourceTags.Contains(schemaTag);
        }
        else if (probe)
        {
            foreach (var candidate in CosignSuffixes.Select(s => schemaTag + s).Prepend(schemaTag))
            {
                var head = await source.TryHeadAsync(plan, candidate, cancellationToken).ConfigureAwait(false);
                if (head is null) continue;
                tags.Add(candidate);
                tally.ExpectTags(1);
            }
            sourceHasSchemaTag = tags.Contains(schemaTag);
        }

        var copies = new List<Task>();
        foreach (var tag in tags)
        {
            plan.Claim(tag);
            copies.Add(copyTag(plan, new TagWork(tag, null), digest, probe, cancellationToken));
        }

        if (SourceReferrersApi(plan) >= 0)
            copies.Add(CopyApiReferrersAsync(plan, digest, sourceHasSchemaTag, cancellationToken));

        // Referrers of an index's children (a per-platform signature) come along when they cost no probing; the
        // children of a referrers index are referrers themselves and are probed like their subject was.
        if (manifest is { IsIndex: true } && (childrenAreReferrers || plan.SourceTags is not null || SourceReferrersApi(plan) > 0))
            foreach (var child in manifest.Manifests)
                copies.Add(CopyReferrersAsync(plan, child.Digest, null, probe && childrenAreReferrers, childrenAreReferrers: false, cancellationToken));
        await Task.WhenAll(copies).ConfigureAwait(false);
    }

    private async Task CopyApiReferrersAsync(RepositoryPlan plan, string digest, bool? sourceHasSchemaTag, CancellationToken cancellationToken)
    {
        IReadOnlyList<OciDescriptor>? referrers;
        try
        {
            referrers = await SourceReferrersAsync(plan, digest, cancellationToken).ConfigureAwait(false);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            tally.EmitFailure(plan.Source.ItemName(plan.SourceRepository, digest) + " (referrers)", plan.DestinationName, plan.SourceRepository, plan.DestinationRepository, ex, digest);
            return;
        }
        if (referrers is null) return;
        if (referrers.Count == 0) return;

        // A destination without the referrers API finds referrers through the tag schema only; when the source had no
        // such index to copy byte for byte, the destination's index is kept up to date here. Its current entries are
        // read first: a referrer listed there is present (the index is only written after what it lists), so it needs
        // no HEAD, and a referrer an interrupted run wrote but never listed is added now.
        ReferrersIndexWriter.IndexedReferrers? indexed = null;
        if (sourceHasSchemaTag == false && !context.PlanOnly)
        {
            try
            {
                if (!await _index.DestinationHasReferrersApiAsync(plan, digest, cancellationToken).ConfigureAwait(false))
                    indexed = await _index.ReadAsync(plan, digest, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                _index.EmitFailure(plan, digest, ex);
                return;
            }
        }

        var listed = indexed?.Entries.Select(e => e.Digest).ToHashSet(StringComparer.Ordinal) ?? [];
        var present = new List<OciDescriptor>();
        await Task.WhenAll(referrers.Select(async referrer =>
        {
            try
            {
                if (!listed.Contains(referrer.Digest))
                {
                    // What the destination's index does not list yet is held to the manifest it names before it is written or listed.
                    var manifest = await source.ManifestAsync(plan, referrer.Digest, cancellationToken).ConfigureAwait(false);
                    ListedReferrerCheck.Require(referrer, manifest, digest, plan.Source.ItemName(plan.SourceRepository, digest));
                    if (await manifests.EnsureManifestByDigestAsync(plan, referrer.Digest, new TagCounters(), cancellationToken).ConfigureAwait(false))
                        tally.ReferrerCopied();
                }
                lock (present) present.Add(referrer);
                await CopyReferrersAsync(plan, referrer.Digest, null, probe: plan.SourceTags is null, childrenAreReferrers: false, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                tally.EmitFailure(plan.Source.ItemName(plan.SourceRepository, referrer.Digest), context.DestinationStore.ItemName(plan.DestinationRepository, referrer.Digest),
                    plan.SourceRepository, plan.DestinationRepository, ex, digest);
            }
        })).ConfigureAwait(false);

        if (indexed is null) return;
        var missing = present.Where(r => !listed.Contains(r.Digest)).DistinctBy(r => r.Digest).OrderBy(r => r.Digest, StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return;
        try
        {
            await _index.WriteAsync(plan, digest, [.. indexed.Entries, .. missing], cancellationToken).ConfigureAwait(false);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            _index.EmitFailure(plan, digest, ex);
        }
    }

    private ReferrersApiProbe SourceReferrersApiProbe(RepositoryPlan plan) => _sourceReferrersApis.GetOrAdd(plan.Source.Registry, _ => new ReferrersApiProbe());

    /// <summary>1 when the source registry answers the referrers API, -1 when it does not, 0 while nobody knows yet.</summary>
    private int SourceReferrersApi(RepositoryPlan plan) => SourceReferrersApiProbe(plan).Known;

    /// <summary>The referrers API's answer for <paramref name="digest"/>, or null when the source registry has no such API.</summary>
    private Task<IReadOnlyList<OciDescriptor>?> SourceReferrersAsync(RepositoryPlan plan, string digest, CancellationToken cancellationToken) =>
        SourceReferrersApiProbe(plan).QueryAsync(() =>
            context.AtSourceAsync(plan, () => plan.Source.GetReferrersAsync(plan.SourceRepository, digest, null, cancellationToken), cancellationToken), cancellationToken);
}
