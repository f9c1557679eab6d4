using System.Collections.Concurrent;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Scope;
using HarborOps.Engine.Shards;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// A copy split over shards (as a Kubernetes Indexed Job runs it): the shards, run side by side with engines of their
/// own, copy every tag exactly once between them, a comparison split the same way agrees on what each owns, and a
/// shard stopped halfway and run again alone completes the migration.
/// </summary>
[Collection(CopyLabCollection.Name)]
public sealed class ShardedCopyTests(CopyLabFixture lab) : IAsyncLifetime
{
    private const int Shards = 3;
    private DistributionRegistry _source = null!;
    private LabCorpusContent _corpus = null!;
    private readonly string _work = Path.Combine(Path.GetTempPath(), $"harborops-shards-{Guid.NewGuid():N}");

    public async Task InitializeAsync()
    {
        // A registry of its own, so that its catalog holds exactly this corpus.
        _source = await DistributionRegistry.StartAsync();
        _corpus = await LabCorpus.PushAsync(_source.Endpoint, new LabCorpusOptions { Repositories = 7, TagsPerRepository = 3 });
        Directory.CreateDirectory(_work);
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    private CopyRequest Request(string prefix, ShardPartition shard) =>
        new([_source.Host], $"{lab.DestinationHost}/{prefix}") { Shard = shard, ShardSummaryPath = Path.Combine(_work, $"{prefix}-{shard.Index}.json") };

    private static HashSet<string> CopiedTags(IEnumerable<CopyResult> results) =>
        results.Where(r => r.Action is CopyAction.Copied && r.Tag.Length > 0).Select(r => $"{r.SourceRepository}:{r.Tag}").ToHashSet(StringComparer.Ordinal);

    private async Task<(CopySummary Summary, IReadOnlyList<CopyResult> Results)[]> CopyShardsAsync(string prefix, ShardBy by) =>
        await Task.WhenAll(Enumerable.Range(0, Shards).Select(i => Task.Run(() => lab.CopyAsync(Request(prefix, ShardPartition.Create(Shards, i, by, null))))));

    private async Task<ParitySummary> CompareAsync(string prefix, ShardPartition shard)
    {
        var differences = new ConcurrentQueue<ParityDifference>();
        using var engine = CopyLabFixture.NewEngine();
        var summary = await new ParityChecker(engine).CompareAsync(
            new ParityRequest([_source.Host], $"{lab.DestinationHost}/{prefix}") { Shard = shard, IncludeReferrers = true, DetectHarbor = false },
            null, differences.Enqueue, failure => differences.Enqueue(new ParityDifference { Detail = failure.Message }), default);
        Assert.True(differences.IsEmpty, string.Join("; ", differences.Select(d => $"{d.Kind} {d.DestinationReference} {d.Detail}")));
        return summary;
    }

    [Theory]
    [InlineData(ShardBy.Repository)]
    [InlineData(ShardBy.Tag)]
    public async Task Three_shards_copy_every_tag_exactly_once_between_them_and_the_destination_verifies_tag_by_tag(ShardBy by)
    {
        lab.Reset();
        var prefix = lab.Unique($"shards-{by.ToString().ToLowerInvariant()}");

        var shards = await CopyShardsAsync(prefix, by);

        var copied = shards.Select(s => CopiedTags(s.Results)).ToList();
        for (var i = 0; i < Shards; i++)
        {
            Assert.Equal((i, Shards, 0), (shards[i].Summary.Shard, shards[i].Summary.ShardCount, shards[i].Summary.Failed));
            var written = ShardSummary.Parse(File.ReadAllText(Path.Combine(_work, $"{prefix}-{i}.json")), $"shard {i}");
            Assert.Equal((ShardSummaryKind.Copy, i, Shards, shards[i].Summary.Copied, shards[i].Summary.BytesMoved), (written.Kind, written.ShardIndex, written.ShardCount, written.Copied, written.BytesMoved));
            if (by == ShardBy.Repository)
                Assert.All(copied[i], tag => Assert.Equal(i, ShardPartition.ShardOf(tag[..tag.IndexOf(':')], Shards)));
            for (var j = i + 1; j < Shards; j++) Assert.Empty(copied[i].Intersect(copied[j]));
        }
        Assert.Equal(_corpus.Tags.Select(t => $"{t.Repository}:{t.Tag}").Order(StringComparer.Ordinal), copied.SelectMany(c => c).Order(StringComparer.Ordinal));
        foreach (var tag in _corpus.Tags)
            await AssertDigestAsync(lab.DestinationEndpoint, $"{prefix}/{tag.Repository}", tag.Tag, tag.Digest);

        // A layer that repositories (or tags) of different shards share moved once between the shards.
        await lab.SettleLogsAsync();
        Assert.Empty(UploadsPerDigest(prefix).Where(u => u.Value > 1).Select(u => $"{u.Key[..16]} x{u.Value}"));

        var whole = await CompareAsync(prefix, ShardPartition.Whole);
        var parts = new List<ParitySummary>();
        for (var i = 0; i < Shards; i++) parts.Add(await CompareAsync(prefix, ShardPartition.Create(Shards, i, by, null)));
        Assert.Equal(_corpus.ImageTags, whole.TagsCompared);
        Assert.Equal(whole.TagsCompared, parts.Sum(p => p.TagsCompared));
        Assert.Equal(Enumerable.Range(0, Shards), parts.Select(p => p.Shard));
        Assert.All(parts, p => Assert.Equal(Shards, p.ShardCount));
    }

    // The OCI empty descriptor "{}" (2 bytes, the config of every signature and SBOM artifact): a shard does not wait
    // for another to upload a referrer's blobs, so each shard with a signature uploads it once.
    private const string EmptyJsonDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    /// <summary>
    /// Blob uploads the destination committed under <paramref name="prefix"/> (a PUT naming the digest, answered 201), per
    /// digest, but for the empty descriptor.
    /// </summary>
    private Dictionary<string, int> UploadsPerDigest(string prefix) =>
        lab.DestinationProxy.Requests
            .Where(r => r is { Method: "PUT", StatusCode: 201 } && r.PathAndQuery.StartsWith($"/v2/{prefix}/", StringComparison.Ordinal)
                && r.PathAndQuery.Contains("/blobs/uploads/", StringComparison.Ordinal) && r.PathAndQuery.Contains("digest=", StringComparison.Ordinal))
            .GroupBy(r => Uri.UnescapeDataString(r.PathAndQuery.Split("digest=", 2)[1].Split('&')[0]), StringComparer.Ordinal)
            .Where(g => g.Key != EmptyJsonDigest)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    [Fact]
    public async Task Shards_run_one_after_another_as_a_Job_with_parallelism_1_runs_them_upload_no_blob_twice()
    {
        // Each shard waits (briefly here) for the shared blobs later shards own, then uploads them itself; a later shard
        // finds them where the earlier one put them.
        lab.Reset();
        var prefix = lab.Unique("shards-in-turn");
        Assert.True(_corpus.Repositories.Select(r => ShardPartition.ShardOf(r, Shards)).Distinct().Count() > 1, "the corpus must spread over several shards");

        for (var i = 0; i < Shards; i++)
        {
            var (summary, _) = await lab.CopyAsync(Request(prefix, ShardPartition.Create(Shards, i, ShardBy.Repository, null)) with { SharedBlobWait = TimeSpan.FromSeconds(1) });
            Assert.Equal(0, summary.Failed);
        }

        await lab.SettleLogsAsync();
        Assert.Empty(UploadsPerDigest(prefix).Where(u => u.Value > 1).Select(u => $"{u.Key[..16]} x{u.Value}"));
        await CompareAsync(prefix, ShardPartition.Whole);
    }

    [Fact]
    public async Task A_waiting_shard_looks_in_the_repository_the_owner_uploads_into_each_time_and_elsewhere_now_and_then()
    {
        lab.Reset();
        var prefix = lab.Unique("shards-polled");
        var last = ShardPartition.Create(Shards, Shards - 1, ShardBy.Repository, null);

        var (summary, _) = await lab.CopyAsync(Request(prefix, last) with { SharedBlobWait = TimeSpan.FromSeconds(3) });

        Assert.Equal(0, summary.Failed);
        await lab.SettleLogsAsync();
        // The owner uploads a shared layer into its first repository that needs it: every look goes there. The other
        // places (the owner's next repository, where another shard that gave up waiting put it) are for a rarer case,
        // and every HEAD takes a connection an upload could have.
        var waited = lab.DestinationProxy.Requests
            .Where(r => r.Method == "HEAD" && r.PathAndQuery.StartsWith($"/v2/{prefix}/", StringComparison.Ordinal) && r.PathAndQuery.Contains("/blobs/sha256:", StringComparison.Ordinal))
            .GroupBy(r => r.PathAndQuery.Split("/blobs/", 2)[1], StringComparer.Ordinal)
            .Select(g => g.GroupBy(r => r.PathAndQuery.Split("/blobs/", 2)[0], StringComparer.Ordinal).Select(p => p.Count()).OrderDescending().ToList())
            .Where(perRepository => perRepository[0] >= 4).ToList();
        Assert.NotEmpty(waited);
        // Elsewhere: every fourth look, and this shard's own repository once more for the blob's size after the mount.
        Assert.All(waited, perRepository => Assert.True(perRepository.Skip(1).All(looks => looks <= (perRepository[0] + 3) / 4 + 1),
            $"looked {perRepository[0]} times in the owner's repository and {string.Join("/", perRepository.Skip(1))} times elsewhere"));
    }

    [Fact]
    public async Task A_shard_whose_other_shards_never_run_waits_for_them_once_then_uploads_the_shared_layers_itself()
    {
        lab.Reset();
        var prefix = lab.Unique("shards-gone");
        // Only the last shard runs; it needs layers it shares with the other shards' repositories, some of them theirs to upload.
        var last = ShardPartition.Create(Shards, Shards - 1, ShardBy.Repository, null);
        var waits = new QueuedProgress();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (summary, _) = await lab.CopyAsync(Request(prefix, last) with { SharedBlobWait = TimeSpan.FromSeconds(1) },
            progress: waits);

        Assert.Equal(0, summary.Failed);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"the shard waited {clock.Elapsed} for the others");
        Assert.Contains(waits.Reports, p => p.Status.StartsWith("Waiting for shard ", StringComparison.Ordinal) && p.Status.Contains(" to upload sha256:", StringComparison.Ordinal));
        foreach (var tag in _corpus.Tags.Where(t => ShardPartition.ShardOf(t.Repository, Shards) == last.Index))
            await AssertDigestAsync(lab.DestinationEndpoint, $"{prefix}/{tag.Repository}", tag.Tag, tag.Digest);
    }

