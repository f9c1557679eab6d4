using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>One source repository of a run and where it goes, with its tag inventory.</summary>
internal sealed class RepositoryPlan(IImageStore source, string sourceRepository, string destinationRepository)
{
    public IImageStore Source { get; } = source;
    public string SourceRepository { get; } = sourceRepository;
    public string DestinationRepository { get; } = destinationRepository;
    public string SourceName { get; init; } = "";
    public string DestinationName { get; init; } = "";
    /// <summary>Whether the run's shard owns a tag of this repository (a run split by tag takes only its own).</summary>
    public Func<string, bool> OwnsTag { get; init; } = _ => true;
    /// <summary>Every tag of the source repository; null when one image was named (referrer tags are probed then).</summary>
    public HashSet<string>? SourceTags { get; private set; }
    /// <summary>Tags the destination repository has; null when not listed (each tag is HEADed then).</summary>
    public HashSet<string>? DestinationTags { get; set; }
    /// <summary>
    /// The destination's image tags with their digests from Harbor's listing (<see cref="DestinationInventory"/>); null
    /// when there is none. It only proves a tag unchanged; every other tag is HEADed.
    /// </summary>
    public IReadOnlyDictionary<string, OciDescriptor>? DestinationListing { get; set; }
    /// <summary>The destination repository did not exist when the run started.</summary>
    public bool DestinationIsNew { get; set; }
    public List<TagWork> Works { get; } = [];
    /// <summary>Each tag's copy: a referrer tag can be reached from more than one walk and is copied once.</summary>
    public OncePerKey<string, CopyResult?> TagCopies { get; } = new(StringComparer.Ordinal);
    /// <summary>Referrer tags read, and their blobs moved, while their subject was being copied.</summary>
    public OncePerKey<string, ReferrerPrefetch> ReferrerPrefetches { get; } = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _referrerTagsBySubject = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _claimed = new(StringComparer.Ordinal);
    private readonly List<string> _orphanCandidates = [];

    public int ReferrerTagCount => _referrerTagsBySubject.Values.Sum(l => l.Count);

    /// <summary>
    /// Another shard's repository, for the blobs this shard uploads into it for that shard (<see cref="ShardedBlobOwners"/>):
    /// no tags of this run's; not known to be new, so each blob is looked for before it is moved.
    /// </summary>
    public static RepositoryPlan OfAnotherShard(ExpandedRepository repository, IImageStore destination) =>
        new(repository.SourceStore, repository.SourceRepository, repository.DestinationRepository)
        {
            SourceName = repository.SourceName,
            DestinationName = destination.ItemName(repository.DestinationRepository),
            OwnsTag = _ => false,
        };

    public void SetSourceTags(IEnumerable<string> tags, TagSelection selection, bool includeReferrers, IReadOnlyList<TaggedManifest>? inventory = null)
    {
        SourceTags = tags.ToHashSet(StringComparer.Ordinal);
        var listed = inventory?.GroupBy(i => i.Tag, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var tag in SourceTags.Order(StringComparer.Ordinal))
        {
            // Another shard's tag (and another shard's referrer tag, owned with its subject's digest) is not this run's.
            if (!OwnsTag(tag)) continue;
            var subject = TagSelection.SubjectOfReferrerTag(tag);
            if (subject is null)
            {
                var entry = listed?.GetValueOrDefault(tag);
                if (selection.Matches(tag)) Works.Add(new TagWork(tag, entry?.Manifest.Digest) { Listed = entry });
                continue;
            }
            if (!includeReferrers) continue;
            if (!_referrerTagsBySubject.TryGetValue(subject, out var list)) _referrerTagsBySubject[subject] = list = [];
            list.Add(tag);
            // Without a subject among the copied tags, a referrer tag is copied on its own only when the filter lets it.
            if (selection.Matches(tag)) _orphanCandidates.Add(tag);
        }
    }

    public IReadOnlyList<string> ReferrerTagsOf(string digest) =>
        _referrerTagsBySubject.TryGetValue(digest, out var list) ? list : [];

    public void Claim(string tag) => _claimed.TryAdd(tag, 0);

    public IEnumerable<string> UnclaimedReferrerTags() => _orphanCandidates.Where(t => !_claimed.ContainsKey(t));
}

/// <summary>A tag to copy (or, with an empty tag, a digest to copy without one).</summary>
internal sealed record TagWork(string Tag, string? Digest)
{
    /// <summary>The source store's inventory entry (digest, times, read lock), when its listing gives one.</summary>
    public TaggedManifest? Listed { get; init; }
}

/// <summary>A referrer tag's manifest (null when reading it or moving its blobs failed) and what moving its blobs cost.</summary>
internal sealed record ReferrerPrefetch(ManifestContent? Manifest, TagCounters Counters);
