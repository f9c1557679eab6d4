using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab;

namespace HarborOps.Bench;

/// <summary>
/// Parity benchmark: Compare-RegistryParity's engine against a skopeo loop doing the same check (list each repository's
/// tags on both sides, then `skopeo inspect --raw` each image tag on both sides and compare the digests), on the same
/// source and destination, each behind a fault proxy that counts the requests.
/// </summary>
internal static class ParityBench
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var size = arguments.Value("--size") ?? "large";
        var throttle = arguments.Int("--throttle", 8);
        var report = new StringBuilder();
        void Say(string line) { Console.WriteLine(line); report.AppendLine(line); }
        Say($"# HarborOps parity benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, throttle {throttle})");

        await using var source = await DistributionRegistry.StartAsync();
        await using var destination = await DistributionRegistry.StartAsync();
        // The corpus shape (repositories, tags, multi-arch, signatures) is what parity's cost depends on, not layer bytes:
        // small layers keep the seeding and the copy short.
        var shape = Bench.Shape(size, referrerArtifacts: false, "cmp") with { BaseLayerSize = 4096, AppLayerSize = 1024 };
        var clock = Stopwatch.StartNew();
        var corpus = await LabCorpus.PushAsync(source.Endpoint, shape);
        using (var copyEngine = NewEngine())
        {
            var copy = await new ImageCopier(copyEngine).CopyAsync(new CopyRequest([$"{source.Host}/cmp/*"], $"{destination.Host}/migrated") { ThrottleLimit = throttle },
                null, null, CancellationToken.None);
            if (copy.Failed > 0) throw new InvalidOperationException($"the copy before the comparison failed: {string.Join("; ", copy.Failures)}");
        }
        var imageTags = corpus.Tags.Where(t => !t.IsReferrerTag).ToList();
        Say($"seeded and copied in {clock.Elapsed.TotalSeconds:0} s: {corpus.Repositories.Count} repositories, {imageTags.Count} image tags + {corpus.Tags.Count - imageTags.Count} signature/SBOM tags");

        await using var sourceProxy = await FaultProxy.StartAsync(source);
        await using var destinationProxy = await FaultProxy.StartAsync(destination);

        Say($"load average before HarborOps: {LoadAverages()}");
        sourceProxy.ClearRequests();
        destinationProxy.ClearRequests();
        var differences = 0;
        clock.Restart();
        using (var engine = NewEngine())
        {
            var summary = await new ParityChecker(engine).CompareAsync(
                new ParityRequest([$"{sourceProxy.Host}/cmp/*"], $"{destinationProxy.Host}/migrated") { ThrottleLimit = throttle },
                null, _ => Interlocked.Increment(ref differences), failure => throw failure, CancellationToken.None);
            if (summary.TagsCompared != imageTags.Count) throw new InvalidOperationException($"HarborOps compared {summary.TagsCompared} tags, expected {imageTags.Count}");
        }
        var ours = clock.Elapsed;
        var (oursSource, oursDestination, oursDestinationGets) = await CountAsync(sourceProxy, destinationProxy);
        Say($"HarborOps parity      {ours.TotalSeconds,8:0.00} s  {imageTags.Count} tags, {differences} differences; requests: source {oursSource}, destination {oursDestination} (manifest GETs at the destination: {oursDestinationGets})");

        Say($"load average before the skopeo loop: {LoadAverages()}");
        sourceProxy.ClearRequests();
        destinationProxy.ClearRequests();
        clock.Restart();
        var loopDifferences = await SkopeoLoopAsync(sourceProxy.Host, destinationProxy.Host, corpus.Repositories, imageTags);
        var loop = clock.Elapsed;
        var (loopSource, loopDestination, loopDestinationGets) = await CountAsync(sourceProxy, destinationProxy);
        Say($"skopeo inspect loop   {loop.TotalSeconds,8:0.00} s  {imageTags.Count} tags, {loopDifferences} differences; requests: source {loopSource}, destination {loopDestination} (manifest GETs at the destination: {loopDestinationGets})");
        Say($"load average after: {LoadAverages()}");
        Say("");
        Say($"skopeo loop / HarborOps: {loop.TotalSeconds / ours.TotalSeconds:0.0}x (target >= 10); requests {loopSource + loopDestination} vs {oursSource + oursDestination}");
        if (arguments.Value("--report") is { } path) await File.WriteAllTextAsync(path, report.ToString());
        return differences == 0 && loopDifferences == 0 ? 0 : 1;
    }

    private static RegistryEngine NewEngine() => new(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/config.json" });

    private static string LoadAverages() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Requests each proxy saw (the /v2/ pings included: they are requests too), and manifest GETs at the destination.</summary>
    private static async Task<(int Source, int Destination, int DestinationManifestGets)> CountAsync(FaultProxy source, FaultProxy destination)
    {
        // A proxy logs a request after answering it: give the last ones a moment.
        var last = -1;
        for (var i = 0; i < 50 && source.Requests.Count + destination.Requests.Count != last; i++)
        {
            last = source.Requests.Count + destination.Requests.Count;
            await Task.Delay(50);
        }
        var gets = destination.Requests.Count(r => r.Method == "GET" && r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal));
        return (source.Requests.Count, destination.Requests.Count, gets);
    }

    /// <summary>
    /// The same check with skopeo, one process after another: each repository's tag list on both sides (to find missing
    /// and extra tags), then each image tag's raw manifest on both sides, compared by digest.
    /// </summary>
    private static async Task<int> SkopeoLoopAsync(string source, string destination, IReadOnlyList<string> repositories, IReadOnlyList<LabCorpusTag> tags)
    {
        var differences = 0;
        foreach (var repository in repositories)
        {
            await SkopeoAsync(["list-tags", "--tls-verify=false", $"docker://{source}/{repository}"]);
            await SkopeoAsync(["list-tags", "--tls-verify=false", $"docker://{destination}/migrated/{repository}"]);
        }
        foreach (var tag in tags)
        {
            var here = Digest(await SkopeoAsync(["inspect", "--raw", "--tls-verify=false", $"docker://{source}/{tag.Repository}:{tag.Tag}"]));
            var there = Digest(await SkopeoAsync(["inspect", "--raw", "--tls-verify=false", $"docker://{destination}/migrated/{tag.Repository}:{tag.Tag}"]));
            if (here != there) differences++;
        }
        return differences;
    }

    private static async Task<string> SkopeoAsync(IReadOnlyList<string> arguments)
    {
        var (exit, stdout, stderr) = await Bench.RunProcessAsync("skopeo", arguments);
        if (exit != 0) throw new InvalidOperationException($"skopeo {string.Join(' ', arguments)} failed: {stderr}");
        return stdout;
    }

    // skopeo prints the raw manifest bytes; Console-style decoding keeps them as they were (the lab's manifests are ASCII JSON).
    private static string Digest(string raw) => "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(raw))).ToLowerInvariant();
}
