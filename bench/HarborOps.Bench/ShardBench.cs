using System.Diagnostics;
using System.Text;
using HarborOps.Engine.Scope;
using HarborOps.Lab;

namespace HarborOps.Bench;

/// <summary>
/// The copy where the network is the bottleneck, as between ACR and a Harbor in another network: both registries sit
/// behind the lab's fault proxy with a per-request latency and a per-connection bandwidth cap, so the local
/// registries' CPU no longer bounds the result. Measured in one run on one corpus, each method into a fresh
/// destination: 1, 2 and 4 shards as separate engine processes started together (-ShardCount/-ShardIndex), one
/// Copy-RegistryImage process, the per-tag skopeo copy loop and skopeo sync per repository. Bytes are counted at the
/// destination's proxy: what the shards uploaded more than once (a layer shared by repositories of different shards)
/// against the unique bytes.
/// </summary>
internal static class ShardBench
{
    // Skopeo-comparable (cosign legacy tags only, the lab's layer proportions): repositories sharing 4 base images, by
    // default 64 of them with 2 image tags each and their signature/SBOM tags. A hash split needs repositories to even
    // out: 16 of them split 5/4/5/2 over 4 shards (the largest shard bounds the speed-up at 3.2x), 64 split 19/8/19/18
    // (3.4x); the story's 140 repositories would split 40/30/33/37. Sized so the whole run, skopeo's loop included, takes minutes.
    private static LabCorpusOptions Corpus(Arguments arguments) => new()
    {
        Repositories = arguments.Int("--repositories", 64), TagsPerRepository = arguments.Int("--tags-per-repository", 2),
        BaseImages = 4, BaseLayersPerImage = 2, BaseLayerSize = 256 * 1024, AppLayerSize = 128 * 1024,
        ReferrerArtifacts = false, RootPrefix = "cmp",
    };

    private sealed record Row(string Method, TimeSpan Wall, int Verified, int Expected, string Note);

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var latency = TimeSpan.FromMilliseconds(arguments.Int("--latency-ms", 20));
        // 64 KiB/s per connection: at 256 KiB/s, 4 shards (32 connections) kept this machine's 2 cores 97 % busy with the
        // proxies, the registries and the shards, so CPU bounded the result, not the network. A 256 KiB layer taking 4 s
        // on one connection is also the proportion of a 50 MB layer on a 12 MB/s WAN connection.
        long bandwidth = arguments.Int("--bandwidth-kib", 64) * 1024L;
        var throttle = arguments.Int("--throttle", 8);
        var report = new StringBuilder();
        void Say(string line) { Console.WriteLine(line); report.AppendLine(line); }
        var cmdlet = CmdletHost.From(arguments);
        var shardEnvironment = ShardEnvironment(arguments);
        Say($"# HarborOps sharded copy, network-bound ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average at start {Bench.LoadAverage()})");
        Say($"both registries behind the lab proxy: {latency.TotalMilliseconds:0} ms per request, {bandwidth / 1024} KiB/s per connection and direction; throttle {throttle} per process");
        Say($"shard processes run as the image runs them: {(shardEnvironment.Count == 0 ? "no runtime settings" : string.Join(" ", shardEnvironment.Select(e => $"{e.Key}={e.Value}")))}");

        await using var source = await DistributionRegistry.StartAsync();
        var corpus = await LabCorpus.PushAsync(source.Endpoint, Corpus(arguments));
        await using var sourceProxy = Shape(await FaultProxy.StartAsync(source), latency, bandwidth);
        var expected = corpus.Tags.Select(t => (t.Repository, t.Tag, t.Digest)).ToList();
        Say($"corpus: {corpus.Repositories.Count} repositories, {corpus.ImageTags} image tags + {corpus.Tags.Count - corpus.ImageTags} signature/SBOM tags, {Bench.Mb(corpus.UniqueBlobBytes)} unique blob bytes");
        Say("");
        var rows = new List<Row>();

