using System.Collections.Concurrent;
using System.Diagnostics;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;
using HarborOps.Models;

namespace HarborOps.Engine.Parity;

/// <summary>
/// Compares what a source holds with what a destination holds, mapped by Copy-RegistryImage's rules, by digest: one
/// inventory per repository and side (a bulk listing where the store has one, else the tag list and a HEAD per tag).
/// The destination is only ever listed and HEADed: a manifest GET counts as a pull on Harbor and would defeat its
/// retention rules. Referrers are read at the source only.
/// </summary>
public sealed class ParityChecker(RegistryEngine engine)
{
    /// <summary>
    /// Runs the comparison, handing each finding to <paramref name="onDifference"/> as it is found (from worker threads,
    /// one at a time), and failures that stop one repository's comparison at the destination to
    /// <paramref name="onFailure"/>. Configuration and authentication problems throw.
    /// </summary>
    public Task<ParitySummary> CompareAsync(ParityRequest request, IProgress<OperationProgress>? progress, Action<ParityDifference> onDifference,
        Action<HarborOpsException>? onFailure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onDifference);
        return ParityShardSummary.RunAsync(request, (difference, failure) => new ParityRun(engine, request, progress, difference, failure), onDifference, onFailure, cancellationToken);
    }
}

internal sealed class ParityRun
{
    private readonly RegistryEngine _engine;
    private readonly ParityRequest _request;
    private readonly IProgress<OperationProgress>? _progress;
    private readonly Action<ParityDifference> _onDifference;
    private readonly Action<HarborOpsException>? _onFailure;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _emitLock = new();
    private readonly ConcurrentDictionary<string, IImageStore> _sourceStores = new(StringComparer.Ordinal);
    // Per store: whether it has the referrers API, asked once for the whole run.
    private readonly ConcurrentDictionary<string, ReferrersApiProbe> _referrersApis = new(StringComparer.Ordinal);
    private readonly RepositoryMapping _mapping;
    private readonly TagSelection _selection;
    private readonly IImageStore _destination;
    private readonly Dictionary<ParityDifferenceKind, int> _counts = Enum.GetValues<ParityDifferenceKind>().ToDictionary(k => k, _ => 0);
    private int _tagsCompared, _referrersChecked, _repositoriesCompared, _repositoriesDone, _repositoriesTotal;
    // A source (or a repository of one) the expansion could not list or map: repositories at the destination may then
    // look extra that are not.
    private int _expansionIncomplete;

    public ParityRun(RegistryEngine engine, ParityRequest request, IProgress<OperationProgress>? progress, Action<ParityDifference> onDifference, Action<HarborOpsException>? onFailure)
    {
        this._engine = engine;
        this._request = request;
        this._progress = progress;
        this._onDifference = onDifference;
        this._onFailure = onFailure;
        _mapping = RepositoryMapping.Of(request);
        _selection = new TagSelection(request);
        _destination = HarborInventoryOf(engine, request, _mapping.Destination.Registry);
    }

    /// <summary>
    /// The destination store; where it is a Harbor the request or the Connect-Harbor session names, its tag inventory
    /// comes from Harbor's API (a page of 100 artifacts per request, not a HEAD per tag); where no Harbor is named, the
    /// same once the registry's challenge and systeminfo show it is one (HarborDetection).
    /// </summary>
    private static IImageStore HarborInventoryOf(RegistryEngine engine, ParityRequest request, string registry)
    {
        var store = engine.OpenStore(registry, request.DestinationCredential);
        var session = HarborSession.Current;
        var harbor = request.Harbor ?? (session is not null && string.Equals(session.Registry, store.Registry, StringComparison.OrdinalIgnoreCase) ? session : null);
        if (harbor is null && !request.DetectHarbor) return store;
        return harbor is null
            ? HarborInventoryStore.Detecting(store, new HarborDetection(engine.Pipeline), request.DestinationCredential, engine.Options.TagDetailParallelism)
            : HarborInventoryStore.Over(store, harbor.Credential, engine.Options.TagDetailParallelism);
    }

    private string Activity => $"Comparing with {_mapping.Destination.Text}";

