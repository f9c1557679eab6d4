using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;

namespace HarborOps.Engine.Migration;

/// <summary>What must be done with a tag, as the decide step found it.</summary>
internal enum TagVerdict
{
    /// <summary>The tag cannot be copied (its failure says why); nothing is written.</summary>
    Failed,
    /// <summary>-Platform or -Since leaves the tag out; nothing is written and its referrers stay behind.</summary>
    FilteredOut,
    /// <summary>The destination tag already has the digest to write.</summary>
    Unchanged,
    /// <summary>-NoClobber: the destination tag keeps another image, and its referrers are not ours to add.</summary>
    KeptByNoClobber,
    /// <summary>The manifest (and what is under it) must be written.</summary>
    Write,
}

/// <summary>The decide step's answer for one tag; the digests it learnt are on the <see cref="TagJob"/>.</summary>
internal sealed record TagDecision(TagVerdict Verdict)
{
    public HarborOpsException? Failure { get; init; }
    /// <summary>Why a filtered-out tag is skipped.</summary>
    public string? SkipReason { get; init; }
    /// <summary>The manifest to write (always set for <see cref="TagVerdict.Write"/>), or as much of it as was read.</summary>
    public ManifestContent? Manifest { get; init; }
    /// <summary>The source's digest when -Platform rewrote the index (the job's digest is then the new index's).</summary>
    public string? SourceDigest { get; init; }
    /// <summary>What the filters add to the result's reason (platforms filtered, creation time unknown).</summary>
    public string? Note { get; init; }

    public static TagDecision Failed(HarborOpsException failure) => new(TagVerdict.Failed) { Failure = failure };
    public static TagDecision FilteredOut(string reason) => new(TagVerdict.FilteredOut) { SkipReason = reason };
}

