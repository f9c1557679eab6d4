using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The migration engine behind Copy-RegistryImage: plan, execute, verify. It inventories both sides (tag lists, then a
/// HEAD per tag; the destination is never GET for an unchanged tag), diffs by digest, and runs a dependency graph per
/// tag: blobs (one transfer per digest for the whole run, cross-repository mounts where a blob already landed), child
/// manifests by digest, then the tag, then its referrers. A tag is written only after everything under it is present
/// at the destination; per-item failures are reported and the run goes on.
/// </summary>
public sealed class ImageCopier
{
    private readonly RegistryEngine engine;

    /// <summary>A copier over the engine's one HTTP pipeline and token cache.</summary>
    public ImageCopier(RegistryEngine engine)
    {
        this.engine = engine ?? throw new ArgumentNullException(nameof(engine));
    }

    /// <summary>
    /// Copies what <paramref name="request"/> names. <paramref name="onResult"/> receives one <see cref="CopyResult"/>
    /// per tag as soon as the tag is done (from worker threads, one call at a time). Throws only for failures that stop
    /// the whole run (invalid request, authentication, cancellation); everything else becomes a Failed result.
    /// </summary>
    public async Task<CopySummary> CopyAsync(CopyRequest request, IProgress<OperationProgress>? progress, Action<CopyResult>? onResult,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Sources.Count == 0)
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                "Nothing to copy: give at least one source (registry/repository[:tag], registry/prefix/*, a registry, or oci:<directory>).");
        if (request.ThrottleLimit is < 1 or > 256)
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"ThrottleLimit is {request.ThrottleLimit}; use 1 to 256 concurrent requests per registry.");
        var run = new CopyRun(engine, request, progress, onResult);
        return await run.RunAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>One execution of a <see cref="CopyRequest"/>: the state shared by every tag of the run.</summary>
internal sealed class CopyRun
{
    private static readonly string[] CosignSuffixes = [".sig", ".att", ".sbom"];

    private readonly RegistryEngine engine;
    private readonly CopyRequest request;
    private readonly IProgress<OperationProgress>? progress;
    private readonly Action<CopyResult>? onResult;
    private readonly HostThrottle throttle;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly object emitLock = new();

