using System.Text.RegularExpressions;
using HarborOps.Engine.Migration;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// How many requests a copy costs, counted by kind at both fault proxies for the benchmark's corpus shape (scaled
/// down), so that a change that adds round trips fails here rather than only showing up as a slower benchmark. The
/// budgets are exact: every request a copy makes is one the protocol needs.
/// </summary>
[Collection(CopyLabCollection.Name)]
public sealed class CopyRequestBudgetTests(CopyLabFixture lab, ITestOutputHelper output)
{
    /// <summary>The bench's shape (every 3rd tag multi-arch, every 2nd signed, every 4th with an SBOM) at 4 x 12 tags.</summary>
    private static LabCorpusOptions Shape(string root, bool referrerArtifacts) => new()
    {
        RootPrefix = root, Repositories = 4, TagsPerRepository = 12, BaseImages = 2, BaseLayersPerImage = 3, ReferrerArtifacts = referrerArtifacts,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cold_copy_costs_only_the_transfers_and_an_unchanged_rerun_one_destination_request_per_tag(bool referrerArtifacts)
    {
        lab.Reset();
        var root = lab.Unique(referrerArtifacts ? "budget-full" : "budget-cmp");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, Shape(root, referrerArtifacts));
        var repositories = corpus.Repositories.Count;
        lab.Reset();
        var request = new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/migrated") { ThrottleLimit = 8 };

        var (cold, _) = await lab.CopyAsync(request);
        var (coldSourceLog, coldDestinationLog) = (lab.SourceProxy.Requests, lab.DestinationProxy.Requests);
        var coldSource = RequestCensus.Of(coldSourceLog);
        var coldDestination = RequestCensus.Of(coldDestinationLog);
        lab.Reset();
        var (again, _) = await lab.CopyAsync(request);
        var againSource = RequestCensus.Of(lab.SourceProxy.Requests);
        var againDestination = RequestCensus.Of(lab.DestinationProxy.Requests);

        output.WriteLine($"corpus: {corpus.Tags.Count} tags ({corpus.ImageTags} image tags), {repositories} repositories, {corpus.UniqueBlobs} unique blobs, {corpus.Referrers.Count} untagged referrers");
        output.WriteLine($"cold: {cold}; manifests written {cold.ManifestsWritten}, blobs copied {cold.BlobsCopied}; requests in flight on average: source {InFlight(coldSourceLog):0.0}, destination {InFlight(coldDestinationLog):0.0}");
        output.WriteLine(coldSource.Table("cold, source", cold.Tags));
        output.WriteLine(coldDestination.Table("cold, destination", cold.Tags));
        output.WriteLine(againSource.Table("unchanged, source", again.Tags));
        output.WriteLine(againDestination.Table("unchanged, destination", again.Tags));

        Assert.Equal(0, cold.Failed);
        Assert.Equal(corpus.Tags.Count, cold.Copied);
        Assert.Equal(0, again.Failed);
        Assert.Equal(corpus.Tags.Count, again.Skipped);

        // Cold, destination: per blob one upload start and one PUT (or one mount), per manifest one PUT, per repository
        // one tag list; no HEAD at all (the repositories are new), no upload session cancelled.
        Assert.Equal(0, coldDestination.Starting("HEAD"));
        Assert.Equal(0, coldDestination.Starting("DELETE"));
        Assert.Equal(cold.BlobsCopied, coldDestination["POST upload start, unless present (202)"]);
        Assert.Equal(cold.BlobsCopied, coldDestination["PUT upload session"]);
        Assert.Equal(cold.BlobsMounted, coldDestination["POST upload mount (mounted)"]);
        Assert.Equal(cold.ManifestsWritten, coldDestination.Starting("PUT manifest"));
        Assert.Equal(2 * cold.BlobsCopied + cold.BlobsMounted + cold.ManifestsWritten + repositories, coldDestination.Total);
        // Cold, source: every blob and manifest read once, one tag list per repository, the catalog, and one probe of
        // the referrers API for the whole registry (Distribution has none; the tag list names the referrer tags).
        Assert.Equal(cold.BlobsCopied, coldSource["GET blob"]);
        Assert.Equal(cold.ManifestsWritten, coldSource.Starting("GET manifest"));
        Assert.Equal(1, coldSource.Starting("GET referrers"));
        Assert.Equal(cold.BlobsCopied + cold.ManifestsWritten + repositories + 2, coldSource.Total);

        // Unchanged: one HEAD per tag on each side, one tag list per repository, and on the source the catalog and the
        // one referrers probe; nothing is read, written or probed per digest.
        Assert.Equal(again.Tags, againDestination["HEAD manifest by tag"] + againDestination["HEAD manifest by cosign tag"] + againDestination["HEAD manifest by referrers tag"]);
        Assert.Equal(again.Tags + repositories, againDestination.Total);
        Assert.Equal(again.Tags + repositories + 2, againSource.Total);
    }