    public async Task<ParitySummary> RunAsync(CancellationToken cancellationToken)
    {
        var sources = _request.Sources.Select(CopySource.Parse).ToList();
        var sourceRegistries = sources.Select(s => s.Registry).Distinct(StringComparer.Ordinal).ToList();
        var sourceRequestsBefore = sourceRegistries.Sum(_engine.RequestsSentTo);
        var destinationRequestsBefore = _engine.RequestsSentTo(_destination.Registry);

        var scope = await SourceExpansion.ExpandAsync(sources, SourceStore, _mapping, _request.Shard, new ExpansionFindings(this), _progress, Activity, cancellationToken).ConfigureAwait(false);
        var pairs = scope.Repositories;
        _repositoriesTotal = pairs.Count;
        if (_destination is HarborInventoryStore harbor)
            harbor.ExpectRepositories(pairs.Where(p => p.OnlyTag is null && p.OnlyDigest is null).Select(p => p.DestinationRepository));
        _progress?.Report(new OperationProgress(Activity, $"Comparing {pairs.Count} repositories", Completed: 0, Total: pairs.Count));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _request.ThrottleLimit), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(pairs, parallel, async (pair, token) =>
        {
            await CompareRepositoryAsync(pair, token).ConfigureAwait(false);
            var done = Interlocked.Increment(ref _repositoriesDone);
            _progress?.Report(new OperationProgress(Activity, $"Compared {done} of {pairs.Count} repositories, {Volatile.Read(ref _tagsCompared)} tags", pair.SourceName, done, pairs.Count));
        }).ConfigureAwait(false);
        // Of a sharded comparison, shard 0 looks for repositories no source maps to, knowing where every shard's land.
        if (_request.Shard.Index == 0) await ReportDestinationOnlyRepositoriesAsync(sources, scope.AllDestinationRepositories, cancellationToken).ConfigureAwait(false);

