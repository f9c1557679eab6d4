using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Resilience;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Which shard of a sharded copy uploads each blob that shards share. Shards run in separate pods with nothing in common
/// but the registries, so a base layer used by repositories of four shards would otherwise be uploaded four times. Every
/// shard reads, from the source, what every shard copies (each shard's tags after the run's tag filters: a split by
/// repository gives a shard every tag of its repositories, a split by tag its tags of every repository; each tag's
/// manifest and of an index its image children, with -Platform only the matching ones) and so works out alone, and the
/// same as the others, who needs each blob. Of the shards that need one, its owner is the one with the fewest bytes to
/// move (<see cref="SharedBlobOwnerChoice"/>: the shared layers even out the shards, not all on shard 0): the owner
/// uploads it first thing (<see cref="OwnedSharedAsync"/>, before its tags, so that it never waits behind a wait of its
/// own), and the others wait for it in the owner's repositories and mount it from there (<see cref="BorrowedBlobs"/>).
/// A blob only one shard needs may be uploaded by a shard with fewer bytes, into the needing shard's repository, where
/// the needing shard waits for it the same way.
/// <para>What is uncertain is left out, since a blob expected from a shard that does not upload it costs a bounded wait
/// (never a wrong copy): plain images under -Platform (their platform is in their config), referrers, everything under
/// -Since (it needs the configs' times). A repository or tag that cannot be read is left out too: it is its own shard's
/// failure to report.</para>
/// </summary>
internal sealed class ShardedBlobOwners
{
    /// <summary>
    /// The shard that uploads a shared blob, and the destination repositories to look for it in: the owner's first, then
    /// the first of each other shard that needs it (one that gave up waiting for a gone owner put it there).
    /// </summary>
    public sealed record Home(int Shard, IReadOnlyList<string> Repositories);

    /// <summary>
    /// A blob this shard uploads for other shards too, and the destination repository it goes into first: one of this
    /// shard's, or, uploading it for a shard that needs it alone (<see cref="SharedBlobOwnerChoice.Evening"/>), that
    /// shard's (<paramref name="ForAnotherShard"/>, with <paramref name="Repository"/> to read it from).
    /// </summary>
    public sealed record Owned(string DestinationRepository, OciDescriptor Blob, ExpandedRepository Repository, bool ForAnotherShard);

    // How many of the owner's repositories are polled, and how many repositories in all (another shard that gave up
    // waiting for a gone owner uploaded it into its own first repository).
    private const int OwnerRepositoriesPolled = 2;
    private const int RepositoriesPolled = 8;

    private readonly CopyContext _context;
    private readonly SourceReader _source;
    private readonly Dictionary<string, Home> _homes = new(StringComparer.Ordinal);
    private readonly List<Owned> _owned = [];
    private List<AheadOfTag> _ahead = [];
    private Dictionary<string, long> _ownTagBytes = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _ownedUploadsStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _read = Task.CompletedTask;

    public ShardedBlobOwners(CopyContext context, SourceReader source)
    {
        _context = context;
        _source = source;
    }

    private ShardPartition Shard => _context.Request.Shard;

    /// <summary>Whether this run shares blobs with other shards at all: a sharded copy (not a plan, not -Since, -SharedBlobWait not 0).</summary>
    private bool Shares => Shard.IsSharded && !_context.PlanOnly && _context.Request.Since is null && _context.Request.SharedBlobWait != TimeSpan.Zero;

    /// <summary>Starts reading what every shard copies, alongside the rest of discovery.</summary>
    public void Start(ExpandedScope scope, CancellationToken cancellationToken)
    {
        if (!Shares) return;
        var repositories = scope.Repositories.Concat(scope.OtherShards).Where(r => !r.IsImage).ToList();
        // No upload of this shard starts before the reading is done: it goes before the shard's other reads.
        if (repositories.Count == 0) return;
        _read = Task.Run(() => HostThrottle.FirstInLine(() => ReadAsync(repositories, cancellationToken)), cancellationToken);
        _source.ReadingForShards(_read);
    }

    /// <summary>Who uploads <paramref name="digest"/> and where to look for it; null when no other shard needs it.</summary>
    public async Task<Home?> HomeOfAsync(string digest)
    {
        await _read.ConfigureAwait(false);
        return _homes.GetValueOrDefault(digest);
    }

