using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Compare-RegistryParity against a Harbor destination (issue 15, part 4): Harbor's artifact listing (100 artifacts a
/// page, tags and digests in each) stands in for a HEAD per tag, so the destination's cost is pages, not tags; where
/// Harbor refuses the caller its API, the comparison HEADs each tag as it does for any registry, with the same findings.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborParityInventoryTests(HarborLabFixture lab) : IAsyncLifetime
{
    private const int Repositories = 3;
    private const int TagsPerRepository = 90;
    private DistributionRegistry _source = null!;

    public async Task InitializeAsync() => _source = await DistributionRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        lab.AssertExchangesMatchContract();
    }

    private static RegistryEngine NewEngine() => HarborLabFixture.NewRegistryEngine();

    private NetworkCredential Admin => lab.AdminCredential;

    /// <summary>
    /// The same images on both sides: a seed image copied into Harbor, then tags whose manifests differ by an annotation
    /// (so each is an artifact of its own) PUT with the same bytes at the source and in Harbor. Returns the project.
    /// </summary>
    private async Task<string> SeedAsync()
    {
        var project = lab.Unique("inventory");
        await lab.Admin().CreateProjectAsync(project, new HarborProjectSettings(), CancellationToken.None);
        for (var r = 0; r < Repositories; r++)
        {
            var repository = $"{project}/team/app{r}";
            var seed = await LabContent.PushImageAsync(_source.Endpoint, repository, "seed", new LabImageOptions { LayerSize = 256 });
            using (var engine = NewEngine())
            {
                var copy = await new ImageCopier(engine).CopyAsync(new CopyRequest([$"{_source.Host}/{repository}:seed"], lab.Harbor.Host)
                { DestinationCredential = Admin }, null, null, CancellationToken.None);
                Assert.Equal(0, copy.Failed);
            }
            await Parallel.ForEachAsync(Enumerable.Range(0, TagsPerRepository), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
            {
                var manifest = JsonNode.Parse(seed.ManifestBytes)!.AsObject();
                manifest["annotations"] = new JsonObject { ["lab.tag"] = $"t{i:000}" };
                var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
                await LabContent.PutManifestAsync(_source.Endpoint, repository, $"t{i:000}", seed.MediaType, bytes, token);
                await LabContent.PutManifestAsync(lab.Harbor.AdminEndpoint, repository, $"t{i:000}", seed.MediaType, bytes, token);
            });
        }
        return project;
    }

    private async Task<(ParitySummary Summary, List<ParityDifference> Differences)> CompareAsync(string project, HarborConnection harbor)
    {
        using var engine = NewEngine();
        var differences = new ConcurrentQueue<ParityDifference>();
        var failures = new ConcurrentQueue<Exception>();
        var summary = await new ParityChecker(engine).CompareAsync(
            new ParityRequest([$"{_source.Host}/{project}/*"], $"{lab.Harbor.Host}/{project}") { DestinationCredential = Admin, Harbor = harbor, StripPrefixSegments = 1 },
            null, differences.Enqueue, failures.Enqueue, CancellationToken.None);
        Assert.Empty(failures);
        return (summary, differences.ToList());
    }

    [Fact]
    public async Task Parity_of_a_project_costs_the_destination_its_artifact_pages_not_a_HEAD_per_tag()
    {
        var project = await SeedAsync();
        var before = lab.Harbor.Exchanges.Count;

        var (summary, differences) = await CompareAsync(project, lab.AdminConnection);

        const int tags = Repositories * (TagsPerRepository + 1);
        Assert.Empty(differences);
        Assert.Equal((tags, tags, Repositories), (summary.TagsCompared, summary.Equal, summary.RepositoriesCompared));
        // 273 artifacts of one project: its listing is 3 pages of 100, where the registry API would take 273 HEADs; and
        // one page of the project's repositories, for repositories only the destination has.
        Assert.Equal((tags + 99) / 100 + 1, summary.DestinationRequests);
        var listings = lab.Harbor.Exchanges.Skip(before).Where(e => e.Method == "GET" && e.Path.Contains("/artifacts", StringComparison.Ordinal)).ToList();
        Assert.Equal(summary.DestinationRequests - 1, listings.Count);
        Assert.All(listings, e => Assert.Contains("page_size=100", e.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_repository_only_in_the_Harbor_project_is_reported_extra_from_the_project_repository_list()
    {
        var project = await SeedAsync();
        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/team/ghost", "1.0", new LabImageOptions { LayerSize = 64 });
        var before = lab.Harbor.Exchanges.Count;

        var (summary, differences) = await CompareAsync(project, lab.AdminConnection);

        var extra = Assert.Single(differences);
        Assert.Equal((ParityDifferenceKind.ExtraAtDestination, $"{project}/team/ghost", ""), (extra.Kind, extra.DestinationRepository, extra.Tag));
        Assert.Equal((1, Repositories), (summary.ExtraAtDestination, summary.RepositoriesCompared));
        Assert.Contains(lab.Harbor.Exchanges.Skip(before), e => e.Method == "GET" && e.Path == $"/api/v2.0/projects/{project}/repositories");
    }

    [Fact]
    public async Task Where_Harbor_refuses_the_caller_its_api_the_comparison_heads_each_tag_with_the_same_findings()
    {
        var project = await SeedAsync();
        var stranger = new HarborConnection(lab.Harbor.BaseUri, new NetworkCredential("nobody", "not-a-password"));

        var (summary, differences) = await CompareAsync(project, stranger);

        const int tags = Repositories * (TagsPerRepository + 1);
        Assert.Empty(differences);
        Assert.Equal((tags, tags), (summary.TagsCompared, summary.Equal));
        Assert.True(summary.DestinationRequests >= tags, $"{summary.DestinationRequests} destination requests for {tags} tags: the HEADs were not sent");
        lab.SkipExchanges();
    }
}
