using HarborOps.Engine.Migration;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>Copies between two real Distribution registries, checked with skopeo and the fault proxies' request logs.</summary>
[Collection(CopyLabCollection.Name)]
public sealed class ImageCopierTests(CopyLabFixture lab, ITestOutputHelper output)
{
    private CopyRequest Request(string source, string destinationPrefix = "migrated") =>
        new([source], $"{lab.DestinationHost}/{destinationPrefix}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Single_tag_is_copied_byte_exact_under_the_destination_prefix(bool docker)
    {
        lab.Reset();
        var repository = lab.Unique("single/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0", new LabImageOptions { Docker = docker, LayerCount = 2 });
        await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "2.0");

        var (summary, results) = await lab.CopyAsync(Request($"{lab.SourceHost}/{repository}:1.0"));

        var result = Assert.Single(results);
        Assert.Equal(CopyAction.Copied, result.Action);
        Assert.Equal(image.Digest, result.Digest);
        Assert.Equal($"{lab.DestinationHost}/migrated/{repository}:1.0", result.Destination);
        Assert.Equal(3, result.BlobsCopied);
        Assert.Equal(1, summary.Copied);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(results.Sum(r => r.BytesMoved), summary.BytesMoved);
        await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0", image.Digest);
        await AssertPullableAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0");
        Assert.Equal(["1.0"], await LabSkopeo.ListTagsAsync(lab.DestinationEndpoint, $"migrated/{repository}"));
    }