    [Fact]
    public async Task New_tag_into_an_existing_repository_costs_no_blob_HEAD()
    {
        lab.Reset();
        var repository = lab.Unique("budget-incremental/app");
        await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        var request = new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/migrated");
        Assert.Equal(1, (await lab.CopyAsync(request)).Summary.Copied);
        var added = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "2.0", new LabImageOptions { LayerCount = 2 });
        lab.Reset();

        var (summary, _) = await lab.CopyAsync(request);

        var census = RequestCensus.Of(lab.DestinationProxy.Requests);
        output.WriteLine(census.Table("new tag, destination", summary.Tags));
        Assert.Equal((1, 1), (summary.Copied, summary.Skipped));
        // The upload start says whether the repository has a blob already: no HEAD before it.
        Assert.Equal(0, census.Starting("HEAD blob"));
        Assert.Equal(added.BlobDigests.Count, census["POST upload start, unless present (202)"]);
        Assert.Equal(added.BlobDigests.Count, census["PUT upload session"]);
        // The tag list, the existing tag's HEAD, the blobs, the new tag's manifest.
        Assert.Equal(1 + 1 + 2 * added.BlobDigests.Count + 1, census.Total);
    }

    [Fact]
    public async Task Unchanged_rerun_with_Since_or_Platform_reads_no_manifest_or_config()
    {
        lab.Reset();
        var root = lab.Unique("budget-filtered");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions
        {
            RootPrefix = root, Repositories = 1, TagsPerRepository = 4, MultiArchEvery = 0, SignEvery = 0, SbomEvery = 0, PathPrefixes = [],
        });
        var source = $"{lab.SourceHost}/{corpus.Repositories[0]}";
        var bySince = new CopyRequest([source], $"{lab.DestinationHost}/migrated") { Since = DateTimeOffset.UnixEpoch };
        var byPlatform = new CopyRequest([source], $"{lab.DestinationHost}/migrated") { Platforms = ["linux/amd64"] };
        var (cold, _) = await lab.CopyAsync(bySince);
        Assert.Equal(4, cold.Copied);

        foreach (var request in new[] { bySince, byPlatform })
        {
            lab.Reset();
            var (again, results) = await lab.CopyAsync(request);
            var sourceCensus = RequestCensus.Of(lab.SourceProxy.Requests);
            var destinationCensus = RequestCensus.Of(lab.DestinationProxy.Requests);
            output.WriteLine(sourceCensus.Table("unchanged with a filter, source", again.Tags));

            Assert.Equal(4, again.Skipped);
            Assert.All(results, r => Assert.Equal("unchanged", r.Reason));
            Assert.Equal(0, sourceCensus.Starting("GET manifest") + sourceCensus.Starting("GET blob"));
            Assert.Equal(4, sourceCensus["HEAD manifest by tag"]);
            Assert.Equal(4 + 1, destinationCensus.Total);
        }
    }

    [Fact]
    public async Task Referrers_index_an_interrupted_run_did_not_write_is_written_by_the_next_run_and_then_read_once()
    {
        lab.Reset();
        lab.SourceProxy.EnableReferrersApi = true;
        var repository = lab.Unique("index-repair/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        // Only the referrers API knows these: Distribution at the destination finds them through the index alone.
        var sbom = await LabContent.PushReferrerAsync(lab.SourceEndpoint, image, LabCorpus.SbomArtifactType, updateReferrersTag: false);
        var attestation = await LabContent.PushReferrerAsync(lab.SourceEndpoint, image, "application/vnd.in-toto+json", updateReferrersTag: false);
        var destination = $"migrated/{repository}";
        var schemaTag = LabContent.ReferrersTagFor(image.Digest);
        var request = new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/migrated");
        // The first run writes the referrers and stops short of their index (as a killed process would).
        lab.DestinationProxy.Inject(FaultRule.ServerError($"^/v2/{Regex.Escape(destination)}/manifests/{schemaTag}$", 500, "PUT", times: int.MaxValue));

        var (first, firstResults) = await lab.CopyAsync(request);

        Assert.Equal(1, first.Failed);
        Assert.Contains("(referrers index)", Assert.Single(firstResults, r => r.Action == CopyAction.Failed).Source);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, sbom.Digest, sbom.Digest);
        Assert.DoesNotContain(schemaTag, await LabSkopeo.ListTagsAsync(lab.DestinationEndpoint, destination));

        lab.Reset();
        lab.SourceProxy.EnableReferrersApi = true;
        var (second, _) = await lab.CopyAsync(request);

        Assert.Equal(0, second.Failed);
        Assert.Equal(0, RequestCensus.Of(lab.DestinationProxy.Requests).Starting("PUT manifest by digest")); // the referrers were there
        Assert.Equal(new[] { attestation.Digest, sbom.Digest }.Order(StringComparer.Ordinal), (await IndexEntriesAsync(destination, schemaTag)).Order(StringComparer.Ordinal));

        lab.Reset();
        lab.SourceProxy.EnableReferrersApi = true;
        var (third, _) = await lab.CopyAsync(request);

        var census = RequestCensus.Of(lab.DestinationProxy.Requests);
        output.WriteLine(census.Table("unchanged, destination", third.Tags));
        Assert.Equal(0, third.Failed);
        Assert.Equal(0, census.Starting("PUT"));
        // The index is read once and vouches for the referrers it lists: no HEAD per referrer.
        Assert.Equal(1, census["GET manifest by referrers tag"]);
        Assert.Equal(0, census.Starting("HEAD manifest by digest"));
    }

    [Fact]
    public async Task A_destination_without_the_referrers_api_is_asked_once_per_run_although_many_subjects_need_the_answer_at_once()
    {
        lab.Reset();
        lab.SourceProxy.EnableReferrersApi = true;
        var root = lab.Unique("api-probe");
        // Referrers only the source's API knows: for each subject the copy must learn whether the destination has the
        // API (else it writes the tag-schema index), and the subjects of a run ask that at the same moment.
        for (var r = 0; r < 3; r++)
            for (var i = 0; i < 4; i++)
            {
                var image = await LabContent.PushImageAsync(lab.SourceEndpoint, $"{root}/app{r}", $"1.{i}");
                await LabContent.PushReferrerAsync(lab.SourceEndpoint, image, LabCorpus.SbomArtifactType, updateReferrersTag: false);
            }

        var (summary, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/migrated"));

        Assert.Equal(0, summary.Failed);
        Assert.Equal(12, summary.ReferrersCopied);
        var census = RequestCensus.Of(lab.DestinationProxy.Requests);
        output.WriteLine(census.Table("cold, destination", summary.Tags));
        Assert.Equal(1, census.Starting("GET referrers"));
        Assert.Equal(12, census.Starting("PUT manifest by referrers tag"));
    }

    private async Task<List<string>> IndexEntriesAsync(string repository, string tag)
    {
        using var index = System.Text.Json.JsonDocument.Parse(await LabSkopeo.RawManifestAsync(lab.DestinationEndpoint, repository, tag));
        return index.RootElement.GetProperty("manifests").EnumerateArray().Select(e => e.GetProperty("digest").GetString()!).ToList();
    }

    /// <summary>Time-weighted requests in flight between the first request's start and the last one's end.</summary>
    private static double InFlight(IReadOnlyList<ProxiedRequest> log)
    {
        if (log.Count == 0) return 0;
        var start = log.Min(r => r.StartedAt);
        var end = log.Max(r => r.StartedAt + r.Duration);
        var span = (end - start).TotalMilliseconds;
        return span <= 0 ? 0 : log.Sum(r => r.Duration.TotalMilliseconds) / span;
    }
}
