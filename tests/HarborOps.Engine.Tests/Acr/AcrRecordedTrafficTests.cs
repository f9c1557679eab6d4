using System.Collections.Concurrent;
using Azure.Core;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Acr;
using HarborOps.Models;
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
    private const string IndexDigest = "sha256:bfea6278a0a267fad2634554f4f0c6f31981eea41c553fdf5a83e95a41d40c38";
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
        using var engine = NewEngine(replay.Host);
        var entra = new RecordedEntraCredential();
        engine.Credentials.SetAzureIdentity(replay.Host, entra);
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
        using var engine = NewEngine(replay.Host);
        engine.Credentials.SetAzureIdentity(replay.Host, new RecordedEntraCredential());
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
}
