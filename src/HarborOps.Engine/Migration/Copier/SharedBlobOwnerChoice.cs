namespace HarborOps.Engine.Migration;

/// <summary>
/// Chooses which shard uploads each blob that several shards need, so that the shards' bytes come out as even as they
/// can: a sharded copy lasts as long as its busiest shard. Every shard runs this alone on what it read from the source,
/// so the choice depends on nothing but that (not on the order the reads finished in) and every shard gets the same.
/// <para>Each shard starts with the bytes only it needs; then the shared blobs, largest first, each go to the shard that
/// needs it with the fewest bytes so far (the longest-processing-time rule, within 4/3 of the best split). A split by a
/// hash of repositories is uneven (64 repositories over 4 shards put 30 % of the bytes on the largest); the shared base
/// layers, often a third of the bytes, are what can even it out.</para>
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

    /// <summary>The owner of every blob needed by more than one shard, by digest.</summary>
    public static Dictionary<string, int> Choose(IEnumerable<Need> needs)
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
        return owners;
    }

    private static long Credible(long size) => Math.Clamp(size, 0, LargestCredibleSize);

    private static long Add(long total, long size) => size > long.MaxValue - total ? long.MaxValue : total + size;
}
