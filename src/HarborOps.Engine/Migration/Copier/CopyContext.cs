using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Resilience;
using HarborOps.Engine.Scope;
using HarborOps.Engine.Shards;

namespace HarborOps.Engine.Migration;

/// <summary>
/// What every part of one copy run shares: the request as parsed (mapping, destination, tag selection, platforms), the
/// stores of both sides, the per-host throttle and the journal.
/// </summary>
internal sealed class CopyContext : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, IImageStore> _sourceStores = new(StringComparer.Ordinal);
    // The journal line written before the first write into a new repository, once per plan.
    private readonly OncePerKey<RepositoryPlan> _repositoryStarts = new();
    private readonly OncePerKey<string, IReadOnlyList<string>> _sourceTagLists = new(StringComparer.Ordinal);

    public CopyContext(RegistryEngine engine, CopyRequest request, IProgress<OperationProgress>? progress)
    {
        if (request.SharedBlobWait < TimeSpan.Zero)
            throw new ShardException(ShardErrorIds.ShardInvalid, FailureKind.InvalidArgument,
                $"-SharedBlobWait is {request.SharedBlobWait}; give a wait of zero or more (0 never waits for another shard's layers).", "SharedBlobWait");
        Engine = engine;
        Request = request;
        Progress = progress;
        Throttle = new HostThrottle(request.ThrottleLimit);
        Mapping = RepositoryMapping.Of(request);
        Destination = Mapping.Destination;
        Selection = new TagSelection(request);
        Platforms = request.Platforms.Select(PlatformFilter.Parse).Distinct().ToList();
        DestinationStore = HarborInventoryOf(engine, request, engine.OpenStore(Destination.Registry, request.DestinationCredential));
    }

    /// <summary>
    /// The destination store; where it is the registry of the Harbor the request names (-Harbor, -CreateProject or the
    /// Connect-Harbor session), Harbor's artifact listing tells which of its tags are unchanged (see DestinationInventory);
    /// where no Harbor is named, the same once the registry's challenge and systeminfo show it is one (HarborDetection).
    /// </summary>
    private static IImageStore HarborInventoryOf(RegistryEngine engine, CopyRequest request, IImageStore store) =>
        request.Harbor?.Connection is { } harbor && string.Equals(harbor.Registry, store.Registry, StringComparison.OrdinalIgnoreCase)
            ? HarborInventoryStore.Over(store, harbor.Credential, engine.Options.TagDetailParallelism)
            : HarborInventoryStore.Detecting(store, new HarborDetection(engine.Pipeline), request.DestinationCredential, engine.Options.TagDetailParallelism);

    public RegistryEngine Engine { get; }
    public CopyRequest Request { get; }
    public IProgress<OperationProgress>? Progress { get; }
    public HostThrottle Throttle { get; }
    public RepositoryMapping Mapping { get; }
    public CopyDestination Destination { get; }
    public TagSelection Selection { get; }
    public IReadOnlyList<PlatformFilter> Platforms { get; }
    public IImageStore DestinationStore { get; }
    /// <summary>The run's journal (-JournalPath, not when planning); open once <see cref="OpenJournalAsync"/> returned.</summary>
    public CopyJournal? Journal { get; private set; }

    public bool PlanOnly => Request.PlanOnly;
    public string Activity => PlanOnly ? $"Planning copy to {Destination.Text}" : $"Copying to {Destination.Text}";

    public async Task OpenJournalAsync(CancellationToken cancellationToken)
    {
        if (Request.JournalPath is not null && !PlanOnly)
            Journal = await CopyJournal.OpenAsync(Request.JournalPath, DestinationStore.Registry, cancellationToken).ConfigureAwait(false);
    }

    public IImageStore SourceStore(string registry) =>
        _sourceStores.GetOrAdd(registry, r => Engine.OpenStore(r, Request.SourceCredential));

    /// <summary>
    /// The tags of a source repository, listed once for the run: a sharded run's discovery and its read of what every
    /// shard copies (<see cref="ShardedBlobOwners"/>) both need them.
    /// </summary>
    public Task<IReadOnlyList<string>> SourceTagsAsync(IImageStore store, string repository, CancellationToken cancellationToken) =>
        _sourceTagLists.RunAsync(store.Registry + "/" + repository, async () =>
        {
            var tags = new List<string>();
            await foreach (var page in store.ListTagPagesAsync(repository, cancellationToken).ConfigureAwait(false))
                tags.AddRange(page);
            return tags;
        });

    /// <summary>One request-sized step against the destination registry, inside its throttle slot.</summary>
    public Task<T> AtDestinationAsync<T>(Func<Task<T>> step, CancellationToken cancellationToken) =>
        Throttle.RunAsync(DestinationStore.Registry, step, cancellationToken);

    public Task AtDestinationAsync(Func<Task> step, CancellationToken cancellationToken) =>
        Throttle.RunAsync(DestinationStore.Registry, step, cancellationToken);

    /// <summary>One request-sized step against <paramref name="plan"/>'s source registry, inside its throttle slot.</summary>
    public Task<T> AtSourceAsync<T>(RepositoryPlan plan, Func<Task<T>> step, CancellationToken cancellationToken) =>
        Throttle.RunAsync(plan.Source.Registry, step, cancellationToken);

    /// <summary>Before the first write into a repository the run found missing, the journal notes it (see CopyJournal).</summary>
    public Task BeforeFirstWriteAsync(RepositoryPlan plan, CancellationToken cancellationToken)
    {
        if (Journal is not { } journal || !plan.DestinationIsNew || PlanOnly) return Task.CompletedTask;
        return _repositoryStarts.RunAsync(plan, () => journal.RecordRepositoryStartedAsync(plan.DestinationRepository, cancellationToken));
    }


    public async ValueTask DisposeAsync()
    {
        if (Journal is not null) await Journal.DisposeAsync().ConfigureAwait(false);
        Throttle.Dispose();
    }
}
