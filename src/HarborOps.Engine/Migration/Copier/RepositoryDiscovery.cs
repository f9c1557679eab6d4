using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Discovery, the first phase of a run: turns the sources into repository plans (listing catalogs, mapping names),
/// admits them to their Harbor projects when the destination is a Harbor, and lists the tags of both sides. A shard
/// starts reading what every shard copies here too (<see cref="ShardedBlobOwners"/>).
/// </summary>
internal sealed class RepositoryDiscovery(CopyContext context, CopyTally tally, ShardedBlobOwners blobOwners)
{
    private IImageStore DestinationStore => context.DestinationStore;

    public async Task<List<RepositoryPlan>> DiscoverAsync(List<CopySource> sources, CancellationToken cancellationToken)
    {
        var scope = await SourceExpansion.ExpandAsync(sources, context.SourceStore, context.Mapping, context.Request.Shard, new FailedResults(context, tally),
            context.Progress, context.Activity, cancellationToken).ConfigureAwait(false);
        // A sharded run reads what every shard copies while it lists its own tags (see ShardedBlobOwners).
        blobOwners.Start(scope, cancellationToken);
        var expanded = scope.Repositories;
        // An image source is a ready plan of its one tag or digest; the other repositories have their tags listed below.
        var plans = expanded.Where(e => e.IsImage).Select(ImagePlan).ToList();
        var candidatePlans = expanded.Where(e => !e.IsImage).Select(NewPlan).ToList();
        if (context.Request.Harbor is { } harbor)
        {
            // Before anything reads the destination: Harbor answers a missing project's repositories with "unauthorized".
            var check = await HarborProjectCheck.RunAsync(harbor, plans.Concat(candidatePlans).Select(p => p.DestinationRepository), context.PlanOnly,
                context.Progress, context.Activity, cancellationToken).ConfigureAwait(false);
            tally.ProjectsCreated(check.Created);
            plans.RemoveAll(p => RefusedByHarborProject(p, check));
            candidatePlans.RemoveAll(p => RefusedByHarborProject(p, check));
            foreach (var plan in plans.Concat(candidatePlans)) StartEmptyInNewProject(plan, check);
        }
        // A Harbor destination lists a project whole when that takes fewer pages than its repositories would.
        if (DestinationStore is HarborInventoryStore harborInventory)
            harborInventory.ExpectRepositories(candidatePlans.Where(p => !p.DestinationIsNew).Select(p => p.DestinationRepository));
        var listed = new RepositoryPlan?[candidatePlans.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = context.Throttle.Limit, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, candidatePlans.Count), parallel, async (i, token) =>
        {
            var plan = candidatePlans[i];
            context.Progress?.Report(new OperationProgress(context.Activity, $"Listing tags of {plan.SourceName}", plan.SourceName, i, candidatePlans.Count));
            try
            {
                await ListTagsOfBothSidesAsync(plan, token).ConfigureAwait(false);
                listed[i] = plan;
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                tally.EmitFailure(plan.SourceName, plan.DestinationName, plan.SourceRepository, plan.DestinationRepository, ex);
            }
        }).ConfigureAwait(false);
        plans.AddRange(listed.Where(p => p is not null)!);
        return plans;
    }

    private async Task ListTagsOfBothSidesAsync(RepositoryPlan plan, CancellationToken cancellationToken)
    {
        // A store with a bulk inventory (ACR's _manifests) gives digests, times and locks with the tag list.
        var inventory = plan.Source.HasBulkInventory ? await ListInventoryAsync(plan.Source, plan.SourceRepository, cancellationToken).ConfigureAwait(false) : null;
        var tags = inventory?.Select(i => i.Tag).ToList() ?? [.. await context.SourceTagsAsync(plan.Source, plan.SourceRepository, cancellationToken).ConfigureAwait(false)];
        plan.SetSourceTags(tags, context.Selection, context.Request.IncludeReferrers, inventory);
        var destinationTags = plan.DestinationIsNew ? null
            : await ListDestinationTagsAsync(plan.DestinationRepository, cancellationToken).ConfigureAwait(false);
        plan.DestinationTags = destinationTags ?? new HashSet<string>(StringComparer.Ordinal);
        // A Harbor destination lists its tags' digests 100 a request: an unchanged tag then needs no HEAD.
        if (destinationTags is { Count: > 0 })
            plan.DestinationListing = await context.AtDestinationAsync(() => DestinationInventory.ReadAsync(DestinationStore, plan.DestinationRepository, destinationTags, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        // A repository the destination does not have yet (and no earlier run of the journal wrote into) holds
        // nothing: its blobs and manifests need no HEAD before they are written.
        // Nor one that other shards write into as well (a split by tag): it only looked empty when it was listed.
        plan.DestinationIsNew = destinationTags is null && context.Journal?.HasEntriesFor(plan.DestinationRepository) != true && !context.Request.Shard.SharesRepositories;
    }

    /// <summary>
    /// True when Harbor has no project <paramref name="plan"/> can go to (none in its name, or one that is missing and
    /// not created, or refused); each of the plan's items then reports that failure.
    /// </summary>
    private bool RefusedByHarborProject(RepositoryPlan plan, HarborProjectCheck check)
    {
        var project = HarborProjectCheck.ProjectOf(plan.DestinationRepository);
        HarborOpsException? failure = project is null
            ? new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"Harbor keeps every repository in a project, and '{plan.DestinationRepository}' has no project part. Give the destination a project, e.g. {context.Destination.Registry}/<project>, or use -DestinationPrefix.", plan.SourceName)
            : check.Refused.GetValueOrDefault(project);
        if (failure is null) return false;
        foreach (var work in plan.Works.DefaultIfEmpty(new TagWork("", null)))
            tally.EmitFailure(work.Tag.Length > 0 ? plan.Source.ItemName(plan.SourceRepository, work.Tag) : plan.SourceName,
                work.Tag.Length > 0 ? DestinationStore.ItemName(plan.DestinationRepository, work.Tag) : plan.DestinationName,
                plan.SourceRepository, plan.DestinationRepository, failure);
        return true;
    }

    /// <summary>A plan in a project this run creates starts out empty: no listing of its destination, no HEADs.</summary>
    private void StartEmptyInNewProject(RepositoryPlan plan, HarborProjectCheck check)
    {
        if (HarborProjectCheck.ProjectOf(plan.DestinationRepository) is not { } project || !check.New.Contains(project)) return;
        if (context.Request.Shard.SharesRepositories) return;
        plan.DestinationIsNew = true;
        plan.DestinationTags = new HashSet<string>(StringComparer.Ordinal);
    }

    private RepositoryPlan NewPlan(ExpandedRepository repository) =>
        new(repository.SourceStore, repository.SourceRepository, repository.DestinationRepository)
        {
            SourceName = repository.SourceName,
            DestinationName = DestinationStore.ItemName(repository.DestinationRepository),
            OwnsTag = repository.OwnsTag,
        };

    /// <summary>The plan of an image source: its one work item, a digest alone going by an empty tag.</summary>
    private RepositoryPlan ImagePlan(ExpandedRepository image)
    {
        var plan = NewPlan(image);
        plan.Works.Add(new TagWork(image.OnlyDigest is not null && image.OnlyTag is null ? "" : image.OnlyTag ?? "", image.OnlyDigest));
        return plan;
    }

    /// <summary>What the expansion leaves out becomes a failed result of the run, as every other failure does.</summary>
    private sealed class FailedResults(CopyContext context, CopyTally tally) : ISourceExpansionFailures
    {
        public void ListingFailed(CopySource source, HarborOpsException failure) =>
            tally.EmitFailure(source.Text, context.Destination.Text, "", "", failure);

        public void NameInvalid(IImageStore store, string name, HarborOpsException failure) =>
            tally.EmitFailure($"{failure.Target}", context.Destination.Text, "", "", failure);

        public void MappingFailed(IImageStore store, string repository, HarborOpsException failure) =>
            tally.EmitFailure(store.ItemName(repository), context.Destination.Text, repository, "", failure);
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
            var tags = await context.AtDestinationAsync(() => ListTagsAsync(DestinationStore, repository, cancellationToken), cancellationToken).ConfigureAwait(false);
            return tags.ToHashSet(StringComparer.Ordinal);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.RepositoryNotFound or RegistryErrorIds.ManifestNotFound)
        {
            return null;
        }
    }
}