    /// <summary>
    /// A corpus of 4 repositories pushed under a root of its own, copied by 2 shards side by side with nothing else in the
    /// source proxy's log (both shards must succeed); its root, its content and the destination prefix.
    /// </summary>
    private async Task<(string Root, LabCorpusContent Corpus, string Prefix)> CopyTwoShardsOfANewCorpusAsync(string name, ShardBy by, int tagsPerRepository)
    {
        lab.Reset();
        var root = lab.Unique(name);
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions { RootPrefix = root, Repositories = 4, TagsPerRepository = tagsPerRepository });
        var prefix = lab.Unique($"{name}-dest");
        lab.Reset();

        var shards = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Task.Run(() => lab.CopyAsync(
            new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/{prefix}") { Shard = ShardPartition.Create(2, i, by, null) }))));

        Assert.All(shards, s => Assert.Equal(0, s.Summary.Failed));
        return (root, corpus, prefix);
    }

    /// <summary>The first of 64 repository names under <paramref name="stem"/> that a 2-shard split by repository gives <paramref name="shard"/>.</summary>
    private static string RepositoryOfShard(string stem, int shard) =>
        Enumerable.Range(0, 64).Select(i => $"{stem}/repository-{i}").First(n => ShardPartition.ShardOf(n, 2) == shard);

    [Fact]
    public async Task Each_shard_lists_each_source_repository_once_though_its_discovery_and_its_read_of_every_shard_both_need_it()
    {
        // Split by tag, both shards copy from every repository.
        var (root, corpus, _) = await CopyTwoShardsOfANewCorpusAsync("shards-listed-once", ShardBy.Tag, tagsPerRepository: 2);

        var lists = lab.SourceProxy.Requests.Where(r => r.Method == "GET" && r.PathAndQuery.StartsWith($"/v2/{root}/", StringComparison.Ordinal)
            && r.PathAndQuery.Contains("/tags/list", StringComparison.Ordinal)).GroupBy(r => r.PathAndQuery.Split('?')[0]).ToList();
        Assert.Equal(corpus.Repositories.Count, lists.Count);
        Assert.All(lists, l => Assert.True(l.Count() == 2, $"{l.Key} listed {l.Count()} times by 2 shards"));
    }

    [Fact]
    public async Task Each_shard_reads_each_image_tag_once_its_own_tags_copied_from_what_its_read_of_every_shard_fetched()
    {
        var (_, corpus, prefix) = await CopyTwoShardsOfANewCorpusAsync("shards-read-once", ShardBy.Repository, tagsPerRepository: 3);
        // Every shard reads every image tag once to learn which layers the shards share (2 reads a tag for 2 shards);
        // the shard that copies the tag takes the manifest from that read instead of a third GET.
        var reads = lab.SourceProxy.Requests.Where(r => r.Method == "GET" && r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal))
            .GroupBy(r => r.PathAndQuery.Split('?')[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var tag in corpus.Tags.Where(t => !t.IsReferrerTag))
        {
            var path = $"/v2/{tag.Repository}/manifests/{tag.Tag}";
            Assert.True(reads.GetValueOrDefault(path) == 2, $"{tag.Repository}:{tag.Tag} read {reads.GetValueOrDefault(path)} times by 2 shards");
        }
        foreach (var tag in corpus.Tags)
            await AssertDigestAsync(lab.DestinationEndpoint, $"{prefix}/{tag.Repository}", tag.Tag, tag.Digest);
    }

    [Fact]
    public async Task A_shard_whose_first_tags_wait_for_another_shard_copies_its_other_tags_meanwhile()
    {
        // Two repositories of different shards share one layer. The heavy one has two tags first in line that need it
        // and four that need nothing from anybody; its shard has more bytes of its own, so the light one's shard uploads
        // the shared layer. The heavy shard runs alone first, one connection (two tags in flight): the tags waiting for the
        // layer must make way, and the other four be copied before the light shard even starts.
        lab.Reset();
        await using var source = await DistributionRegistry.StartAsync();
        var heavy = RepositoryOfShard("waits", 0);
        var light = RepositoryOfShard("waits", 1);
        var shared = RandomBytes(4096);
        await PushImageOfAsync(source, light, "v1", shared, RandomBytes(512));
        foreach (var tag in new[] { "a-shared", "b-shared" }) await PushImageOfAsync(source, heavy, tag, shared, RandomBytes(2048));
        var alone = new[] { "c1", "c2", "c3", "c4" };
        foreach (var tag in alone) await PushImageOfAsync(source, heavy, tag, RandomBytes(2048));
        var prefix = lab.Unique("shards-make-way");
        CopyRequest ShardRequest(int index) => new([source.Host], $"{lab.DestinationHost}/{prefix}")
        {
            Shard = ShardPartition.Create(2, index, ShardBy.Repository, null),
            ThrottleLimit = 1,
            SharedBlobWait = TimeSpan.FromMinutes(5),
        };
        var aloneCopied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var copied = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);

        var heavyShard = Task.Run(() => lab.CopyAsync(ShardRequest(0), onResult: r =>
        {
            if (r.Action == CopyAction.Copied && copied.TryAdd(r.Tag, 0) && alone.All(copied.ContainsKey)) aloneCopied.TrySetResult();
        }));
        var first = await Task.WhenAny(aloneCopied.Task, heavyShard, Task.Delay(TimeSpan.FromSeconds(90)));
        Assert.True(first == aloneCopied.Task, $"before the light shard started, the heavy shard copied only {string.Join(", ", copied.Keys.Order())}");
        Assert.DoesNotContain("a-shared", copied.Keys);

        var (lightSummary, _) = await lab.CopyAsync(ShardRequest(1));
        var (heavySummary, _) = await heavyShard.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal((0, 0), (lightSummary.Failed, heavySummary.Failed));
        await lab.SettleLogsAsync();
        Assert.Equal(1, UploadsPerDigest(prefix)[LabContent.DigestOf(shared)]);
    }