    /// <summary>
    /// Completes once this shard's uploads of the blobs it owns have all started (queued first in line for a
    /// connection), or there are none: this shard's other uploads wait for it, so that the connections go to what the
    /// other shards are waiting for before they go to this shard's own layers.
    /// </summary>
    public Task OwnedUploadsStarted => Shares ? _ownedUploadsStarted.Task : Task.CompletedTask;

    /// <summary>Called by the run once every owned upload has started, or when there will be none.</summary>
    public void StartedOwnedUploads() => _ownedUploadsStarted.TrySetResult();

    /// <summary>The blobs this shard uploads for other shards too, once the reading is done.</summary>
    public async Task<IReadOnlyList<Owned>> OwnedSharedAsync()
    {
        await _read.ConfigureAwait(false);
        return _owned;
    }

    private async Task ReadAsync(List<ExpandedRepository> repositories, CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _context.Throttle.Limit, CancellationToken = cancellationToken };
        var tags = new List<(ExpandedRepository Repository, string Tag, int Shard)>();
        await Parallel.ForEachAsync(repositories, parallel, async (repository, token) =>
        {
            var listed = await Tolerant(ShardTagsAsync(repository, token), []).ConfigureAwait(false);
            lock (tags) tags.AddRange(listed);
        }).ConfigureAwait(false);
        var found = new List<(int Shard, string Repository, OciDescriptor Blob)>();
        var ownTags = new List<(ExpandedRepository Repository, string Tag, List<OciDescriptor> Blobs)>();
        await Parallel.ForEachAsync(tags, parallel, async (item, token) =>
        {
            var own = item.Shard == Shard.Index;
            var blobs = await Tolerant(BlobsOfTagAsync(item.Repository, item.Tag, own, token), []).ConfigureAwait(false);
            lock (found)
            {
                found.AddRange(blobs.Select(blob => (item.Shard, item.Repository.DestinationRepository, blob)));
                if (own) ownTags.Add((item.Repository, item.Tag, blobs));
            }
        }).ConfigureAwait(false);
        var byDigests = found.GroupBy(f => f.Blob.Digest, StringComparer.Ordinal).ToList();
        var repositoriesOfBlob = byDigests.ToDictionary(g => g.Key, g => g.GroupBy(f => f.Shard).OrderBy(s => s.Key)
            .ToDictionary(s => s.Key, s => s.Select(f => f.Repository).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()), StringComparer.Ordinal);
        var mayUpload = MayUploadForAnother(tags, repositoriesOfBlob);
        var owners = SharedBlobOwnerChoice.Choose(byDigests.Select(g => new SharedBlobOwnerChoice.Need(g.Key, g.Max(f => f.Blob.Size), g.Select(f => f.Shard).Distinct().ToList())),
            new SharedBlobOwnerChoice.Evening(Shard.Count, mayUpload));
        _ownTagBytes = OwnTagBytes(ownTags.Select(t => (TagKey(t.Repository.SourceRepository, t.Tag), t.Blobs)).ToList(), owners, Shard.Index);
        var expandedOf = repositories.GroupBy(r => r.DestinationRepository, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var byDigest in byDigests)
        {
            // A blob in no choice is needed by one shard only, which uploads it itself.
            if (!owners.TryGetValue(byDigest.Key, out var owner)) continue;
            var repositoriesOf = repositoriesOfBlob[byDigest.Key];
            if (!repositoriesOf.ContainsKey(Shard.Index) && owner != Shard.Index) continue;
            var needing = repositoriesOf.Keys.ToList();
            // The owner uploads it into its own first repository that needs it or, uploading it for a shard that needs it
            // alone, into that shard's first.
            var forAnother = !repositoriesOf.TryGetValue(owner, out var ownerRepositories);
            var into = forAnother ? repositoriesOf[needing[0]][0] : ownerRepositories![0];
            // An owner looks (once, without waiting) where a shard that gave up waiting for it would have put the blob.
            var polled = (owner == Shard.Index ? [] : (ownerRepositories ?? [into]).Take(OwnerRepositoriesPolled))
                .Concat(needing.Where(s => s != owner && s != Shard.Index).Select(s => repositoriesOf[s][0]))
                .Distinct(StringComparer.Ordinal).Take(RepositoriesPolled).ToList();
            _homes[byDigest.Key] = new Home(owner, polled);
            if (owner == Shard.Index)
                // The descriptor this shard's own images give (another shard's manifest only says where to look).
                _owned.Add(new Owned(into, byDigest.FirstOrDefault(f => f.Shard == owner).Blob ?? byDigest.First().Blob, expandedOf[into], forAnother));
        }
        _ahead = AheadOfTags(ownTags);
    }

    /// <summary>
    /// The blobs of this shard's tags that it uploads itself and that are worth starting before their tags (at least
    /// <see cref="SharedBlobOwnerChoice.SmallestWorthMoving"/>), largest first, with every tag that names each. A shard's tags, even largest
    /// first, interleave their small requests with their layers, so the last large layers start late and end the run on a
    /// few connections while the others idle; started by size, the large ones run from the start and the small requests
    /// fill in at the end (the longest-processing-time rule, applied to uploads rather than tags).
    /// </summary>
    private List<AheadOfTag> AheadOfTags(List<(ExpandedRepository Repository, string Tag, List<OciDescriptor> Blobs)> ownTags) =>
        ownTags.SelectMany(t => t.Blobs.Select(blob => new AheadOfTag(t.Repository, t.Tag, blob)))
            .Where(a => a.Blob.Size >= SharedBlobOwnerChoice.SmallestWorthMoving && !_homes.ContainsKey(a.Blob.Digest))
            .OrderByDescending(a => Math.Min(a.Blob.Size, SharedBlobOwnerChoice.LargestCredibleSize))
            .ThenBy(a => a.Blob.Digest, StringComparer.Ordinal).ThenBy(a => a.Repository.SourceRepository, StringComparer.Ordinal).ThenBy(a => a.Tag, StringComparer.Ordinal)
            .ToList();

    /// <summary>A blob of this shard's own tag to upload ahead of the tag: the repository and tag whose manifest names it.</summary>
    public sealed record AheadOfTag(ExpandedRepository Repository, string Tag, OciDescriptor Blob);

    /// <summary>The blobs to upload ahead of this shard's tags, largest first (<see cref="AheadOfTags"/>), once the reading is done.</summary>
    public async Task<IReadOnlyList<AheadOfTag>> AheadOfTagsAsync()
    {
        if (!Shares) return [];
        await _read.ConfigureAwait(false);
        return _ahead;
    }

    /// <summary>
    /// Whether a shard may upload a blob for the shard that alone needs it, into that shard's first repository: anywhere
    /// but on Harbor, where only into a project the uploading shard admits itself (it checks and creates its own projects
    /// before its first write; another shard's may not exist yet).
    /// </summary>
    private Func<int, string, bool> MayUploadForAnother(List<(ExpandedRepository Repository, string Tag, int Shard)> tags,
        Dictionary<string, Dictionary<int, List<string>>> repositoriesOfBlob)
    {
        if (_context.Request.Harbor is null) return (_, _) => true;
        var projectsOf = tags.GroupBy(t => t.Shard).ToDictionary(g => g.Key,
            g => g.Select(t => HarborProjectCheck.ProjectOf(t.Repository.DestinationRepository)).OfType<string>().ToHashSet(StringComparer.Ordinal));
        return (shard, digest) => projectsOf.TryGetValue(shard, out var projects)
            && HarborProjectCheck.ProjectOf(repositoriesOfBlob[digest].Values.First()[0]) is { } project && projects.Contains(project);
    }

    /// <summary>
    /// This shard's tags, largest first (once the reading is done): a shard whose largest upload starts last ends with
    /// it running alone on one connection while the others idle (a 5 GB layer at 12 MB/s is seven minutes of that). The
    /// order is otherwise kept; a tag the read could not size goes first, since it may be the largest.
    /// </summary>
    public async Task<List<T>> LargestFirstAsync<T>(List<T> work, Func<T, (string SourceRepository, string Tag)> tagOf)
    {
        if (!Shares) return work;
        await _read.ConfigureAwait(false);
        return work.OrderByDescending(item =>
        {
            var (repository, tag) = tagOf(item);
            return _ownTagBytes.TryGetValue(TagKey(repository, tag), out var bytes) ? bytes : long.MaxValue;
        }).ToList();
    }

    /// <summary>
    /// What each of this shard's tags uploads: its blobs but the ones another shard uploads, a blob several of its tags
    /// share counted a share each (one of them uploads it, the others mount it). Sizes are the source's claims, so
    /// clamped as the owner choice clamps them.
    /// </summary>
    private static Dictionary<string, long> OwnTagBytes(List<(string Key, List<OciDescriptor> Blobs)> ownTags, IReadOnlyDictionary<string, int> owners, int shard)
    {
        var tagsOf = ownTags.SelectMany(t => t.Blobs.Select(b => b.Digest).Distinct(StringComparer.Ordinal)).GroupBy(d => d, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, blobs) in ownTags)
        {
            double sum = 0;
            foreach (var blob in blobs.DistinctBy(b => b.Digest, StringComparer.Ordinal))
                if (owners.GetValueOrDefault(blob.Digest, shard) == shard)
                    sum += Math.Clamp(blob.Size, 0, SharedBlobOwnerChoice.LargestCredibleSize) / (double)tagsOf[blob.Digest];
            bytes[key] = (long)Math.Min(sum, long.MaxValue / 2);
        }
        return bytes;
    }

    private static string TagKey(string sourceRepository, string tag) => $"{sourceRepository}:{tag}";

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

    /// <summary>The tags of one repository the shards copy (image tags only, after the run's tag filters), with their shard.</summary>
    private async Task<List<(ExpandedRepository, string, int)>> ShardTagsAsync(ExpandedRepository repository, CancellationToken cancellationToken)
    {
        var listed = await _context.SourceTagsAsync(repository.SourceStore, repository.SourceRepository, cancellationToken).ConfigureAwait(false);
        var tags = new List<(ExpandedRepository, string, int)>();
        foreach (var tag in listed.Distinct(StringComparer.Ordinal))
        {
            var shard = Shard.ShardOfTag(repository.SourceRepository, tag);
            if (TagSelection.SubjectOfReferrerTag(tag) is null && _context.Selection.Matches(tag)
                && ManifestChecks.InvalidTag(tag, repository.SourceName) is null)
                tags.Add((repository, tag, shard));
        }
        return tags;
    }

    /// <summary>The blobs of one tag; of this shard's own tags, the manifests read are kept for the tag's copy.</summary>
    private async Task<List<OciDescriptor>> BlobsOfTagAsync(ExpandedRepository repository, string tag, bool own, CancellationToken cancellationToken)
    {
        var manifest = await ReadManifestAsync(repository, tag, own, cancellationToken).ConfigureAwait(false);
        if (!manifest.IsIndex)
            return _context.Platforms.Count > 0 ? [] : BlobsOf(manifest).ToList();
        var children = manifest.Manifests.Where(c => !MediaTypes.IsIndex(c.MediaType)
            && (_context.Platforms.Count == 0 || _context.Platforms.Any(p => p.Matches(c.Platform))));
        var blobs = new List<OciDescriptor>();
        foreach (var child in children)
            blobs.AddRange(BlobsOf(await ReadManifestAsync(repository, child.Digest, own, cancellationToken).ConfigureAwait(false)));
        return blobs;
    }

    private async Task<ManifestContent> ReadManifestAsync(ExpandedRepository repository, string reference, bool own, CancellationToken cancellationToken)
    {
        var manifest = await _context.Throttle.RunAsync(repository.SourceStore.Registry,
            () => repository.SourceStore.GetManifestAsync(repository.SourceRepository, reference, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (own)
            _source.KeepRead(repository.SourceStore.Registry, repository.SourceRepository, ImageReference.IsValidDigest(reference) ? null : reference, manifest);
        return manifest;
    }

    private IEnumerable<OciDescriptor> BlobsOf(ManifestContent image) =>
        image.IsIndex ? [] : image.Blobs().Where(b => _context.Request.IncludeForeignLayers || !ManifestMover.IsForeign(b));
}