    [Fact]
    public async Task Whole_repository_with_oci_index_and_docker_manifest_list_keeps_every_digest()
    {
        lab.Reset();
        var repository = lab.Unique("multi/app");
        var oci = await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "oci-index", ["linux/amd64", "linux/arm64/v8"]);
        var docker = await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "docker-list", ["linux/amd64", "linux/s390x"], docker: true);
        var plain = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "plain");
        // The same index under a second tag costs one more manifest PUT, nothing else.
        await LabContent.PutManifestAsync(lab.SourceEndpoint, repository, "oci-index-alias", oci.MediaType, oci.ManifestBytes);

        var (summary, results) = await lab.CopyAsync(Request($"{lab.SourceHost}/{repository}"));

        Assert.Equal(4, summary.Copied);
        Assert.All(results, r => Assert.Equal(CopyAction.Copied, r.Action));
        var destination = $"migrated/{repository}";
        await AssertDigestAsync(lab.DestinationEndpoint, destination, "oci-index", oci.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, "oci-index-alias", oci.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, "docker-list", docker.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, "plain", plain.Digest);
        foreach (var child in oci.Children.Concat(docker.Children))
            await AssertDigestAsync(lab.DestinationEndpoint, destination, child.Digest, child.Digest);
        await AssertPullableAsync(lab.DestinationEndpoint, destination, "docker-list");
        // Each child once by digest, then the four tags (the alias shares everything but its own PUT).
        Assert.Equal(4, Count(lab.DestinationProxy, "PUT", $"^/v2/{destination}/manifests/sha256:"));
        Assert.Equal(8, summary.ManifestsWritten);
    }

    [Fact]
    public async Task Path_prefix_copies_only_repositories_under_it_and_strip_and_rename_map_them()
    {
        lab.Reset();
        var root = lab.Unique("prefix");
        var a = await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/team/a", "1");
        var b = await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/team/sub/b", "1");
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/other/c", "1");

        var request = Request($"{lab.SourceHost}/{root}/team/*", "moved") with
        {
            StripPrefixSegments = 2,
            RenameRepositories = new Dictionary<string, string> { ["sub"] = "renamed" },
        };
        var (summary, results) = await lab.CopyAsync(request);

        Assert.Equal(2, summary.Copied);
        Assert.Equal(["moved/a", "moved/renamed/b"], results.Select(r => r.DestinationRepository).Order(StringComparer.Ordinal));
        await AssertDigestAsync(lab.DestinationEndpoint, "moved/a", "1", a.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, "moved/renamed/b", "1", b.Digest);
    }

    [Fact]
    public async Task Tag_filters_select_by_wildcard_and_regex_and_exclude()
    {
        lab.Reset();
        var repository = lab.Unique("filter/app");
        foreach (var tag in new[] { "1.0", "1.1", "1.1-rc1", "2.0", "latest" })
            await LabContent.PushImageAsync(lab.SourceEndpoint, repository, tag, new LabImageOptions { LayerSize = 64 });

        var request = Request($"{lab.SourceHost}/{repository}") with
        {
            IncludeTags = ["1.*", "2.*"],
            ExcludeTags = ["*-rc*"],
            ExcludeTagRegex = "^2\\.",
        };
        var (_, results) = await lab.CopyAsync(request);

        Assert.Equal(["1.0", "1.1"], results.Select(r => r.Tag).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task No_change_rerun_costs_about_one_destination_request_per_tag_and_skips_everything()
    {
        lab.Reset();
        var root = lab.Unique("rerun");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions { RootPrefix = root, Repositories = 3, TagsPerRepository = 4 });
        var request = Request($"{lab.SourceHost}/{root}/*");
        var (cold, _) = await lab.CopyAsync(request);
        Assert.Equal(0, cold.Failed);
        Assert.Equal(corpus.Tags.Count, cold.Copied);

        lab.DestinationProxy.ClearRequests();
        var (warm, results) = await lab.CopyAsync(request);

        Assert.Equal(corpus.Tags.Count, warm.Skipped);
        Assert.All(results, r => Assert.Equal("unchanged", r.Reason));
        var destinationRequests = lab.DestinationProxy.Requests;
        output.WriteLine($"{corpus.Tags.Count} tags, {corpus.Repositories.Count} repositories: {destinationRequests.Count} destination requests on the re-run");
        Assert.All(destinationRequests, r => Assert.True(r.Method is "HEAD" || r.PathAndQuery.Contains("/tags/list"), r.ToString()));
        Assert.True(destinationRequests.Count <= corpus.Tags.Count + corpus.Repositories.Count, $"{destinationRequests.Count} requests for {corpus.Tags.Count} tags");
        Assert.Equal(0, warm.BytesMoved);
    }

    [Fact]
    public async Task Differing_destination_tag_is_updated_unless_NoClobber()
    {
        lab.Reset();
        var repository = lab.Unique("clobber/app");
        var source = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        var stale = await LabContent.PushImageAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0");

        var (kept, keptResults) = await lab.CopyAsync(Request($"{lab.SourceHost}/{repository}") with { NoClobber = true });
        Assert.Equal(1, kept.Skipped);
        Assert.Equal("NoClobber", Assert.Single(keptResults).Reason);
        await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0", stale.Digest);

        var (updated, updatedResults) = await lab.CopyAsync(Request($"{lab.SourceHost}/{repository}"));
        var result = Assert.Single(updatedResults);
        Assert.Equal(CopyAction.Updated, result.Action);
        Assert.Equal(stale.Digest, result.PreviousDigest);
        Assert.Equal(1, updated.Updated);
        await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0", source.Digest);
    }

    [Fact]
    public async Task Plan_only_reads_both_sides_and_writes_nothing()
    {
        lab.Reset();
        var repository = lab.Unique("plan/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0", new LabImageOptions { LayerCount = 2, LayerSize = 2048 });
        await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "2.0");

        var (summary, results) = await lab.CopyAsync(Request($"{lab.SourceHost}/{repository}") with { PlanOnly = true });

        Assert.True(summary.PlanOnly);
        Assert.Equal(2, summary.Planned);
        Assert.All(results, r => Assert.Equal(CopyAction.Planned, r.Action));
        Assert.True(summary.BytesMoved > 4096);
        Assert.DoesNotContain(lab.DestinationProxy.Requests, r => r.Method is "PUT" or "POST" or "PATCH" or "DELETE");
        Assert.Equal(image.Digest, results.Single(r => r.Tag == "1.0").Digest);
    }
}
