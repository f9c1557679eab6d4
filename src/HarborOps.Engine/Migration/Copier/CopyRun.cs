using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Resilience;
using HarborOps.Engine.Scope;
using HarborOps.Engine.Shards;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>
/// One execution of a <see cref="CopyRequest"/>, the orchestration only: discover the repositories, copy their tags in
/// parallel, then the referrer tags no copied tag reached, and sum up. The work itself is done by its collaborators:
/// <see cref="RepositoryDiscovery"/>, <see cref="TagCopier"/> (with <see cref="TagDecider"/>, <see cref="TagFilters"/>
/// and <see cref="ReferrerCopier"/>), <see cref="ManifestMover"/> and <see cref="BlobMover"/>, all reporting to one
/// <see cref="CopyTally"/>. A shard's run leaves its <see cref="ShardSummary"/> (-ShardSummaryPath) however it ends.
/// </summary>
internal sealed class CopyRun(RegistryEngine engine, CopyRequest request, IProgress<OperationProgress>? progress, Action<CopyResult, HarborOpsException?>? onResult)
{
    public async Task<CopySummary> RunAsync(CancellationToken cancellationToken)
    {
        var recorder = new ShardSummaryRecorder(request.ShardSummaryPath);
        recorder.CheckWritable();
        List<CopySource> sources;
        CopyContext context;
        try
        {
            // Bad input (a source or destination that does not parse, a mapping that cannot work) is in the summary too.
            sources = request.Sources.Select(CopySource.Parse).ToList();
            context = new CopyContext(engine, request, progress);
        }
        catch (Exception badRequest)
        {
            await recorder.WriteAsync(ShardSummaryOf(new CopySummary { Shard = request.Shard.Index, ShardCount = request.Shard.Count }),
                string.Join(", ", request.Sources), badRequest).ConfigureAwait(false);
            throw;
        }
        var tally = new CopyTally(context, (result, failure) =>
        {
            if (result.Action == CopyAction.Failed) recorder.Failure(result.Source, result.ErrorId, result.Error);
            onResult?.Invoke(result, failure);
        });
        try
        {
            await CopyAsync(sources, context, tally, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception stoppedBy)
        {
            await recorder.WriteAsync(ShardSummaryOf(tally.Summary()), string.Join(", ", request.Sources), stoppedBy).ConfigureAwait(false);
            throw;
        }
        var summary = tally.Complete();
        await recorder.WriteAsync(ShardSummaryOf(summary), string.Join(", ", request.Sources), null).ConfigureAwait(false);
        return summary;
    }

    private static ShardSummary ShardSummaryOf(CopySummary summary) => new()
    {
        Kind = ShardSummaryKind.Copy,
        ShardIndex = summary.Shard,
        ShardCount = summary.ShardCount,
        Repositories = summary.Repositories,
        Tags = summary.Tags,
        Copied = summary.Copied,
        Updated = summary.Updated,
        Skipped = summary.Skipped,
        Failed = summary.Failed,
        BytesMoved = summary.BytesMoved,
    };

    /// <summary>
    /// The blobs this shard uploads for other shards too (<see cref="ShardedBlobOwners"/>), all started at once, first
    /// in line for a connection, before this shard's other uploads may start: a tag of this shard may be waiting for
    /// another shard's blob while that shard waits for one of these. A blob that fails here fails the tags that need it,
    /// with its error.
    /// </summary>
    private static async Task UploadOwnedSharedBlobsAsync(ShardedBlobOwners owners, List<RepositoryPlan> plans, BlobMover blobs, CopyContext context, CancellationToken cancellationToken)
    {
        var uploads = new List<Task>();
        try
        {
            var owned = await owners.OwnedSharedAsync().ConfigureAwait(false);
            var planOf = plans.Where(p => p.SourceTags is not null).GroupBy(p => p.DestinationRepository, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            // Another shard's repository: a plan with no tags of its own, which asks the destination before each upload.
            foreach (var repository in owned.Where(o => o.ForAnotherShard && !planOf.ContainsKey(o.DestinationRepository)).Select(o => o.Repository).DistinctBy(r => r.DestinationRepository))
                planOf[repository.DestinationRepository] = RepositoryPlan.OfAnotherShard(repository, context.DestinationStore);
            // Other shards are waiting for these: their requests get the next free connection before this shard's tags.
            await HostThrottle.FirstInLine(() =>
            {
                foreach (var blob in owned.Where(o => planOf.ContainsKey(o.DestinationRepository)))
                    uploads.Add(blobs.EnsureAheadAsync(planOf[blob.DestinationRepository], blob.Blob, cancellationToken));
                return Task.CompletedTask;
            }).ConfigureAwait(false);
        }
        finally
        {
            owners.StartedOwnedUploads();
        }
        await Task.WhenAll(uploads).ConfigureAwait(false);
    }

    /// <summary>
    /// This shard's large blobs, started largest first ahead of their tags (<see cref="ShardedBlobOwners.AheadOfTagsAsync"/>),
    /// as many at once as the throttle lets requests run to a host; the tags find them done or under way. Only for tags
    /// the destination does not have, which the run copies whatever it decides about the rest.
    /// </summary>
    private static async Task UploadLargestAheadAsync(ShardedBlobOwners owners, List<RepositoryPlan> plans, BlobMover blobs, CopyContext context, CancellationToken cancellationToken)
    {
        // The plan of each tag this run copies and the destination lacks, by source registry, repository and tag.
        var planOfMissingTag = new Dictionary<(string, string, string), RepositoryPlan>();
        foreach (var plan in plans.Where(p => p is { SourceTags: not null, DestinationTags: not null }))
            foreach (var work in plan.Works.Where(w => !plan.DestinationTags!.Contains(w.Tag)))
                planOfMissingTag.TryAdd((plan.Source.Registry, plan.SourceRepository, work.Tag), plan);
        var ahead = (await owners.AheadOfTagsAsync().ConfigureAwait(false))
            .Select(a => (Plan: planOfMissingTag.GetValueOrDefault((a.Repository.SourceStore.Registry, a.Repository.SourceRepository, a.Tag)), a.Blob))
            .Where(a => a.Plan is not null)
            .DistinctBy(a => a.Blob.Digest, StringComparer.Ordinal) // one upload a digest: the run mounts it wherever else it goes
            .ToList();
        // Started in this order, in this flow: the first ones ask for their connections before the tags ask for theirs.
        using var lanes = new SemaphoreSlim(context.Throttle.Limit);
        var uploads = new List<Task>();
        foreach (var (plan, blob) in ahead)
        {
            await lanes.WaitAsync(cancellationToken).ConfigureAwait(false);
            uploads.Add(InLaneAsync(plan!, blob));
        }
        await Task.WhenAll(uploads).ConfigureAwait(false);

        async Task InLaneAsync(RepositoryPlan plan, OciDescriptor blob)
        {
            try
            {
                await blobs.EnsureAheadAsync(plan, blob, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                lanes.Release();
            }
        }
    }

    private static async Task CopyAsync(List<CopySource> sources, CopyContext context, CopyTally tally, CancellationToken cancellationToken)
    {
        // Uploads started ahead of the tags stop with the run, however it ends.
        using var background = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task seeding = Task.CompletedTask, ahead = Task.CompletedTask;
        try
        {
            await context.OpenJournalAsync(cancellationToken).ConfigureAwait(false);
            var source = new SourceReader(context);
            var blobOwners = new ShardedBlobOwners(context, source);
            var blobs = new BlobMover(context, tally, new BorrowedBlobs(context, blobOwners));
            var manifests = new ManifestMover(context, tally, source, blobs);
            var tags = new TagCopier(context, tally, source, manifests);

            var plans = await new RepositoryDiscovery(context, tally, blobOwners).DiscoverAsync(sources, cancellationToken).ConfigureAwait(false);
            seeding = UploadOwnedSharedBlobsAsync(blobOwners, plans, blobs, context, background.Token);
            tally.Repositories(plans.Count);
            var work = await blobOwners.LargestFirstAsync(plans.SelectMany(p => p.Works.Select(w => (Plan: p, Work: w))).ToList(),
                item => (item.Plan.SourceRepository, item.Work.Tag)).ConfigureAwait(false);
            // What other shards wait for goes first, then this shard's largest layers, then its tags (each in line for a connection).
            await blobOwners.OwnedUploadsStarted.ConfigureAwait(false);
            ahead = UploadLargestAheadAsync(blobOwners, plans, blobs, context, background.Token);
            tally.ExpectTags(work.Count + plans.Sum(p => p.ReferrerTagCount));
            tally.Report(null);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = context.Throttle.Limit * 2, CancellationToken = cancellationToken };
            // A tag waiting for another shard's layer makes way for the next (TagsInFlight).
            await new TagsInFlight(parallel.MaxDegreeOfParallelism).ForEachAsync(work, async (item, token) =>
                await tags.CopyAsync(item.Plan, item.Work, subject: null, probeReferrers: item.Plan.SourceTags is null, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

            // Referrer tags whose subject no copied tag reached (a signature of an untagged digest, or of an image the
            // filter left out): copied last, after their subject by digest when the source still has it.
            var orphans = plans.SelectMany(p => p.UnclaimedReferrerTags().Select(t => (Plan: p, Tag: t))).ToList();
            await Parallel.ForEachAsync(orphans, parallel, async (item, token) =>
                await tags.Referrers.CopyOrphanTagAsync(item.Plan, item.Tag, token).ConfigureAwait(false)).ConfigureAwait(false);
            await seeding.ConfigureAwait(false);
            await ahead.ConfigureAwait(false);
        }
        finally
        {
            await background.CancelAsync().ConfigureAwait(false);
            // Awaited already when the run completed; when it failed, that failure is the one reported, not their stop.
            await Task.WhenAll(seeding, ahead).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            await context.DisposeAsync().ConfigureAwait(false);
        }
    }
}
