using System.Collections.Concurrent;
using Azure.Core;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Acr;
using HarborOps.Models;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>
/// The engine's ACR listing, auth and parity code against traffic recorded from real registries by the Azure SDK for .NET
/// (tests/contracts/acr/recordings), replayed over TLS on loopback: the recorded 401 challenges, /oauth2/exchange and
/// /oauth2/token answers and /acr/v1 pages must all be understood, and every recorded page must be read. Where our
/// emulator and our client could share a misunderstanding, these answers are the real service's.
/// </summary>
public sealed class AcrRecordedTrafficTests : IAsyncLifetime
{
    private const string Manifests = "CanGetManifestsWithCustomPageSize(False).json";
    private const string AnonymousCatalog = "CanGetRepositoriesWithCustomPageSize(True).json";
    private const string DockerManifest = "CanDownloadDockerManifest_AcceptMultipleMediaTypes.json";
    private const string IndexDigest = "sha256:bfea6278a0a267fad2634554f4f0c6f31981eea41c553fdf5a83e95a41d40c38";
    /// <summary>hello-world's linux/amd64 image: an untagged child of <see cref="IndexDigest"/> in the manifests listing.</summary>
    private const string AmdDigest = "sha256:f54a58bc1aac5ea1a25d796ae155dc228b3f0e11d046ae276b39c4bf2f13d8c4";
    private const string AmdConfig = "sha256:feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412";
    private readonly List<AcrRecordingReplay> _replays = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var replay in _replays) await replay.DisposeAsync();
    }

    private async Task<AcrRecordingReplay> ReplayAsync(string recording)
    {
        var replay = await AcrRecordingReplay.StartAsync(recording);
        _replays.Add(replay);
        return replay;
    }

    private static RegistryEngine NewEngine(params string[] acrHosts) => new(new RegistryEngineOptions
    {
        AcrHosts = acrHosts,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        ServerCertificateValidator = LabCertificateAuthority.Shared.Validate,
        DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-tests-no-docker-config.json"),
    });

    /// <summary>An engine that knows the replay as ACR and signs in to it with <paramref name="entra"/> (the recorded exchange).</summary>
    private static RegistryEngine SignedInEngine(AcrRecordingReplay replay, RecordedEntraCredential entra)
    {
        var engine = NewEngine(replay.Host);
        engine.Credentials.SetAzureIdentity(replay.Host, entra);
        return engine;
    }

    /// <summary>An Entra credential that hands out the recording's sanitized token: the recorded exchange answers any.</summary>
    private sealed class RecordedEntraCredential : TokenCredential
    {
        public int Calls;
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return new AccessToken("Sanitized", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    private static void AssertEveryAnswerWasRead(AcrRecordingReplay replay)
    {
        Assert.True(replay.Unmatched.Count == 0, "requests the recording has no answer for:\n" + string.Join("\n", replay.Unmatched.Select(r => $"{r.Method} {r.PathAndQuery}")));
        Assert.True(replay.UnservedAnswers.Count == 0, "recorded answers never read:\n" + string.Join("\n", replay.UnservedAnswers));
    }

    [Fact]
    public async Task Recorded_manifest_pages_with_untagged_entries_and_quarantine_details_list_the_five_tags_of_the_index()
    {
        var replay = await ReplayAsync(Manifests);
        var entra = new RecordedEntraCredential();
        using var engine = SignedInEngine(replay, entra);
        var store = engine.OpenStore(replay.Host);

        var listed = new List<HarborOps.Engine.Registry.Store.TaggedManifest>();
        var pages = 0;
        await foreach (var page in store.ListTaggedManifestPagesAsync("library/hello-world", default))
        {
            pages++;
            listed.AddRange(page);
        }

        Assert.Equal(6, pages); // each Link (library%2Fhello-world, an empty orderby=) followed to the end
        Assert.Equal(["latest", "v1", "v2", "v3", "v4"], listed.Select(t => t.Tag).Order(StringComparer.Ordinal));
        Assert.All(listed, t =>
        {
            Assert.Equal(IndexDigest, t.Manifest.Digest);
            Assert.Equal("application/vnd.docker.distribution.manifest.list.v2+json", t.Manifest.MediaType);
            Assert.Equal(DateTimeOffset.Parse("2022-03-30T01:22:17.0864945Z", System.Globalization.CultureInfo.InvariantCulture), t.CreatedOn);
            Assert.True(t.ReadEnabled);
        });
        Assert.Equal(1, entra.Calls);
        AssertEveryAnswerWasRead(replay);
        // One exchange, and the token asked for the scope the recorded challenge named.
        Assert.Single(replay.Requests, r => r.PathAndQuery.StartsWith("/oauth2/exchange", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_recorded_anonymous_catalog_pages_list_every_repository_without_a_credential()
    {
        var replay = await ReplayAsync(AnonymousCatalog);
        using var engine = NewEngine(replay.Host);

        var repositories = new List<RegistryRepositoryInfo>();
        await foreach (var repository in engine.GetRepositoriesAsync(new GetRepositoriesRequest(replay.Host), null, default)) repositories.Add(repository);

        Assert.Equal(["library/alpine", "library/busybox", "library/hello-world"], repositories.Select(r => r.Repository));
        AssertEveryAnswerWasRead(replay);
        // The anonymous token was fetched without Authorization.
        Assert.All(replay.Requests.Where(r => r.PathAndQuery.StartsWith("/oauth2/", StringComparison.Ordinal)), r => Assert.False(r.Authorized));
    }

    [Fact]
    public async Task Parity_of_the_recorded_repository_with_an_empty_mirror_names_each_of_its_tags_missing_with_the_recorded_digest()
    {
        var replay = await ReplayAsync(Manifests);
        await using var destination = await DistributionRegistry.StartAsync();
        using var engine = SignedInEngine(replay, new RecordedEntraCredential());
        var differences = new ConcurrentQueue<ParityDifference>();
        var failures = new ConcurrentQueue<HarborOpsException>();

        var summary = await new ParityChecker(engine).CompareAsync(
            new ParityRequest([$"{replay.Host}/library/hello-world"], $"{destination.Host}/mirror"), null, differences.Enqueue, failures.Enqueue, default);

        Assert.Empty(failures);
        Assert.True(summary.Differences == 5, string.Join("\n", differences.Select(d => $"{d.Kind} {d.Source} {d.Detail}")));
        Assert.All(differences, d =>
        {
            Assert.Equal(ParityDifferenceKind.MissingAtDestination, d.Kind);
            Assert.Equal(IndexDigest, d.SourceDigest);
        });
        Assert.Equal(new[] { "latest", "v1", "v2", "v3", "v4" }.Select(t => $"{replay.Host}/library/hello-world:{t}"), differences.Select(d => d.Source).Order(StringComparer.Ordinal));
        AssertEveryAnswerWasRead(replay);
    }

    [Fact]
    public async Task The_recorded_manifest_is_read_byte_for_byte_through_the_pull_challenge_and_weighs_what_the_other_recording_listed()
    {
        var replay = await ReplayAsync(DockerManifest);
        var entra = new RecordedEntraCredential();
        using var engine = SignedInEngine(replay, entra);

        var manifest = await engine.OpenStore(replay.Host).GetManifestAsync("library/hello-world", AmdDigest, default);

        // The engine hashed the bytes: they are the 525 ACR sent under that digest.
        Assert.Equal(AmdDigest, manifest.Digest);
        Assert.Equal(525, manifest.Size);
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", manifest.MediaType);
        Assert.Equal(AmdConfig, manifest.Config!.Digest);
        Assert.Equal([1469L, 2479L], manifest.Blobs().Select(b => b.Size));
        // Manifest, config and layer together are the imageSize another registry's recorded listing gives that digest.
        var (listing, _) = AcrRecordingReplay.Load(AcrRecordingReplay.RecordingPath(Manifests));
        var listed = listing.Where(e => e.Status == 200 && e.ResponseBody is not null && e.ResponseBody.Contains(AmdDigest, StringComparison.Ordinal))
            .Select(e => System.Text.Json.Nodes.JsonNode.Parse(e.ResponseBody!)!["manifests"]!.AsArray().Single(m => m!["digest"]!.GetValue<string>() == AmdDigest)!).Single();
        Assert.Equal(listed["imageSize"]!.GetValue<long>(), manifest.Size + manifest.Blobs().Sum(b => b.Size));
        Assert.Equal(("amd64", "linux"), (listed["architecture"]!.GetValue<string>(), listed["os"]!.GetValue<string>()));
        Assert.Equal(1, entra.Calls);
        AssertEveryAnswerWasRead(replay);
    }

    [Fact]
    public async Task Get_RegistryTag_reads_the_recorded_manifest_and_stops_at_the_config_blob_no_recording_holds_naming_it()
    {
        var replay = await ReplayAsync(DockerManifest);
        using var engine = SignedInEngine(replay, new RecordedEntraCredential());

        var failure = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{replay.Host}/library/hello-world@{AmdDigest}"), null, default)) { }
        });

        // The platform of an image is in its config; the SDK never recorded a download of this one (tests/contracts/README.md).
        Assert.Equal(RegistryErrorIds.BlobNotFound, failure.ErrorId);
        Assert.Contains(AmdConfig, failure.Message);
        Assert.Equal([$"/v2/library/hello-world/blobs/{AmdConfig}"], replay.Unmatched.Select(r => r.PathAndQuery));
        Assert.Empty(replay.UnservedAnswers);
    }

    [Fact]
    public async Task Parity_of_the_recorded_repository_with_a_mirror_finds_the_equal_the_differing_the_missing_and_the_extra_tags()
    {
        var replay = await ReplayAsync(Manifests);
        // A mirror holding latest and v1 as the recorded index, v2 and v9 as its amd64 child (as a single-platform copy would).
        var mirror = new Dictionary<string, string> { ["latest"] = IndexDigest, ["v1"] = IndexDigest, ["v2"] = AmdDigest, ["v9"] = AmdDigest };
        await using var destination = await Registry.LoopbackServer.StartAsync(context => MirrorAsync(context, mirror));
        using var engine = SignedInEngine(replay, new RecordedEntraCredential());
        var differences = new ConcurrentQueue<ParityDifference>();
        var failures = new ConcurrentQueue<HarborOpsException>();

        var summary = await new ParityChecker(engine).CompareAsync(
            new ParityRequest([$"{replay.Host}/library/hello-world"], $"{destination.Host}/mirror") { IncludeEqual = true, DetectHarbor = false },
            null, differences.Enqueue, failures.Enqueue, default);

        Assert.Empty(failures);
        // Worked out by hand from the recording: its five tags all name the index bfea6278.
        var found = differences.ToDictionary(d => d.Tag, d => (d.Kind, d.SourceDigest, d.DestinationDigest));
        Assert.Equal((ParityDifferenceKind.Equal, IndexDigest, IndexDigest), found["latest"]);
        Assert.Equal((ParityDifferenceKind.Equal, IndexDigest, IndexDigest), found["v1"]);
        Assert.Equal((ParityDifferenceKind.DigestDiffers, IndexDigest, AmdDigest), found["v2"]);
        Assert.Equal((ParityDifferenceKind.MissingAtDestination, IndexDigest, null), found["v3"]);
        Assert.Equal((ParityDifferenceKind.MissingAtDestination, IndexDigest, null), found["v4"]);
        Assert.Equal((ParityDifferenceKind.ExtraAtDestination, (string?)null, AmdDigest), found["v9"]);
        Assert.Equal($"{destination.Host}/mirror/library/hello-world:v9", differences.Single(d => d.Tag == "v9").DestinationReference);
        Assert.Equal(6, differences.Count);
        Assert.Equal(4, summary.Differences);
        AssertEveryAnswerWasRead(replay);
    }

    /// <summary>A Distribution-shaped mirror answering its tag list and a HEAD per tag from <paramref name="tags"/>.</summary>
    private static async Task MirrorAsync(HttpContext context, IReadOnlyDictionary<string, string> tags)
    {
        var path = context.Request.Path.Value ?? "";
        const string repository = "/v2/mirror/library/hello-world";
        if (path == "/v2/")
        {
            context.Response.StatusCode = 200;
            return;
        }
        if (path == $"{repository}/tags/list")
        {
            await context.Response.WriteAsJsonAsync(new { name = "mirror/library/hello-world", tags = tags.Keys.Order(StringComparer.Ordinal) });
            return;
        }
        if (context.Request.Method == "HEAD" && path.StartsWith($"{repository}/manifests/", StringComparison.Ordinal)
            && tags.TryGetValue(path[$"{repository}/manifests/".Length..], out var digest))
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = digest == IndexDigest ? "application/vnd.docker.distribution.manifest.list.v2+json" : "application/vnd.docker.distribution.manifest.v2+json";
            context.Response.ContentLength = digest == IndexDigest ? 2069 : 525;
            context.Response.Headers["Docker-Content-Digest"] = digest;
            return;
        }
        context.Response.StatusCode = 404;
        await context.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "MANIFEST_UNKNOWN", message = "manifest unknown" } } });
    }
}

