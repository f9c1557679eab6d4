using HarborOps.Engine.Errors;
using HarborOps.Engine.Scope;
using HarborOps.Engine.Shards;
using Xunit;

namespace HarborOps.Engine.Tests.Scope;

/// <summary>Which shard owns what: a pure function of names, the same on every machine, and its parameters checked.</summary>
public sealed class ShardPartitionTests
{
    private const string Subject = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    // Expected values from `printf '%s' <key> | sha256sum`: the first 8 bytes, big-endian, modulo the count.
    [InlineData("team/app", 4, 2)]
    [InlineData("team/app", 3, 2)]
    [InlineData("team-a/api", 3, 2)]
    [InlineData("team-a/web", 3, 1)]
    [InlineData("team-b/worker", 3, 1)]
    [InlineData("platform/base/debian", 3, 0)]
    [InlineData("platform/base/debian", 7, 2)]
    public void A_key_belongs_to_the_first_8_bytes_of_its_sha256_modulo_the_count(string key, int count, int shard) =>
        Assert.Equal(shard, ShardPartition.ShardOf(key, count));

    [Fact]
    public void A_thousand_repositories_over_four_shards_each_land_in_exactly_one_and_the_shards_are_near_even()
    {
        var repositories = Enumerable.Range(0, 1000).Select(i => $"team-{i % 17}/service-{i}").ToList();
        var shards = Enumerable.Range(0, 4).Select(i => ShardPartition.Create(4, i, ShardBy.Repository, null)).ToList();

        var owners = repositories.Select(r => shards.Count(s => s.OwnsRepository(r))).ToList();
        var sizes = shards.Select(s => repositories.Count(s.OwnsRepository)).ToList();

        Assert.All(owners, count => Assert.Equal(1, count));
        Assert.All(sizes, size => Assert.InRange(size, 200, 300));
    }

    [Fact]
    public void Split_by_repository_every_tag_goes_with_its_repository()
    {
        var shard = ShardPartition.Create(3, 1, ShardBy.Repository, null);

        Assert.True(shard.OwnsRepository("team-a/web"));
        Assert.True(shard.OwnsTag("team-a/web", "1.0"));
        Assert.True(shard.OwnsDigest("team-a/web", Subject));
        Assert.False(shard.OwnsRepository("team-a/api"));
        Assert.False(shard.OwnsTag("team-a/api", "1.0"));
    }

    [Fact]
    public void Split_by_tag_the_tags_of_one_repository_spread_over_every_shard_and_each_lands_in_exactly_one()
    {
        var shards = Enumerable.Range(0, 4).Select(i => ShardPartition.Create(4, i, ShardBy.Tag, null)).ToList();
        var tags = Enumerable.Range(0, 400).Select(i => $"build-{i}").ToList();

        Assert.All(shards, s => Assert.True(s.OwnsRepository("huge/app")));
        Assert.All(tags, t => Assert.Equal(1, shards.Count(s => s.OwnsTag("huge/app", t))));
        Assert.All(shards, s => Assert.InRange(tags.Count(t => s.OwnsTag("huge/app", t)), 70, 130));
    }

    [Fact]
    public void Split_by_tag_the_referrer_tags_of_one_image_belong_to_one_shard_keyed_by_the_subject_digest()
    {
        var referrerTags = new[] { "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ".sig", ".att", ".sbom" }
            .Select((suffix, i) => i == 0 ? suffix : "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + suffix).ToList();
        var owner = ShardPartition.ShardOf($"huge/app@{Subject}", 5);

        for (var index = 0; index < 5; index++)
        {
            var shard = ShardPartition.Create(5, index, ShardBy.Tag, null);
            Assert.All(referrerTags, t => Assert.Equal(index == owner, shard.OwnsTag("huge/app", t)));
            Assert.Equal(index == owner, shard.OwnsDigest("huge/app", Subject));
        }
    }

    [Fact]
    public void Without_a_shard_count_the_run_is_whole_even_in_an_indexed_job_pod()
    {
        var shard = ShardPartition.Create(null, null, ShardBy.Repository, "3");

        Assert.Same(ShardPartition.Whole, shard);
        Assert.False(shard.IsSharded);
        Assert.True(shard.OwnsTag("any/thing", "1.0"));
    }

    [Theory]
    [InlineData("2", 2)]
    [InlineData(" 0 ", 0)]
    public void The_shard_index_defaults_to_JOB_COMPLETION_INDEX(string variable, int index) =>
        Assert.Equal(index, ShardPartition.Create(3, null, ShardBy.Repository, variable).Index);

    [Fact]
    public void An_explicit_shard_index_wins_over_JOB_COMPLETION_INDEX() =>
        Assert.Equal(1, ShardPartition.Create(3, 1, ShardBy.Repository, "not even a number").Index);

    [Fact]
    public void One_shard_needs_no_index() =>
        Assert.Equal(0, ShardPartition.Create(1, null, ShardBy.Repository, null).Index);

    [Theory]
    [InlineData(null, 1, null, "ShardIndex", "without -ShardCount")]
    [InlineData(0, 0, null, "ShardCount", "1 or more")]
    [InlineData(-2, null, null, "ShardCount", "1 or more")]
    [InlineData(3, 3, null, "ShardIndex", "0 to 2")]
    [InlineData(3, -1, null, "ShardIndex", "0 to 2")]
    [InlineData(3, null, null, "ShardIndex", "JOB_COMPLETION_INDEX")]
    [InlineData(3, null, "3", "JOB_COMPLETION_INDEX", "Make -ShardCount the Job's completions")]
    [InlineData(3, null, "-1", "JOB_COMPLETION_INDEX", "not a whole number")]
    [InlineData(3, null, "one", "JOB_COMPLETION_INDEX", "not a whole number")]
    [InlineData(3, null, "", "JOB_COMPLETION_INDEX", "not a whole number")]
    [InlineData(3, null, "99999999999999999999", "JOB_COMPLETION_INDEX", "not a whole number")]
    public void A_shard_that_is_not_one_of_the_run_is_a_terminating_error_naming_the_parameter_and_the_fix(int? count, int? index, string? variable, string target, string fix)
    {
        var error = Assert.Throws<ShardException>(() => ShardPartition.Create(count, index, ShardBy.Repository, variable));

        Assert.Equal(ShardErrorIds.ShardInvalid, error.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.True(error.IsTerminating);
        Assert.Equal(target, error.Target);
        Assert.Contains(fix, error.Message);
    }

    [Fact]
    public void Split_by_tag_without_a_shard_count_is_refused() =>
        Assert.Equal("ShardBy", Assert.Throws<ShardException>(() => ShardPartition.Create(null, null, ShardBy.Tag, null)).Target);

    [Fact]
    public void A_hostile_JOB_COMPLETION_INDEX_is_shown_short_and_without_control_characters()
    {
        var error = Assert.Throws<ShardException>(() => ShardPartition.Create(2, null, ShardBy.Repository, "1\n\u001b[31m" + new string('x', 5000)));

        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\u001b', error.Message);
        Assert.True(error.Message.Length < 600, error.Message);
    }
}
