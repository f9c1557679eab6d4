using HarborOps.Engine.Migration;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// How many requests a copy costs, counted at both fault proxies for the benchmark's corpus shape (scaled down), so
/// that a change that adds round trips fails here rather than only showing up as a slower benchmark.
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
    public async Task Census(bool referrerArtifacts)
    {
        lab.Reset();
        var root = lab.Unique(referrerArtifacts ? "census-full" : "census-cmp");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, Shape(root, referrerArtifacts));
        lab.Reset();
        var request = new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/migrated") { ThrottleLimit = 8 };

        var (cold, _) = await lab.CopyAsync(request);
        Assert.Equal(0, cold.Failed);
        var (coldSourceLog, coldDestinationLog) = (lab.SourceProxy.Requests, lab.DestinationProxy.Requests);
        var coldSource = RequestCensus.Of(coldSourceLog);
        var coldDestination = RequestCensus.Of(coldDestinationLog);
        lab.Reset();
        var (again, _) = await lab.CopyAsync(request);
        Assert.Equal(0, again.Failed);
        var againSource = RequestCensus.Of(lab.SourceProxy.Requests);
        var againDestination = RequestCensus.Of(lab.DestinationProxy.Requests);

        output.WriteLine($"corpus: {corpus.Tags.Count} tags ({corpus.ImageTags} image tags), {corpus.Repositories.Count} repositories, {corpus.UniqueBlobs} unique blobs, {corpus.Referrers.Count} untagged referrers; summary {cold}");
        output.WriteLine($"cold: {cold.Elapsed.TotalSeconds:0.00} s; requests in flight on average: source {InFlight(coldSourceLog):0.0}, destination {InFlight(coldDestinationLog):0.0}");
        output.WriteLine(coldSource.Table("cold, source", cold.Tags));
        output.WriteLine(coldDestination.Table("cold, destination", cold.Tags));
        output.WriteLine(againSource.Table("unchanged, source", again.Tags));
        output.WriteLine(againDestination.Table("unchanged, destination", again.Tags));
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