    /// <summary>Shard 0 of 2 split by repository, on one connection, its other shard never run (waited for a second at most).</summary>
    private Task<(CopySummary Summary, IReadOnlyList<CopyResult> Results)> CopyShardZeroOnOneConnectionAsync(DistributionRegistry source, string prefix) =>
        lab.CopyAsync(new CopyRequest([source.Host], $"{lab.DestinationHost}/{prefix}")
        {
            Shard = ShardPartition.Create(2, 0, ShardBy.Repository, null),
            ThrottleLimit = 1,
            SharedBlobWait = TimeSpan.FromSeconds(1),
        });

    /// <summary>The digests of the blobs of 1 KiB or more committed under <paramref name="prefix"/>, in the order their uploads started.</summary>
    private List<string> LayerUploadsInOrder(string prefix) =>
        lab.DestinationProxy.Requests
            .Where(r => r is { Method: "PUT", StatusCode: 201 } && r.PathAndQuery.StartsWith($"/v2/{prefix}/", StringComparison.Ordinal)
                && r.PathAndQuery.Contains("digest=", StringComparison.Ordinal) && r.RequestBodyBytes >= 1024)
            .OrderBy(r => r.StartedAt).Select(r => Uri.UnescapeDataString(r.PathAndQuery.Split("digest=", 2)[1].Split('&')[0])).ToList();