        var summary = new ParitySummary
        {
            Source = _request.Sources.ToArray(),
            Destination = _mapping.Destination.Text,
            Shard = _request.Shard.Index,
            ShardCount = _request.Shard.Count,
            RepositoriesCompared = _repositoriesCompared,
            TagsCompared = _tagsCompared,
            ReferrersChecked = _referrersChecked,
            Equal = _counts[ParityDifferenceKind.Equal],
            MissingAtDestination = _counts[ParityDifferenceKind.MissingAtDestination],
            ExtraAtDestination = _counts[ParityDifferenceKind.ExtraAtDestination],
            DigestDiffers = _counts[ParityDifferenceKind.DigestDiffers],
            ReferrerMissing = _counts[ParityDifferenceKind.ReferrerMissing],
            SourceUnreadable = _counts[ParityDifferenceKind.SourceUnreadable],
            SourceRequests = (int)(sourceRegistries.Sum(_engine.RequestsSentTo) - sourceRequestsBefore),
            DestinationRequests = (int)(_engine.RequestsSentTo(_destination.Registry) - destinationRequestsBefore),
            Elapsed = _clock.Elapsed,
        };
        _progress?.Report(new OperationProgress(Activity, summary.ToString(), Completed: _repositoriesDone, Total: Math.Max(1, _repositoriesTotal), IsComplete: true));
        return summary;
    }

    // ---------------------------------------------------------------- scope

    /// <summary>
    /// Where every source names repositories by prefix (or a whole registry), a destination repository under the
    /// mapped prefix that none maps to is extra; not when the sources could not all be listed, which would make every
    /// repository they hide look extra.
    /// </summary>
    private async Task ReportDestinationOnlyRepositoriesAsync(List<CopySource> sources, IReadOnlySet<string> expected, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _expansionIncomplete) != 0 || !sources.All(s => s.Kind is CopySourceKind.Prefix or CopySourceKind.Registry)) return;
        var prefixes = sources.Select(s => _mapping.MapPrefix(s.Kind == CopySourceKind.Registry ? "" : s.Repository)).Distinct(StringComparer.Ordinal).ToList();
        if (prefixes.Contains(null)) return;
        var extra = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var prefix in prefixes)
            extra.UnionWith(await DestinationOnlyRepositories.FindAsync(_destination, prefix!, expected, cancellationToken).ConfigureAwait(false));
        foreach (var repository in extra)
            Emit(new ParityDifference
            {
                Kind = ParityDifferenceKind.ExtraAtDestination,
                Destination = _mapping.Destination.Text,
                DestinationReference = _destination.ItemName(repository),
                DestinationRepository = repository,
                Detail = $"The destination has repository '{_destination.ItemName(repository)}', where the sources' repositories are mapped, and none of them maps to it.",
                StripPrefixSegments = _request.StripPrefixSegments,
                Rename = _request.RenameRepositories,
            });
    }

    private IImageStore SourceStore(string registry) => _sourceStores.GetOrAdd(registry, r => _engine.OpenStore(r, _request.SourceCredential));

    private ParityRun Incomplete()
    {
        Volatile.Write(ref _expansionIncomplete, 1);
        return this;
    }

    /// <summary>What the expansion leaves out: an unreadable source is a difference; a name that does not map, a failure.</summary>
    private sealed class ExpansionFindings(ParityRun run) : ISourceExpansionFailures
    {
        public void ListingFailed(CopySource source, HarborOpsException failure) => run.Incomplete().Emit(new ParityDifference
        {
            Kind = ParityDifferenceKind.SourceUnreadable,
            Source = source.Text,
            SourceRepository = source.Repository,
            Detail = $"The repositories of {source.Text} could not be listed: {failure.Message}",
            ErrorId = failure.ErrorId,
        });

        public void NameInvalid(IImageStore store, string name, HarborOpsException failure) => run.Incomplete().Emit(new ParityDifference
        {
            Kind = ParityDifferenceKind.SourceUnreadable,
            Source = $"{failure.Target}",
            Destination = run._mapping.Destination.Text,
            SourceRepository = ManifestChecks.Shown(name),
            Detail = failure.Message,
            ErrorId = failure.ErrorId,
        });

        public void MappingFailed(IImageStore store, string repository, HarborOpsException failure) => run.Incomplete()._onFailure?.Invoke(failure);
    }

    // ---------------------------------------------------------------- one repository

    private async Task CompareRepositoryAsync(ExpandedRepository pair, CancellationToken cancellationToken)
    {
        var sourceInventory = InventoryAsync(pair.SourceStore, pair.SourceRepository, pair, cancellationToken);
        var destinationInventory = InventoryAsync(_destination, pair.DestinationRepository, pair, cancellationToken);
        Inventory source, target;
        try
        {
            source = await sourceInventory.ConfigureAwait(false);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            await ObserveAsync(destinationInventory).ConfigureAwait(false);
            Emit(Difference(pair, ParityDifferenceKind.SourceUnreadable, "", null, null) with { Detail = $"{pair.SourceName} could not be read: {ex.Message}", ErrorId = ex.ErrorId });
            return;
        }
        try
        {
            target = await destinationInventory.ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.RepositoryNotFound or RegistryErrorIds.ManifestNotFound)
        {
            target = Inventory.Empty;
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            _onFailure?.Invoke(ex);
            return;
        }
        if ((pair.OnlyTag ?? pair.OnlyDigest) is { } only && source.Images.Count == 0)
        {
            Emit(Difference(pair, ParityDifferenceKind.SourceUnreadable, only, null, target.Images.GetValueOrDefault(only)?.Manifest.Digest)
                with
            { Detail = $"{pair.SourceStore.ItemName(pair.SourceRepository, only)} was not found at the source.", ErrorId = RegistryErrorIds.ManifestNotFound });
            return;
        }
        Interlocked.Increment(ref _repositoriesCompared);

        var equalSubjects = new List<(string Tag, string Digest)>();
        var findings = new List<ParityDifference>();
        foreach (var (tag, item) in source.Images.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (!item.ReadEnabled)
            {
                findings.Add(Difference(pair, ParityDifferenceKind.SourceUnreadable, tag, item.Manifest.Digest, target.Images.GetValueOrDefault(tag)?.Manifest.Digest)
                    with
                { Detail = $"{pair.SourceStore.ItemName(pair.SourceRepository, tag)} is locked for reads at the source (readEnabled=false); its parity is unknown." });
                continue;
            }
            Interlocked.Increment(ref _tagsCompared);
            var there = target.Images.GetValueOrDefault(tag);
            if (there is null)
                findings.Add(Difference(pair, ParityDifferenceKind.MissingAtDestination, tag, item.Manifest.Digest, null) with { Detail = "not at the destination" });
            else if (there.Manifest.Digest != item.Manifest.Digest)
                findings.Add(Difference(pair, ParityDifferenceKind.DigestDiffers, tag, item.Manifest.Digest, there.Manifest.Digest)
                    with
                { Detail = $"the destination tag points at {there.Manifest.Digest}" });
            else
            {
                equalSubjects.Add((tag, item.Manifest.Digest));
                if (_request.IncludeEqual)
                    findings.Add(Difference(pair, ParityDifferenceKind.Equal, tag, item.Manifest.Digest, there.Manifest.Digest) with { Detail = "same digest" });
                else
                    Count(ParityDifferenceKind.Equal);
            }
        }
        findings.AddRange(source.InvalidTags.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(tag => InvalidTagFinding(pair, tag, atSource: true)));
        if (pair.OnlyTag is null && pair.OnlyDigest is null)
            findings.AddRange(target.InvalidTags.Except(source.InvalidTags, StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(tag => InvalidTagFinding(pair, tag, atSource: false)));
        if (pair.OnlyTag is null && pair.OnlyDigest is null)
            foreach (var (tag, item) in target.Images.Where(t => !source.Images.ContainsKey(t.Key)).OrderBy(t => t.Key, StringComparer.Ordinal))
                findings.Add(Difference(pair, ParityDifferenceKind.ExtraAtDestination, tag, null, item.Manifest.Digest)
                    with
                { Detail = "the source repository has no such tag" });
        foreach (var finding in findings) Emit(finding);

        if (_request.IncludeReferrers && equalSubjects.Count > 0)
            await CompareReferrersAsync(pair, source, target, equalSubjects, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A repository's tags by digest: images (as the tag filters select them) and referrer tags apart; and the names in
    /// its tag list that break the tag grammar, which are never requested.
    /// </summary>
    private sealed record Inventory(Dictionary<string, TaggedManifest> Images, Dictionary<string, TaggedManifest> ReferrerTags, List<string> InvalidTags)
    {
        public static Inventory Empty => new([], [], []);
    }

    private async Task<Inventory> InventoryAsync(IImageStore store, string repository, ExpandedRepository pair, CancellationToken cancellationToken)
    {
        // A destination that may be a Harbor no session names: known before choosing between its listing and HEADs.
        if (store is HarborInventoryStore { Undecided: true } detecting) await detecting.DecideAsync(repository, cancellationToken).ConfigureAwait(false);
        var images = new Dictionary<string, TaggedManifest>(StringComparer.Ordinal);
        var referrerTags = new Dictionary<string, TaggedManifest>(StringComparer.Ordinal);
        if (pair.OnlyTag is not null || pair.OnlyDigest is not null)
        {
            // One image: a HEAD per side instead of a whole inventory. A digest source is "tagged" by its digest.
            var reference = pair.OnlyTag ?? pair.OnlyDigest!;
            var head = await store.HeadManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false);
            if (head is not null && (pair.OnlyDigest is null || head.Digest == pair.OnlyDigest)) images[reference] = new TaggedManifest(reference, head);
            if (_request.IncludeReferrers && head is not null)
            {
                bool OfThisImage(string tag) => TagSelection.SubjectOfReferrerTag(tag) == head.Digest;
                var referrerPages = store.HasBulkInventory
                    ? store.ListTaggedManifestPagesAsync(repository, cancellationToken)
                    : TagInventory.HeadEachTagAsync(store, repository, _engine.Options.TagDetailParallelism, OfThisImage, cancellationToken);
                await foreach (var page in referrerPages.ConfigureAwait(false))
                    foreach (var item in page.Where(i => OfThisImage(i.Tag)))
                        referrerTags[item.Tag] = item;
            }
            return new Inventory(images, referrerTags, []);
        }
        var invalidTags = new List<string>();
        // A tag name the registry listed is data: one that breaks the grammar is noted for its own finding instead of
        // going into a HEAD's URL (where it would fail the whole run as if the user had typed it).
        bool Screened(string tag)
        {
            if (ImageReference.IsValidTag(tag)) return true;
            if (_selection.Matches(tag) && pair.OwnsTag(tag)) lock (invalidTags) invalidTags.Add(tag);
            return false;
        }
        // A bulk inventory (ACR) costs the same whatever is wanted; otherwise only the tags compared are HEADed.
        var pages = store.HasBulkInventory
            ? store.ListTaggedManifestPagesAsync(repository, cancellationToken)
            : TagInventory.HeadEachTagAsync(store, repository, _engine.Options.TagDetailParallelism, tag => Screened(tag) && Wanted(pair, tag), cancellationToken);
        await foreach (var page in pages.ConfigureAwait(false))
            foreach (var item in page)
            {
                if (!Screened(item.Tag)) continue;
                if (TagSelection.SubjectOfReferrerTag(item.Tag) is not null)
                {
                    // Referrer tags follow their subject: never compared as tags, checked as referrers with -IncludeReferrers.
                    if (_request.IncludeReferrers) referrerTags[item.Tag] = item;
                }
                else if (_selection.Matches(item.Tag) && pair.OwnsTag(item.Tag))
                {
                    images[item.Tag] = item;
                }
            }
        return new Inventory(images, referrerTags, invalidTags);
    }

    /// <summary>
    /// Tags the comparison looks at: the filtered image tags its shard owns, and referrer tags with -IncludeReferrers
    /// (all of them: a shard checks the referrers of each subject it found equal, whichever shard owns the referrer tag).
    /// </summary>
    private bool Wanted(ExpandedRepository pair, string tag) =>
        TagSelection.SubjectOfReferrerTag(tag) is null ? _selection.Matches(tag) && pair.OwnsTag(tag) : _request.IncludeReferrers;

    private static async Task ObserveAsync(Task task)
    {
        try { await task.ConfigureAwait(false); }
        catch (HarborOpsException) { /* the source's failure is the one reported; the destination's listing is moot */ }
    }

    // ---------------------------------------------------------------- referrers

    /// <summary>
    /// For each image both sides have: its referrer tags (cosign's and the tag-schema index) must be at the destination
    /// with the same digest, and referrers the source's referrers API lists must exist there (the destination's own
    /// referrers API, else a HEAD by digest).
    /// </summary>
    private async Task CompareReferrersAsync(ExpandedRepository pair, Inventory source, Inventory target, List<(string Tag, string Digest)> subjects, CancellationToken cancellationToken)
    {
        var bySubject = subjects.GroupBy(s => s.Digest, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(s => s.Tag).Min(StringComparer.Ordinal)!, StringComparer.Ordinal);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _request.ThrottleLimit), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(bySubject, parallel, async (subject, token) =>
        {
            var (digest, tag) = (subject.Key, subject.Value);
            var covered = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var (referrerTag, item) in source.ReferrerTags.Where(r => TagSelection.SubjectOfReferrerTag(r.Key) == digest).OrderBy(r => r.Key, StringComparer.Ordinal))
                {
                    covered.Add(item.Manifest.Digest);
                    Interlocked.Increment(ref _referrersChecked);
                    var there = target.ReferrerTags.GetValueOrDefault(referrerTag) ?? await ReferrerTagOfHarborAsync(pair, referrerTag, token).ConfigureAwait(false);
                    if (there is not null && there.Manifest.Digest == item.Manifest.Digest) continue;
                    if (there is not null && referrerTag == Digests.ToTagSchemaTag(digest))
                    {
                        // A destination that merged more referrers into its index has another digest: what matters is
                        // that every referrer the source's index lists is there.
                        var index = await pair.SourceStore.GetManifestAsync(pair.SourceRepository, item.Manifest.Digest, token).ConfigureAwait(false);
                        foreach (var child in index.Manifests)
                        {
                            covered.Add(child.Digest);
                            if (await _destination.HeadManifestAsync(pair.DestinationRepository, child.Digest, token).ConfigureAwait(false) is null)
                                Emit(ReferrerMissing(pair, tag, digest, child.Digest, referrerTag, child.ArtifactType));
                        }
                        continue;
                    }
                    Emit(ReferrerMissing(pair, tag, digest, item.Manifest.Digest, referrerTag, ArtifactTypeOfTag(referrerTag)));
                }

                var fromApi = await ReferrersFromApiAsync(pair.SourceStore, pair.SourceRepository, digest, token).ConfigureAwait(false);
                var pending = fromApi?.Where(r => !covered.Contains(r.Digest)).ToList() ?? [];
                if (pending.Count == 0) return;
                var atDestination = await ReferrersFromApiAsync(_destination, pair.DestinationRepository, digest, token).ConfigureAwait(false);
                var present = atDestination?.Select(r => r.Digest).ToHashSet(StringComparer.Ordinal);
                foreach (var referrer in pending)
                {
                    Interlocked.Increment(ref _referrersChecked);
                    var found = present is not null
                        ? present.Contains(referrer.Digest)
                        : await _destination.HeadManifestAsync(pair.DestinationRepository, referrer.Digest, token).ConfigureAwait(false) is not null;
                    if (!found) Emit(ReferrerMissing(pair, tag, digest, referrer.Digest, null, referrer.ArtifactType));
                }
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                Emit(Difference(pair, ParityDifferenceKind.SourceUnreadable, tag, digest, digest)
                    with
                { Detail = $"The referrers of {pair.SourceStore.ItemName(pair.SourceRepository, tag)} could not be read: {ex.Message}", ErrorId = ex.ErrorId });
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Harbor's API lists cosign's signatures and the tag-schema index as accessories, not as tags: where the
    /// destination's inventory came from it, a referrer tag it did not list is asked of the registry by a HEAD.
    /// </summary>
    private async Task<TaggedManifest?> ReferrerTagOfHarborAsync(ExpandedRepository pair, string referrerTag, CancellationToken cancellationToken) =>
        _destination is HarborInventoryStore { HasBulkInventory: true }
            && await _destination.HeadManifestAsync(pair.DestinationRepository, referrerTag, cancellationToken).ConfigureAwait(false) is { } head
            ? new TaggedManifest(referrerTag, head)
            : null;

    /// <summary>A store's referrers API answer; null, and known per store after the first answer, when the store has no such API.</summary>
    private Task<IReadOnlyList<OciDescriptor>?> ReferrersFromApiAsync(IImageStore store, string repository, string digest, CancellationToken cancellationToken) =>
        _referrersApis.GetOrAdd(store.Registry, _ => new ReferrersApiProbe())
            .QueryAsync(() => store.GetReferrersAsync(repository, digest, null, cancellationToken), cancellationToken);

    private static string? ArtifactTypeOfTag(string tag) =>
        tag.EndsWith(".sig", StringComparison.Ordinal) ? MediaTypes.CosignSignatureLayer
        : tag.EndsWith(".att", StringComparison.Ordinal) ? "application/vnd.dsse.envelope.v1+json"
        : tag.EndsWith(".sbom", StringComparison.Ordinal) ? "sbom"
        : null;

    private ParityDifference ReferrerMissing(ExpandedRepository pair, string subjectTag, string subjectDigest, string referrerDigest, string? referrerTag, string? artifactType) =>
        Difference(pair, ParityDifferenceKind.ReferrerMissing, subjectTag, subjectDigest, subjectDigest) with { Detail = $"{(referrerTag is null ? "referrer " + referrerDigest : referrerTag)}{(artifactType is null ? "" : $" ({artifactType})")} of {subjectDigest} is not at the destination" }
            with
        { ReferrerDigest = referrerDigest, ReferrerTag = referrerTag, ArtifactType = artifactType };

    // ---------------------------------------------------------------- results

    /// <summary>
    /// A listed tag name that breaks the grammar: unreadable at the source; at the destination a tag the source cannot
    /// have (extra), unless the source listed the same name. Shown escaped, as no newline may reach a log line.
    /// </summary>
    private ParityDifference InvalidTagFinding(ExpandedRepository pair, string tag, bool atSource)
    {
        var shown = ManifestChecks.Shown(tag);
        var sourceName = $"{pair.SourceStore.ItemName(pair.SourceRepository)}:{shown}";
        var detail = atSource
            ? ManifestChecks.InvalidTag(tag, pair.SourceStore.ItemName(pair.SourceRepository))!.Message
            : $"The destination listed a tag {shown} in '{_destination.ItemName(pair.DestinationRepository)}' that breaks the tag grammar; no source tag can have that name, and it is never requested. Delete it at the destination.";
        return Difference(pair, atSource ? ParityDifferenceKind.SourceUnreadable : ParityDifferenceKind.ExtraAtDestination, "", null, null) with
        {
            Source = sourceName,
            DestinationReference = $"{_destination.ItemName(pair.DestinationRepository)}:{shown}",
            Tag = tag,
            Detail = detail,
            ErrorId = RegistryErrorIds.TagNameInvalid,
        };
    }

    private ParityDifference Difference(ExpandedRepository pair, ParityDifferenceKind kind, string tag, string? sourceDigest, string? destinationDigest) => new()
    {
        Kind = kind,
        Source = pair.SourceStore.ItemName(pair.SourceRepository, tag.Length > 0 ? tag : null),
        Destination = _mapping.Destination.Text,
        DestinationReference = _destination.ItemName(pair.DestinationRepository, tag.Length > 0 ? tag : null),
        SourceRepository = pair.SourceRepository,
        DestinationRepository = pair.DestinationRepository,
        Tag = tag,
        SourceDigest = sourceDigest,
        DestinationDigest = destinationDigest,
        StripPrefixSegments = _request.StripPrefixSegments,
        Rename = _request.RenameRepositories,
    };

    private void Count(ParityDifferenceKind kind)
    {
        lock (_emitLock) _counts[kind]++;
    }

    private void Emit(ParityDifference difference)
    {
        lock (_emitLock)
        {
            _counts[difference.Kind]++;
            _onDifference(difference);
        }
    }
}
