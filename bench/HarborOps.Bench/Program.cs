using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HarborOps.Bench;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;
using HarborOps.Lab;

// HarborOps copy benchmark. Commands:
//   run  [--size small|large|both|memory] [--throttle N] [--skip-loop] [--skip-memory] [--report file.md] [--module HarborOps.psd1 --pwsh CMD [--pwsh ARG]]
//   copy --source S [--source S2] --destination D [--throttle N] [--journal F] [--warmup-destination W]   (one copy in this process; prints JSON)
//   seed --registry host:port [--user U --password P] [--size demo|small|large] [--root prefix] [--comparable]   (--comparable: cosign legacy tags only, the variant skopeo copies)
//   floor --source host:port --blobs list.json --destination host:port [--throttle N]   (the raw floor as a process of its own; prints JSON)
//   floor --source host:port --prefix P --out list.json                                  (writes that list, not timed)
//   parity [--size large|small] [--throttle N] [--report file.md]   (parity engine vs a skopeo inspect loop)
//   parity --harbor [--size large|small] [--throttle N] [--report file.md]   (Harbor destination: HEAD per tag vs Harbor's artifact listing)
//   shards [--latency-ms 20] [--bandwidth-kib 64] [--throttle N] [--repositories 64] [--tags-per-repository 2] [--shards 1,2,4] [--shards-only] [--shard-env NAME=VALUE] [--shared-blob-wait 0] [--shard-by tag] [--timeline] [--startup] [--report file.md] [--module ... --pwsh ...]   (network-bound: 1/2/4 shards, skopeo through the same proxies)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var arguments = new Arguments(args);
try
{
    return arguments.Command switch
    {
        "run" => await Bench.RunAsync(arguments),
        "copy" => await Bench.CopyInProcessAsync(arguments),
        "seed" => await Bench.SeedAsync(arguments),
        "parity" => arguments.Flag("--harbor") ? await HarborParityBench.RunAsync(arguments) : await ParityBench.RunAsync(arguments),
        "shards" => await ShardBench.RunAsync(arguments),
        "floor" => await RawFloor.RunAloneAsync(arguments),
        _ => Usage(),
    };
}
catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: HarborOps.Bench run [--size small|large|both|memory] [--throttle N] [--skip-loop] [--skip-memory] [--report file.md] [--module HarborOps.psd1 --pwsh CMD [--pwsh ARG]]");
    Console.Error.WriteLine("       HarborOps.Bench copy --source S --destination D [--throttle N] [--journal F] [--warmup-destination W]");
    Console.Error.WriteLine("       HarborOps.Bench seed --registry host:port [--user U --password P] [--size demo|small|large] [--root prefix] [--comparable]");
    Console.Error.WriteLine("       HarborOps.Bench parity [--harbor] [--size large|small] [--throttle N] [--report file.md]");
    return 2;
}

namespace HarborOps.Bench
{

    /// <summary>One measured run of one method.</summary>
    internal sealed record Measurement(string Method, string Phase, TimeSpan Wall, int Tags, long Bytes, long PeakBytes, int Verified, int Expected, string Note = "")
    {
        public double TagsPerSecond => Wall.TotalSeconds > 0 ? Tags / Wall.TotalSeconds : 0;
    }

    internal static class Bench
    {
        public static LabCorpusOptions Shape(string size, bool referrerArtifacts, string root = "") => size switch
        {
            // about 500 and 2,400 image tags over 30 and 140 repositories; every 3rd tag multi-arch, every 2nd signed, every 4th with an SBOM.
            "small" => new LabCorpusOptions { Repositories = 30, TagsPerRepository = 17, BaseImages = 4, BaseLayersPerImage = 3, BaseLayerSize = 512 * 1024, AppLayerSize = 128 * 1024, ReferrerArtifacts = referrerArtifacts, RootPrefix = root },
            "large" => new LabCorpusOptions { Repositories = 140, TagsPerRepository = 17, BaseImages = 8, BaseLayersPerImage = 3, BaseLayerSize = 512 * 1024, AppLayerSize = 128 * 1024, ReferrerArtifacts = referrerArtifacts, RootPrefix = root },
            "demo" => new LabCorpusOptions { Repositories = 8, TagsPerRepository = 6, BaseImages = 2, BaseLayersPerImage = 2, BaseLayerSize = 64 * 1024, AppLayerSize = 16 * 1024, ReferrerArtifacts = referrerArtifacts, RootPrefix = root },
            _ => throw new ArgumentException($"unknown size '{size}' (small, large, demo)"),
        };