    [Fact]
    public async Task A_shard_starts_its_largest_tags_first_so_its_last_seconds_are_not_one_large_upload_alone()
    {
        // A shard's read of every shard tells it how many bytes each of its own tags moves. One tag of eleven is much
        // larger and comes last by name; on one connection (two tags in flight) it must start among the first two, or
        // the shard would end with that one upload running alone.
        lab.Reset();
        await using var source = await DistributionRegistry.StartAsync();
        var repository = RepositoryOfShard("largest-first", 0);
        var small = Enumerable.Range(0, 10).Select(i => $"a{i:00}").ToList();
        foreach (var tag in small) await PushImageOfAsync(source, repository, tag, RandomBytes(1024));
        var large = RandomBytes(256 * 1024);
        await PushImageOfAsync(source, repository, "z-large", large);
        var prefix = lab.Unique("shards-largest-first");

        var (summary, _) = await CopyShardZeroOnOneConnectionAsync(source, prefix);

        Assert.Equal((0, 11), (summary.Failed, summary.Copied));
        await lab.SettleLogsAsync();
        var layerUploads = LayerUploadsInOrder(prefix);
        Assert.Equal(11, layerUploads.Count);
        Assert.Contains(LabContent.DigestOf(large), layerUploads.Take(2));
    }