        // --shards 1,4,4,4 repeats a count (the machine's noise is about a second a run); the peers' ratios use the first of each.
        var shardCounts = (arguments.Value("--shards") ?? "1,2,4").Split(',').Select(c => int.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        foreach (var shards in shardCounts)
        {
            await using var destination = await DistributionRegistry.StartAsync();
            await using var proxy = Shape(await FaultProxy.StartAsync(destination), latency, bandwidth);
            var cpuBefore = Bench.CpuTicks();
            var clock = Stopwatch.StartNew();
            var launched = DateTimeOffset.UtcNow;
            var runs = await Task.WhenAll(Enumerable.Range(0, shards).Select(i => Bench.RunEngineAsync([$"{sourceProxy.Host}/cmp/"], $"{proxy.Host}/migrated", throttle,
                ["--shard-count", shards.ToString(), "--shard-index", i.ToString(), .. ShardOptions(arguments)], shardEnvironment)));
            var wall = clock.Elapsed;
            var busy = Bench.CpuBusyPercent(cpuBefore, Bench.CpuTicks());
            var failed = runs.Sum(r => r.Json.GetProperty("failed").GetInt32());
            var (uploaded, unique) = await UploadedBytesAsync(proxy);
            var duplicated = uploaded - unique;
            rows.Add(new Row($"{shards} shard{(shards == 1 ? "" : "s")} (engine processes)", wall, await Bench.VerifyAsync(destination.Host, "migrated", expected), expected.Count,
                $"{failed} failed; uploaded {Bench.Mb(uploaded)}, unique {Bench.Mb(unique)}, more than once {Bench.Mb(duplicated)} ({100.0 * duplicated / Math.Max(1, unique):0.0} % of unique); "
                + $"tags per shard {string.Join("/", runs.Select(r => r.Json.GetProperty("tags").GetInt32()))} "
                + $"(the largest shard bounds the speed-up at {runs.Sum(r => r.Json.GetProperty("tags").GetInt32()) / (double)Math.Max(1, runs.Max(r => r.Json.GetProperty("tags").GetInt32())):0.0}x); "
                + $"shards' wall {string.Join("/", runs.Select(r => $"{r.Wall.TotalSeconds:0.0}"))} s, moved {string.Join("/", runs.Select(r => $"{r.Json.GetProperty("bytes").GetInt64() / 1048576.0:0.0}"))} MiB, CPU {string.Join("/", runs.Select(r => $"{r.Json.GetProperty("cpuSeconds").GetDouble():0.0}"))} s; "
                + $"the machine's {Environment.ProcessorCount} cores {busy:0} % busy (registries, proxies and shards)"));
            Say(Line(rows[^1]));
            if (arguments.Flag("--timeline")) Timeline(proxy, shards, Say);
            if (arguments.Flag("--startup")) Startup(sourceProxy, proxy, launched, Say);
            if (arguments.Value("--dump") is { } dump) await DumpAsync(dump, $"{shards}-shards-{rows.Count}", sourceProxy, proxy, launched);
        }

        Row? product = null;
        if (cmdlet is not null)
        {
            await using var destination = await DistributionRegistry.StartAsync();
            await using var proxy = Shape(await FaultProxy.StartAsync(destination), latency, bandwidth);
            var (wall, processWall, json) = await cmdlet.CopyAsync($"{sourceProxy.Host}/cmp/", $"{proxy.Host}/migrated", throttle);
            product = new Row("Copy-RegistryImage (one pwsh)", processWall, await Bench.VerifyAsync(destination.Host, "migrated", expected), expected.Count,
                $"{json.GetProperty("failed").GetInt32()} failed; launch to exit, pwsh start-up included (Import-Module and copy alone {wall.TotalSeconds:0.00} s)");
            rows.Add(product);
            Say(Line(product));
        }

        if (arguments.Flag("--shards-only"))
        {
            Say($"load average now {Bench.LoadAverage()} (--shards-only: no peers measured)");
            return rows.All(r => r.Verified == r.Expected) ? 0 : 1;
        }

        await using (var destination = await DistributionRegistry.StartAsync())
        await using (var proxy = Shape(await FaultProxy.StartAsync(destination), latency, bandwidth))
        {
            var (wall, _) = await Bench.TimeProcessesAsync(corpus.Tags.Select(t => (IReadOnlyList<string>)Bench.SkopeoCopyArgs(sourceProxy.Host, proxy.Host, t.Repository, t.Tag)), parallel: 1);
            var (uploaded, _) = await UploadedBytesAsync(proxy);
            rows.Add(new Row("skopeo copy loop (per tag)", wall, await Bench.VerifyAsync(destination.Host, "migrated", expected), expected.Count, $"uploaded {Bench.Mb(uploaded)}"));
            Say(Line(rows[^1]));
        }

        await using (var destination = await DistributionRegistry.StartAsync())
        await using (var proxy = Shape(await FaultProxy.StartAsync(destination), latency, bandwidth))
        {
            var (wall, _) = await Bench.TimeProcessesAsync(corpus.Repositories.Select(r => (IReadOnlyList<string>)Bench.SkopeoSyncArgs(sourceProxy.Host, proxy.Host, r)), parallel: 1);
            var (uploaded, _) = await UploadedBytesAsync(proxy);
            rows.Add(new Row("skopeo sync (per repository)", wall, await Bench.VerifyAsync(destination.Host, "migrated", expected), expected.Count, $"uploaded {Bench.Mb(uploaded)}"));
            Say(Line(rows[^1]));
        }

        Say($"load average now {Bench.LoadAverage()}");
        Say("");
        var one = rows.First(r => r.Method.StartsWith("1 shard", StringComparison.Ordinal));
        var ours = product ?? one;
        void Ratio(string label, Row a, Row b, string target) => Say($"{label,-60} {a.Wall.TotalSeconds / b.Wall.TotalSeconds,6:0.00}x   ({target})");
        if (rows.FirstOrDefault(r => r.Method.StartsWith("2 shards", StringComparison.Ordinal)) is { } two) Ratio("1 shard / 2 shards", one, two, "for reference");
        Ratio("1 shard / 4 shards", one, rows.First(r => r.Method.StartsWith("4 shards", StringComparison.Ordinal)), "target >= 3");
        Ratio($"skopeo copy loop / {ours.Method}", rows.Single(r => r.Method.StartsWith("skopeo copy", StringComparison.Ordinal)), ours, "target >= 8");
        Ratio($"skopeo sync / {ours.Method}", rows.Single(r => r.Method.StartsWith("skopeo sync", StringComparison.Ordinal)), ours, "target >= 3");
        if (arguments.Value("--report") is { } path) await File.WriteAllTextAsync(path, report.ToString());
        return rows.All(r => r.Verified == r.Expected) ? 0 : 1;
    }

