using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Where the lower shards of a sharded copy put the blobs this shard shares with them. Shards run in separate pods with
/// nothing in common but the registries, so a base layer used by repositories of four shards would otherwise be
/// uploaded four times. The rule every shard can work out alone: a blob is uploaded by the lowest shard that needs it,
/// into its repositories; a higher shard waits for it there and mounts it (<see cref="BorrowedBlobs"/>). A Kubernetes
/// Indexed Job whose parallelism is below its completions starts the lowest indexes first, and shards run one after
/// another go 0, 1, 2..., so a shard only ever waits for one that started before it.
/// <para>What a lower shard needs is read from the source the way that shard reads it: its tags (a split by repository:
/// every tag of its repositories; a split by tag: its tags of every repository), after the same tag filters, each tag's
/// manifest, and of an index its image children (with -Platform, only the matching ones). A blob found here that the
/// lower shard does not upload (a tag it finds unchanged already has it; one it skips for -NoClobber does not) costs a
/// bounded wait, never a wrong copy, so what is uncertain is left out: plain images under -Platform (their platform is
/// in their config), referrers, and everything under -Since (it needs the configs' times). A repository or tag that
/// cannot be read is left out too: it is its own shard's failure to report.</para>
/// </summary>
internal sealed class LowerShardBlobs
{
    /// <summary>The shard a blob is waited for from, and its destination repositories that will hold it, in name order.</summary>
    public sealed record Home(int Shard, IReadOnlyList<string> Repositories);

    private readonly CopyContext _context;
    private readonly Dictionary<string, (int Shard, SortedSet<string> Repositories)> _homes = new(StringComparer.Ordinal);
    private Task _read = Task.CompletedTask;

    public LowerShardBlobs(CopyContext context) => _context = context;

    private ShardPartition Shard => _context.Request.Shard;

    /// <summary>Whether this run borrows at all: a sharded copy (not a plan, not -Since) with a shard below it.</summary>
    private bool Borrows => Shard.IsSharded && Shard.Index > 0 && !_context.PlanOnly && _context.Request.Since is null
        && _context.Request.SharedBlobWait != TimeSpan.Zero;

    /// <summary>
    /// Starts reading what the lower shards need, alongside the rest of discovery: <paramref name="scope"/>'s own
    /// repositories (their lower shards' tags, split by tag) and the repositories other shards take whole.
    /// </summary>
    public void Start(ExpandedScope scope, CancellationToken cancellationToken)
    {
        if (!Borrows) return;
        var repositories = scope.Repositories.Concat(scope.OtherShards)
            .Where(r => !r.IsImage && (Shard.By == ShardBy.Tag || ShardPartition.ShardOf(r.SourceRepository, Shard.Count) < Shard.Index))
            .ToList();
        if (repositories.Count > 0) _read = Task.Run(() => ReadAsync(repositories, cancellationToken), cancellationToken);
    }

    /// <summary>Where a lower shard puts <paramref name="digest"/>; null when no lower shard needs it (this shard uploads it).</summary>
    public async Task<Home?> HomeOfAsync(string digest)
    {
        await _read.ConfigureAwait(false);
        return _homes.TryGetValue(digest, out var home) ? new Home(home.Shard, home.Repositories.ToList()) : null;
    }

    private async Task ReadAsync(List<ExpandedRepository> repositories, CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _context.Throttle.Limit, CancellationToken = cancellationToken };
        var tags = new List<(ExpandedRepository Repository, string Tag, int Shard)>();
        await Parallel.ForEachAsync(repositories, parallel, async (repository, token) =>
        {
            var lower = await Tolerant(LowerShardTagsAsync(repository, token), []).ConfigureAwait(false);
            lock (tags) tags.AddRange(lower);
        }).ConfigureAwait(false);
        var found = new List<(int Shard, string Repository, string Digest)>();
        await Parallel.ForEachAsync(tags, parallel, async (item, token) =>
        {
            var blobs = await Tolerant(BlobsOfTagAsync(item.Repository, item.Tag, token), []).ConfigureAwait(false);
            lock (found) found.AddRange(blobs.Select(digest => (item.Shard, item.Repository.DestinationRepository, digest)));
        }).ConfigureAwait(false);
        foreach (var (shard, repository, digest) in found)
        {
            var known = _homes.TryGetValue(digest, out var home);
            if (known && home.Shard < shard) continue;
            if (!known || home.Shard > shard) _homes[digest] = home = (shard, new SortedSet<string>(StringComparer.Ordinal));
            home.Repositories.Add(repository);
        }
    }

    /// <summary>A repository or tag that cannot be read is its own shard's failure to report; this shard uploads what it needs itself.</summary>
    private static async Task<T> Tolerant<T>(Task<T> reading, T otherwise)
    {
        try
        {
            return await reading.ConfigureAwait(false);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            return otherwise;
        }
    }

    /// <summary>The tags of one repository a lower shard copies (image tags only, after the run's tag filters), with their shard.</summary>
    private async Task<List<(ExpandedRepository, string, int)>> LowerShardTagsAsync(ExpandedRepository repository, CancellationToken cancellationToken)
    {
        var listed = new List<string>();
        await foreach (var page in repository.SourceStore.ListTagPagesAsync(repository.SourceRepository, cancellationToken).ConfigureAwait(false))
            listed.AddRange(page);
        var tags = new List<(ExpandedRepository, string, int)>();
        foreach (var tag in listed.Distinct(StringComparer.Ordinal))
        {
            var shard = Shard.ShardOfTag(repository.SourceRepository, tag);
            if (shard < Shard.Index && TagSelection.SubjectOfReferrerTag(tag) is null && _context.Selection.Matches(tag)
                && ManifestChecks.InvalidTag(tag, repository.SourceName) is null)
                tags.Add((repository, tag, shard));
        }
        return tags;
    }

    private async Task<List<string>> BlobsOfTagAsync(ExpandedRepository repository, string tag, CancellationToken cancellationToken)
    {
        var manifest = await ReadManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        if (!manifest.IsIndex)
            return _context.Platforms.Count > 0 ? [] : BlobsOf(manifest).ToList();
        var children = manifest.Manifests.Where(c => !MediaTypes.IsIndex(c.MediaType)
            && (_context.Platforms.Count == 0 || _context.Platforms.Any(p => p.Matches(c.Platform))));
        var blobs = new List<string>();
        foreach (var child in children)
            blobs.AddRange(BlobsOf(await ReadManifestAsync(repository, child.Digest, cancellationToken).ConfigureAwait(false)));
        return blobs;
    }

    private Task<ManifestContent> ReadManifestAsync(ExpandedRepository repository, string reference, CancellationToken cancellationToken) =>
        _context.Throttle.RunAsync(repository.SourceStore.Registry,
            () => repository.SourceStore.GetManifestAsync(repository.SourceRepository, reference, cancellationToken), cancellationToken);

    private IEnumerable<string> BlobsOf(ManifestContent image) =>
        image.IsIndex ? [] : image.Blobs().Where(b => _context.Request.IncludeForeignLayers || !ManifestMover.IsForeign(b)).Select(b => b.Digest);
}