/// <summary>
/// The decide step of a tag's copy: from the store's listing, the HEADs of both sides (sent together) and, when needed,
/// the source manifest and the filters, it finds whether the tag is unchanged, skipped or to be written, and which
/// manifest is written. It reads, but writes nothing to the destination.
/// </summary>
internal sealed class TagDecider(CopyContext context, SourceReader source, TagFilters filters)
{
    public async Task<TagDecision> DecideAsync(TagJob job, CancellationToken cancellationToken)
    {
        // The store's listing (ACR's _manifests) decides some tags by itself: a locked one fails alone, one older than
        // -Since is skipped, both without a request.
        if (filters.DecideFromListing(job) is { } listed) return listed;

        var plan = job.Plan;
        var tag = job.Tag;
        var destination = context.DestinationStore;
        ManifestContent? manifest = null;
        string? sourceDigest = null;
        string? note = null;
        string? headDigest = null;
        Task<ManifestContent> ReadSourceAsync(string d) => d != headDigest ? source.ManifestAsync(plan, d, cancellationToken)
            : HeadDigests.ReadAsync(() => source.ManifestAsync(plan, d, cancellationToken), () => source.ManifestByTagAsync(plan, tag, cancellationToken), d, job.SourceName);
        var destinationMayHaveTag = tag.Length > 0 && (plan.DestinationTags is null || plan.DestinationTags.Contains(tag));
        Task<OciDescriptor?> HeadDestinationAsync() =>
            context.AtDestinationAsync(() => destination.HeadManifestAsync(plan.DestinationRepository, tag, cancellationToken), cancellationToken);
        // Harbor's listing of the destination (when there is one) can only prove the tag unchanged, once the source's
        // digest is known; without it, the destination's digest does not depend on the source: both HEADs go out
        // together, which halves the round trips of an unchanged tag.
        var listedAtDestination = destinationMayHaveTag ? plan.DestinationListing?.GetValueOrDefault(tag) : null;
        job.DestinationHead = destinationMayHaveTag && listedAtDestination is null ? HeadDestinationAsync() : null;

        if (job.Digest is null && !destinationMayHaveTag)
        {
            // Cold path: the destination has no such tag, so one GET by tag gives both digest and bytes (a referrer
            // tag's subject may have fetched them already, and moved the blobs).
            if (plan.ReferrerPrefetches.TryGetRun(tag, out var prefetching))
            {
                var prefetch = await prefetching.ConfigureAwait(false);
                manifest = prefetch.Manifest;
                job.Counters = prefetch.Counters;
            }
            manifest ??= await source.ManifestByTagAsync(plan, tag, cancellationToken).ConfigureAwait(false);
            job.Digest = manifest.Digest;
        }
        else if (job.Digest is null)
        {
            var head = await source.HeadAsync(plan, tag, cancellationToken).ConfigureAwait(false)
                ?? throw new RegistryException(RegistryErrorIds.ManifestNotFound, FailureKind.NotFound,
                    $"'{job.SourceName}' was not found at the source (the tag was deleted or never existed). Get-RegistryTag -Reference {plan.SourceName} lists its tags.", job.SourceName);
            job.Digest = headDigest = head.Digest;
            job.MediaType = head.MediaType;
        }
        var digest = job.Digest;
        if (listedAtDestination is not null)
            job.DestinationHead = listedAtDestination.Digest == digest ? Task.FromResult<OciDescriptor?>(listedAtDestination) : HeadDestinationAsync();

        // -Platform and -Since look into the image. A tag the destination already has with the source's digest needs no
        // look: the filters could only skip it (an index -Platform would rewrite is the exception).
        var filtered = filters.AppliesTo(job);
        if (filtered && job.DestinationHead is not null && manifest is null && !filters.MayRewrite(job.MediaType))
            filtered = (await job.DestinationHead.ConfigureAwait(false))?.Digest != digest;
        if (filtered)
        {
            manifest ??= await ReadSourceAsync(digest).ConfigureAwait(false);
            job.MediaType = manifest.MediaType;
            var selected = await filters.SelectAsync(job, manifest, cancellationToken).ConfigureAwait(false);
            note = selected.Note;
            if (selected.SkipReason is not null || !ReferenceEquals(selected.Manifest, manifest))
            {
                // Signatures of the source digest, and of the children left out, sign something the destination will
                // not have: they stay behind (not even as orphans, which would bring those images along by digest).
                var kept = selected.Manifest?.Manifests.Select(c => c.Digest).ToHashSet(StringComparer.Ordinal) ?? [];
                foreach (var left in manifest.Manifests.Select(c => c.Digest).Where(d => !kept.Contains(d)).Append(digest))
                    foreach (var referrerTag in plan.ReferrerTagsOf(left)) plan.Claim(referrerTag);
            }
            if (selected.SkipReason is not null)
            {
                job.DiscardDestinationHeadFailure();
                return TagDecision.FilteredOut(selected.SkipReason);
            }
            if (!ReferenceEquals(selected.Manifest, manifest))
            {
                sourceDigest = digest;
                manifest = selected.Manifest!;
                job.Digest = digest = manifest.Digest;
            }
        }

        var destinationReference = tag.Length > 0 ? tag : digest;
        if (job.DestinationHead is not null)
            job.Previous = (await job.DestinationHead.ConfigureAwait(false))?.Digest;
        // The listing said "the source's digest", but -Platform rewrote what is written: the digest the result reports
        // as replaced is the registry's answer, not the listing's.
        if (listedAtDestination is not null && job.Previous == listedAtDestination.Digest && job.Previous != digest)
            job.Previous = (await HeadDestinationAsync().ConfigureAwait(false))?.Digest;
        else if (tag.Length == 0)
            job.Previous = (await context.AtDestinationAsync(() => destination.HeadManifestAsync(plan.DestinationRepository, destinationReference, cancellationToken), cancellationToken).ConfigureAwait(false))?.Digest;

        if (job.Previous == digest)
        {
            job.MediaType = manifest?.MediaType ?? job.MediaType;
            return new TagDecision(TagVerdict.Unchanged) { Manifest = manifest, SourceDigest = sourceDigest, Note = note };
        }
        if (job.Previous is not null && context.Request.NoClobber)
            return new TagDecision(TagVerdict.KeptByNoClobber) { Manifest = manifest, SourceDigest = sourceDigest, Note = note };
        manifest ??= await ReadSourceAsync(digest).ConfigureAwait(false);
        job.MediaType = manifest.MediaType;
        return new TagDecision(TagVerdict.Write) { Manifest = manifest, SourceDigest = sourceDigest, Note = note };
    }
}