    /// <summary>
    /// Where the time went (--timeline): per shard, per second from the first request, the blob upload requests in flight
    /// at the destination's proxy (throttle 8 is a full shard), read from the proxy's log; a shard is known by the hash of
    /// its repository's path.
    /// </summary>
    private static void Timeline(FaultProxy proxy, int shards, Action<string> say)
    {
        var uploads = proxy.Requests.Where(r => r.RequestBodyBytes > 0 && r.PathAndQuery.StartsWith("/v2/migrated/", StringComparison.Ordinal)
            && r.PathAndQuery.Contains("/blobs/uploads/", StringComparison.Ordinal)).ToList();
        if (uploads.Count == 0) return;
        var start = proxy.Requests.Min(r => r.StartedAt);
        var seconds = (int)Math.Ceiling((proxy.Requests.Max(r => r.StartedAt + r.Duration) - start).TotalSeconds);
        // The corpus's base layers are its only blobs of BaseLayerSize (256 KiB): the ones shards share.
        foreach (var (label, shared) in new[] { ("base layers", true), ("other blobs", false) })
            for (var shard = 0; shard < shards; shard++)
            {
                var busy = new double[seconds];
                foreach (var upload in uploads)
                {
                    var repository = upload.PathAndQuery["/v2/migrated/".Length..upload.PathAndQuery.IndexOf("/blobs/", StringComparison.Ordinal)];
                    if (ShardPartition.ShardOf(repository, shards) != shard || (upload.RequestBodyBytes >= 200 * 1024) != shared) continue;
                    var from = (upload.StartedAt - start).TotalSeconds;
                    var to = from + upload.Duration.TotalSeconds;
                    for (var second = (int)from; second < seconds && second < to; second++)
                        busy[second] += Math.Min(to, second + 1) - Math.Max(from, second);
                }
                say($"  shard {shard} {label} uploads in flight per second: {string.Join(" ", busy.Select(b => b.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");
            }
    }

