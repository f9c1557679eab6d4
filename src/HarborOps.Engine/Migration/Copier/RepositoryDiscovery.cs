using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.References;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Discovery, the first phase of a run: turns the sources into repository plans (listing catalogs, mapping names),
/// admits them to their Harbor projects when the destination is a Harbor, and lists the tags of both sides.
/// </summary>
internal sealed class RepositoryDiscovery(CopyContext context, CopyTally tally)
{
    private IImageStore DestinationStore => context.DestinationStore;

    public async Task<List<RepositoryPlan>> DiscoverAsync(List<CopySource> sources, CancellationToken cancellationToken)
    {
        var candidates = new List<(IImageStore Store, string Repository, CopySource Source)>();
        var plans = new List<RepositoryPlan>();
        foreach (var source in sources)
        {
            var store = context.SourceStore(source.Registry);
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
                    context.Progress?.Report(new OperationProgress(context.Activity, $"Listing repositories of {source.Text}"));
                    try
                    {
                        await foreach (var name in SourceExpansion.RepositoriesAsync(store, source, (_, invalid) => tally.EmitFailure($"{invalid.Target}", context.Destination.Text, "", "", invalid), cancellationToken).ConfigureAwait(false))
                            candidates.Add((store, name, source));
                    }
                    catch (HarborOpsException ex) when (!ex.IsTerminating)
                    {
                        tally.EmitFailure(source.Text, context.Destination.Text, "", "", ex);
                    }
                    continue;
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        candidates = candidates.Where(c => seen.Add(c.Store.Registry + "/" + c.Repository)).ToList();
        var candidatePlans = candidates.Select(c => NewPlan(c.Store, c.Repository, c.Source.Text)).OfType<RepositoryPlan>().ToList();
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
        var tags = inventory?.Select(i => i.Tag).ToList() ?? await ListTagsAsync(plan.Source, plan.SourceRepository, cancellationToken).ConfigureAwait(false);
        plan.SetSourceTags(tags, context.Selection, context.Request.IncludeReferrers, inventory);
        var destinationTags = plan.DestinationIsNew ? null
            : await ListDestinationTagsAsync(plan.DestinationRepository, cancellationToken).ConfigureAwait(false);
        plan.DestinationTags = destinationTags ?? new HashSet<string>(StringComparer.Ordinal);
        // A repository the destination does not have yet (and no earlier run of the journal wrote into) holds
        // nothing: its blobs and manifests need no HEAD before they are written.
        plan.DestinationIsNew = destinationTags is null && context.Journal?.HasEntriesFor(plan.DestinationRepository) != true;
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
            tally.EmitFailure(work.Tag.Length > 0 ? CopyContext.Describe(plan.Source, plan.SourceRepository, work.Tag) : plan.SourceName,
                work.Tag.Length > 0 ? CopyContext.Describe(DestinationStore, plan.DestinationRepository, work.Tag) : plan.DestinationName,
                plan.SourceRepository, plan.DestinationRepository, failure);
        return true;
    }

    /// <summary>A plan in a project this run creates starts out empty: no listing of its destination, no HEADs.</summary>
    private static void StartEmptyInNewProject(RepositoryPlan plan, HarborProjectCheck check)
    {
        if (HarborProjectCheck.ProjectOf(plan.DestinationRepository) is not { } project || !check.New.Contains(project)) return;
        plan.DestinationIsNew = true;
        plan.DestinationTags = new HashSet<string>(StringComparer.Ordinal);
    }

    private RepositoryPlan? NewPlan(IImageStore store, string repository, string sourceText)
    {
        string mapped;
        try
        {
            mapped = context.Mapping.MapRepository(repository, sourceText);
        }
        catch (HarborOpsException ex) when (ex.ErrorId == CopyErrorIds.MappingInvalid)
        {
            tally.EmitFailure(CopyContext.Describe(store, repository, null), context.Destination.Text, repository, "", ex);
            return null;
        }
        return new RepositoryPlan(store, repository, mapped)
        {
            SourceName = CopyContext.Describe(store, repository, null),
            DestinationName = CopyContext.Describe(DestinationStore, mapped, null),
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
            var tags = await context.AtDestinationAsync(() => ListTagsAsync(DestinationStore, repository, cancellationToken), cancellationToken).ConfigureAwait(false);
            return tags.ToHashSet(StringComparer.Ordinal);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.RepositoryNotFound or RegistryErrorIds.ManifestNotFound)
        {
            return null;
        }
    }
}
