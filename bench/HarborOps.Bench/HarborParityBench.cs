using System.Diagnostics;
using System.Net;
using System.Text;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;
using HarborOps.Lab;
using HarborOps.Lab.Harbor;

namespace HarborOps.Bench;

/// <summary>
/// Parity benchmark, Harbor destination (issue 15, part 4): the same comparison twice against the Harbor emulator, once
/// as for any registry (a tag list and a HEAD per tag) and once reading Harbor's artifact listing (100 artifacts a page),
/// with the requests the destination saw (a fault proxy in front of Harbor counts them) and the ratio of wall times.
/// </summary>
internal static class HarborParityBench
{
    /// <summary>The issue's bound for the story's ~2,400 tags in one project: 24 pages of artifacts and room to spare.</summary>
    private const int RequestTarget = 60;

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var size = arguments.Value("--size") ?? "large";
        var throttle = arguments.Int("--throttle", 8);
        var report = new StringBuilder();
        void Say(string line) { Console.WriteLine(line); report.AppendLine(line); }
        Say($"# HarborOps parity benchmark, Harbor destination ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, throttle {throttle})");

        await using var source = await DistributionRegistry.StartAsync();
        await using var harbor = await HarborEmulator.StartAsync();
        var admin = new NetworkCredential(harbor.AdminUser, harbor.AdminPassword);
        var shape = Bench.Shape(size, referrerArtifacts: false, "cmp") with { BaseLayerSize = 4096, AppLayerSize = 1024 };
        var clock = Stopwatch.StartNew();
        var corpus = await LabCorpus.PushAsync(source.Endpoint, shape);
        using (var copyEngine = NewEngine())
        {
            var copy = await new ImageCopier(copyEngine).CopyAsync(new CopyRequest([$"{source.Host}/cmp/*"], $"{harbor.Host}/migrated")
            {
                ThrottleLimit = throttle,
                DestinationCredential = admin,
                Harbor = new HarborDestination(new HarborConnection(harbor.BaseUri, admin)) { CreateMissingProjects = true },
            }, null, null, CancellationToken.None);
            if (copy.Failed > 0) throw new InvalidOperationException($"the copy before the comparison failed: {string.Join("; ", copy.Failures)}");
        }
        var imageTags = corpus.Tags.Count(t => !t.IsReferrerTag);
        Say($"seeded and copied into Harbor project 'migrated' in {clock.Elapsed.TotalSeconds:0} s: {corpus.Repositories.Count} repositories, {imageTags} image tags");

        // Harbor's database has its artifact rows from the pushes; the emulator derives them on the first listing after a
        // push (a manifest read per tag). One untimed listing, straight to the emulator, so neither way pays for that.
        using (var warm = new HttpClient())
        using (var warmListing = new HttpRequestMessage(HttpMethod.Get, new Uri(harbor.BaseUri, "api/v2.0/projects/migrated/artifacts?page_size=1")))
        {
            warmListing.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{admin.UserName}:{admin.Password}")));
            warmListing.Headers.Add("X-Request-Id", Guid.NewGuid().ToString());
            (await warm.SendAsync(warmListing)).EnsureSuccessStatusCode();
        }

        // The proxy stands where Harbor is, for both the registry API and Harbor's API: it sees every destination request.
        await using var proxy = await FaultProxy.StartAsync(harbor.BaseUri);
        var throughProxy = new HarborConnection(proxy.BaseUri, admin);
        var heads = await CompareAsync("HEAD per tag", null);
        var listing = await CompareAsync("Harbor artifact listing", throughProxy);
        Say("");
        Say($"HEAD per tag / Harbor listing: wall time {heads.Elapsed.TotalSeconds / listing.Elapsed.TotalSeconds:0.0}x; destination requests {heads.Requests} vs {listing.Requests} (target <= {RequestTarget})");
        if (arguments.Value("--report") is { } path) await File.WriteAllTextAsync(path, report.ToString());
        return listing.Requests <= RequestTarget && listing.Differences == 0 && heads.Differences == 0 ? 0 : 1;

        async Task<(TimeSpan Elapsed, int Requests, int Differences)> CompareAsync(string way, HarborConnection? api)
        {
            proxy.ClearRequests();
            var differences = 0;
            var watch = Stopwatch.StartNew();
            using var engine = NewEngine();
            var summary = await new ParityChecker(engine).CompareAsync(
                new ParityRequest([$"{source.Host}/cmp/*"], $"{proxy.Host}/migrated") { ThrottleLimit = throttle, DestinationCredential = admin, Harbor = api, DetectHarbor = api is not null },
                null, _ => Interlocked.Increment(ref differences), failure => throw failure, CancellationToken.None);
            var elapsed = watch.Elapsed;
            if (summary.TagsCompared != imageTags) throw new InvalidOperationException($"{way}: compared {summary.TagsCompared} tags, expected {imageTags}");
            var requests = await SettledCountAsync(proxy);
            var apiRequests = proxy.Requests.Count(r => r.PathAndQuery.StartsWith("/api/", StringComparison.Ordinal));
            Say($"{way,-24} {elapsed.TotalSeconds,8:0.00} s  {summary.TagsCompared} tags, {differences} differences; destination requests {requests} ({apiRequests} to Harbor's API, engine's count {summary.DestinationRequests})");
            return (elapsed, requests, differences);
        }
    }

    private static RegistryEngine NewEngine() => new(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/config.json" });

    /// <summary>Requests the proxy saw; it logs a request after answering it, so the last ones get a moment.</summary>
    private static async Task<int> SettledCountAsync(FaultProxy proxy)
    {
        var last = -1;
        for (var i = 0; i < 50 && proxy.Requests.Count != last; i++)
        {
            last = proxy.Requests.Count;
            await Task.Delay(50);
        }
        return last;
    }
}