        // ------------------------------------------------------------------ seed (build.ps1 Demo)

        public static async Task<int> SeedAsync(Arguments arguments)
        {
            var registry = arguments.Value("--registry") ?? throw new ArgumentException("--registry host:port is required");
            var endpoint = new LabEndpoint(new Uri($"http://{registry}/"), arguments.Value("--user"), arguments.Value("--password"));
            var clock = Stopwatch.StartNew();
            var corpus = await LabCorpus.PushAsync(endpoint, Shape(arguments.Value("--size") ?? "demo", referrerArtifacts: !arguments.Flag("--comparable"), arguments.Value("--root") ?? ""));
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                repositories = corpus.Repositories,
                imageTags = corpus.ImageTags,
                tags = corpus.Tags.Count,
                referrers = corpus.Referrers.Count,
                bytes = corpus.UniqueBlobBytes,
                seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
            }));
            return 0;
        }

        // ------------------------------------------------------------------ copy (child process for the engine's numbers)

        public static async Task<int> CopyInProcessAsync(Arguments arguments)
        {
            var sources = arguments.Values("--source").ToList();
            var destination = arguments.Value("--destination") ?? throw new ArgumentException("--destination is required");
            using var engine = new RegistryEngine(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/config.json" });
            var request = new CopyRequest(sources, destination)
            {
                ThrottleLimit = arguments.Int("--throttle", 8),
                JournalPath = arguments.Value("--journal"),
                Shard = ShardPartition.Create(arguments.Value("--shard-count") is { } count ? int.Parse(count, CultureInfo.InvariantCulture) : null, arguments.Value("--shard-index") is { } index ? int.Parse(index, CultureInfo.InvariantCulture) : null,
                    arguments.Value("--shard-by") is "tag" ? ShardBy.Tag : ShardBy.Repository, null),
                SharedBlobWait = arguments.Value("--shared-blob-wait") is { } wait ? TimeSpan.Parse(wait, CultureInfo.InvariantCulture) : null,
            };
            // With a warm-up destination the same copy first goes there, unmeasured, so that the measured one runs with
            // the JIT's work done: it separates a fresh process's fixed cost from the copy's own.
            if (arguments.Value("--warmup-destination") is { } warmup)
                await new ImageCopier(engine).CopyAsync(request with { Destination = warmup }, null, null, CancellationToken.None);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var summary = await new ImageCopier(engine).CopyAsync(request, null, null, CancellationToken.None);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                seconds = clock.Elapsed.TotalSeconds,
                tags = summary.Tags,
                copied = summary.Copied,
                skipped = summary.Skipped,
                failed = summary.Failed,
                bytes = summary.BytesMoved,
                mounted = summary.BlobsMounted,
                peakBytes = PeakResidentBytes(),
                // the whole process's CPU, or after a warm-up only the measured copy's
                cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - (arguments.Value("--warmup-destination") is null ? TimeSpan.Zero : cpuBefore)).TotalSeconds,
                allocatedBytes = GC.GetTotalAllocatedBytes(),
                collections = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) },
                failures = summary.Failures,
            }));
            return summary.Failed == 0 ? 0 : 1;
        }

        /// <summary>The 1-minute load average: other work on the machine skews every number, so the report states it.</summary>
        internal static string LoadAverage() =>
            File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

        /// <summary>
        /// The machine's CPU time so far, busy and in all (/proc/stat's first line, in clock ticks): two readings tell how
        /// busy every core was between them, so a run bound by CPU rather than by the network shows as such.
        /// </summary>
        internal static (long Busy, long Total) CpuTicks()
        {
            if (!File.Exists("/proc/stat")) return (0, 0);
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0); // idle + iowait
            var total = fields.Take(8).Sum(); // user nice system idle iowait irq softirq steal
            return (total - idle, total);
        }

        /// <summary>How busy the machine's cores were between two <see cref="CpuTicks"/> readings, in per cent.</summary>
        internal static double CpuBusyPercent((long Busy, long Total) before, (long Busy, long Total) after) =>
            after.Total == before.Total ? 0 : 100.0 * (after.Busy - before.Busy) / (after.Total - before.Total);

        /// <summary>VmHWM: the most resident memory this process ever had.</summary>
        public static long PeakResidentBytes()
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            return Process.GetCurrentProcess().PeakWorkingSet64;
        }

        // ------------------------------------------------------------------ run

        public static async Task<int> RunAsync(Arguments arguments)
        {
            var sizes = (arguments.Value("--size") ?? "small") switch { "both" => new[] { "small", "large" }, "memory" => [], var s => [s] };
            var throttle = arguments.Int("--throttle", 8);
            var report = new StringBuilder();
            void Say(string line) { Console.WriteLine(line); report.AppendLine(line); }
            Say($"# HarborOps copy benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, throttle {throttle}, load average at start {LoadAverage()})");
            var cmdlet = CmdletHost.From(arguments);
            if (cmdlet is null) Say("(no --module/--pwsh: Copy-RegistryImage is not run; the ratios use the engine in a process of its own)");
            var perTag = new Dictionary<string, (double Full, double? Cmdlet)>();
            foreach (var size in sizes)
                perTag[size] = await RunSizeAsync(size, throttle, arguments.Flag("--skip-loop"), cmdlet, Say);
            if (perTag.Count == 2)
            {
                Say($"time per tag, large vs small, full corpus (engine):     {perTag["large"].Full / perTag["small"].Full:0.00}x (target <= 1.20)");
                if (perTag["small"].Cmdlet is { } small && perTag["large"].Cmdlet is { } large)
                    Say($"time per tag, large vs small, Copy-RegistryImage cold: {large / small:0.00}x (target <= 1.20)");
            }
            if (!arguments.Flag("--skip-memory"))
                await RunLargeLayerAsync(throttle, cmdlet, Say);
            if (arguments.Value("--report") is { } path) await File.WriteAllTextAsync(path, report.ToString());
            return 0;
        }

        /// <summary>One corpus size: every method on a fresh destination, cold then unchanged. Returns HarborOps' seconds per tag.</summary>
        private static async Task<(double Full, double? Cmdlet)> RunSizeAsync(string size, int throttle, bool skipLoop, CmdletHost? cmdlet, Action<string> say)
        {
            say("");
            say($"## {size} corpus");
            await using var source = await DistributionRegistry.StartAsync();
            var clock = Stopwatch.StartNew();
            // The skopeo-comparable variant: cosign legacy tags only (skopeo 1.9 fails on referrer index tags).
            var comparable = await LabCorpus.PushAsync(source.Endpoint, Shape(size, referrerArtifacts: false, "cmp"));
            var full = await LabCorpus.PushAsync(source.Endpoint, Shape(size, referrerArtifacts: true, "full"));
            say($"seeded in {clock.Elapsed.TotalSeconds:0} s: comparable corpus {comparable.Repositories.Count} repositories, {comparable.ImageTags} image tags + {comparable.Tags.Count - comparable.ImageTags} signature/SBOM tags, {Mb(comparable.UniqueBlobBytes)} unique; full corpus {full.Tags.Count} tags + {full.Referrers.Count} untagged referrers");

            var measurements = new List<Measurement>();
            var tags = comparable.Tags;
            var expected = tags.Select(t => (t.Repository, t.Tag, t.Digest)).ToList();

            if (!skipLoop)
            {
                await using var loopDestination = await DistributionRegistry.StartAsync();
                foreach (var phase in new[] { "cold", "unchanged" })
                {
                    var (wall, peak) = await TimeProcessesAsync(tags.Select(t => (IReadOnlyList<string>)SkopeoCopyArgs(source.Host, loopDestination.Host, t.Repository, t.Tag)), parallel: 1);
                    var verified = await VerifyAsync(loopDestination.Host, "migrated", expected);
                    measurements.Add(new Measurement("skopeo copy loop", phase, wall, tags.Count, 0, peak, verified, expected.Count));
                    say(Line(measurements[^1]));
                }
            }

            await using (var syncDestination = await DistributionRegistry.StartAsync())
            {
                foreach (var phase in new[] { "cold", "unchanged" })
                {
                    var commands = comparable.Repositories.Select(r => (IReadOnlyList<string>)SkopeoSyncArgs(source.Host, syncDestination.Host, r)).ToList();
                    var (wall, peak) = await TimeProcessesAsync(commands, parallel: 1);
                    var verified = await VerifyAsync(syncDestination.Host, "migrated", expected);
                    measurements.Add(new Measurement("skopeo sync per repo", phase, wall, tags.Count, 0, peak, verified, expected.Count));
                    say(Line(measurements[^1]));
                }
            }

            var blobs = await RawFloor.InventoryAsync(source.Host, comparable.Tags);
            var blobList = Path.Combine(Path.GetTempPath(), $"harborops-floor-{Guid.NewGuid():N}.json");
            await RawFloor.WriteListAsync(blobList, blobs);
            try
            {
                // Like every other method, the floor runs as a process of its own and is timed from launch to exit (its
                // JIT and connection set-up included); the ratio uses this one.
                await using (var floorDestination = await DistributionRegistry.StartAsync())
                {
                    var floorClock = Stopwatch.StartNew();
                    var (exit, stdout, stderr) = await RunProcessAsync("dotnet", [typeof(Bench).Assembly.Location, "floor", "--source", source.Host, "--destination", floorDestination.Host, "--blobs", blobList, "--throttle", throttle.ToString(CultureInfo.InvariantCulture)]);
                    var wall = floorClock.Elapsed;
                    if (exit != 0) throw new InvalidOperationException($"raw floor failed (exit {exit}): {stderr}{stdout}");
                    using var json = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last());
                    measurements.Add(new Measurement("raw floor (blobs only)", "cold", wall, tags.Count, blobs.Sum(b => b.Size), 0, 0, 0,
                        $"{blobs.Count} unique blobs, own process, own CPU {json.RootElement.GetProperty("cpuSeconds").GetDouble():0.0} s"));
                    say(Line(measurements[^1]));
                }
                // For reference only: the same copy inside this long-running process, whose HTTP stack is already
                // compiled and whose connections are open (what a fresh process cannot have).
                await using (var warmDestination = await DistributionRegistry.StartAsync())
                {
                    var wall = await RawFloor.CopyAsync(source.Host, warmDestination.Host, blobs, throttle);
                    measurements.Add(new Measurement("raw floor, warm process", "cold", wall, tags.Count, blobs.Sum(b => b.Size), 0, 0, 0, "for reference"));
                    say(Line(measurements[^1]));
                }
            }
            finally
            {
                File.Delete(blobList);
            }

            await using (var ourDestination = await DistributionRegistry.StartAsync())
            {
                foreach (var phase in new[] { "cold", "unchanged" })
                {
                    var (wall, json) = await RunEngineAsync([$"{source.Host}/cmp/"], $"{ourDestination.Host}/migrated", throttle);
                    var verified = await VerifyAsync(ourDestination.Host, "migrated", expected);
                    measurements.Add(new Measurement("HarborOps engine", phase, wall, tags.Count, json.GetProperty("bytes").GetInt64(), json.GetProperty("peakBytes").GetInt64(), verified, expected.Count,
                        $"{json.GetProperty("mounted").GetInt32()} mounted, {json.GetProperty("failed").GetInt32()} failed, own CPU {json.GetProperty("cpuSeconds").GetDouble():0.0} s"));
                    say(Line(measurements[^1]));
                }
            }

            // Copy-RegistryImage as users call it: Import-Module and the cmdlet in a fresh pwsh.
            double? cmdletSecondsPerTag = null;
            if (cmdlet is not null)
            {
                await using var cmdletDestination = await DistributionRegistry.StartAsync();
                foreach (var phase in new[] { "cold", "unchanged" })
                {
                    var (wall, processWall, json) = await cmdlet.CopyAsync($"{source.Host}/cmp/", $"{cmdletDestination.Host}/migrated", throttle);
                    var verified = await VerifyAsync(cmdletDestination.Host, "migrated", expected);
                    measurements.Add(new Measurement("Copy-RegistryImage", phase, wall, tags.Count, json.GetProperty("bytes").GetInt64(), json.GetProperty("peakBytes").GetInt64(), verified, expected.Count,
                        $"{json.GetProperty("failed").GetInt32()} failed; pwsh process {processWall.TotalSeconds:0.00} s with its start-up, CPU {json.GetProperty("cpuSeconds").GetDouble():0.0} s; Import-Module {json.GetProperty("importSeconds").GetDouble():0.00} s (target < 1.5 s)"));
                    say(Line(measurements[^1]));
                    if (phase == "cold") cmdletSecondsPerTag = wall.TotalSeconds / tags.Count;
                }
            }

            // For reference: the same cold copy as the second one of its process (the first went to another fresh
            // registry), i.e. without the fresh process's JIT work, which on 2 cores competes with both registries.
            await using (var warmupDestination = await DistributionRegistry.StartAsync())
            await using (var warmDestination = await DistributionRegistry.StartAsync())
            {
                var (_, json) = await RunEngineAsync([$"{source.Host}/cmp/"], $"{warmDestination.Host}/migrated", throttle, ["--warmup-destination", $"{warmupDestination.Host}/migrated"]);
                var verified = await VerifyAsync(warmDestination.Host, "migrated", expected);
                measurements.Add(new Measurement("HarborOps engine, JIT done", "cold", TimeSpan.FromSeconds(json.GetProperty("seconds").GetDouble()), tags.Count, json.GetProperty("bytes").GetInt64(), 0, verified, expected.Count,
                    $"2nd copy of one process, timed inside it; own CPU {json.GetProperty("cpuSeconds").GetDouble():0.0} s"));
                say(Line(measurements[^1]));
            }

            // The full corpus (referrer artifacts and tag-schema indexes) by HarborOps alone, checked tag by tag and referrer by referrer.
            double secondsPerTag;
            await using (var fullDestination = await DistributionRegistry.StartAsync())
            {
                var (wall, json) = await RunEngineAsync([$"{source.Host}/full/"], $"{fullDestination.Host}/migrated", throttle);
                var fullExpected = full.Tags.Select(t => (t.Repository, t.Tag, t.Digest))
                    .Concat(full.Referrers.Select(r => (r.Repository, r.Digest, r.Digest))).ToList();
                var verified = await VerifyAsync(fullDestination.Host, "migrated", fullExpected);
                var m = new Measurement("HarborOps engine, full", "cold", wall, full.Tags.Count, json.GetProperty("bytes").GetInt64(), json.GetProperty("peakBytes").GetInt64(), verified, fullExpected.Count,
                    $"{json.GetProperty("failed").GetInt32()} failed");
                say(Line(m));
                secondsPerTag = wall.TotalSeconds / full.ImageTags;
            }

            say($"load average now {LoadAverage()}");
            say("");
            Ratios(measurements, say);
            return (secondsPerTag, cmdletSecondsPerTag);
        }

        private static void Ratios(List<Measurement> m, Action<string> say)
        {
            Measurement? Find(string method, string phase) => m.FirstOrDefault(x => x.Method == method && x.Phase == phase);
            // The product as users run it when the module was given; else the engine in a process of its own.
            var product = Find("Copy-RegistryImage", "cold") is not null ? "Copy-RegistryImage" : "HarborOps engine";
            var ours = Find(product, "cold");
            var oursRerun = Find(product, "unchanged");
            void Ratio(string label, Measurement? a, Measurement? b, string target)
            {
                if (a is null || b is null) return;
                say($"{label,-58} {a.Wall.TotalSeconds / b.Wall.TotalSeconds,6:0.00}x   ({target})");
            }
            Ratio($"skopeo sync cold / {product} cold", Find("skopeo sync per repo", "cold"), ours, "target >= 3");
            Ratio($"skopeo loop cold / {product} cold", Find("skopeo copy loop", "cold"), ours, "target >= 8");
            Ratio($"skopeo sync unchanged / {product} unchanged", Find("skopeo sync per repo", "unchanged"), oursRerun, "target >= 3");
            Ratio($"skopeo loop unchanged / {product} unchanged", Find("skopeo copy loop", "unchanged"), oursRerun, "for reference");
            Ratio($"{product} cold / raw floor", ours, Find("raw floor (blobs only)", "cold"), "target <= 1.5");
            Ratio($"{product} cold / raw floor in a warm process", ours, Find("raw floor, warm process", "cold"), "for reference");
            if (product != "HarborOps engine")
                Ratio("HarborOps engine cold / raw floor", Find("HarborOps engine", "cold"), Find("raw floor (blobs only)", "cold"), "for reference: the engine in a process of its own");
            Ratio("HarborOps engine with JIT done / raw floor", Find("HarborOps engine, JIT done", "cold"), Find("raw floor (blobs only)", "cold"), "for reference: without a fresh process's fixed cost");
        }

        private static string Line(Measurement m) =>
            $"{m.Method,-28} {m.Phase,-10} {m.Wall.TotalSeconds,8:0.00} s {m.TagsPerSecond,8:0.0} tags/s {Mb(m.Bytes),10} {(m.PeakBytes > 0 ? "peak " + Mb(m.PeakBytes) : ""),-16} {(m.Expected > 0 ? $"verified {m.Verified}/{m.Expected}" : ""),-18} {m.Note}";

        public static string Mb(long bytes) => $"{bytes / 1048576.0:0.0} MiB";

        internal static List<string> SkopeoCopyArgs(string source, string destination, string repository, string tag) =>
            ["copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
             $"docker://{source}/{repository}:{tag}", $"docker://{destination}/migrated/{repository}:{tag}"];

        /// <summary>skopeo sync puts "repo-name" (its last path segment) under the destination; the parent path goes into the destination.</summary>
        internal static List<string> SkopeoSyncArgs(string source, string destination, string repository)
        {
            var parent = repository.Contains('/') ? repository[..repository.LastIndexOf('/')] : "";
            return ["sync", "--all", "--preserve-digests", "--src", "docker", "--dest", "docker", "--src-tls-verify=false", "--dest-tls-verify=false",
                $"{source}/{repository}", $"{destination}/migrated" + (parent.Length > 0 ? "/" + parent : "")];
        }

        /// <summary>Runs commands (each under /usr/bin/time for its peak memory), <paramref name="parallel"/> at a time.</summary>
        internal static async Task<(TimeSpan Wall, long PeakBytes)> TimeProcessesAsync(IEnumerable<IReadOnlyList<string>> commands, int parallel)
        {
            long peak = 0;
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(commands, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (command, _) =>
            {
                var (exit, _, stderr) = await RunProcessAsync("/usr/bin/time", ["-f", "MAXRSS=%M", "skopeo", .. command]);
                if (exit != 0) throw new InvalidOperationException($"skopeo {string.Join(' ', command)} failed: {stderr}");
                var line = stderr.Split('\n').LastOrDefault(l => l.StartsWith("MAXRSS=", StringComparison.Ordinal));
                if (line is not null && long.TryParse(line[7..], out var kb)) InterlockedMax(ref peak, kb * 1024);
            });
            return (clock.Elapsed, peak);
        }

        private static void InterlockedMax(ref long target, long value)
        {
            long current;
            while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
        }

        /// <summary>HarborOps in a child process of its own (one process for the whole copy, as the cmdlet runs it).</summary>
        internal static async Task<(TimeSpan Wall, JsonElement Json)> RunEngineAsync(IReadOnlyList<string> sources, string destination, int throttle, IReadOnlyList<string>? extra = null,
            IReadOnlyDictionary<string, string>? environment = null)
        {
            var self = typeof(Bench).Assembly.Location;
            var args = new List<string> { self, "copy", "--destination", destination, "--throttle", throttle.ToString() };
            args.AddRange(extra ?? []);
            foreach (var s in sources) { args.Add("--source"); args.Add(s); }
            var clock = Stopwatch.StartNew();
            var (exit, stdout, stderr) = await RunProcessAsync("dotnet", args, environment);
            var wall = clock.Elapsed;
            var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            if (last is null || !last.StartsWith('{')) throw new InvalidOperationException($"engine copy failed (exit {exit}): {stderr}{stdout}");
            using var doc = JsonDocument.Parse(last);
            return (wall, doc.RootElement.Clone());
        }

        public static async Task<(int Exit, string Stdout, string Stderr)> RunProcessAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
        {
            var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in arguments) info.ArgumentList.Add(a);
            foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await stdout, await stderr);
        }

        /// <summary>
        /// Counts the expected (repository, tag or digest) entries whose manifest at the destination (under the prefix)
        /// has the expected digest: a HEAD each with a plain HttpClient, independent of the engine.
        /// </summary>
        internal static async Task<int> VerifyAsync(string host, string prefix, IReadOnlyList<(string Repository, string Reference, string Digest)> expected)
        {
            using var http = new HttpClient();
            var ok = 0;
            await Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (entry, ct) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{host}/v2/{prefix}/{entry.Repository}/manifests/{entry.Reference}");
                foreach (var type in MediaTypesAccepted) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
                using var response = await http.SendAsync(request, ct);
                if (response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var digests) && digests.First() == entry.Digest)
                    Interlocked.Increment(ref ok);
            });
            return ok;
        }

        private static readonly string[] MediaTypesAccepted =
        [
            LabContent.OciIndex, LabContent.DockerManifestList, LabContent.OciManifest, LabContent.DockerManifest,
        ];

        // ------------------------------------------------------------------ one 1 GiB layer

        private static async Task RunLargeLayerAsync(int throttle, CmdletHost? cmdlet, Action<string> say)
        {
            say("");
            say("## one 1 GiB layer (memory)");
            await using var source = await DistributionRegistry.StartAsync();
            var layerDigest = await RawFloor.PushRandomBlobAsync(source.Host, "big/app", 1L << 30);
            var manifestDigest = await RawFloor.PushSingleLayerImageAsync(source.Host, "big/app", "1.0", layerDigest, 1L << 30);
            TimeSpan wall;
            JsonElement json;
            int verified;
            // Each destination is stopped (its gigabyte in /dev/shm freed) before the next copy starts.
            await using (var destination = await DistributionRegistry.StartAsync())
            {
                (wall, json) = await RunEngineAsync([$"{source.Host}/big/app:1.0"], $"{destination.Host}/migrated", throttle);
                verified = await VerifyAsync(destination.Host, "migrated", [("big/app", "1.0", manifestDigest)]);
            }
            var peak = json.GetProperty("peakBytes").GetInt64();
            say($"HarborOps engine, 1 GiB layer  {wall.TotalSeconds,8:0.00} s  {(1L << 30) / wall.TotalSeconds / 1048576,8:0} MiB/s  peak {Mb(peak)} (target < 300 MiB)  verified {verified}/1  own CPU {json.GetProperty("cpuSeconds").GetDouble():0.0} s");
            if (cmdlet is null) return;
            // The pwsh process's peak: PowerShell's own memory included.
            await using var cmdletDestination = await DistributionRegistry.StartAsync();
            var (cmdletWall, _, cmdletJson) = await cmdlet.CopyAsync($"{source.Host}/big/app:1.0", $"{cmdletDestination.Host}/migrated", throttle);
            var cmdletVerified = await VerifyAsync(cmdletDestination.Host, "migrated", [("big/app", "1.0", manifestDigest)]);
            say($"Copy-RegistryImage, 1 GiB layer {cmdletWall.TotalSeconds,8:0.00} s  {(1L << 30) / cmdletWall.TotalSeconds / 1048576,8:0} MiB/s  peak {Mb(cmdletJson.GetProperty("peakBytes").GetInt64())} of the pwsh process (target < 300 MiB)  verified {cmdletVerified}/1  CPU {cmdletJson.GetProperty("cpuSeconds").GetDouble():0.0} s with pwsh's start-up");
        }
    }

}
