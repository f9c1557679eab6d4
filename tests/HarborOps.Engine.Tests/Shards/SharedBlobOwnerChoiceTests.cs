using HarborOps.Engine.Migration;
using Xunit;
using Need = HarborOps.Engine.Migration.SharedBlobOwnerChoice.Need;

namespace HarborOps.Engine.Tests.Shards;

/// <summary>Who uploads a layer that several shards need: the shards end as even as they can, and every shard agrees.</summary>
public sealed class SharedBlobOwnerChoiceTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Shared_layers_go_to_the_shards_with_the_fewest_bytes_of_their_own()
    {
        Need[] needs =
        [
            new("sha256:own0", 10 * MiB, [0]),
            new("sha256:own1", 2 * MiB, [1]),
            new("sha256:own2", 3 * MiB, [2]),
            new("sha256:base-a", 2 * MiB, [0, 1, 2]),
            new("sha256:base-b", 2 * MiB, [0, 1, 2]),
            new("sha256:base-c", 2 * MiB, [0, 1, 2]),
        ];

        var owners = SharedBlobOwnerChoice.Choose(needs);

        // Largest first, ties by digest: a to shard 1 (2 -> 4 MiB), b to shard 2 (3 -> 5), c to shard 1 (4 -> 6).
        Assert.Equal(new Dictionary<string, int> { ["sha256:base-a"] = 1, ["sha256:base-b"] = 2, ["sha256:base-c"] = 1 }, owners);
    }

    [Fact]
    public void A_larger_layer_is_placed_before_smaller_ones_and_only_among_the_shards_that_need_it()
    {
        Need[] needs =
        [
            new("sha256:small", 1 * MiB, [0, 1, 2, 3]),
            new("sha256:large", 8 * MiB, [2, 3]),
            new("sha256:own0", 4 * MiB, [0]),
        ];

        var owners = SharedBlobOwnerChoice.Choose(needs);

        Assert.Equal(2, owners["sha256:large"]); // shards 2 and 3 are even at 0: the lower index
        Assert.Equal(1, owners["sha256:small"]); // then 0 has 4 MiB, 2 has 8, 1 and 3 none
        Assert.False(owners.ContainsKey("sha256:own0"));
    }

    [Fact]
    public void Every_shard_gets_the_same_answer_whatever_order_its_reads_finished_in()
    {
        var random = new Random(17);
        var needs = Enumerable.Range(0, 200).Select(i => new Need(
            $"sha256:{i % 150:x4}", random.Next(1, 1000) * 1024L,
            Enumerable.Range(0, 4).Where(_ => random.Next(3) == 0).DefaultIfEmpty(i % 4).ToList())).ToList();

        var first = SharedBlobOwnerChoice.Choose(needs);
        for (var round = 0; round < 5; round++)
        {
            var shuffled = needs.OrderBy(_ => random.Next()).ToList();
            Assert.Equal(first, SharedBlobOwnerChoice.Choose(shuffled));
        }
    }

    [Fact]
    public void A_digest_given_twice_counts_its_largest_size_and_every_shard_that_named_it()
    {
        Need[] needs =
        [
            new("sha256:own1", 3 * MiB, [1]),
            new("sha256:twice", 1, [0]),
            new("sha256:twice", 5 * MiB, [1]),
            new("sha256:other", 4 * MiB, [0, 1]),
        ];

        var owners = SharedBlobOwnerChoice.Choose(needs);

        // twice (5 MiB, shards 0 and 1) goes first, to shard 0; other then to shard 1 (3 MiB against 5).
        Assert.Equal(0, owners["sha256:twice"]);
        Assert.Equal(1, owners["sha256:other"]);
    }

    [Fact]
    public void Lying_sizes_neither_throw_nor_overflow_and_every_shared_layer_still_has_an_owner_that_needs_it()
    {
        var needs = new List<Need>
        {
            new("sha256:negative", long.MinValue, [0, 1]),
            new("sha256:huge", long.MaxValue, [1, 2]),
        };
        needs.AddRange(Enumerable.Range(0, 64).Select(i => new Need($"sha256:own-huge-{i}", long.MaxValue, [2])));
        needs.AddRange(Enumerable.Range(0, 64).Select(i => new Need($"sha256:shared-huge-{i}", long.MaxValue, [0, 2])));

        var owners = SharedBlobOwnerChoice.Choose(needs);

        Assert.Contains(owners["sha256:negative"], new[] { 0, 1 });
        Assert.Contains(owners["sha256:huge"], new[] { 1, 2 });
        Assert.All(Enumerable.Range(0, 64), i => Assert.Contains(owners[$"sha256:shared-huge-{i}"], new[] { 0, 2 }));
        // Shard 2's own bytes saturate: shards 0 and 1 take what they can.
        Assert.Equal(1, owners["sha256:huge"]);
    }

    private static readonly SharedBlobOwnerChoice.Evening AnyShardAnywhere = new(2, (_, _) => true);

    [Fact]
    public void A_shard_with_fewer_bytes_uploads_some_of_a_heavier_shards_own_layers_until_they_are_even()
    {
        Need[] needs =
        [
            new("sha256:own0-a", 1 * MiB, [0]), new("sha256:own0-b", 1 * MiB, [0]), new("sha256:own0-c", 1 * MiB, [0]), new("sha256:own0-d", 1 * MiB, [0]),
            new("sha256:own1", 1 * MiB, [1]),
        ];

        var owners = SharedBlobOwnerChoice.Choose(needs, AnyShardAnywhere);

        // 4 MiB against 1: one layer moves (3 against 2); a second would only swap them.
        Assert.Equal(new Dictionary<string, int> { ["sha256:own0-a"] = 1 }, owners);
        Assert.Empty(SharedBlobOwnerChoice.Choose(needs)); // without evening, only shared layers are placed
    }

    [Fact]
    public void A_shard_with_nothing_of_its_own_takes_its_share_and_shared_layers_are_placed_first()
    {
        Need[] needs =
        [
            .. Enumerable.Range(0, 6).Select(i => new Need($"sha256:own0-{i}", 1 * MiB, [0])),
            new("sha256:base", 2 * MiB, [0, 1]),
        ];

        var owners = SharedBlobOwnerChoice.Choose(needs, new SharedBlobOwnerChoice.Evening(3, (_, _) => true));

        Assert.Equal(1, owners["sha256:base"]);
        // Loads 6/2/0: shard 2 takes two of shard 0's (4/2/2), shard 1 one (3/3/2); moving another would not lower the most.
        Assert.Equal(2, owners.Count(o => o.Key.StartsWith("sha256:own0-", StringComparison.Ordinal) && o.Value == 2));
        Assert.Equal(1, owners.Count(o => o.Key.StartsWith("sha256:own0-", StringComparison.Ordinal) && o.Value == 1));
    }

    [Fact]
    public void A_layer_goes_to_no_shard_that_may_not_upload_where_it_is_needed()
    {
        Need[] needs = [.. Enumerable.Range(0, 4).Select(i => new Need($"sha256:own0-{i}", 1 * MiB, [0]))];

        var owners = SharedBlobOwnerChoice.Choose(needs, new SharedBlobOwnerChoice.Evening(2, (shard, digest) => digest != "sha256:own0-0"));

        // 4 against 0, then 3 against 1, then 2 against 2: the two after the one shard 1 may not take.
        Assert.Equal(new Dictionary<string, int> { ["sha256:own0-1"] = 1, ["sha256:own0-2"] = 1 }, owners);
    }

    [Fact]
    public void Blobs_too_small_to_be_worth_a_wait_stay_with_their_shard()
    {
        Need[] needs = [.. Enumerable.Range(0, 1000).Select(i => new Need($"sha256:config-{i}", 2 * 1024, [0]))];

        Assert.Empty(SharedBlobOwnerChoice.Choose(needs, AnyShardAnywhere));
    }

    [Fact]
    public void Evening_gives_every_shard_the_same_answer_and_survives_lying_sizes()
    {
        var random = new Random(5);
        var needs = Enumerable.Range(0, 400).Select(i => new Need($"sha256:{i:x4}", i % 50 == 0 ? long.MaxValue : i % 70 == 0 ? -1 : random.Next(1, 4000) * 1024L,
            Enumerable.Range(0, 4).Where(_ => random.Next(8) == 0).DefaultIfEmpty(i % 3).ToList())).ToList();
        var evening = new SharedBlobOwnerChoice.Evening(4, (shard, digest) => true);

        var first = SharedBlobOwnerChoice.Choose(needs, evening);
        Assert.Equal(first, SharedBlobOwnerChoice.Choose(needs.OrderBy(_ => random.Next()).ToList(), evening));
        Assert.Contains(first, o => needs.First(n => n.Digest == o.Key).Shards.Count == 1);
    }
}
