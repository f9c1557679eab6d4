namespace HarborOps.Engine.Migration;

/// <summary>
/// Chooses which shard uploads each blob that several shards need, so that the shards' bytes come out as even as they
/// can: a sharded copy lasts as long as its busiest shard. Every shard runs this alone on what it read from the source,
/// so the choice depends on nothing but that (not on the order the reads finished in) and every shard gets the same.
/// <para>Each shard starts with the bytes only it needs; then the shared blobs, largest first, each go to the shard that
/// needs it with the fewest bytes so far (the longest-processing-time rule, within 4/3 of the best split). A split by a
/// hash of repositories is uneven (64 repositories over 4 shards put 30 % of the bytes on the largest); the shared base
/// layers, often a third of the bytes, are what can even it out.</para>
/// <para>With an <see cref="Evening"/>, what they leave uneven (a shard with few repositories needs few shared layers) is
/// evened out further: a shard with fewer bytes uploads some of a busier shard's own blobs for it (bench/README.md:
/// 16 repositories split 5/4/5/2 over 4 shards, 19.2 s without, 18.3 s with).</para>
/// </summary>
internal static class SharedBlobOwnerChoice
{
    /// <summary>
    /// A size a manifest gives is the source's word, used only to weigh shards: a lying one only unbalances them. Capped
    /// so that one blob cannot outweigh a shard of real ones; sums saturate rather than wrap.
    /// </summary>
    internal const long LargestCredibleSize = 1L << 40;

    /// <summary>One blob the shards need: its digest, its size as the manifests give it, and the shards that need it.</summary>
    public sealed record Need(string Digest, long Size, IReadOnlyCollection<int> Shards);

    /// <summary>
    /// Evening out what the shards' own blobs leave uneven: <paramref name="ShardCount"/> shards in all (one with nothing of
    /// its own can help too), and whether a shard may upload a blob into the repository another shard needs it in
    /// (<paramref name="MayUploadFor"/>: shard, digest).
    /// </summary>
    public sealed record Evening(int ShardCount, Func<int, string, bool> MayUploadFor);

    /// <summary>
    /// A blob below this is not worth another shard's upload: the shard that needs it would spend a wait and a HEAD on it,
    /// about what moving it costs (configs, signatures and small layers stay with their shard).
    /// </summary>
    internal const long SmallestWorthMoving = 64 * 1024;

    /// <summary>
    /// The owner of every blob needed by more than one shard, by digest; with <paramref name="evening"/>, also of blobs
    /// only one shard needs that another shard uploads for it.
    /// </summary>
    public static Dictionary<string, int> Choose(IEnumerable<Need> needs, Evening? evening = null)
    {
        // One entry per digest whatever the input: the largest size any manifest gave, every shard that needs it.
        var byDigest = needs.GroupBy(n => n.Digest, StringComparer.Ordinal)
            .Select(g => new Need(g.Key, g.Max(n => Credible(n.Size)), g.SelectMany(n => n.Shards).Distinct().Order().ToList()))
            .ToList();
        var load = new Dictionary<int, long>();
        foreach (var only in byDigest.Where(n => n.Shards.Count == 1))
            load[only.Shards.First()] = Add(load.GetValueOrDefault(only.Shards.First()), only.Size);

        var owners = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var shared in byDigest.Where(n => n.Shards.Count > 1)
                     .OrderByDescending(n => n.Size).ThenBy(n => n.Digest, StringComparer.Ordinal))
        {
            var owner = shared.Shards.MinBy(s => (load.GetValueOrDefault(s), s));
            load[owner] = Add(load.GetValueOrDefault(owner), shared.Size);
            owners[shared.Digest] = owner;
        }
        if (evening is { ShardCount: > 1 }) Even(byDigest.Where(n => n.Shards.Count == 1 && n.Size >= SmallestWorthMoving).ToList(), load, owners, evening);
        return owners;
    }

    /// <summary>
    /// The shard with the most bytes gives its largest own blob that narrows the gap to the shard with the fewest (one of
    /// at most half the gap: the two then end no further apart), as long as there is one. A split by a hash of
    /// repositories leaves shards uneven that shared layers alone cannot even out (a shard with few repositories needs few
    /// of them), and a sharded copy lasts as long as its busiest shard.
    /// </summary>
    private static void Even(List<Need> exclusive, Dictionary<int, long> load, Dictionary<string, int> owners, Evening evening)
    {
        var shards = Enumerable.Range(0, evening.ShardCount).ToList();
        // Each shard's own blobs, largest first (ties by digest, so every shard gets the same answer).
        var ownOf = exclusive.GroupBy(n => n.Shards.First())
            .ToDictionary(g => g.Key, g => g.OrderByDescending(n => n.Size).ThenBy(n => n.Digest, StringComparer.Ordinal).ToList());
        for (var moves = 0; moves < exclusive.Count; moves++)
        {
            var heaviest = shards.MaxBy(s => (load.GetValueOrDefault(s), -s));
            var lightest = shards.MinBy(s => (load.GetValueOrDefault(s), s));
            var gap = load.GetValueOrDefault(heaviest) - load.GetValueOrDefault(lightest);
            if (heaviest == lightest || !ownOf.TryGetValue(heaviest, out var own)) return;
            var index = FirstAtMost(own, gap / 2);
            while (index < own.Count && !evening.MayUploadFor(lightest, own[index].Digest)) index++;
            if (index >= own.Count) return;
            var moved = own[index];
            own.RemoveAt(index);
            owners[moved.Digest] = lightest;
            load[heaviest] = load.GetValueOrDefault(heaviest) - moved.Size;
            load[lightest] = Add(load.GetValueOrDefault(lightest), moved.Size);
        }
    }

    /// <summary>The index of the first blob of at most <paramref name="size"/> bytes in a list sorted largest first.</summary>
    private static int FirstAtMost(List<Need> largestFirst, long size)
    {
        int low = 0, high = largestFirst.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (largestFirst[middle].Size > size) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    private static long Credible(long size) => Math.Clamp(size, 0, LargestCredibleSize);

    private static long Add(long total, long size) => size > long.MaxValue - total ? long.MaxValue : total + size;
}