    [Fact]
    public async Task A_shard_uploads_its_large_layers_largest_first_ahead_of_its_tags_and_counts_them_with_the_tag_that_needs_them()
    {
        // Three tags of four 80 KiB layers each (320 KiB) come before one of a single 256 KiB layer in the largest-first
        // order of tags. Tag by tag, the 256 KiB layer would start after a dozen smaller ones and end the shard alone; the
        // shard starts it first. What an upload made ahead of its tag moved still shows in that tag's result. The other
        // shard (never run) has as many bytes, so that neither uploads layers for the other.
        lab.Reset();
        await using var source = await DistributionRegistry.StartAsync();
        var repository = RepositoryOfShard("ahead", 0);
        await PushImageOfAsync(source, RepositoryOfShard("ahead", 1), "v1", RandomBytes((3 * 4 * 80 + 256) * 1024));
        foreach (var tag in new[] { "a", "b", "c" }) await PushImageOfAsync(source, repository, tag, RandomBytes(80 * 1024), RandomBytes(80 * 1024), RandomBytes(80 * 1024), RandomBytes(80 * 1024));
        var large = RandomBytes(256 * 1024);
        await PushImageOfAsync(source, repository, "z-one-large-layer", large);
        var prefix = lab.Unique("shards-ahead");

        var (summary, results) = await CopyShardZeroOnOneConnectionAsync(source, prefix);

        Assert.Equal((0, 4), (summary.Failed, summary.Copied));
        await lab.SettleLogsAsync();
        var layerUploads = LayerUploadsInOrder(prefix);
        Assert.Equal(13, layerUploads.Count);
        Assert.Equal(LabContent.DigestOf(large), layerUploads[0]);
        Assert.Equal(summary.BytesMoved, results.Sum(r => r.BytesMoved));
        var largeTag = results.Single(r => r.Tag == "z-one-large-layer");
        Assert.True(largeTag is { BlobsCopied: 2, BytesMoved: > 256 * 1024 }, $"the large tag's result: {largeTag.BlobsCopied} blobs, {largeTag.BytesMoved} bytes");
    }

