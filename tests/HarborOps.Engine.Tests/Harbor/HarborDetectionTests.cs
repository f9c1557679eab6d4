using System.Collections.Concurrent;
using System.Net;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// A Harbor destination found without a Harbor session (issue 15, part 4): the registry's Bearer challenge names
/// Harbor's token service (service="harbor-registry"), one GET /api/v2.0/systeminfo confirms it, and parity and the
/// unchanged-tag check read Harbor's artifact listing with the registry credential the run already uses. A registry
/// whose challenge is not Harbor's is never asked anything under /api/; a caller Harbor refuses the listing HEADs each
/// tag as for any registry.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborDetectionTests(HarborLabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    private const int TagsPerRepository = 120;
    private DistributionRegistry _source = null!;

    public async Task InitializeAsync()
    {
        Assert.Null(HarborSession.Current); // the point of these tests: no Connect-Harbor session
        _source = await DistributionRegistry.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        lab.AssertExchangesMatchContract();
    }

    private static RegistryEngine NewEngine() => HarborLabFixture.NewRegistryEngine();

    private NetworkCredential Admin => lab.AdminCredential;


    /// <summary>One source repository {project}/team/app: a seed image and its variants t000..; returns the project and the seed.</summary>
    private async Task<(string Project, PushedImage Seed)> SeedSourceAsync(string name)
    {
        var project = lab.Unique(name);
        await lab.Admin().CreateProjectAsync(project, new HarborProjectSettings(), CancellationToken.None);
        var repository = $"{project}/team/app";
        var seed = await LabContent.PushImageAsync(_source.Endpoint, repository, "seed", new LabImageOptions { LayerSize = 256 });
        await Parallel.ForEachAsync(Enumerable.Range(0, TagsPerRepository), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
            await LabContent.PutManifestAsync(_source.Endpoint, repository, $"t{i:000}", seed.MediaType, HarborLabFixture.VariantOf(seed, $"t{i:000}"), token));
        return (project, seed);
    }

    /// <summary>A copy with a registry credential only (Set-RegistryCredential style): no -Harbor, no session.</summary>
    private async Task<(CopySummary Summary, List<CopyResult> Results, long DestinationRequests)> CopyAsync(string project, NetworkCredential credential)
    {
        using var engine = NewEngine();
        var results = new ConcurrentQueue<CopyResult>();
        var request = new CopyRequest([$"{_source.Host}/{project}/*"], $"{lab.Harbor.Host}/{project}") { DestinationCredential = credential, StripPrefixSegments = 1 };
        var summary = await new ImageCopier(engine).CopyAsync(request, null, (result, _) => results.Enqueue(result), CancellationToken.None);
        return (summary, results.ToList(), engine.RequestsSentTo(lab.Harbor.Host));
    }

    private async Task<(ParitySummary Summary, List<ParityDifference> Differences)> CompareAsync(string project, NetworkCredential credential, bool detectHarbor = true)
    {
        using var engine = NewEngine();
        var differences = new ConcurrentQueue<ParityDifference>();
        var failures = new ConcurrentQueue<Exception>();
        var summary = await new ParityChecker(engine).CompareAsync(
            new ParityRequest([$"{_source.Host}/{project}/*"], $"{lab.Harbor.Host}/{project}") { DestinationCredential = credential, StripPrefixSegments = 1, DetectHarbor = detectHarbor },
            null, differences.Enqueue, failures.Enqueue, CancellationToken.None);
        Assert.Empty(failures);
        return (summary, differences.ToList());
    }

    private int SystemInfoProbes(int since) => lab.Harbor.Exchanges.Skip(since).Count(e => e.Method == "GET" && e.Path == "/api/v2.0/systeminfo");

    [Fact]
    public async Task Parity_into_Harbor_with_only_a_registry_credential_reads_its_listing_instead_of_a_HEAD_per_tag()
    {
        var (project, _) = await SeedSourceAsync("detect-parity");
        Assert.Equal(0, (await CopyAsync(project, Admin)).Summary.Failed);
        var before = lab.Harbor.Exchanges.Count;

        var (summary, differences) = await CompareAsync(project, Admin);

        const int tags = TagsPerRepository + 1;
        output.WriteLine($"{summary} ({summary.DestinationRequests} destination requests)");
        Assert.Empty(differences);
        Assert.Equal((tags, tags), (summary.TagsCompared, summary.Equal));
        // The tag list that met the challenge, systeminfo, two pages of artifacts, the project's repositories: not 121 HEADs.
        Assert.True(summary.DestinationRequests <= 6, $"{summary.DestinationRequests} destination requests for {tags} tags");
        Assert.Equal(1, SystemInfoProbes(before));
        Assert.DoesNotContain(lab.Harbor.Exchanges.Skip(before), e => e.Method == "HEAD" && e.Path.Contains("/manifests/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_detection_off_parity_into_Harbor_compares_it_as_any_registry_with_a_HEAD_per_tag_and_no_api_request()
    {
        var (project, _) = await SeedSourceAsync("detect-off");
        Assert.Equal(0, (await CopyAsync(project, Admin)).Summary.Failed);
        var before = lab.Harbor.Exchanges.Count;

        var (summary, differences) = await CompareAsync(project, Admin, detectHarbor: false);

        const int tags = TagsPerRepository + 1;
        Assert.Empty(differences);
        Assert.Equal((tags, tags), (summary.TagsCompared, summary.Equal));
        Assert.DoesNotContain(lab.Harbor.Exchanges.Skip(before), e => e.Path.StartsWith("/api/", StringComparison.Ordinal));
        Assert.True(summary.DestinationRequests >= tags, $"{summary.DestinationRequests} destination requests for {tags} tags: the HEADs are the baseline");
    }

    [Fact]
    public async Task An_unchanged_copy_rerun_into_Harbor_with_only_a_registry_credential_costs_a_handful_of_requests()
    {
        var (project, seed) = await SeedSourceAsync("detect-copy");
        var (cold, _, coldRequests) = await CopyAsync(project, Admin);
        Assert.Equal((0, TagsPerRepository + 1), (cold.Failed, cold.Copied));
        var before = lab.Harbor.Exchanges.Count;

        var (again, _, againRequests) = await CopyAsync(project, Admin);

        output.WriteLine($"cold: {cold} ({coldRequests} destination requests); unchanged: {again} ({againRequests} destination requests)");
        Assert.Equal((0, TagsPerRepository + 1), (again.Failed, again.Skipped));
        output.WriteLine(string.Join(Environment.NewLine, lab.Harbor.Exchanges.Skip(before).Select(e => $"{e.Method} {e.Path} {e.Status}")));
        // The tag list, systeminfo, two pages of artifacts and the one HEAD that holds the listing against the registry: not 121 HEADs.
        Assert.True(againRequests <= 6, $"{againRequests} destination requests for an unchanged re-run of {TagsPerRepository + 1} tags");
        Assert.Equal(1, SystemInfoProbes(before));

        // A tag changed at the source is still written.
        var changed = await LabContent.PutManifestAsync(_source.Endpoint, $"{project}/team/app", "t007", seed.MediaType, HarborLabFixture.VariantOf(seed, "t007-changed"));
        var (third, results, _) = await CopyAsync(project, Admin);
        var updated = Assert.Single(results, r => r.Action == CopyAction.Updated);
        Assert.Equal(("t007", changed.Digest), (updated.Tag, updated.Digest));
        Assert.Equal(TagsPerRepository, third.Skipped);
    }

    [Fact]
    public async Task A_robot_Harbor_refuses_the_listing_falls_back_to_HEADs_with_the_same_results()
    {
        var (project, seed) = await SeedSourceAsync("detect-robot");
        Assert.Equal(0, (await CopyAsync(project, Admin)).Summary.Failed);
        var robot = await lab.Admin().CreateRobotAsync(new HarborRobotRequest("puller") { Projects = [project], Permissions = ["repository:pull", "repository:push"] }, CancellationToken.None);
        var robotCredential = new NetworkCredential(robot.UserName, robot.Secret);
        var before = lab.Harbor.Exchanges.Count;

        var (summary, differences) = await CompareAsync(project, robotCredential);

        const int tags = TagsPerRepository + 1;
        Assert.Empty(differences);
        Assert.Equal((tags, tags), (summary.TagsCompared, summary.Equal));
        Assert.True(summary.DestinationRequests >= tags, $"{summary.DestinationRequests} destination requests for {tags} tags: the HEADs were not sent");
        Assert.Contains(lab.Harbor.Exchanges.Skip(before), e => e.Path.StartsWith("/api/v2.0/projects/", StringComparison.Ordinal) && e.Status is 401 or 403 or 404);

        // The copy too: the unchanged tags are proven by HEADs, the changed one is written.
        await LabContent.PutManifestAsync(_source.Endpoint, $"{project}/team/app", "t003", seed.MediaType, HarborLabFixture.VariantOf(seed, "t003-changed"));
        var (copy, results, requests) = await CopyAsync(project, robotCredential);
        Assert.Equal((0, tags - 1), (copy.Failed, copy.Skipped));
        Assert.Equal("t003", Assert.Single(results, r => r.Action == CopyAction.Updated).Tag);
        Assert.True(requests >= tags, $"{requests} destination requests for {tags} tags: the HEADs were not sent");
        lab.SkipExchanges();
    }

    [Fact]
    public async Task A_Harbor_listing_that_claims_the_source_digests_for_tags_the_registry_holds_otherwise_causes_no_wrong_skip()
    {
        var (project, seed) = await SeedSourceAsync("detect-lie");
        Assert.Equal(0, (await CopyAsync(project, Admin)).Summary.Failed);
        Assert.Equal(0, (await CopyAsync(project, Admin)).Summary.Failed); // warms Harbor's rows
        // Behind Harbor's back (straight into its registry) every tag becomes another image: Harbor's listing still shows
        // the source's digests, a listing that lies in the one way that would spare the writes that are needed.
        var behind = new LabEndpoint(lab.Harbor.Registry.BaseUri, lab.Harbor.AdminUser, lab.Harbor.AdminPassword);
        var others = new ConcurrentDictionary<string, string>();
        var tags = Enumerable.Range(0, TagsPerRepository).Select(i => $"t{i:000}").Append("seed").ToList();
        await Parallel.ForEachAsync(tags, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (tag, token) =>
            others[tag] = (await LabContent.PutManifestAsync(behind, $"{project}/team/app", tag, seed.MediaType, HarborLabFixture.VariantOf(seed, $"{tag}-other"), token)).Digest);

        var (copy, results, _) = await CopyAsync(project, Admin);

        Assert.Equal((0, tags.Count, 0), (copy.Failed, results.Count(r => r.Action == CopyAction.Updated), copy.Skipped));
        // What each result says it replaced is what the registry held, never the listing's word.
        Assert.All(results.Where(r => r.Action == CopyAction.Updated), r => Assert.Equal(others[r.Tag], r.PreviousDigest));
    }

    [Fact]
    public async Task A_registry_whose_challenge_is_not_Harbor_gets_no_api_request()
    {
        await using var destination = await DistributionRegistry.StartAsync(RegistryAuthMode.Token);
        await using var proxy = await FaultProxy.StartAsync(destination);
        var credential = new NetworkCredential(destination.UserName, destination.Password);
        var repository = "team/app";
        var seed = await LabContent.PushImageAsync(_source.Endpoint, $"plain/{repository}", "seed", new LabImageOptions { LayerSize = 64 });
        await LabContent.PutManifestAsync(_source.Endpoint, $"plain/{repository}", "v2", seed.MediaType, HarborLabFixture.VariantOf(seed, "v2"));
        using (var engine = NewEngine())
        {
            var request = new CopyRequest([$"{_source.Host}/plain/*"], proxy.Host) { DestinationCredential = credential, StripPrefixSegments = 1 };
            Assert.Equal(0, (await new ImageCopier(engine).CopyAsync(request, null, null, CancellationToken.None)).Failed);
            Assert.Equal(2, (await new ImageCopier(engine).CopyAsync(request, null, null, CancellationToken.None)).Skipped);
            var parity = await new ParityChecker(engine).CompareAsync(new ParityRequest([$"{_source.Host}/plain/*"], proxy.Host)
            { DestinationCredential = credential, StripPrefixSegments = 1 }, null, _ => { }, null, CancellationToken.None);
            Assert.Equal(2, parity.Equal);
        }
        Assert.NotEmpty(proxy.Requests);
        Assert.DoesNotContain(proxy.Requests, r => r.PathAndQuery.StartsWith("/api/", StringComparison.Ordinal));
        lab.SkipExchanges();
    }
}
