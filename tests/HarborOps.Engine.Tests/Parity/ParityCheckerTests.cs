using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Tests.Migration;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Parity;

/// <summary>
/// Parity against real Distribution registries behind fault proxies: planted differences are found exactly, the
/// destination only ever sees listings and HEADs, and copying what was found makes the next comparison clean.
/// </summary>
[Collection(CopyLabCollection.Name)]
public sealed class ParityCheckerTests(CopyLabFixture lab)
{
    private static async Task<(ParitySummary Summary, List<ParityDifference> Differences, List<HarborOpsException> Failures)> CompareAsync(
        ParityRequest request, RegistryEngine engine)
    {
        var differences = new ConcurrentQueue<ParityDifference>();
        var failures = new ConcurrentQueue<HarborOpsException>();
        var summary = await new ParityChecker(engine).CompareAsync(request, null, differences.Enqueue, failures.Enqueue, default);
        return (summary, differences.ToList(), failures.ToList());
    }

    [Fact]
    public async Task Planted_differences_are_found_exactly_and_copying_them_makes_the_next_comparison_clean()
    {
        lab.Reset();
        using var engine = CopyLabFixture.NewEngine();
        var root = lab.Unique("parity");
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/app", "1.0");
        var deleted = await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/app", "1.1");
        var signed = await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/app", "2.0");
        var signature = await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, signed);
        var signedToo = await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/app", "2.1");
        await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, signedToo);
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/web", "a");
        var moved = await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/web", "b");
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/locked", "x");
        var destination = $"{lab.DestinationHost}/mirror";
        var (copy, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/*"], destination), engine);
        Assert.Equal(0, copy.Failed);
        var clean = await CompareAsync(new ParityRequest([$"{lab.SourceHost}/{root}/*"], destination) { IncludeReferrers = true }, engine);
        Assert.Empty(clean.Differences);
        Assert.Equal(7, clean.Summary.TagsCompared);

        // Plant: a deleted tag, a moved tag, a missing signature, an extra tag, and a source repository whose listing fails.
        await LabContent.DeleteManifestAsync(lab.DestinationEndpoint, $"mirror/{root}/app", deleted.Digest);
        var elsewhere = await LabContent.PushImageAsync(lab.DestinationEndpoint, $"mirror/{root}/web", "b");
        await LabContent.DeleteManifestAsync(lab.DestinationEndpoint, $"mirror/{root}/app", signature.Digest);
        var extra = await LabContent.PushImageAsync(lab.DestinationEndpoint, $"mirror/{root}/web", "extra");
        lab.SourceProxy.Inject(FaultRule.ServerError($"^/v2/{root}/locked/tags/list$", times: int.MaxValue));
        lab.DestinationProxy.ClearRequests();

        var (summary, differences, failures) = await CompareAsync(new ParityRequest([$"{lab.SourceHost}/{root}/*"], destination) { IncludeReferrers = true }, engine);
        await lab.SettleLogsAsync();

        Assert.Empty(failures);
        var found = differences.Select(d => (d.Kind, d.Source, d.Tag)).Order().ToList();
        var expected = new List<(ParityDifferenceKind, string, string)>
        {
            (ParityDifferenceKind.MissingAtDestination, $"{lab.SourceHost}/{root}/app:1.1", "1.1"),
            (ParityDifferenceKind.DigestDiffers, $"{lab.SourceHost}/{root}/web:b", "b"),
            (ParityDifferenceKind.ReferrerMissing, $"{lab.SourceHost}/{root}/app:2.0", "2.0"),
            (ParityDifferenceKind.ExtraAtDestination, $"{lab.SourceHost}/{root}/web:extra", "extra"),
            (ParityDifferenceKind.SourceUnreadable, $"{lab.SourceHost}/{root}/locked", ""),
        }.Order().ToList();
        Assert.Equal(expected, found);
        var byKind = differences.ToDictionary(d => d.Kind);
        Assert.Equal((moved.Digest, elsewhere.Digest), (byKind[ParityDifferenceKind.DigestDiffers].SourceDigest, byKind[ParityDifferenceKind.DigestDiffers].DestinationDigest));
        Assert.Equal(extra.Digest, byKind[ParityDifferenceKind.ExtraAtDestination].DestinationDigest);
        Assert.Equal((signature.Digest, signature.Tag), (byKind[ParityDifferenceKind.ReferrerMissing].ReferrerDigest, byKind[ParityDifferenceKind.ReferrerMissing].ReferrerTag));
        Assert.Equal($"{lab.DestinationHost}/mirror/{root}/app:1.1", byKind[ParityDifferenceKind.MissingAtDestination].DestinationReference);
        Assert.Equal(RegistryErrorIds.ServerError, byKind[ParityDifferenceKind.SourceUnreadable].ErrorId);
        Assert.All(differences, d => Assert.Equal(destination, d.Destination));
        Assert.Equal((1, 1, 1, 1, 1, 5), (summary.MissingAtDestination, summary.DigestDiffers, summary.ReferrerMissing, summary.ExtraAtDestination, summary.SourceUnreadable, summary.Differences));
        Assert.Equal(6, summary.TagsCompared); // app 1.0 1.1 2.0 2.1, web a b: the unreadable repository's tag is unknown
        Assert.Equal(2, summary.RepositoriesCompared);
        Assert.Equal(4, summary.Equal);
        Assert.True(summary.SourceRequests > 0);

        // The destination saw listings and HEADs only: a manifest GET would count as a pull on Harbor.
        var destinationRequests = lab.DestinationProxy.Requests;
        Assert.NotEmpty(destinationRequests);
        // (The catalog is a listing too: it names the repositories only the destination has.)
        Assert.All(destinationRequests, r => Assert.True(r.Method == "HEAD" || (r.Method == "GET" && (r.PathAndQuery.Contains("/tags/list") || r.PathAndQuery.StartsWith("/v2/_catalog", StringComparison.Ordinal))) || r.PathAndQuery == "/v2/",
            $"the destination got {r}"));
        Assert.Equal(destinationRequests.Count(r => r.PathAndQuery != "/v2/"), summary.DestinationRequests);

        // Repair: copy what the differences name (as Copy-RegistryImage does with them piped in), once the source reads again.
        lab.SourceProxy.ClearFaults();
        var repairable = differences.Where(d => d.Kind != ParityDifferenceKind.ExtraAtDestination).Select(d => d.Source).ToList();
        var (repair, _) = await lab.CopyAsync(new CopyRequest(repairable, destination), engine);
        Assert.Equal(0, repair.Failed);

        var after = await CompareAsync(new ParityRequest([$"{lab.SourceHost}/{root}/*"], destination) { IncludeReferrers = true }, engine);
        var remaining = Assert.Single(after.Differences);
        Assert.Equal((ParityDifferenceKind.ExtraAtDestination, "extra"), (remaining.Kind, remaining.Tag)); // copying never deletes
        Assert.Equal(7, after.Summary.TagsCompared);
    }

    [Fact]
    public async Task Mapping_and_tag_filters_are_the_copy_s_own()
    {
        lab.Reset();
        using var engine = CopyLabFixture.NewEngine();
        var root = lab.Unique("parity-map");
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/old-team/api", "v1");
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/old-team/api", "v2");
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/old-team/api", "dev");
        var renames = new Dictionary<string, string> { ["old-team"] = "new-team" };
        var copyRequest = new CopyRequest([$"{lab.SourceHost}/{root}/*"], lab.DestinationHost)
        {
            DestinationPrefix = root, StripPrefixSegments = 1, RenameRepositories = renames, IncludeTags = ["v*"],
        };
        var (copy, results) = await lab.CopyAsync(copyRequest, engine);
        Assert.Equal(2, copy.Copied);
        Assert.All(results, r => Assert.Equal($"{root}/new-team/api", r.DestinationRepository));

        var same = new ParityRequest([$"{lab.SourceHost}/{root}/*"], lab.DestinationHost)
        {
            DestinationPrefix = root, StripPrefixSegments = 1, RenameRepositories = renames, IncludeTags = ["v*"], IncludeEqual = true,
        };
        var compared = await CompareAsync(same, engine);
        Assert.Equal(["v1", "v2"], compared.Differences.Select(d => d.Tag).Order(StringComparer.Ordinal));
        Assert.All(compared.Differences, d =>
        {
            Assert.Equal(ParityDifferenceKind.Equal, d.Kind);
            Assert.Equal($"{lab.DestinationHost}/{root}/new-team/api:{d.Tag}", d.DestinationReference);
            Assert.Equal((1, renames), (d.StripPrefixSegments, d.Rename));
        });

        // Without the filter the dev tag the copy left out is missing; a single-image source compares just that tag.
        var unfiltered = await CompareAsync(same with { IncludeTags = [], IncludeEqual = false }, engine);
        Assert.Equal((ParityDifferenceKind.MissingAtDestination, "dev"), (Assert.Single(unfiltered.Differences).Kind, unfiltered.Differences[0].Tag));
        var one = await CompareAsync(same with { Sources = [$"{lab.SourceHost}/{root}/old-team/api:dev"], IncludeTags = [] }, engine);
        Assert.Equal($"{lab.SourceHost}/{root}/old-team/api:dev", Assert.Single(one.Differences).Source);
        Assert.Equal(1, one.Summary.TagsCompared);
        var absent = await CompareAsync(same with { Sources = [$"{lab.SourceHost}/{root}/old-team/api:nope"], IncludeTags = [] }, engine);
        Assert.Equal((ParityDifferenceKind.SourceUnreadable, RegistryErrorIds.ManifestNotFound), (Assert.Single(absent.Differences).Kind, absent.Differences[0].ErrorId));
    }

    [Fact]
    public async Task Referrers_the_source_s_referrers_API_lists_are_checked_at_the_destination_by_HEAD()
    {
        lab.Reset();
        lab.SourceProxy.EnableReferrersApi = true;
        using var engine = CopyLabFixture.NewEngine();
        var repository = lab.Unique("parity-referrers/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        var sbom = await LabContent.PushReferrerAsync(lab.SourceEndpoint, image, LabCorpus.SbomArtifactType);
        var (copy, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/mirror"), engine);
        Assert.Equal(0, copy.Failed);
        var request = new ParityRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/mirror") { IncludeReferrers = true };
        var before = await CompareAsync(request, engine);
        Assert.Empty(before.Differences);
        Assert.True(before.Summary.ReferrersChecked >= 1);

        await LabContent.DeleteManifestAsync(lab.DestinationEndpoint, $"mirror/{repository}", sbom.Digest);
        lab.DestinationProxy.ClearRequests();
        var after = await CompareAsync(request, engine);
        await lab.SettleLogsAsync();

        var missing = Assert.Single(after.Differences);
        Assert.Equal((ParityDifferenceKind.ReferrerMissing, sbom.Digest, $"{lab.SourceHost}/{repository}:1.0"), (missing.Kind, missing.ReferrerDigest, missing.Source));
        Assert.DoesNotContain(lab.DestinationProxy.Requests, r => r.Method == "GET" && r.PathAndQuery.Contains("/manifests/"));
        // Without -IncludeReferrers nothing is said about them.
        Assert.Empty((await CompareAsync(request with { IncludeReferrers = false }, engine)).Differences);
    }

    [Fact]
    public async Task Progress_counts_repositories_to_the_end_and_cancellation_stops_a_slow_comparison()
    {
        lab.Reset();
        using var engine = CopyLabFixture.NewEngine();
        var root = lab.Unique("parity-progress");
        foreach (var name in new[] { "a", "b", "c" }) await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/{name}", "1.0");
        var request = new ParityRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/mirror") { ThrottleLimit = 2 };
        var reports = new ConcurrentQueue<OperationProgress>();

        var summary = await new ParityChecker(engine).CompareAsync(request, new SynchronousProgress(reports.Enqueue), _ => { }, null, default);

        Assert.Equal(3, summary.MissingAtDestination);
        var last = reports.Last();
        Assert.True(last.IsComplete);
        Assert.Equal((3L, 3L), (last.Completed, last.Total));
        Assert.Contains(reports, r => r.Status.StartsWith("Compared 1 of 3 repositories", StringComparison.Ordinal));

        lab.DestinationProxy.Inject(FaultRule.Slow("/tags/list$", TimeSpan.FromSeconds(20), times: int.MaxValue));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ParityChecker(engine).CompareAsync(request, null, _ => { }, null, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the cancelled comparison took {clock.Elapsed}");
        lab.DestinationProxy.ClearFaults();
    }

    [Fact]
    public async Task A_whole_registry_is_compared_through_its_catalog_and_an_unlistable_catalog_is_reported()
    {
        lab.Reset();
        using var engine = CopyLabFixture.NewEngine();
        // A registry of its own, so that its catalog holds exactly these repositories.
        await using var source = await DistributionRegistry.StartAsync();
        await LabContent.PushImageAsync(source.Endpoint, "team/api", "1.0");
        await LabContent.PushImageAsync(source.Endpoint, "team/web", "1.0");
        var prefix = lab.Unique("whole");
        var (copy, _) = await lab.CopyAsync(new CopyRequest([$"{source.Host}/team/api"], $"{lab.DestinationHost}/{prefix}"), engine);
        Assert.Equal(1, copy.Copied);

        var whole = await CompareAsync(new ParityRequest([source.Host], $"{lab.DestinationHost}/{prefix}"), engine);

        Assert.Equal((ParityDifferenceKind.MissingAtDestination, $"{source.Host}/team/web:1.0"), (Assert.Single(whole.Differences).Kind, whole.Differences[0].Source));
        Assert.Equal((2, 2, 1), (whole.Summary.RepositoriesCompared, whole.Summary.TagsCompared, whole.Summary.Equal));

        lab.SourceProxy.Inject(FaultRule.ServerError("^/v2/_catalog$", times: int.MaxValue));
        var unlistable = await CompareAsync(new ParityRequest([lab.SourceHost], $"{lab.DestinationHost}/{prefix}"), engine);
        var finding = Assert.Single(unlistable.Differences);
        Assert.Equal((ParityDifferenceKind.SourceUnreadable, lab.SourceHost), (finding.Kind, finding.Source));
        Assert.Equal(0, unlistable.Summary.RepositoriesCompared);
        lab.SourceProxy.ClearFaults();
    }

    [Fact]
    public async Task A_repository_only_at_the_destination_under_the_mapped_prefix_is_reported_extra_from_its_catalog()
    {
        lab.Reset();
        using var engine = CopyLabFixture.NewEngine();
        var root = lab.Unique("extrarepo");
        await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/app", "1.0");
        var destination = $"{lab.DestinationHost}/mirror";
        var (copy, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/*"], destination), engine);
        Assert.Equal(0, copy.Failed);
        await LabContent.PushImageAsync(lab.DestinationEndpoint, $"mirror/{root}/ghost", "1.0");
        // Beside the mapped prefix, not under it: another source's business.
        await LabContent.PushImageAsync(lab.DestinationEndpoint, $"mirror/{root}x/app", "1.0");

        var (summary, differences, failures) = await CompareAsync(new ParityRequest([$"{lab.SourceHost}/{root}/*"], destination), engine);

        Assert.Empty(failures);
        var extra = Assert.Single(differences);
        Assert.Equal((ParityDifferenceKind.ExtraAtDestination, $"mirror/{root}/ghost", ""), (extra.Kind, extra.DestinationRepository, extra.Tag));
        Assert.Equal((1, 1, 1), (summary.ExtraAtDestination, summary.RepositoriesCompared, summary.Equal));
        // A single repository names no prefix: nothing at the destination is extra to it.
        var single = await CompareAsync(new ParityRequest([$"{lab.SourceHost}/{root}/app"], destination), engine);
        Assert.Empty(single.Differences);
    }

    /// <summary>Progress reported on the reporting thread (Progress&lt;T&gt; would post to the thread pool and race the assertions).</summary>
    private sealed class SynchronousProgress(Action<OperationProgress> report) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value) => report(value);
    }
}
