using System.Diagnostics;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>Faults, refusals and interruptions: the run completes what it can, and never leaves a tag on an incomplete image.</summary>
[Collection(CopyLabCollection.Name)]
public sealed class CopyResilienceTests(CopyLabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task Throttling_server_errors_and_dropped_connections_are_ridden_out_with_every_digest_correct()
    {
        lab.Reset();
        var root = lab.Unique("faults");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions { RootPrefix = root, Repositories = 2, TagsPerRepository = 3, BaseLayerSize = 256 * 1024 });
        var blob = $"^/v2/{root}/.+/blobs/sha256:";
        lab.SourceProxy.Inject(FaultRule.TooManyRequests(blob, TimeSpan.FromSeconds(1), "GET", times: 2));
        lab.SourceProxy.Inject(FaultRule.DropConnection(blob, afterBytes: 100 * 1024, times: 3));
        lab.SourceProxy.Inject(FaultRule.ServerError($"^/v2/{root}/.+/manifests/", 503, "GET", times: 3));
        lab.SourceProxy.Inject(FaultRule.ServerError($"^/v2/{root}/.+/tags/list", 502, times: 1));
        lab.DestinationProxy.Inject(FaultRule.ServerError("^/v2/migrated/.+/blobs/uploads/.+", 503, "PUT", times: 2));
        lab.DestinationProxy.Inject(FaultRule.TooManyRequests("^/v2/migrated/.+/blobs/uploads/$", TimeSpan.FromSeconds(1), "POST", times: 2));
        lab.DestinationProxy.Inject(FaultRule.ServerError("^/v2/migrated/.+/manifests/", 500, "PUT", times: 2));

        var clock = Stopwatch.StartNew();
        var (summary, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/migrated"));
        output.WriteLine($"{summary} ({clock.Elapsed.TotalSeconds:0.0} s)");

        Assert.Equal(0, summary.Failed);
        Assert.Equal(corpus.Tags.Count, summary.Copied);
        Assert.All(lab.SourceProxy.Faults.Concat(lab.DestinationProxy.Faults), f => Assert.True(f.Remaining == 0, $"fault not exercised: {f.Rule.Kind} {f.Rule.Method} {f.Rule.PathPattern}"));
        foreach (var tag in corpus.Tags)
            await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{tag.Repository}", tag.Tag, tag.Digest);
        var image = corpus.Tags.First(t => !t.IsReferrerTag);
        await AssertPullableAsync(lab.DestinationEndpoint, $"migrated/{image.Repository}", image.Tag);
    }

    [Fact]
    public async Task Missing_source_repository_fails_alone_and_the_rest_is_copied()
    {
        lab.Reset();
        var repository = lab.Unique("good/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        var missing = lab.Unique("missing/app");

        var (summary, results) = await lab.CopyAsync(new CopyRequest(
            [$"{lab.SourceHost}/{missing}", $"{lab.SourceHost}/{missing}:1.0", $"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/migrated"));

        Assert.Equal(1, summary.Copied);
        Assert.Equal(2, summary.Failed);
        var failures = results.Where(r => r.Action == CopyAction.Failed).ToList();
        Assert.All(failures, f => Assert.Contains(missing, f.Source));
        Assert.Contains(failures, f => f.ErrorId == RegistryErrorIds.RepositoryNotFound);
        Assert.All(failures, f => Assert.False(string.IsNullOrEmpty(f.Error)));
        await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0", image.Digest);
    }

    [Fact]
    public async Task Destination_refusing_pushes_to_one_repository_fails_its_tags_and_copies_the_others()
    {
        lab.Reset();
        var denied = lab.Unique("denied/app");
        var allowed = lab.Unique("allowed/app");
        await LabContent.PushImageAsync(lab.SourceEndpoint, denied, "1.0");
        await LabContent.PushImageAsync(lab.SourceEndpoint, denied, "2.0");
        var ok = await LabContent.PushImageAsync(lab.SourceEndpoint, allowed, "1.0");
        lab.DestinationProxy.Inject(FaultRule.Status(403, $"^/v2/migrated/{denied}/", "POST", int.MaxValue, body: """{"errors":[{"code":"DENIED","message":"read-only project"}]}"""));
        lab.DestinationProxy.Inject(FaultRule.Status(403, $"^/v2/migrated/{denied}/", "PUT", int.MaxValue, body: """{"errors":[{"code":"DENIED","message":"read-only project"}]}"""));

        var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{denied}", $"{lab.SourceHost}/{allowed}"], $"{lab.DestinationHost}/migrated"));

        Assert.Equal(1, summary.Copied);
        Assert.Equal(2, summary.Failed);
        Assert.All(results.Where(r => r.SourceRepository == denied), r =>
        {
            Assert.Equal(CopyAction.Failed, r.Action);
            Assert.Equal(RegistryErrorIds.PermissionDenied, r.ErrorId);
        });
        await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{allowed}", "1.0", ok.Digest);
        Assert.DoesNotContain(lab.DestinationProxy.Requests, r => r.Method == "PUT" && r.StatusCode == 201 && r.PathAndQuery.StartsWith($"/v2/migrated/{denied}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Read_only_token_credential_at_the_destination_fails_each_tag_with_permission_denied()
    {
        lab.Reset();
        var repository = lab.Unique("readonly/app");
        await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "2.0");
        await using var token = await DistributionRegistry.StartAsync(RegistryAuthMode.Token);
        token.TokenService!.AddUser("reader", "reader-password", LabGrant.Pull("*"));

        var request = new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{token.Host}/migrated")
        {
            DestinationCredential = new System.Net.NetworkCredential("reader", "reader-password"),
        };
        var (summary, results) = await lab.CopyAsync(request);

        Assert.Equal(2, summary.Failed);
        Assert.All(results, r => Assert.Equal(RegistryErrorIds.PermissionDenied, r.ErrorId));
        Assert.All(results, r => Assert.DoesNotContain("reader-password", r.Error));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Interrupted_copy_resumes_without_moving_a_finished_blob_and_never_tags_an_incomplete_image(bool withJournal)
    {
        lab.Reset();
        var root = lab.Unique("resume");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions
        {
            RootPrefix = root, Repositories = 4, TagsPerRepository = 5, BaseLayerSize = 32 * 1024, AppLayerSize = 32 * 1024,
        });
        var journal = Path.Combine(Path.GetTempPath(), $"harborops-journal-{Guid.NewGuid():N}.log");
        var request = new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/migrated") { JournalPath = withJournal ? journal : null, ThrottleLimit = 2 };
        // Slow blob uploads so that the cancellation lands in the middle of the run.
        lab.DestinationProxy.Inject(FaultRule.Slow("^/v2/migrated/.+/blobs/uploads/.+", TimeSpan.FromMilliseconds(40), "PUT", times: int.MaxValue));
        try
        {
            using var cancel = new CancellationTokenSource();
            var watcher = Task.Run(async () =>
            {
                // Cancel once a few tags are written and some blobs are done: the middle of the run.
                for (var i = 0; i < 3000 && (CommittedUploads(lab.DestinationProxy).Count < 20 || TagPuts() < 2); i++) await Task.Delay(10);
                await cancel.CancelAsync();
            });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lab.CopyAsync(request, cancellationToken: cancel.Token));
            await watcher;
            lab.DestinationProxy.ClearFaults();

            var firstRun = CommittedUploads(lab.DestinationProxy).ToHashSet();
            var firstRunByRepository = CommittedUploadsByRepository(lab.DestinationProxy);
            output.WriteLine($"first run committed {firstRun.Count} of {corpus.UniqueBlobs} blobs before the cancellation");
            Assert.True(firstRun.Count >= 20);

            // Every tag the interrupted run wrote is complete: skopeo pulls every blob of it.
            var written = new List<LabCorpusTag>();
            foreach (var tag in corpus.Tags)
            {
                var tags = await ListTagsOrEmptyAsync($"migrated/{tag.Repository}");
                if (!tags.Contains(tag.Tag)) continue;
                written.Add(tag);
                await AssertCompleteAsync(lab.DestinationEndpoint, $"migrated/{tag.Repository}", tag);
            }
            output.WriteLine($"{written.Count} of {corpus.Tags.Count} tags were written before the cancellation");
            Assert.InRange(written.Count, 2, corpus.Tags.Count - 1);

            lab.DestinationProxy.ClearRequests();
            var (summary, _) = await lab.CopyAsync(request);

            Assert.Equal(0, summary.Failed);
            Assert.Equal(corpus.Tags.Count, summary.Copied + summary.Skipped);
            var secondRun = CommittedUploads(lab.DestinationProxy);
            // Without a journal the destination itself says what is there: no blob goes again into a repository that
            // has it, though one that landed in another repository may be moved again (nothing tells where it landed).
            Assert.Empty(CommittedUploadsByRepository(lab.DestinationProxy).Intersect(firstRunByRepository));
            if (withJournal)
            {
                Assert.Empty(secondRun.Intersect(firstRun));
                // Across both runs every digest was uploaded once (shared ones are mounted, finished ones skipped).
                Assert.Equal(firstRun.Count + secondRun.Count, firstRun.Concat(secondRun).Distinct().Count());
            }
            Assert.DoesNotContain(lab.DestinationProxy.Requests, r => r.Method == "PATCH");
            foreach (var tag in corpus.Tags)
                await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{tag.Repository}", tag.Tag, tag.Digest);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task Journal_of_an_earlier_run_lets_a_new_repository_mount_instead_of_upload()
    {
        lab.Reset();
        var root = lab.Unique("journal");
        await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions
        {
            RootPrefix = root, Repositories = 2, TagsPerRepository = 1, BaseImages = 1, SignEvery = 0, SbomEvery = 0, MultiArchEvery = 0, PathPrefixes = [],
        });
        var journal = Path.Combine(Path.GetTempPath(), $"harborops-journal-{Guid.NewGuid():N}.log");
        try
        {
            var (first, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/app000"], $"{lab.DestinationHost}/migrated") { JournalPath = journal });
            Assert.Equal(1, first.Copied);
            Assert.Contains($"migrated/{root}/app000", await File.ReadAllTextAsync(journal));

            lab.DestinationProxy.ClearRequests();
            var (second, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/app001"], $"{lab.DestinationHost}/migrated") { JournalPath = journal });

            Assert.Equal(1, second.Copied);
            Assert.Equal(2, second.BlobsMounted); // the two base layers, known from the journal to sit in app000
            Assert.Equal(2, lab.DestinationProxy.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.Contains($"from={Uri.EscapeDataString($"migrated/{root}/app000")}") && r.StatusCode == 201));
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task Registry_refusing_a_mount_from_the_repository_itself_gets_plain_upload_starts()
    {
        lab.Reset();
        var repository = lab.Unique("no-self-mount/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        // Like Harbor with a "from" it does not like (harbor#17097): the first upload start, a mount from the
        // repository itself, is refused instead of answered with 202.
        lab.DestinationProxy.Inject(FaultRule.Status(404, $"^/v2/migrated/{repository}/blobs/uploads/$", "POST", times: 1));

        var (summary, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}:1.0"], $"{lab.DestinationHost}/migrated") { ThrottleLimit = 1 });

        Assert.Equal(0, summary.Failed);
        Assert.Equal(image.BlobDigests.Count, summary.BlobsCopied);
        await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0", image.Digest);
        var starts = lab.DestinationProxy.Requests.Where(r => r.Method == "POST" && r.PathAndQuery.Contains("/blobs/uploads/")).ToList();
        // One refused self-mount, then plain starts only: the refusal is remembered rather than paid for per blob.
        Assert.Equal(404, starts[0].StatusCode);
        Assert.Equal(image.BlobDigests.Count, starts.Count(r => r.StatusCode == 202 && !r.PathAndQuery.Contains("mount=")));
        Assert.Equal(image.BlobDigests.Count + 1, starts.Count);
    }

    [Fact]
    public async Task Registry_refusing_a_blob_in_one_piece_gets_it_in_chunks()
    {
        lab.Reset();
        var repository = lab.Unique("chunked/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0", new LabImageOptions { LayerSize = 64 * 1024 });
        lab.DestinationProxy.Inject(FaultRule.Status(413, "^/v2/migrated/.+/blobs/uploads/.+", "PUT", times: 1));

        // A fresh engine: the fallback is remembered per destination store of a run.
        var (summary, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}:1.0"], $"{lab.DestinationHost}/migrated") { ThrottleLimit = 1 });

        Assert.Equal(1, summary.Copied);
        Assert.True(Count(lab.DestinationProxy, "PATCH", $"^/v2/migrated/{repository}/blobs/uploads/") >= 1);
        await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0", image.Digest);
        await AssertPullableAsync(lab.DestinationEndpoint, $"migrated/{repository}", "1.0");
    }

    [Fact]
    public async Task Invalid_request_stops_the_run_with_a_clear_error()
    {
        var copier = new ImageCopier(CopyLabFixture.NewEngine());
        var bad = await Assert.ThrowsAsync<RegistryException>(() => copier.CopyAsync(new CopyRequest(["127.0.0.1:1/Upper/Case"], "127.0.0.1:2/x"), null, null, default));
        Assert.Equal(RegistryErrorIds.ReferenceInvalid, bad.ErrorId);
        var regex = await Assert.ThrowsAsync<HarborOpsException>(() => copier.CopyAsync(new CopyRequest(["127.0.0.1:1/a"], "127.0.0.1:2/x") { IncludeTagRegex = "(" }, null, null, default));
        Assert.Equal(CopyErrorIds.MappingInvalid, regex.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, regex.Kind);
    }

    private int TagPuts() =>
        lab.DestinationProxy.Requests.Count(r => r.Method == "PUT" && r.StatusCode == 201 && System.Text.RegularExpressions.Regex.IsMatch(r.PathAndQuery, "/manifests/[0-9]+\\.[0-9]+\\.[0-9]+$"));

    private async Task<IReadOnlyList<string>> ListTagsOrEmptyAsync(string repository)
    {
        var result = await LabSkopeo.RunAsync(lab.DestinationEndpoint, ["list-tags", "--tls-verify=false", $"docker://{lab.DestinationHost}/{repository}"]);
        if (result.ExitCode != 0) return [];
        using var json = System.Text.Json.JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()!).ToList();
    }
}