    /// <summary>
    /// Where a run's first seconds went (--startup): the source requests started per 250 ms from the launch, what they
    /// were in the first 3 s, when the first destination request and the first blob upload came, and the median source
    /// request's duration (it grows when the lab's source side, on the same cores, serves many shards at once).
    /// </summary>
    private static void Startup(FaultProxy sourceProxy, FaultProxy destinationProxy, DateTimeOffset launched, Action<string> say)
    {
        var source = sourceProxy.Requests.Where(r => r.StartedAt >= launched).ToList();
        if (source.Count == 0) return;
        double Ms(DateTimeOffset at) => (at - launched).TotalMilliseconds;
        static string Kind(string path) => path.Contains("/tags/list", StringComparison.Ordinal) ? "tag lists"
            : path.Contains("/manifests/", StringComparison.Ordinal) ? "manifests"
            : path.Contains("/blobs/", StringComparison.Ordinal) ? "blobs" : "other";
        say($"  source requests started per 250 ms: {string.Join(" ", Enumerable.Range(0, 16).Select(q => source.Count(r => Ms(r.StartedAt) >= q * 250 && Ms(r.StartedAt) < (q + 1) * 250)))}");
        say($"  source requests in the first 3 s: {string.Join(", ", source.Where(r => Ms(r.StartedAt) < 3000).GroupBy(r => Kind(r.PathAndQuery)).Select(g => $"{g.Count()} {g.Key}"))}");
        var uploads = destinationProxy.Requests.Where(r => r.PathAndQuery.Contains("/blobs/uploads/", StringComparison.Ordinal)).ToList();
        static string DestinationKind(ProxiedRequest r) => $"{r.Method} {(r.PathAndQuery.Contains("/blobs/uploads/", StringComparison.Ordinal) ? "upload" : r.PathAndQuery.Contains("/blobs/", StringComparison.Ordinal) ? "blob" : r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal) ? "manifest" : "other")}";
        say($"  destination requests: {string.Join(", ", destinationProxy.Requests.GroupBy(DestinationKind).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()} {g.Key} ({g.Sum(r => r.Duration.TotalSeconds):0.0} s)"))}; source requests: {string.Join(", ", source.GroupBy(r => Kind(r.PathAndQuery)).Select(g => $"{g.Count()} {g.Key}"))}");
        say($"  first destination request at {Ms(destinationProxy.Requests.Min(r => r.StartedAt)):0} ms, first blob upload at {(uploads.Count == 0 ? "-" : Ms(uploads.Min(r => r.StartedAt)).ToString("0"))} ms; "
            + $"median source request {source.Select(r => r.Duration.TotalMilliseconds).Order().ElementAt(source.Count / 2):0} ms");
    }

    /// <summary>
    /// Every request both proxies saw during one run (--dump DIR), one tab-separated line each, for a closer look than
    /// --timeline gives: side, method, path, status, start and duration in ms from the launch, body bytes each way.
    /// </summary>
    private static async Task DumpAsync(string directory, string name, FaultProxy sourceProxy, FaultProxy destinationProxy, DateTimeOffset launched)
    {
        await Task.Delay(300); // a request is logged once its response is sent
        Directory.CreateDirectory(directory);
        var lines = new List<string> { "side\tmethod\tpath\tstatus\tstart_ms\tduration_ms\trequest_bytes\tresponse_bytes" };
        foreach (var (side, proxy) in new[] { ("source", sourceProxy), ("destination", destinationProxy) })
            lines.AddRange(proxy.Requests.Where(r => r.StartedAt >= launched).Select(r => string.Join('\t', side, r.Method, r.PathAndQuery, r.StatusCode,
                ((r.StartedAt - launched).TotalMilliseconds).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture),
                r.Duration.TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), r.RequestBodyBytes, r.ResponseBodyBytes)));
        await File.WriteAllLinesAsync(Path.Combine(directory, name + ".tsv"), lines);
    }

    /// <summary>
    /// --shared-blob-wait 0 shows what the shards' coordination costs and saves (each shard then uploads what it needs);
    /// --shard-by tag splits by tag instead of by repository (--timeline still attributes uploads by repository).
    /// </summary>
    private static string[] ShardOptions(Arguments arguments) =>
        [.. arguments.Value("--shared-blob-wait") is { } wait ? ["--shared-blob-wait", wait] : Array.Empty<string>(),
         .. arguments.Value("--shard-by") is { } by ? ["--shard-by", by] : Array.Empty<string>()];

    /// <summary>
    /// The .NET runtime settings the migration image sets (the <c>DOTNET_</c> variables of deploy/container/Dockerfile's
    /// ENV lines; telemetry aside), so the shard processes run as the Job's pods do; <c>--shard-env NAME=VALUE</c> adds
    /// or overrides one for an experiment (an empty value removes it).
    /// </summary>
    private static Dictionary<string, string> ShardEnvironment(Arguments arguments)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var dockerfile = Path.Combine(directory.FullName, "deploy", "container", "Dockerfile");
            if (!File.Exists(dockerfile)) continue;
            var text = File.ReadAllText(dockerfile).Replace("\\\n", " ", StringComparison.Ordinal);
            foreach (var line in text.Split('\n').Where(l => l.StartsWith("ENV ", StringComparison.Ordinal)))
                foreach (System.Text.RegularExpressions.Match match in System.Text.RegularExpressions.Regex.Matches(line, @"\b(DOTNET_\w+)=(\S+)"))
                    if (match.Groups[1].Value != "DOTNET_CLI_TELEMETRY_OPTOUT") environment[match.Groups[1].Value] = match.Groups[2].Value;
            break;
        }
        foreach (var setting in arguments.Values("--shard-env"))
        {
            var (name, value) = (setting.Split('=', 2)[0], setting.Contains('=') ? setting.Split('=', 2)[1] : "");
            if (value.Length == 0) environment.Remove(name);
            else environment[name] = value;
        }
        return environment;
    }

    private static FaultProxy Shape(FaultProxy proxy, TimeSpan latency, long bandwidth)
    {
        proxy.Latency = latency;
        proxy.BandwidthPerConnection = bandwidth;
        return proxy;
    }

    private static string Line(Row row) =>
        $"{row.Method,-32} {row.Wall.TotalSeconds,8:0.00} s   verified {row.Verified}/{row.Expected}   {row.Note}";

    /// <summary>
    /// Blob bytes the destination's proxy saw committed: every upload session's body bytes (POST, PATCHes and the final
    /// PUT, grouped by the session's path) whose PUT named a digest and was answered 201; unique counts each digest once.
    /// </summary>
    private static async Task<(long Uploaded, long Unique)> UploadedBytesAsync(FaultProxy proxy)
    {
        await Task.Delay(300); // a request is logged once its response is sent
        var sessions = proxy.Requests.Where(r => r.PathAndQuery.Contains("/blobs/uploads/", StringComparison.Ordinal))
            .GroupBy(r => r.PathAndQuery.Split('?')[0], StringComparer.Ordinal);
        long uploaded = 0;
        var perDigest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var session in sessions)
        {
            var commit = session.FirstOrDefault(r => r is { Method: "PUT", StatusCode: 201 } && r.PathAndQuery.Contains("digest=", StringComparison.Ordinal));
            if (commit is null) continue;
            var digest = commit.PathAndQuery.Split("digest=", 2)[1].Split('&')[0];
            var bytes = session.Sum(r => r.RequestBodyBytes);
            uploaded += bytes;
            perDigest.TryAdd(Uri.UnescapeDataString(digest), bytes);
        }
        return (uploaded, perDigest.Values.Sum());
    }
}
