using System.Collections.Concurrent;
using System.Net;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Copy-RegistryImage's unchanged-tag check against a Harbor destination (issue 15, part 4), the Harbor case beside
/// CopyRequestBudgetTests: Harbor's artifact listing (100 artifacts a page, each with its tags and digest) proves a tag
/// unchanged instead of a HEAD per tag. The listing is a server's word like any other: it may spare a write, never cause
/// one, so a tag it shows with another digest than the source's is HEADed, and what the result reports as replaced is
/// what the registry really had.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborCopyInventoryTests(HarborLabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Repositories = 2;
    private const int TagsPerRepository = 120;
    private DistributionRegistry _source = null!;

    public async Task InitializeAsync() => _source = await DistributionRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        lab.AssertExchangesMatchContract();
    }

    private static RegistryEngine NewEngine() => HarborLabFixture.NewRegistryEngine();

    private NetworkCredential Admin => lab.AdminCredential;


    /// <summary>Source repositories of a seed image and its variants under t000..; returns the project and the seed.</summary>
    private async Task<(string Project, PushedImage Seed)> SeedSourceAsync()
    {
        var project = lab.Unique("copyinv");
        await lab.Admin().CreateProjectAsync(project, new HarborProjectSettings(), CancellationToken.None);
        PushedImage seed = null!;
        for (var r = 0; r < Repositories; r++)
        {
            var repository = $"{project}/team/app{r}";
            seed = await LabContent.PushImageAsync(_source.Endpoint, repository, "seed", new LabImageOptions { LayerSize = 256 });
            var image = seed;
            await Parallel.ForEachAsync(Enumerable.Range(0, TagsPerRepository), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
                await LabContent.PutManifestAsync(_source.Endpoint, repository, $"t{i:000}", image.MediaType, HarborLabFixture.VariantOf(image, $"t{i:000}"), token));
        }
        return (project, seed);
    }

    private async Task<(CopySummary Summary, List<CopyResult> Results, long DestinationRequests)> CopyAsync(string project, bool noClobber = false)
    {
        using var engine = NewEngine();
        var results = new ConcurrentQueue<CopyResult>();
        var request = new CopyRequest([$"{_source.Host}/{project}/*"], $"{lab.Harbor.Host}/{project}")
        {
            DestinationCredential = Admin, StripPrefixSegments = 1, NoClobber = noClobber, Harbor = new HarborDestination(lab.AdminConnection),
        };
        var summary = await new ImageCopier(engine).CopyAsync(request, null, (result, _) => results.Enqueue(result), CancellationToken.None);
        return (summary, results.ToList(), engine.RequestsSentTo(lab.Harbor.Host));
    }

    [Fact]
    public async Task An_unchanged_rerun_into_Harbor_costs_a_handful_of_destination_requests_and_a_changed_tag_is_still_copied()
    {
        var (project, seed) = await SeedSourceAsync();
        var (cold, _, coldRequests) = await CopyAsync(project);
        Assert.Equal((0, Repositories * (TagsPerRepository + 1)), (cold.Failed, cold.Copied));

        var (again, _, againRequests) = await CopyAsync(project);
        const int tags = Repositories * (TagsPerRepository + 1);
        output.WriteLine($"cold: {cold} ({coldRequests} destination requests); unchanged: {again} ({againRequests} destination requests)");
        Assert.Equal((0, tags), (again.Failed, again.Skipped));
        // Per repository a tag list and its artifact listing (2 pages of 100), and the token the tag lists need: not 242 HEADs.
        Assert.True(againRequests <= 4 * Repositories + 2, $"{againRequests} destination requests for an unchanged re-run of {tags} tags");

        // A tag that changed at the source: the listing shows the old digest, the registry's HEAD confirms, it is written.
        var changed = await LabContent.PutManifestAsync(_source.Endpoint, $"{project}/team/app{Repositories - 1}", "t005", seed.MediaType, HarborLabFixture.VariantOf(seed, "t005-changed"));
        var (third, results, thirdRequests) = await CopyAsync(project);
        output.WriteLine($"one changed: {third} ({thirdRequests} destination requests)");
        var updated = Assert.Single(results, r => r.Action == CopyAction.Updated);
        Assert.Equal(("t005", changed.Digest), (updated.Tag, updated.Digest));
        Assert.Equal(tags - 1, third.Skipped);
    }

    [Fact]
    public async Task A_listing_out_of_step_with_the_registry_decides_no_write_and_reports_the_registry_own_previous_digest()
    {
        var (project, seed) = await SeedSourceAsync();
        var (cold, _, _) = await CopyAsync(project);
        Assert.Equal(0, cold.Failed);
        // Warm Harbor's rows, then write behind its back (straight into its registry): its listing keeps the old digests,
        // as Harbor's database would for a write it never saw.
        Assert.Equal(0, (await CopyAsync(project)).Summary.Failed);
        var behind = new LabEndpoint(lab.Harbor.Registry.BaseUri, lab.Harbor.AdminUser, lab.Harbor.AdminPassword);
        var repository = $"{project}/team/app1";
        // t010: changed at the source and, behind Harbor, to the same image: the listing says "old", the registry "same".
        var same = HarborLabFixture.VariantOf(seed, "t010-new");
        var sourceSame = await LabContent.PutManifestAsync(_source.Endpoint, repository, "t010", seed.MediaType, same);
        await LabContent.PutManifestAsync(behind, repository, "t010", seed.MediaType, same);
        // t011: changed at the source, and behind Harbor to a third image: the listing's digest is not what is replaced.
        await LabContent.PutManifestAsync(_source.Endpoint, repository, "t011", seed.MediaType, HarborLabFixture.VariantOf(seed, "t011-source"));
        var other = await LabContent.PutManifestAsync(behind, repository, "t011", seed.MediaType, HarborLabFixture.VariantOf(seed, "t011-other"));

        var (kept, keptResults, _) = await CopyAsync(project, noClobber: true);
        Assert.Equal(0, kept.Failed);
        var t010 = Assert.Single(keptResults, r => r.SourceRepository == repository && r.Tag == "t010");
        Assert.Equal((CopyAction.Skipped, sourceSame.Digest), (t010.Action, t010.PreviousDigest));
        var t011Kept = Assert.Single(keptResults, r => r.SourceRepository == repository && r.Tag == "t011");
        Assert.Equal((CopyAction.Skipped, other.Digest), (t011Kept.Action, t011Kept.PreviousDigest));

        var (written, writtenResults, _) = await CopyAsync(project);
        var t011 = Assert.Single(writtenResults, r => r.SourceRepository == repository && r.Tag == "t011");
        // What a rollback would restore is the image the registry had, never the listing's stale word.
        Assert.Equal((CopyAction.Updated, other.Digest), (t011.Action, t011.PreviousDigest));
        Assert.Equal(0, written.Failed);
    }
}