    // Run-wide memo tables: each digest is transferred, and each manifest written, at most once per destination repository.
    private readonly ConcurrentDictionary<string, Lazy<Task<BlobOutcome>>> blobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<(string Repository, BlobOutcome Outcome)>>> transfers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> blobLocations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> manifestsByDigest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ManifestContent>>> sourceManifests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task>> referrerWalks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IImageStore> sourceStores = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]?>>> sourceConfigs = new(StringComparer.Ordinal);
    private readonly BlobSizeCheck blobSizes = new();
    private readonly ChildManifestSizes childSizes = new();
    private IReadOnlyList<PlatformFilter> platforms = [];

    private CopyDestination destination = null!;
    private IImageStore destinationStore = null!;
    private RepositoryMapping mapping = null!;
    private TagSelection selection = null!;
    private CopyJournal? journal;
    private readonly ReferrersApiProbe destinationReferrersApi = new();
    private readonly ConcurrentDictionary<string, ReferrersApiProbe> sourceReferrersApis = new(StringComparer.Ordinal);

    private int totalTags;
    private int doneTags, copied, updated, skipped, failed, planned;
    private int blobsCopied, blobsMounted, blobsSkipped, manifestsWritten, referrersCopied;
    private long bytesMoved;
    private readonly List<string> failures = [];
    private readonly List<string> projectsCreated = [];

    public CopyRun(RegistryEngine engine, CopyRequest request, IProgress<OperationProgress>? progress, Action<CopyResult>? onResult)
    {
        this.engine = engine;
        this.request = request;
        this.progress = progress;
        this.onResult = onResult;
        throttle = new HostThrottle(request.ThrottleLimit);
    }

    private bool PlanOnly => request.PlanOnly;
    private string Activity => PlanOnly ? $"Planning copy to {destination.Text}" : $"Copying to {destination.Text}";

    public async Task<CopySummary> RunAsync(CancellationToken cancellationToken)
    {
        var sources = request.Sources.Select(CopySource.Parse).ToList();
        mapping = RepositoryMapping.Of(request);
        destination = mapping.Destination;
        selection = new TagSelection(request);
        platforms = request.Platforms.Select(PlatformFilter.Parse).Distinct().ToList();
        destinationStore = engine.OpenStore(destination.Registry, request.DestinationCredential);
        try
        {
            if (request.JournalPath is not null && !PlanOnly)
                journal = await CopyJournal.OpenAsync(request.JournalPath, destinationStore.Registry, cancellationToken).ConfigureAwait(false);

            var plans = await DiscoverAsync(sources, cancellationToken).ConfigureAwait(false);
            var work = plans.SelectMany(p => p.Works.Select(w => (Plan: p, Work: w))).ToList();
            Interlocked.Add(ref totalTags, work.Count + plans.Sum(p => p.ReferrerTagCount));
            Report(null);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = throttle.Limit * 2, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(work, parallel, async (item, token) =>
                await CopyTagAsync(item.Plan, item.Work, subject: null, probeReferrers: item.Plan.SourceTags is null, token).ConfigureAwait(false)).ConfigureAwait(false);

            // Referrer tags whose subject no copied tag reached (a signature of an untagged digest, or of an image the
            // filter left out): copied last, after their subject by digest when the source still has it.
            var orphans = plans.SelectMany(p => p.UnclaimedReferrerTags().Select(t => (Plan: p, Tag: t))).ToList();
            await Parallel.ForEachAsync(orphans, parallel, async (item, token) =>
                await CopyOrphanReferrerTagAsync(item.Plan, item.Tag, token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        finally
        {
            if (journal is not null) await journal.DisposeAsync().ConfigureAwait(false);
            throttle.Dispose();
        }
        var summary = BuildSummary();
        progress?.Report(new OperationProgress(Activity, summary.ToString(), Completed: doneTags, Total: Math.Max(doneTags, totalTags), IsComplete: true));
        return summary;
    }

    // ---------------------------------------------------------------- discovery

    private IImageStore SourceStore(string registry) =>
        sourceStores.GetOrAdd(registry, r => engine.OpenStore(r, request.SourceCredential));

    private async Task<List<RepositoryPlan>> DiscoverAsync(List<CopySource> sources, CancellationToken cancellationToken)
    {
        var candidates = new List<(IImageStore Store, string Repository, CopySource Source)>();
        var plans = new List<RepositoryPlan>();
        foreach (var source in sources)
        {
            var store = SourceStore(source.Registry);
            switch (source.Kind)
            {
                case CopySourceKind.Image:
                    var plan = NewPlan(store, source.Repository, source.Text);
                    if (plan is null) continue;
                    plan.Works.Add(new TagWork(source.Digest is not null && source.Tag is null ? "" : source.Tag ?? "", source.Digest));
                    plans.Add(plan);
                    continue;
                case CopySourceKind.Repository:
                    candidates.Add((store, source.Repository, source));
                    continue;
                default:
                    progress?.Report(new OperationProgress(Activity, $"Listing repositories of {source.Text}"));
                    try
                    {
                        await foreach (var name in SourceExpansion.RepositoriesAsync(store, source, (_, invalid) => EmitFailure($"{invalid.Target}", destination.Text, "", "", invalid), cancellationToken).ConfigureAwait(false))
                            candidates.Add((store, name, source));
                    }
                    catch (HarborOpsException ex) when (!ex.IsTerminating)
                    {
                        EmitFailure(source.Text, destination.Text, "", "", ex);
                    }
                    continue;
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        candidates = candidates.Where(c => seen.Add(c.Store.Registry + "/" + c.Repository)).ToList();
        var candidatePlans = candidates.Select(c => NewPlan(c.Store, c.Repository, c.Source.Text)).OfType<RepositoryPlan>().ToList();
        if (request.Harbor is not null)
        {
            // Before anything reads the destination: Harbor answers a missing project's repositories with "unauthorized".
            var check = await CheckHarborProjectsAsync(plans.Concat(candidatePlans), cancellationToken).ConfigureAwait(false);
            plans.RemoveAll(p => !Admitted(p, check));
            candidatePlans.RemoveAll(p => !Admitted(p, check));
        }
        var listed = new RepositoryPlan?[candidatePlans.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = throttle.Limit, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, candidatePlans.Count), parallel, async (i, token) =>
        {
            var plan = candidatePlans[i];
            progress?.Report(new OperationProgress(Activity, $"Listing tags of {plan.SourceName}", plan.SourceName, i, candidatePlans.Count));
            try
            {
                // A store with a bulk inventory (ACR's _manifests) gives digests, times and locks with the tag list.
                var inventory = plan.Source.HasBulkInventory ? await ListInventoryAsync(plan.Source, plan.SourceRepository, token).ConfigureAwait(false) : null;
                var tags = inventory?.Select(i => i.Tag).ToList() ?? await ListTagsAsync(plan.Source, plan.SourceRepository, token).ConfigureAwait(false);
                plan.SetSourceTags(tags, selection, request.IncludeReferrers, inventory);
                var destinationTags = plan.DestinationIsNew ? null
                    : await ListDestinationTagsAsync(plan.DestinationRepository, token).ConfigureAwait(false);
                plan.DestinationTags = destinationTags ?? new HashSet<string>(StringComparer.Ordinal);
                // A repository the destination does not have yet (and no earlier run of the journal wrote into) holds
                // nothing: its blobs and manifests need no HEAD before they are written.
                plan.DestinationIsNew = destinationTags is null && journal?.HasEntriesFor(plan.DestinationRepository) != true;
                listed[i] = plan;
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                EmitFailure(plan.SourceName, plan.DestinationName, plan.SourceRepository, plan.DestinationRepository, ex);
            }
        }).ConfigureAwait(false);
        plans.AddRange(listed.Where(p => p is not null)!);
        return plans;
    }

    private async Task<HarborProjectCheck> CheckHarborProjectsAsync(IEnumerable<RepositoryPlan> plans, CancellationToken cancellationToken)
    {
        var check = await HarborProjectCheck.RunAsync(request.Harbor!, plans.Select(p => p.DestinationRepository), PlanOnly, progress, Activity, cancellationToken).ConfigureAwait(false);
        projectsCreated.AddRange(check.Created);
        return check;
    }

    /// <summary>
    /// True when <paramref name="plan"/> can go to its Harbor project; otherwise its failure is reported. A plan in a
    /// project this run creates starts out empty (no listing, no HEADs).
    /// </summary>
    private bool Admitted(RepositoryPlan plan, HarborProjectCheck check)
    {
        var project = HarborProjectCheck.ProjectOf(plan.DestinationRepository);
        HarborOpsException? failure = project is null
            ? new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"Harbor keeps every repository in a project, and '{plan.DestinationRepository}' has no project part. Give the destination a project, e.g. {destination.Registry}/<project>, or use -DestinationPrefix.", plan.SourceName)
            : check.Refused.GetValueOrDefault(project);
        if (failure is not null)
        {
            foreach (var work in plan.Works.DefaultIfEmpty(new TagWork("", null)))
                EmitFailure(work.Tag.Length > 0 ? Describe(plan.Source, plan.SourceRepository, work.Tag) : plan.SourceName,
                    work.Tag.Length > 0 ? Describe(destinationStore, plan.DestinationRepository, work.Tag) : plan.DestinationName,
                    plan.SourceRepository, plan.DestinationRepository, failure);
            return false;
        }
        if (check.New.Contains(project!))
        {
            plan.DestinationIsNew = true;
            plan.DestinationTags = new HashSet<string>(StringComparer.Ordinal);
        }
        return true;
    }

    private RepositoryPlan? NewPlan(IImageStore store, string repository, string sourceText)
    {
        string mapped;
        try
        {
            mapped = mapping.MapRepository(repository, sourceText);
        }
        catch (HarborOpsException ex) when (ex.ErrorId == CopyErrorIds.MappingInvalid)
        {
            EmitFailure(Describe(store, repository, null), destination.Text, repository, "", ex);
            return null;
        }
        return new RepositoryPlan(store, repository, mapped)
        {
            SourceName = Describe(store, repository, null),
            DestinationName = Describe(destinationStore, mapped, null),
        };
    }

    private static async Task<List<string>> ListTagsAsync(IImageStore store, string repository, CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        await foreach (var page in store.ListTagPagesAsync(repository, cancellationToken).ConfigureAwait(false))
            tags.AddRange(page);
        return tags;
    }

    private static async Task<List<TaggedManifest>> ListInventoryAsync(IImageStore store, string repository, CancellationToken cancellationToken)
    {
        var inventory = new List<TaggedManifest>();
        await foreach (var page in store.ListTaggedManifestPagesAsync(repository, cancellationToken).ConfigureAwait(false))
            inventory.AddRange(page);
        return inventory;
    }

    /// <summary>The destination repository's tags; null when the repository does not exist there.</summary>
    private async Task<HashSet<string>?> ListDestinationTagsAsync(string repository, CancellationToken cancellationToken)
    {
        try
        {
            var tags = await throttle.RunAsync(destinationStore.Registry, () => ListTagsAsync(destinationStore, repository, cancellationToken), cancellationToken).ConfigureAwait(false);
            return tags.ToHashSet(StringComparer.Ordinal);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.RepositoryNotFound or RegistryErrorIds.ManifestNotFound)
        {
            return null;
        }
    }

    // ---------------------------------------------------------------- tags

    private Task<CopyResult?> CopyTagAsync(RepositoryPlan plan, TagWork work, string? subject, bool probeReferrers, CancellationToken cancellationToken)
    {
        if (work.Tag.Length == 0) return CopyTagCoreAsync(plan, work, subject, probeReferrers, cancellationToken);
        // A referrer tag can be reached from more than one walk; it is copied once.
        return plan.TagJobs.GetOrAdd(work.Tag, _ => new Lazy<Task<CopyResult?>>(() => CopyTagCoreAsync(plan, work, subject, probeReferrers, cancellationToken))).Value;
    }

    private async Task<CopyResult?> CopyTagCoreAsync(RepositoryPlan plan, TagWork work, string? subject, bool probeReferrers, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var counters = new TagCounters();
        var tag = work.Tag;
        var sourceName = Describe(plan.Source, plan.SourceRepository, tag.Length > 0 ? tag : work.Digest);
        var destinationName = Describe(destinationStore, plan.DestinationRepository, tag.Length > 0 ? tag : work.Digest);
        string? digest = work.Digest;
        var mediaType = work.Listed?.Manifest.MediaType ?? "";
        string? previous = null;
        CopyResult result;
        ManifestContent? manifest = null;
        var copyReferrers = request.IncludeReferrers;
        string? sourceDigest = null;
        if (tag.Length > 0 && ManifestChecks.InvalidTag(tag, plan.SourceName) is { } invalidTag)
        {
            // A name the registry sent that no URL or path may carry: that tag fails alone, shown escaped.
            var shown = ManifestChecks.Shown(tag);
            result = NewResult(plan, $"{plan.SourceName}:{shown}", $"{plan.DestinationName}:{shown}", tag, "", "", CopyAction.Failed, invalidTag.Kind.ToString(), null, subject, counters, started)
                with { Error = invalidTag.Message, ErrorId = invalidTag.ErrorId };
            Emit(result);
            return result;
        }
        // The store's listing (ACR's _manifests) decides some tags by itself: a locked one fails alone, one older than
        // -Since is skipped, both without a request.
        if (ListedVerdict(plan, work, subject, sourceName, destinationName, counters, started) is { } listedVerdict)
        {
            Emit(listedVerdict);
            return listedVerdict;
        }
        string? note = null;
        string? headDigest = null;
        Task<ManifestContent> ReadSourceAsync(string d) => d != headDigest ? SourceManifestAsync(plan, d, cancellationToken)
            : HeadDigests.ReadAsync(() => SourceManifestAsync(plan, d, cancellationToken), () => SourceManifestByTagAsync(plan, tag, cancellationToken), d, sourceName);
        var destinationMayHaveTag = tag.Length > 0 && (plan.DestinationTags is null || plan.DestinationTags.Contains(tag));
        // The destination's digest of the tag does not depend on the source: both HEADs go out together, which halves
        // the round trips of an unchanged tag.
        var destinationHead = destinationMayHaveTag
            ? throttle.RunAsync(destinationStore.Registry, () => destinationStore.HeadManifestAsync(plan.DestinationRepository, tag, cancellationToken), cancellationToken)
            : null;
        try
        {
            if (digest is null && !destinationMayHaveTag)
            {
                // Cold path: the destination has no such tag, so one GET by tag gives both digest and bytes (a referrer
                // tag's subject may have fetched them already, and moved the blobs).
                if (plan.ReferrerPrefetches.TryGetValue(tag, out var prefetch))
                {
                    manifest = await prefetch.Value.Manifest.ConfigureAwait(false);
                    counters = prefetch.Value.Counters;
                }
                manifest ??= await SourceManifestByTagAsync(plan, tag, cancellationToken).ConfigureAwait(false);
                digest = manifest.Digest;
            }
            else if (digest is null)
            {
                var head = await throttle.RunAsync(plan.Source.Registry, () => plan.Source.HeadManifestAsync(plan.SourceRepository, tag, cancellationToken), cancellationToken).ConfigureAwait(false)
                    ?? throw new RegistryException(RegistryErrorIds.ManifestNotFound, FailureKind.NotFound,
                        $"'{sourceName}' was not found at the source (the tag was deleted or never existed). Get-RegistryTag -Reference {plan.SourceName} lists its tags.", sourceName);
                digest = headDigest = head.Digest;
                mediaType = head.MediaType;
            }

            // -Platform and -Since look into the image; referrer tags follow their subject and are never filtered. A tag
            // the destination already has with the source's digest needs no look: the filters could only skip it (an
            // index -Platform would rewrite is the exception).
            var filtered = subject is null && (platforms.Count > 0 || (request.Since is not null && ListedSinceTime(work, subject) is null));
            if (filtered && destinationHead is not null && manifest is null && (platforms.Count == 0 || !MediaTypes.IsIndex(mediaType)))
                filtered = (await destinationHead.ConfigureAwait(false))?.Digest != digest;
            if (filtered)
            {
                manifest ??= await ReadSourceAsync(digest).ConfigureAwait(false);
                mediaType = manifest.MediaType;
                var selected = await SelectImageAsync(plan, manifest, sourceName, checkSince: ListedSinceTime(work, subject) is null, cancellationToken).ConfigureAwait(false);
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
                    Observe(destinationHead);
                    result = NewResult(plan, sourceName, destinationName, tag, digest, mediaType, CopyAction.Skipped, selected.SkipReason, null, subject, counters, started);
                    Emit(result);
                    return result;
                }
                if (!ReferenceEquals(selected.Manifest, manifest))
                {
                    sourceDigest = digest;
                    manifest = selected.Manifest!;
                    digest = manifest.Digest;
                }
            }

            var destinationReference = tag.Length > 0 ? tag : digest;
            if (destinationHead is not null)
                previous = (await destinationHead.ConfigureAwait(false))?.Digest;
            else if (tag.Length == 0)
                previous = (await throttle.RunAsync(destinationStore.Registry, () => destinationStore.HeadManifestAsync(plan.DestinationRepository, destinationReference, cancellationToken), cancellationToken).ConfigureAwait(false))?.Digest;

            CopyAction action;
            string reason;
            if (previous == digest)
            {
                (action, reason) = (CopyAction.Skipped, "unchanged");
                mediaType = manifest?.MediaType ?? mediaType;
            }
            else if (previous is not null && request.NoClobber)
            {
                (action, reason) = (CopyAction.Skipped, "NoClobber");
                copyReferrers = false; // the destination tag keeps another image; its referrers are not ours to add
            }
            else
            {
                manifest ??= await ReadSourceAsync(digest).ConfigureAwait(false);
                mediaType = manifest.MediaType;
                if (copyReferrers && subject is null && sourceDigest is null) PrefetchReferrerTags(plan, digest, cancellationToken);
                await EnsureDependenciesAsync(plan, manifest, counters, cancellationToken).ConfigureAwait(false);
                if (!PlanOnly)
                {
                    await BeforeFirstWriteAsync(plan, cancellationToken).ConfigureAwait(false);
                    await throttle.RunAsync(destinationStore.Registry, () => destinationStore.PutManifestAsync(plan.DestinationRepository, destinationReference, manifest, cancellationToken), cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref manifestsWritten);
                    if (journal is not null) await journal.RecordManifestAsync(plan.DestinationRepository, digest, cancellationToken).ConfigureAwait(false);
                }
                action = PlanOnly ? CopyAction.Planned : previous is null ? CopyAction.Copied : CopyAction.Updated;
                reason = previous is null ? "new" : "differs";
            }
            if (note is not null) reason = $"{reason}; {note}";
            result = NewResult(plan, sourceName, destinationName, tag, digest, mediaType, action, reason, previous, subject, counters, started)
                with { SourceDigest = sourceDigest };
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            Observe(destinationHead);
            result = NewResult(plan, sourceName, destinationName, tag, digest ?? "", mediaType, CopyAction.Failed, ex.Kind.ToString(), previous, subject, counters, started)
                with { Error = ex.Message, ErrorId = ex.ErrorId };
            Emit(result);
            return result;
        }
        Emit(result);

        if (copyReferrers && sourceDigest is not null)
        {
            // A rewritten index: the kept children are the source's, byte for byte, and so are their referrers.
            await Task.WhenAll(manifest!.Manifests.Select(child =>
                CopyReferrersAsync(plan, child.Digest, null, probeReferrers, childrenAreReferrers: false, cancellationToken))).ConfigureAwait(false);
        }
        else if (copyReferrers)
        {
            // A referrers index lists referrers, whose own referrers (a signed SBOM) must come along as well.
            var isReferrersIndex = subject is not null && tag == Digests.ToTagSchemaTag(subject);
            if (isReferrersIndex && manifest is null && probeReferrers)
            {
                try { manifest = await SourceManifestAsync(plan, digest, cancellationToken).ConfigureAwait(false); }
                catch (HarborOpsException ex) when (!ex.IsTerminating) { EmitFailure(sourceName, destinationName, plan.SourceRepository, plan.DestinationRepository, ex, subject); }
            }
            await CopyReferrersAsync(plan, digest, manifest, probeReferrers, isReferrersIndex, cancellationToken).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>
    /// While a subject's blobs move, its referrer tags that the destination does not have yet (cosign's .sig/.att/.sbom,
    /// the tag-schema index) are read and their blobs moved too, so that after the subject's tag only their manifests
    /// remain to be written: referrers are still written after their subject, but no longer wait for it to start.
    /// </summary>
    private void PrefetchReferrerTags(RepositoryPlan plan, string digest, CancellationToken cancellationToken)
    {
        if (PlanOnly || plan.SourceTags is null) return;
        foreach (var tag in plan.ReferrerTagsOf(digest))
            if (plan.DestinationTags is { } existing && !existing.Contains(tag))
                _ = plan.ReferrerPrefetches.GetOrAdd(tag, t => new Lazy<ReferrerPrefetch>(() =>
                {
                    var counters = new TagCounters();
                    return new ReferrerPrefetch(PrefetchAsync(plan, t, counters, cancellationToken), counters);
                })).Value;
    }

    /// <summary>A referrer tag's manifest with its blobs present at the destination; null when that failed (the tag's own copy then tries again and reports).</summary>
    private async Task<ManifestContent?> PrefetchAsync(RepositoryPlan plan, string tag, TagCounters counters, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = await SourceManifestByTagAsync(plan, tag, cancellationToken).ConfigureAwait(false);
            await EnsureBlobsAsync(plan, manifest, counters, cancellationToken).ConfigureAwait(false);
            return manifest;
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            return null;
        }
    }

    /// <summary>The blobs under a manifest (for an index, under its children), without writing any manifest.</summary>
    private async Task EnsureBlobsAsync(RepositoryPlan plan, ManifestContent manifest, TagCounters counters, CancellationToken cancellationToken)
    {
        if (!manifest.IsIndex)
        {
            await EnsureDependenciesAsync(plan, manifest, counters, cancellationToken).ConfigureAwait(false);
            return;
        }
        await Task.WhenAll(manifest.Manifests.Select(async child =>
        {
            var content = await SourceManifestAsync(plan, child.Digest, cancellationToken).ConfigureAwait(false);
            if (!content.IsIndex) await EnsureDependenciesAsync(plan, content, counters, cancellationToken).ConfigureAwait(false);
        })).ConfigureAwait(false);
    }

    /// <summary>A request started alongside another that failed first: its own failure, if any, adds nothing.</summary>
    private static void Observe(Task? task) =>
        task?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    // ---------------------------------------------------------------- -Platform and -Since

    /// <summary>The time -Since compares when the store's listing gives one (ACR's lastUpdateTime); null: read the image config.</summary>
    private DateTimeOffset? ListedSinceTime(TagWork work, string? subject) =>
        subject is null && request.Since is not null ? work.Listed?.UpdatedOn ?? work.Listed?.CreatedOn : null;

    /// <summary>What the listing alone decides for a tag: Failed when locked against reads, Skipped when older than -Since.</summary>
    private CopyResult? ListedVerdict(RepositoryPlan plan, TagWork work, string? subject, string sourceName, string destinationName, TagCounters counters, Stopwatch started)
    {
        if (work.Listed is not { } listed) return null;
        var digest = listed.Manifest.Digest;
        if (!listed.ReadEnabled)
        {
            var locked = new RegistryException(RegistryErrorIds.ReadDisabled, FailureKind.PermissionDenied,
                $"'{sourceName}' is locked against reads at the source (readEnabled is false), so it cannot be copied; the rest of the run goes on. To copy it, unlock it first (az acr repository update --name <registry> --image {plan.SourceRepository}:{work.Tag} --read-enabled true).",
                sourceName);
            return NewResult(plan, sourceName, destinationName, work.Tag, digest, listed.Manifest.MediaType, CopyAction.Failed, locked.Kind.ToString(), null, subject, counters, started)
                with { Error = locked.Message, ErrorId = locked.ErrorId };
        }
        if (ListedSinceTime(work, subject) is { } listedTime && listedTime < request.Since)
        {
            // Its signatures sign an image the destination will not get: they stay behind too.
            foreach (var referrerTag in plan.ReferrerTagsOf(digest)) plan.Claim(referrerTag);
            return NewResult(plan, sourceName, destinationName, work.Tag, digest, listed.Manifest.MediaType, CopyAction.Skipped,
                $"last updated {listedTime:yyyy-MM-ddTHH:mm:ssK} (the registry's listing), before -Since {request.Since:yyyy-MM-ddTHH:mm:ssK}", null, subject, counters, started);
        }
        return null;
    }

    private sealed record ImageSelection(ManifestContent? Manifest, string? SkipReason, string? Note);

    /// <summary>
    /// Applies -Platform (an index keeps only matching children, written as a new index; an image of another platform
    /// is skipped) and then -Since (the newest config <c>created</c> of what is copied).
    /// </summary>
    private async Task<ImageSelection> SelectImageAsync(RepositoryPlan plan, ManifestContent manifest, string sourceName, bool checkSince, CancellationToken cancellationToken)
    {
        string? note = null;
        if (platforms.Count > 0)
        {
            if (manifest.IsIndex)
            {
                var kept = KeptChildren(manifest);
                var images = manifest.Manifests.Where(IsPlatformImage).ToList();
                if (kept.Count == 0)
                    return new ImageSelection(null, $"no platform matches -Platform {string.Join(", ", platforms)} (the index has {DescribePlatforms(images)})", null);
                if (kept.Count < manifest.Manifests.Count)
                {
                    manifest = FilteredIndex(manifest, kept, sourceName);
                    note = $"platforms filtered: kept {DescribePlatforms(kept.Where(IsPlatformImage))} of {DescribePlatforms(images)}, a new index digest";
                }
            }
            else if (manifest.Config is not null && IsImageConfig(manifest.Config.MediaType))
            {
                var config = await SourceConfigAsync(plan, manifest.Config, cancellationToken).ConfigureAwait(false);
                var platform = config is null ? null : ManifestContent.ReadConfigPlatform(config);
                // An image whose config names no platform is not filtered away: it cannot be said not to match.
                if (platform is not null && !platforms.Any(p => p.Matches(platform)))
                    return new ImageSelection(null, $"platform {platform} is not one of -Platform {string.Join(", ", platforms)}", null);
            }
        }

        if (checkSince && request.Since is { } since)
        {
            var created = await CreatedAsync(plan, manifest, cancellationToken).ConfigureAwait(false);
            if (created is null)
            {
                var unknown = $"creation time unknown (no image config records one), copied despite -Since {since:yyyy-MM-ddTHH:mm:ssK}";
                note = note is null ? unknown : $"{note}; {unknown}";
            }
            else if (created < since)
                return new ImageSelection(null, $"created {created:yyyy-MM-ddTHH:mm:ssK}, before -Since {since:yyyy-MM-ddTHH:mm:ssK}", note);
        }
        return new ImageSelection(manifest, null, note);
    }

    private static bool IsPlatformImage(OciDescriptor child) =>
        child.Platform is { Os.Length: > 0 } p && p.Os != "unknown";

    private static bool IsImageConfig(string mediaType) =>
        mediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig;

    private static string DescribePlatforms(IEnumerable<OciDescriptor> children)
    {
        var names = children.Select(c => c.Platform!.ToString()).Distinct(StringComparer.Ordinal).ToList();
        return names.Count == 0 ? "no platforms" : string.Join(", ", names);
    }

    /// <summary>
    /// The children a -Platform filter keeps: the matching images, and the attestation manifests (buildx writes them
    /// as unknown/unknown children naming their image in vnd.docker.reference.digest) of those images.
    /// </summary>
    private List<OciDescriptor> KeptChildren(ManifestContent index)
    {
        var images = index.Manifests.Where(c => platforms.Any(p => p.Matches(c.Platform)) && IsPlatformImage(c)).ToList();
        var keptDigests = images.Select(c => c.Digest).ToHashSet(StringComparer.Ordinal);
        return index.Manifests.Where(c => keptDigests.Contains(c.Digest)
            || (c.Annotations.TryGetValue("vnd.docker.reference.digest", out var of) && keptDigests.Contains(of))).ToList();
    }

    /// <summary>
    /// The index with only <paramref name="kept"/> in its manifests array; every other field and every kept entry is
    /// written exactly as the source had it.
    /// </summary>
    private static ManifestContent FilteredIndex(ManifestContent index, IReadOnlyList<OciDescriptor> kept, string sourceName)
    {
        var keep = kept.Select(c => c.Digest).ToHashSet(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(index.Bytes);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name != "manifests")
                {
                    property.WriteTo(writer);
                    continue;
                }
                writer.WriteStartArray("manifests");
                foreach (var child in property.Value.EnumerateArray())
                    if (child.ValueKind == JsonValueKind.Object && child.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String && keep.Contains(d.GetString()!))
                        child.WriteTo(writer);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return ManifestContent.Parse(buffer.ToArray(), index.MediaType, sourceName);
    }

    /// <summary>When the image was created as its config records it; for an index, its newest child's. Null when none says.</summary>
    private async Task<DateTimeOffset?> CreatedAsync(RepositoryPlan plan, ManifestContent manifest, CancellationToken cancellationToken)
    {
        if (manifest.IsIndex)
        {
            var times = await Task.WhenAll(manifest.Manifests.Where(IsPlatformImage).Select(async child =>
            {
                var image = await SourceManifestAsync(plan, child.Digest, cancellationToken).ConfigureAwait(false);
                return image.IsIndex ? null : await CreatedAsync(plan, image, cancellationToken).ConfigureAwait(false);
            })).ConfigureAwait(false);
            return times.Max();
        }
        if (manifest.Config is null || !IsImageConfig(manifest.Config.MediaType)) return null;
        var config = await SourceConfigAsync(plan, manifest.Config, cancellationToken).ConfigureAwait(false);
        return config is null ? null : ReadCreated(config);
    }

    private static DateTimeOffset? ReadCreated(byte[] config)
    {
        try
        {
            using var document = JsonDocument.Parse(config);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("created", out var created) || created.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(created.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
                return null;
            // cosign and some builders write year 1 for "no time"; that records nothing.
            return time.Year <= 1 ? null : time;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An image config from the source (read once per run), or null when it is too large to be one.</summary>
    private Task<byte[]?> SourceConfigAsync(RepositoryPlan plan, OciDescriptor config, CancellationToken cancellationToken) =>
        sourceConfigs.GetOrAdd($"{plan.Source.Registry}/{plan.SourceRepository}@{config.Digest}", _ => new Lazy<Task<byte[]?>>(() =>
            throttle.RunAsync(plan.Source.Registry, async () =>
            {
                const int MaxConfigBytes = 4 * 1024 * 1024;
                if (config.Size > MaxConfigBytes) return null;
                await using var stream = await plan.Source.OpenBlobAsync(plan.SourceRepository, config.Digest, config.Size, cancellationToken).ConfigureAwait(false);
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                return (byte[]?)buffer.ToArray();
            }, cancellationToken))).Value;

    private async Task CopyOrphanReferrerTagAsync(RepositoryPlan plan, string tag, CancellationToken cancellationToken)
    {
        var subject = TagSelection.SubjectOfReferrerTag(tag)!;
        try
        {
            var head = await throttle.RunAsync(plan.Source.Registry, () => plan.Source.HeadManifestAsync(plan.SourceRepository, subject, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (head is not null)
                await EnsureManifestByDigestAsync(plan, subject, new TagCounters(), cancellationToken).ConfigureAwait(false);
        }
        catch (HarborOpsException failure) when (!failure.IsTerminating)
        {
            // The subject could not be copied; the referrer tag is still tried and reports its own result below.
        }
        await CopyTagAsync(plan, new TagWork(tag, null), subject, probeReferrers: false, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- referrers

    /// <summary>
    /// Copies what refers to <paramref name="digest"/>, after it: its referrer tags (the tag-schema index and cosign's
    /// .sig/.att/.sbom), the referrers API's untagged manifests, and, recursively, their own referrers.
    /// </summary>
    private Task CopyReferrersAsync(RepositoryPlan plan, string digest, ManifestContent? manifest, bool probe, bool childrenAreReferrers, CancellationToken cancellationToken) =>
        referrerWalks.GetOrAdd(plan.DestinationRepository + "@" + digest,
            _ => new Lazy<Task>(() => CopyReferrersCoreAsync(plan, digest, manifest, probe, childrenAreReferrers, cancellationToken))).Value;

    private async Task CopyReferrersCoreAsync(RepositoryPlan plan, string digest, ManifestContent? manifest, bool probe, bool childrenAreReferrers, CancellationToken cancellationToken)
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
                var head = await TryHeadSourceAsync(plan, candidate, cancellationToken).ConfigureAwait(false);
                if (head is null) continue;
                tags.Add(candidate);
                Interlocked.Increment(ref totalTags);
            }
            sourceHasSchemaTag = tags.Contains(schemaTag);
        }

        var walks = new List<Task>();
        foreach (var tag in tags)
        {
            plan.Claim(tag);
            walks.Add(CopyTagAsync(plan, new TagWork(tag, null), digest, probe, cancellationToken));
        }

        if (SourceReferrersApi(plan) >= 0)
            walks.Add(CopyApiReferrersAsync(plan, digest, sourceHasSchemaTag, cancellationToken));

        // Referrers of an index's children (a per-platform signature) come along when they cost no probing; the
        // children of a referrers index are referrers themselves and are probed like their subject was.
        if (manifest is { IsIndex: true } && (childrenAreReferrers || plan.SourceTags is not null || SourceReferrersApi(plan) > 0))
            foreach (var child in manifest.Manifests)
                walks.Add(CopyReferrersAsync(plan, child.Digest, null, probe && childrenAreReferrers, childrenAreReferrers: false, cancellationToken));
        await Task.WhenAll(walks).ConfigureAwait(false);
    }

    private async Task<OciDescriptor?> TryHeadSourceAsync(RepositoryPlan plan, string tag, CancellationToken cancellationToken)
    {
        try
        {
            return await throttle.RunAsync(plan.Source.Registry, () => plan.Source.HeadManifestAsync(plan.SourceRepository, tag, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.ManifestNotFound or RegistryErrorIds.RepositoryNotFound)
        {
            return null;
        }
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
            EmitFailure(Describe(plan.Source, plan.SourceRepository, digest) + " (referrers)", plan.DestinationName, plan.SourceRepository, plan.DestinationRepository, ex, digest);
            return;
        }
        if (referrers is null) return;
        if (referrers.Count == 0) return;

        // A destination without the referrers API finds referrers through the tag schema only; when the source had no
        // such index to copy byte for byte, the destination's index is kept up to date here. Its current entries are
        // read first: a referrer listed there is present (the index is only written after what it lists), so it needs
        // no HEAD, and a referrer an interrupted run wrote but never listed is added now.
        IndexedReferrers? index = null;
        if (sourceHasSchemaTag == false && !PlanOnly)
        {
            try
            {
                if (!await DestinationHasReferrersApiAsync(plan, digest, cancellationToken).ConfigureAwait(false))
                    index = await DestinationReferrersIndexAsync(plan, digest, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                EmitReferrersIndexFailure(plan, digest, ex);
                return;
            }
        }

        var listed = index?.Entries.Select(e => e.Digest).ToHashSet(StringComparer.Ordinal) ?? [];
        var present = new List<OciDescriptor>();
        await Task.WhenAll(referrers.Select(async referrer =>
        {
            try
            {
                if (!listed.Contains(referrer.Digest) && await EnsureManifestByDigestAsync(plan, referrer.Digest, new TagCounters(), cancellationToken).ConfigureAwait(false))
                    Interlocked.Increment(ref referrersCopied);
                lock (present) present.Add(referrer);
                await CopyReferrersAsync(plan, referrer.Digest, null, probe: plan.SourceTags is null, childrenAreReferrers: false, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                EmitFailure(Describe(plan.Source, plan.SourceRepository, referrer.Digest), Describe(destinationStore, plan.DestinationRepository, referrer.Digest),
                    plan.SourceRepository, plan.DestinationRepository, ex, digest);
            }
        })).ConfigureAwait(false);

        if (index is null) return;
        var missing = present.Where(r => !listed.Contains(r.Digest)).OrderBy(r => r.Digest, StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return;
        try
        {
            await WriteReferrersIndexAsync(plan, digest, [.. index.Entries, .. missing], cancellationToken).ConfigureAwait(false);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            EmitReferrersIndexFailure(plan, digest, ex);
        }
    }

    private void EmitReferrersIndexFailure(RepositoryPlan plan, string digest, HarborOpsException ex) =>
        EmitFailure(Describe(plan.Source, plan.SourceRepository, digest) + " (referrers index)",
            Describe(destinationStore, plan.DestinationRepository, Digests.ToTagSchemaTag(digest)), plan.SourceRepository, plan.DestinationRepository, ex, digest);

    /// <summary>The entries of a tag-schema referrers index at the destination (none when it has no such tag).</summary>
    private sealed record IndexedReferrers(IReadOnlyList<OciDescriptor> Entries);

    private async Task<IndexedReferrers> DestinationReferrersIndexAsync(RepositoryPlan plan, string subject, CancellationToken cancellationToken)
    {
        var tag = Digests.ToTagSchemaTag(subject);
        // The destination's tag list (read at the start, and the index is only ever written by its subject's walk)
        // already says whether there is an index to read.
        if (plan.DestinationIsNew || plan.DestinationTags is { } tags && !tags.Contains(tag)) return new IndexedReferrers([]);
        try
        {
            var existing = await throttle.RunAsync(destinationStore.Registry, () => destinationStore.GetManifestAsync(plan.DestinationRepository, tag, cancellationToken), cancellationToken).ConfigureAwait(false);
            return new IndexedReferrers(existing.IsIndex ? existing.Manifests : []);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.ManifestNotFound or RegistryErrorIds.RepositoryNotFound)
        {
            return new IndexedReferrers([]);
        }
    }

    private ReferrersApiProbe SourceReferrersApiProbe(RepositoryPlan plan) => sourceReferrersApis.GetOrAdd(plan.Source.Registry, _ => new ReferrersApiProbe());

    /// <summary>1 when the source registry answers the referrers API, -1 when it does not, 0 while nobody knows yet.</summary>
    private int SourceReferrersApi(RepositoryPlan plan) => SourceReferrersApiProbe(plan).Known;

    /// <summary>The referrers API's answer for <paramref name="digest"/>, or null when the source registry has no such API.</summary>
    private Task<IReadOnlyList<OciDescriptor>?> SourceReferrersAsync(RepositoryPlan plan, string digest, CancellationToken cancellationToken) =>
        SourceReferrersApiProbe(plan).QueryAsync(() =>
            throttle.RunAsync(plan.Source.Registry, () => plan.Source.GetReferrersAsync(plan.SourceRepository, digest, null, cancellationToken), cancellationToken), cancellationToken);

    private Task<bool> DestinationHasReferrersApiAsync(RepositoryPlan plan, string digest, CancellationToken cancellationToken) =>
        destinationReferrersApi.HasApiAsync(() =>
            throttle.RunAsync(destinationStore.Registry, () => destinationStore.GetReferrersAsync(plan.DestinationRepository, digest, null, cancellationToken), cancellationToken), cancellationToken);

    private async Task WriteReferrersIndexAsync(RepositoryPlan plan, string subject, IReadOnlyList<OciDescriptor> entries, CancellationToken cancellationToken)
    {
        var tag = Digests.ToTagSchemaTag(subject);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var entry in entries) OciDescriptorJson.Write(writer, entry);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        var target = Describe(destinationStore, plan.DestinationRepository, tag);
        var index = ManifestContent.Parse(buffer.ToArray(), MediaTypes.OciIndex, target);
        await throttle.RunAsync(destinationStore.Registry, () => destinationStore.PutManifestAsync(plan.DestinationRepository, tag, index, cancellationToken), cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref manifestsWritten);
    }

    /// <summary>Before the first write into a repository the run found missing, the journal notes it (see CopyJournal).</summary>
    private Task BeforeFirstWriteAsync(RepositoryPlan plan, CancellationToken cancellationToken)
    {
        if (journal is null || !plan.DestinationIsNew || PlanOnly) return Task.CompletedTask;
        return plan.Started.GetOrAdd(0, _ => new Lazy<Task>(() => journal.RecordRepositoryStartedAsync(plan.DestinationRepository, cancellationToken))).Value;
    }

    // ---------------------------------------------------------------- manifests

    private Task<ManifestContent> SourceManifestAsync(RepositoryPlan plan, string digest, CancellationToken cancellationToken) =>
        sourceManifests.GetOrAdd($"{plan.Source.Registry}/{plan.SourceRepository}@{digest}", _ => new Lazy<Task<ManifestContent>>(() =>
            throttle.RunAsync(plan.Source.Registry, () => plan.Source.GetManifestAsync(plan.SourceRepository, digest, cancellationToken), cancellationToken))).Value;

    private async Task<ManifestContent> SourceManifestByTagAsync(RepositoryPlan plan, string tag, CancellationToken cancellationToken)
    {
        var manifest = await throttle.RunAsync(plan.Source.Registry, () => plan.Source.GetManifestAsync(plan.SourceRepository, tag, cancellationToken), cancellationToken).ConfigureAwait(false);
        sourceManifests.TryAdd($"{plan.Source.Registry}/{plan.SourceRepository}@{manifest.Digest}", new Lazy<Task<ManifestContent>>(() => Task.FromResult(manifest)));
        return manifest;
    }

    /// <summary>Blobs of an image, or child manifests of an index, present at the destination (copied when missing).</summary>
    private async Task EnsureDependenciesAsync(RepositoryPlan plan, ManifestContent manifest, TagCounters counters, CancellationToken cancellationToken)
    {
        if (manifest.IsIndex)
        {
            await Task.WhenAll(manifest.Manifests.Select(child => childSizes.RequireAsync(child, EnsureManifestByDigestAsync(plan, child.Digest, counters, cancellationToken), plan.SourceName))).ConfigureAwait(false);
            return;
        }
        var needed = manifest.Blobs().Where(b => request.IncludeForeignLayers || !IsForeign(b));
        await Task.WhenAll(needed.Select(blob => EnsureBlobAsync(plan, blob, counters, cancellationToken))).ConfigureAwait(false);
    }

    private static bool IsForeign(OciDescriptor blob) =>
        blob.Urls.Count > 0
        || blob.MediaType.Contains(".foreign.", StringComparison.Ordinal)
        || blob.MediaType.Contains(".nondistributable.", StringComparison.Ordinal);

    /// <summary>
    /// A manifest present at the destination under its digest: a HEAD when it is there (then everything under it is,
    /// since it was only ever written after its dependencies), else its dependencies and then a PUT by digest.
    /// True when it was (or, planning, would be) written.
    /// </summary>
    private Task<bool> EnsureManifestByDigestAsync(RepositoryPlan plan, string digest, TagCounters counters, CancellationToken cancellationToken) => manifestsByDigest.GetOrAdd(
        plan.DestinationRepository + "@" + digest, _ => new Lazy<Task<bool>>(() => EnsureManifestByDigestCoreAsync(plan, digest, counters, cancellationToken))).Value;

    private async Task<bool> EnsureManifestByDigestCoreAsync(RepositoryPlan plan, string digest, TagCounters counters, CancellationToken cancellationToken)
    {
        if (!plan.DestinationIsNew)
        {
            var present = await throttle.RunAsync(destinationStore.Registry, () => destinationStore.HeadManifestAsync(plan.DestinationRepository, digest, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (present is not null) { childSizes.Known(digest, present.Size); return false; }
        }
        var manifest = childSizes.Known(await SourceManifestAsync(plan, digest, cancellationToken).ConfigureAwait(false));
        await EnsureDependenciesAsync(plan, manifest, counters, cancellationToken).ConfigureAwait(false);
        if (PlanOnly) return true;
        await BeforeFirstWriteAsync(plan, cancellationToken).ConfigureAwait(false);
        await throttle.RunAsync(destinationStore.Registry, () => destinationStore.PutManifestAsync(plan.DestinationRepository, digest, manifest, cancellationToken), cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref manifestsWritten);
        if (journal is not null) await journal.RecordManifestAsync(plan.DestinationRepository, digest, cancellationToken).ConfigureAwait(false);
        return true;
    }

    // ---------------------------------------------------------------- blobs

    private enum BlobOutcome { Present, Mounted, Transferred }

    private async Task EnsureBlobAsync(RepositoryPlan plan, OciDescriptor blob, TagCounters counters, CancellationToken cancellationToken)
    {
        var mine = new Lazy<Task<BlobOutcome>>(() => EnsureBlobCoreAsync(plan, blob, counters, cancellationToken));
        var actual = blobs.GetOrAdd(plan.DestinationRepository + "@" + blob.Digest, mine);
        await actual.Value.ConfigureAwait(false);
        if (PlanOnly && !blobSizes.IsKnown(blob.Digest)) return;
        await blobSizes.RequireAsync(blob, () => throttle.RunAsync(destinationStore.Registry,
            () => destinationStore.HeadBlobAsync(plan.DestinationRepository, blob.Digest, cancellationToken), cancellationToken), plan.SourceName).ConfigureAwait(false);
    }

    private async Task<BlobOutcome> EnsureBlobCoreAsync(RepositoryPlan plan, OciDescriptor blob, TagCounters counters, CancellationToken cancellationToken)
    {
        var repository = plan.DestinationRepository;
        var digest = blob.Digest;
        var candidates = MountCandidates(plan, digest).Take(2).ToList();
        // A destination that folds the presence check into the upload start needs no HEAD before an upload; a plan, or
        // a mount that would otherwise report a blob the repository already has as mounted, still asks first.
        var headFirst = !plan.DestinationIsNew && (PlanOnly || candidates.Count > 0 || destinationStore is not IBlobUploadUnlessPresent);
        var size = !headFirst ? null
            : await throttle.RunAsync(destinationStore.Registry, () => destinationStore.HeadBlobAsync(repository, digest, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (size is not null)
        {
            blobSizes.Confirmed(digest, size.Value);
            return Present(repository, digest, counters);
        }

        foreach (var from in candidates)
            if (await TryMountAsync(plan, digest, from, counters, cancellationToken).ConfigureAwait(false))
                return BlobOutcome.Mounted;

        // One transfer per digest for the whole run: later repositories wait for it and mount from where it landed.
        var transfer = new Lazy<Task<(string Repository, BlobOutcome Outcome)>>(() => TransferAsync(plan, blob, counters, cancellationToken));
        var flight = transfers.GetOrAdd(digest, transfer);
        if (ReferenceEquals(flight, transfer))
            return (await transfer.Value.ConfigureAwait(false)).Outcome;
        string? landed = null;
        try
        {
            landed = (await flight.Value.ConfigureAwait(false)).Repository;
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            // That transfer failed for its repository; this one tries on its own below.
        }
        if (landed is not null && landed != repository && await TryMountAsync(plan, digest, landed, counters, cancellationToken).ConfigureAwait(false))
            return BlobOutcome.Mounted;
        return (await TransferAsync(plan, blob, counters, cancellationToken).ConfigureAwait(false)).Outcome;
    }

    private BlobOutcome Present(string repository, string digest, TagCounters counters)
    {
        RememberLocation(digest, repository);
        counters.Skipped();
        Interlocked.Increment(ref blobsSkipped);
        return BlobOutcome.Present;
    }

    private IEnumerable<string> MountCandidates(RepositoryPlan plan, string digest)
    {
        var repository = plan.DestinationRepository;
        if (blobLocations.TryGetValue(digest, out var known))
            foreach (var location in known.Keys)
                if (location != repository) yield return location;
        if (journal is not null)
            foreach (var location in journal.RepositoriesWithBlob(digest))
                if (location != repository && (known is null || !known.ContainsKey(location))) yield return location;
        // Copying within one registry: the blob is already in the source repository there.
        if (plan.Source.Registry == destinationStore.Registry && plan.SourceRepository != repository && plan.SourceRepository.Length > 0)
            yield return plan.SourceRepository;
    }

    private async Task<bool> TryMountAsync(RepositoryPlan plan, string digest, string from, TagCounters counters, CancellationToken cancellationToken)
    {
        var repository = plan.DestinationRepository;
        if (!PlanOnly)
        {
            await BeforeFirstWriteAsync(plan, cancellationToken).ConfigureAwait(false);
            var mounted = await throttle.RunAsync(destinationStore.Registry, () => destinationStore.TryMountBlobAsync(repository, digest, from, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (!mounted) return false;
            if (journal is not null) await journal.RecordBlobAsync(repository, digest, cancellationToken).ConfigureAwait(false);
        }
        RememberLocation(digest, repository);
        counters.Mounted();
        Interlocked.Increment(ref blobsMounted);
        return true;
    }

    private void RememberLocation(string digest, string repository) =>
        blobLocations.GetOrAdd(digest, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(repository, 0);

    /// <summary>
    /// Streams one blob from the source to the destination (no temp file): the source stream verifies the digest as it
    /// is read and the upload is committed only after the last byte verified. A transfer that fails on the way
    /// (throttling, 5xx, a connection drop the download could not resume, a digest mismatch in transit) starts over.
    /// Where the destination folds the presence check into the upload start, a blob it already holds (left by an
    /// interrupted run that wrote no journal) is not moved again, and the download is opened while the upload starts.
    /// </summary>
    private async Task<(string Repository, BlobOutcome Outcome)> TransferAsync(RepositoryPlan plan, OciDescriptor blob, TagCounters counters, CancellationToken cancellationToken)
    {
        var repository = plan.DestinationRepository;
        if (!PlanOnly)
        {
            await BeforeFirstWriteAsync(plan, cancellationToken).ConfigureAwait(false);
            var uploaded = await throttle.RunAsync(destinationStore.Registry, async () =>
            {
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        if (destinationStore is IBlobUploadUnlessPresent unlessPresent)
                            return await PutUnlessPresentAsync(unlessPresent, plan, blob, cancellationToken).ConfigureAwait(false);
                        await using var content = await plan.Source.OpenBlobAsync(plan.SourceRepository, blob.Digest, blob.Size, cancellationToken).ConfigureAwait(false);
                        await destinationStore.PutBlobAsync(repository, blob.Digest, blob.Size, content, cancellationToken).ConfigureAwait(false);
                        return true;
                    }
                    catch (Exception ex) when (attempt < engine.Options.MaxRetries && IsWorthRetrying(ex, cancellationToken))
                    {
                        var wait = (ex as RegistryException)?.RetryAfter ?? engine.Pipeline.BackoffDelay(attempt);
                        await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                    }
                }
            }, cancellationToken).ConfigureAwait(false);
            if (!uploaded) return (repository, Present(repository, blob.Digest, counters));
            blobSizes.Confirmed(blob.Digest, blob.Size); // the source stream verified the descriptor's size as it went
            if (journal is not null) await journal.RecordBlobAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false);
        }
        RememberLocation(blob.Digest, repository);
        counters.Copied(blob.Size);
        Interlocked.Increment(ref blobsCopied);
        Interlocked.Add(ref bytesMoved, blob.Size);
        return (repository, BlobOutcome.Transferred);
    }

    /// <summary>The download and the upload start overlap (two round trips become one); false when the blob was there.</summary>
    private async Task<bool> PutUnlessPresentAsync(IBlobUploadUnlessPresent destination, RepositoryPlan plan, OciDescriptor blob, CancellationToken cancellationToken)
    {
        var opening = plan.Source.OpenBlobAsync(plan.SourceRepository, blob.Digest, blob.Size, cancellationToken);
        try
        {
            return await destination.PutBlobUnlessPresentAsync(plan.DestinationRepository, blob.Digest, blob.Size, () => opening, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await (await opening.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HarborOpsException or IOException or HttpRequestException or OperationCanceledException)
            {
                // A failed download either failed the upload above (and that is the error reported) or was not needed
                // because the destination already had the blob.
            }
        }
    }

    private static bool IsWorthRetrying(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex switch
        {
            RegistryException r => r.Kind is FailureKind.ConnectionFailed or FailureKind.Timeout or FailureKind.ServerError or FailureKind.Throttled
                || r.ErrorId == RegistryErrorIds.DigestMismatch,
            IOException or HttpRequestException => true,
            _ => false,
        };

    // ---------------------------------------------------------------- results

    private static string Describe(IImageStore store, string repository, string? reference) => RepositoryMapping.Describe(store, repository, reference);

    private CopyResult NewResult(RepositoryPlan plan, string sourceName, string destinationName, string tag, string digest, string mediaType,
        CopyAction action, string reason, string? previous, string? subject, TagCounters counters, Stopwatch started) => new()
    {
        Source = sourceName,
        Destination = destinationName,
        SourceRepository = plan.SourceRepository,
        DestinationRepository = plan.DestinationRepository,
        Tag = tag,
        Digest = digest,
        MediaType = mediaType,
        Action = action,
        Reason = reason,
        PreviousDigest = previous,
        SubjectDigest = subject,
        BytesMoved = counters.Bytes,
        BlobsCopied = counters.CopiedCount,
        BlobsMounted = counters.MountedCount,
        BlobsSkipped = counters.SkippedCount,
        Elapsed = started.Elapsed,
    };

    private void EmitFailure(string source, string destinationName, string sourceRepository, string destinationRepository, HarborOpsException ex, string? subject = null)
    {
        Emit(new CopyResult
        {
            Source = source,
            Destination = destinationName,
            SourceRepository = sourceRepository,
            DestinationRepository = destinationRepository,
            Action = CopyAction.Failed,
            Reason = ex.Kind.ToString(),
            SubjectDigest = subject,
            Error = ex.Message,
            ErrorId = ex.ErrorId,
        });
    }

    private void Emit(CopyResult result)
    {
        lock (emitLock)
        {
            doneTags++;
            switch (result.Action)
            {
                case CopyAction.Copied: copied++; break;
                case CopyAction.Updated: updated++; break;
            }
            // A referrer tag (cosign .sig/.att/.sbom, a sha256-<hex> index) counts as a copied tag and as a referrer, so
            // the summary shows signatures came along also from registries without the referrers API.
            if (result is { Action: CopyAction.Copied or CopyAction.Updated, SubjectDigest: not null, Tag.Length: > 0 })
                Interlocked.Increment(ref referrersCopied);
            switch (result.Action)
            {
                case CopyAction.Skipped: skipped++; break;
                case CopyAction.Planned: planned++; break;
                case CopyAction.Failed:
                    failed++;
                    if (failures.Count < 100) failures.Add($"{result.Source}: {result.Error}");
                    break;
            }
            onResult?.Invoke(result);
            Report(result);
        }
    }

    private void Report(CopyResult? last)
    {
        if (progress is null) return;
        var total = Math.Max(Volatile.Read(ref totalTags), doneTags);
        var bytes = Interlocked.Read(ref bytesMoved);
        var status = $"{doneTags} of {total} tags, {ByteCount.Format(bytes)} {(PlanOnly ? "to move" : "moved")}, {Volatile.Read(ref blobsMounted)} blobs mounted, {Volatile.Read(ref blobsSkipped)} present";
        progress.Report(new OperationProgress(Activity, status, last?.Source, doneTags, total));
    }

    private CopySummary BuildSummary()
    {
        lock (emitLock)
        {
            return new CopySummary
            {
                Source = string.Join(", ", request.Sources),
                Destination = destination.Text,
                PlanOnly = PlanOnly,
                Tags = doneTags,
                Copied = copied,
                Updated = updated,
                Skipped = skipped,
                Failed = failed,
                Planned = planned,
                BytesMoved = Interlocked.Read(ref bytesMoved),
                BlobsCopied = blobsCopied,
                BlobsMounted = blobsMounted,
                BlobsSkipped = blobsSkipped,
                ManifestsWritten = manifestsWritten,
                ReferrersCopied = referrersCopied,
                Elapsed = clock.Elapsed,
                Failures = failures.ToArray(),
                ProjectsCreated = projectsCreated.ToArray(),
            };
        }
    }
}

/// <summary>A referrer tag's manifest (null when reading it or moving its blobs failed) and what moving its blobs cost.</summary>
internal sealed record ReferrerPrefetch(Task<ManifestContent?> Manifest, TagCounters Counters);

/// <summary>A tag to copy (or, with an empty tag, a digest to copy without one).</summary>
internal sealed record TagWork(string Tag, string? Digest)
{
    /// <summary>The source store's inventory entry (digest, times, read lock), when its listing gives one.</summary>
    public TaggedManifest? Listed { get; init; }
}

/// <summary>What one tag moved; blobs shared with another tag count with the tag that moved them.</summary>
internal sealed class TagCounters
{
    private long bytes;
    private int copied, mounted, skipped;
    public long Bytes => Interlocked.Read(ref bytes);
    public int CopiedCount => Volatile.Read(ref copied);
    public int MountedCount => Volatile.Read(ref mounted);
    public int SkippedCount => Volatile.Read(ref skipped);
    public void Copied(long size) { Interlocked.Increment(ref copied); Interlocked.Add(ref bytes, size); }
    public void Mounted() => Interlocked.Increment(ref mounted);
    public void Skipped() => Interlocked.Increment(ref skipped);
}

/// <summary>One source repository of a run and where it goes, with its tag inventory.</summary>
internal sealed class RepositoryPlan(IImageStore source, string sourceRepository, string destinationRepository)
{
    public IImageStore Source { get; } = source;
    public string SourceRepository { get; } = sourceRepository;
    public string DestinationRepository { get; } = destinationRepository;
    public string SourceName { get; init; } = "";
    public string DestinationName { get; init; } = "";
    /// <summary>Every tag of the source repository; null when one image was named (referrer tags are probed then).</summary>
    public HashSet<string>? SourceTags { get; private set; }
    /// <summary>Tags the destination repository has; null when not listed (each tag is HEADed then).</summary>
    public HashSet<string>? DestinationTags { get; set; }
    /// <summary>The destination repository did not exist when the run started.</summary>
    public bool DestinationIsNew { get; set; }
    /// <summary>The journal line written before the first write into a new repository (one entry, key 0).</summary>
    public ConcurrentDictionary<int, Lazy<Task>> Started { get; } = new();
    public List<TagWork> Works { get; } = [];
    public ConcurrentDictionary<string, Lazy<Task<CopyResult?>>> TagJobs { get; } = new(StringComparer.Ordinal);
    /// <summary>Referrer tags read, and their blobs moved, while their subject was being copied.</summary>
    public ConcurrentDictionary<string, Lazy<ReferrerPrefetch>> ReferrerPrefetches { get; } = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> referrerTagsBySubject = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> claimed = new(StringComparer.Ordinal);
    private readonly List<string> orphanCandidates = [];

    public int ReferrerTagCount => referrerTagsBySubject.Values.Sum(l => l.Count);

    public void SetSourceTags(IEnumerable<string> tags, TagSelection selection, bool includeReferrers, IReadOnlyList<TaggedManifest>? inventory = null)
    {
        SourceTags = tags.ToHashSet(StringComparer.Ordinal);
        var listed = inventory?.GroupBy(i => i.Tag, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var tag in SourceTags.Order(StringComparer.Ordinal))
        {
            var subject = TagSelection.SubjectOfReferrerTag(tag);
            if (subject is null)
            {
                var entry = listed?.GetValueOrDefault(tag);
                if (selection.Matches(tag)) Works.Add(new TagWork(tag, entry?.Manifest.Digest) { Listed = entry });
                continue;
            }
            if (!includeReferrers) continue;
            if (!referrerTagsBySubject.TryGetValue(subject, out var list)) referrerTagsBySubject[subject] = list = [];
            list.Add(tag);
            // Without a subject among the copied tags, a referrer tag is copied on its own only when the filter lets it.
            if (selection.Matches(tag)) orphanCandidates.Add(tag);
        }
    }

    public IReadOnlyList<string> ReferrerTagsOf(string digest) =>
        referrerTagsBySubject.TryGetValue(digest, out var list) ? list : [];

    public void Claim(string tag) => claimed.TryAdd(tag, 0);

    public IEnumerable<string> UnclaimedReferrerTags() => orphanCandidates.Where(t => !claimed.ContainsKey(t));
}