    [Fact]
    public async Task A_shard_with_fewer_bytes_uploads_some_of_a_heavier_shards_own_layers_into_its_repository()
    {
        // The hash split gives one shard six 128 KiB images and the other one: the light shard uploads two of the heavy
        // shard's layers into the heavy shard's repository (768 against 128 KiB becomes 512 against 384), the heavy shard
        // finds them there, and still every blob is committed once and every tag verifies.
        lab.Reset();
        await using var source = await DistributionRegistry.StartAsync();
        var heavy = RepositoryOfShard("evening", 0);
        var light = RepositoryOfShard("evening", 1);
        var layerSize = 128 * 1024;
        var heavyTags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in Enumerable.Range(0, 6).Select(i => $"v{i}")) heavyTags[tag] = await PushImageOfAsync(source, heavy, tag, RandomBytes(layerSize));
        await PushImageOfAsync(source, light, "v0", RandomBytes(layerSize));
        var prefix = lab.Unique("shards-evening");

        var shards = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Task.Run(() => lab.CopyAsync(new CopyRequest([source.Host], $"{lab.DestinationHost}/{prefix}")
        {
            Shard = ShardPartition.Create(2, i, ShardBy.Repository, null),
            SharedBlobWait = TimeSpan.FromMinutes(2),
        }))));

        Assert.Equal((0, 0), (shards[0].Summary.Failed, shards[1].Summary.Failed));
        Assert.True(shards[1].Summary.BytesMoved >= 3 * layerSize, $"the light shard moved {shards[1].Summary.BytesMoved} bytes");
        Assert.True(shards[0].Summary.BytesMoved <= 4 * layerSize + 4096, $"the heavy shard moved {shards[0].Summary.BytesMoved} bytes");
        await lab.SettleLogsAsync();
        Assert.Empty(UploadsPerDigest(prefix).Where(u => u.Value > 1).Select(u => $"{u.Key[..16]} x{u.Value}"));
        foreach (var (tag, digest) in heavyTags)
            await AssertDigestAsync(lab.DestinationEndpoint, $"{prefix}/{heavy}", tag, digest);
    }

    private static byte[] RandomBytes(int size) => System.Security.Cryptography.RandomNumberGenerator.GetBytes(size);

    /// <summary>An OCI image of the given layers (any bytes: nothing here unpacks them) under <paramref name="tag"/>.</summary>
    private static async Task<string> PushImageOfAsync(DistributionRegistry registry, string repository, string tag, params byte[][] layers)
    {
        var config = System.Text.Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"tag":"{{tag}}"}""");
        var configDigest = await LabContent.PushBlobAsync(registry.Endpoint, repository, config);
        var layerDescriptors = new List<string>();
        foreach (var layer in layers)
            layerDescriptors.Add($$"""{"mediaType":"{{LabContent.OciLayer}}","digest":"{{await LabContent.PushBlobAsync(registry.Endpoint, repository, layer)}}","size":{{layer.Length}}}""");
        var manifest = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{LabContent.OciManifest}}","config":{"mediaType":"{{LabContent.OciConfig}}","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[{{string.Join(",", layerDescriptors)}}]}""");
        return (await LabContent.PutManifestAsync(registry.Endpoint, repository, tag, LabContent.OciManifest, manifest)).Digest;
    }

    [Fact]
    public async Task A_destination_that_says_a_shared_layer_landed_where_it_did_not_makes_the_shard_upload_it_itself()
    {
        // Hostile: every HEAD of a blob in another shard's repository answers 200, so each wait ends at once on a lie;
        // the mount from there then fails, and the shard must upload the layer rather than write tags over a missing one.
        lab.Reset();
        var prefix = lab.Unique("shards-lying-head");
        var last = ShardPartition.Create(Shards, Shards - 1, ShardBy.Repository, null);
        var others = _corpus.Repositories.Where(r => ShardPartition.ShardOf(r, Shards) != last.Index).Select(System.Text.RegularExpressions.Regex.Escape);
        lab.DestinationProxy.Inject(FaultRule.Status(200, $"^/v2/{prefix}/({string.Join("|", others)})/blobs/sha256:[0-9a-f]{{64}}$", "HEAD", times: int.MaxValue));

        var (summary, _) = await lab.CopyAsync(Request(prefix, last));

        Assert.Equal(0, summary.Failed);
        var requests = lab.DestinationProxy.Requests;
        Assert.Contains(requests, r => r is { Method: "HEAD", Fault: FaultKind.Status } && r.PathAndQuery.StartsWith($"/v2/{prefix}/", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.Method == "POST" && r.PathAndQuery.Contains("mount=", StringComparison.Ordinal) && r.StatusCode == 202);
        foreach (var tag in _corpus.Tags.Where(t => ShardPartition.ShardOf(t.Repository, Shards) == last.Index))
            await AssertDigestAsync(lab.DestinationEndpoint, $"{prefix}/{tag.Repository}", tag.Tag, tag.Digest);
    }

    [Fact]
    public async Task Split_by_tag_a_shard_checks_for_child_manifests_before_writing_them_into_a_repository_it_found_missing()
    {
        // Another shard may be writing the same repository: "it did not exist when listed" no longer means "empty".
        lab.Reset();
        var prefix = lab.Unique("shards-shared");
        // Shard 1 never runs: no waiting for the layers it would upload.
        var (summary, _) = await lab.CopyAsync(Request(prefix, ShardPartition.Create(2, 0, ShardBy.Tag, null)) with { SharedBlobWait = TimeSpan.Zero });

        Assert.Equal(0, summary.Failed);
        var requests = lab.DestinationProxy.Requests;
        Assert.True(requests.Any(r => r.Method == "HEAD" && r.PathAndQuery.StartsWith($"/v2/{prefix}/", StringComparison.Ordinal)
            && r.PathAndQuery.Contains("/manifests/sha256:", StringComparison.Ordinal)), string.Join("\n", requests.Where(r => r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal)).Take(60)));
    }

    [Fact]
    public async Task A_shard_stopped_halfway_and_run_again_alone_with_its_journal_completes_the_migration()
    {
        lab.Reset();
        var prefix = lab.Unique("shards-killed");
        var repositories = _corpus.Repositories;
        // The shard with the most repositories is the one stopped, so it has work left when it stops.
        var victim = Enumerable.Range(0, Shards).OrderByDescending(i => repositories.Count(r => ShardPartition.ShardOf(r, Shards) == i)).First();
        var victimShard = ShardPartition.Create(Shards, victim, ShardBy.Repository, null);
        var journal = Path.Combine(_work, "victim.journal");
        using var stop = new CancellationTokenSource();
        var firstResults = new ConcurrentQueue<CopyResult>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lab.CopyAsync(Request(prefix, victimShard) with { JournalPath = journal, ThrottleLimit = 1, SharedBlobWait = TimeSpan.FromSeconds(1) },
            cancellationToken: stop.Token, onResult: r => { firstResults.Enqueue(r); if (firstResults.Count == 2) stop.Cancel(); }));
        var stopped = ShardSummary.Parse(File.ReadAllText(Path.Combine(_work, $"{prefix}-{victim}.json")), "stopped shard");
        Assert.Equal("OperationCanceled", stopped.Failures[0].ErrorId);
        Assert.Equal(victim, stopped.ShardIndex);

        foreach (var other in Enumerable.Range(0, Shards).Where(i => i != victim))
            Assert.Equal(0, (await lab.CopyAsync(Request(prefix, ShardPartition.Create(Shards, other, ShardBy.Repository, null)) with { SharedBlobWait = TimeSpan.FromSeconds(1) })).Summary.Failed);
        var (again, results) = await lab.CopyAsync(Request(prefix, victimShard) with { JournalPath = journal });

        Assert.Equal(0, again.Failed);
        Assert.Empty(CopiedTags(results).Intersect(CopiedTags(firstResults)));
        await CompareAsync(prefix, ShardPartition.Whole);
        foreach (var tag in _corpus.Tags.Where(t => ShardPartition.ShardOf(t.Repository, Shards) == victim))
            await AssertDigestAsync(lab.DestinationEndpoint, $"{prefix}/{tag.Repository}", tag.Tag, tag.Digest);
    }
}
