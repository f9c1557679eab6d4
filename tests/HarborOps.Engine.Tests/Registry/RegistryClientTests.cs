using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>The registry client against real CNCF Distribution registries, content pushed independently by the lab.</summary>
[Collection(RegistryLabCollection.Name)]
public sealed class RegistryClientTests(RegistryLabFixture lab, ITestOutputHelper output)
{
    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    private sealed class RecordingProgress : IProgress<OperationProgress>
    {
        private readonly List<OperationProgress> _reports = [];
        public IReadOnlyList<OperationProgress> Reports { get { lock (_reports) return _reports.ToArray(); } }
        public void Report(OperationProgress value) { lock (_reports) _reports.Add(value); }
    }

    private static string DockerConfigJson(string key, string field, string value) =>
        System.Text.Json.JsonSerializer.Serialize(new { auths = new Dictionary<string, Dictionary<string, string>> { [key] = new() { [field] = value } } });

    public static TheoryData<string> FourMediaTypes => new() { "oci", "docker", "ociindex", "dockerlist" };

    private PushedImage Pushed(string kind) => kind switch
    {
        "oci" => lab.OciImage,
        "docker" => lab.DockerImage,
        "ociindex" => lab.OciIndex,
        _ => lab.DockerList,
    };

    [Theory]
    [MemberData(nameof(FourMediaTypes))]
    public async Task Manifest_bytes_and_digest_equal_what_was_pushed_and_what_skopeo_reads(string kind)
    {
        var pushed = Pushed(kind);
        using var engine = lab.NewEngine();
        var store = engine.OpenStore(lab.Open.Host);

        var manifest = await store.GetManifestAsync(pushed.Repository, pushed.Tag!, default);
        Assert.Equal(pushed.Digest, manifest.Digest);
        Assert.Equal(pushed.MediaType, manifest.MediaType);
        Assert.Equal(pushed.ManifestBytes, manifest.Bytes);

        var head = await store.HeadManifestAsync(pushed.Repository, pushed.Tag!, default);
        Assert.Equal((pushed.Digest, pushed.MediaType, (long)pushed.ManifestBytes.Length), (head!.Digest, head.MediaType, head.Size));

        var byDigest = await store.GetManifestAsync(pushed.Repository, pushed.Digest, default);
        Assert.Equal(pushed.ManifestBytes, byDigest.Bytes);

        var skopeoBytes = await LabSkopeo.RawManifestAsync(lab.Open.Endpoint, pushed.Repository, pushed.Tag!);
        Assert.Equal(manifest.Digest, Digests.Sha256(skopeoBytes));
    }

    [Fact]
    public async Task Get_tag_reports_platforms_and_size_of_an_image_and_of_indexes()
    {
        using var engine = lab.NewEngine();
        var store = engine.OpenStore(lab.Open.Host);

        var image = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/oci:v1"), null, default)));
        long blobs = 0;
        foreach (var blob in lab.OciImage.BlobDigests) blobs += (await store.HeadBlobAsync("lab/oci", blob, default))!.Value;
        Assert.Equal(lab.OciImage.ManifestBytes.Length + blobs, image.Size);
        Assert.Equal(["linux/arm64/v8"], image.Platforms);
        Assert.Equal(lab.OciImage.Digest, image.Digest);
        Assert.Equal($"{lab.Open.Host}/lab/oci:v1", image.Reference);
        Assert.Equal(("lab/oci", "v1", lab.Open.Host), (image.Repository, image.Tag, image.Registry));

        var index = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/ociindex"), null, default)));
        Assert.Equal(["linux/amd64", "linux/arm64/v8"], index.Platforms);
        Assert.Equal(MediaTypes.OciIndex, index.MediaType);
        var list = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/dockerlist:multi"), null, default)));
        Assert.Equal(["linux/amd64", "linux/arm/v7"], list.Platforms);
        Assert.Equal(MediaTypes.DockerManifestList, list.MediaType);

        var byDigest = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/docker@{lab.DockerImage.Digest}"), null, default)));
        Assert.Equal(("", MediaTypes.DockerManifest, $"{lab.Open.Host}/lab/docker@{lab.DockerImage.Digest}"), (byDigest.Tag, byDigest.MediaType, byDigest.Reference));
    }

    [Fact]
    public async Task Blobs_stream_with_verified_digests_and_head_reports_their_size()
    {
        using var engine = lab.NewEngine();
        var store = engine.OpenStore(lab.Open.Host);
        foreach (var digest in lab.OciImage.BlobDigests)
        {
            var size = await store.HeadBlobAsync("lab/oci", digest, default);
            await using var stream = await store.OpenBlobAsync("lab/oci", digest, size, default);
            using var sha = SHA256.Create();
            var hash = await sha.ComputeHashAsync(stream);
            Assert.Equal(digest, "sha256:" + Convert.ToHexString(hash).ToLowerInvariant());
        }
        Assert.Null(await store.HeadBlobAsync("lab/oci", "sha256:" + new string('0', 64), default));
        var missing = await Assert.ThrowsAsync<RegistryException>(() => store.OpenBlobAsync("lab/oci", "sha256:" + new string('0', 64), null, default));
        Assert.Equal(RegistryErrorIds.BlobNotFound, missing.ErrorId);
    }

    [Fact]
    public async Task Wrong_expected_blob_size_is_a_digest_mismatch()
    {
        using var engine = lab.NewEngine();
        var store = engine.OpenStore(lab.Open.Host);
        var digest = lab.OciImage.BlobDigests[1];
        var size = (await store.HeadBlobAsync("lab/oci", digest, default))!.Value;
        await using var stream = await store.OpenBlobAsync("lab/oci", digest, size + 1, default);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal(RegistryErrorIds.DigestMismatch, ex.ErrorId);
    }

    [Fact]
    public async Task Every_one_of_1500_tags_is_listed_sorted_with_details()
    {
        // Distribution 2.8 ignores n= and sends all tags unsorted in one answer; paging is proven through the
        // FaultProxy's Harbor-like pager in ResilienceTests.Tag_list_follows_Link_pagination_across_many_pages.
        using var engine = lab.NewEngine();
        var progress = new RecordingProgress();
        var clock = Stopwatch.StartNew();
        var tags = await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/many"), progress, default));
        output.WriteLine($"1,500 tags with details in {clock.ElapsedMilliseconds} ms");
        foreach (var p in progress.Reports.Where(p => p.Status.StartsWith("Listing"))) output.WriteLine(p.Status);

        Assert.Equal(RegistryLabFixture.ManyTagsCount, tags.Count);
        Assert.Equal(lab.ManyTags.Tags.Order(StringComparer.Ordinal), tags.Select(t => t.Tag));
        Assert.All(tags, t => Assert.Equal(lab.ManyTags.Image.Digest, t.Digest));
        Assert.Contains(progress.Reports, p => p.Status == "Listing tags: page 1, 1500 tags so far");
        Assert.True(progress.Reports[^1].IsComplete);
        Assert.Equal(RegistryLabFixture.ManyTagsCount, progress.Reports[^1].Completed);
    }

    [Fact]
    public async Task Tag_patterns_filter_like_wildcards()
    {
        using var engine = lab.NewEngine();
        var tags = await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/many") { TagPatterns = ["V000?", "v149*"] }, null, default));
        Assert.Equal(["v0000", "v0001", "v0002", "v0003", "v0004", "v0005", "v0006", "v0007", "v0008", "v0009",
            "v1490", "v1491", "v1492", "v1493", "v1494", "v1495", "v1496", "v1497", "v1498", "v1499"], tags.Select(t => t.Tag));
    }

    [Fact]
    public async Task Catalog_lists_repositories_with_prefix_filter_and_progress()
    {
        using var engine = lab.NewEngine(o => o with { PageSize = 2 });
        var progress = new RecordingProgress();
        var repos = await ToListAsync(engine.GetRepositoriesAsync(new GetRepositoriesRequest(lab.Open.Host) { Prefix = "lab/" }, progress, default));
        // Other tests of the collection may add lab/* repositories; the seeded ones must all be there, in ordinal order.
        var names = repos.Select(r => r.Repository).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Subset(names.ToHashSet(), new HashSet<string> { "lab/docker", "lab/dockerlist", "lab/many", "lab/oci", "lab/ociindex", "lab/signed" });
        Assert.All(names, n => Assert.StartsWith("lab/", n));
        Assert.All(repos, r => Assert.Equal($"{lab.Open.Host}/{r.Repository}", r.Reference));
        Assert.True(progress.Reports.Count(p => p.Status.StartsWith("Page")) >= 3, "the catalog was paged 2 at a time");
    }

    [Fact]
    public async Task Referrers_come_from_the_tag_schema_and_cosign_tags_when_the_api_is_missing()
    {
        using var engine = lab.NewEngine();
        foreach (var reference in new[] { $"{lab.Open.Host}/lab/signed", $"{lab.Open.Host}/lab/signed:1.0" })
        {
            var tags = await ToListAsync(engine.GetTagsAsync(new GetTagsRequest(reference) { IncludeReferrers = true }, null, default));
            var tag = Assert.Single(tags, t => t.Tag == "1.0");
            Assert.True(tag.Signed);
            var referrers = tag.Referrers!;
            var schemaTag = "sha256-" + lab.Signed.Digest[7..];
            Assert.Contains(referrers, r => r.Source == ReferrerDiscovery.ReferrersTagSchema && r.Digest == lab.Sbom.Digest && r.ArtifactType == LabContent.DefaultReferrerArtifactType && r.Tag == schemaTag);
            Assert.Contains(referrers, r => r.Source == ReferrerDiscovery.ReferrersTagSchema && r.Digest == lab.Signature.Referrer!.Digest && r.ArtifactType == LabContent.CosignSignatureArtifact);
            var cosign = Assert.Single(referrers, r => r.Source == ReferrerDiscovery.CosignTag);
            Assert.Equal((lab.Signature.Digest, schemaTag + ".sig", LabContent.CosignSimpleSigning, lab.Signed.Digest), (cosign.Digest, cosign.Tag, cosign.ArtifactType, cosign.SubjectDigest));
        }
        var unsigned = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/oci:v1") { IncludeReferrers = true }, null, default)));
        Assert.False(unsigned.Signed);
        Assert.Empty(unsigned.Referrers!);
    }

    [Fact]
    public async Task Missing_repository_and_missing_tag_each_give_one_clear_error()
    {
        using var engine = lab.NewEngine();
        var repo = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/no/such-repo"), null, default)));
        Assert.Equal((RegistryErrorIds.RepositoryNotFound, FailureKind.NotFound), (repo.ErrorId, repo.Kind));
        Assert.Contains("no/such-repo", repo.Message);
        Assert.Contains("Get-RegistryRepository", repo.Message);

        var tag = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/oci:nope"), null, default)));
        Assert.Equal(RegistryErrorIds.ManifestNotFound, tag.ErrorId);
        Assert.Equal($"{lab.Open.Host}/lab/oci:nope", tag.Target);

        var tagOfMissingRepo = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/no/such-repo:v1"), null, default)));
        Assert.Equal(RegistryErrorIds.RepositoryNotFound, tagOfMissingRepo.ErrorId);

        var digest = await Assert.ThrowsAsync<RegistryException>(() => engine.OpenStore(lab.Open.Host).GetManifestAsync("lab/oci", "sha256:" + new string('1', 64), default));
        Assert.Equal(RegistryErrorIds.ManifestNotFound, digest.ErrorId);
    }

    [Fact]
    public async Task Unknown_host_and_closed_port_are_host_unreachable_naming_the_host()
    {
        using var engine = lab.NewEngine();
        var dns = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest("no-such-registry.invalid/team/app"), null, default)));
        Assert.Equal((RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed), (dns.ErrorId, dns.Kind));
        Assert.Contains("no-such-registry.invalid", dns.Message);

        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        } // closed again: nothing listens there now
        var refused = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"127.0.0.1:{port}/team/app"), null, default)));
        Assert.Equal(RegistryErrorIds.HostUnreachable, refused.ErrorId);
        Assert.Contains($"127.0.0.1:{port}", refused.Message);
    }

    [Fact]
    public async Task Basic_auth_works_from_credential_session_store_and_docker_config()
    {
        var reference = $"{lab.Basic.Host}/private/app:v1";
        var credential = new NetworkCredential(lab.Basic.UserName, lab.Basic.Password);
        using (var engine = lab.NewEngine())
        {
            var viaParameter = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest(reference) { Credential = credential }, null, default)));
            Assert.Equal(lab.BasicImage.Digest, viaParameter.Digest);
            engine.Credentials.Set(lab.Basic.Host, credential);
            var viaStore = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest(reference), null, default)));
            Assert.Equal(lab.BasicImage.Digest, viaStore.Digest);
        }

        var dir = Directory.CreateTempSubdirectory("harborops-docker-").FullName;
        try
        {
            var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{lab.Basic.UserName}:{lab.Basic.Password}"));
            await File.WriteAllTextAsync(Path.Combine(dir, "config.json"), DockerConfigJson("http://" + lab.Basic.Host, "auth", auth));
            using var engine = lab.NewEngine(o => o with { DockerConfigPath = Path.Combine(dir, "config.json") });
            var viaConfig = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest(reference), null, default)));
            Assert.Equal(lab.BasicImage.Digest, viaConfig.Digest);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Basic_auth_wrong_password_and_no_credentials_fail_clearly_without_leaking_the_secret()
    {
        using var engine = lab.NewEngine();
        var reference = $"{lab.Basic.Host}/private/app:v1";
        var wrong = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(
            new GetTagsRequest(reference) { Credential = new NetworkCredential(lab.Basic.UserName, "wrong-password-123") }, null, default)));
        Assert.Equal((RegistryErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed), (wrong.ErrorId, wrong.Kind));
        Assert.Contains(lab.Basic.Host, wrong.Message);
        Assert.Contains($"user '{lab.Basic.UserName}'", wrong.Message);
        Assert.Contains("Set-RegistryCredential", wrong.Message);
        Assert.DoesNotContain("wrong-password-123", wrong.ToString());

        var none = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest(reference), null, default)));
        Assert.Equal(RegistryErrorIds.AuthenticationFailed, none.ErrorId);
        Assert.Contains("requires credentials", none.Message);
    }

    [Fact]
    public async Task Token_auth_reuses_one_token_that_unions_the_scopes_of_two_repositories()
    {
        using var engine = lab.NewEngine();
        var service = lab.Token.TokenService!;
        var credential = new NetworkCredential(lab.Token.UserName, lab.Token.Password);
        var before = service.TokensIssued;
        var scopesBefore = service.RequestedScopes.Count;

        var a = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Token.Host}/team/a:v1") { Credential = credential }, null, default)));
        var b = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Token.Host}/team/b:v1") { Credential = credential }, null, default)));
        var again = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Token.Host}/team/a") { Credential = credential }, null, default)));
        Assert.Equal((lab.TokenImageA.Digest, lab.TokenImageB.Digest, lab.TokenImageA.Digest), (a.Digest, b.Digest, again.Digest));

        // First token for team/a; one refresh when team/b appears asks for both; then team/a again needs no token.
        Assert.Equal(2, service.TokensIssued - before);
        var second = service.Issued[^1];
        Assert.Equal(["repository:team/b:pull", "repository:team/a:pull"], second.RequestedScopes);
        Assert.Equal(3, service.RequestedScopes.Count - scopesBefore);
    }

    [Fact]
    public async Task Concurrent_first_requests_share_one_token_fetch()
    {
        using var engine = lab.NewEngine();
        var service = lab.Token.TokenService!;
        var store = engine.OpenStore(lab.Token.Host, new NetworkCredential(lab.Token.UserName, lab.Token.Password));
        var before = service.TokensIssued;
        var heads = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.HeadManifestAsync("team/a", "v1", default)));
        Assert.All(heads, h => Assert.Equal(lab.TokenImageA.Digest, h!.Digest));
        Assert.Equal(1, service.TokensIssued - before);
    }

    [Fact]
    public async Task Catalog_of_a_token_registry_asks_for_the_catalog_scope()
    {
        using var engine = lab.NewEngine();
        var repos = await ToListAsync(engine.GetRepositoriesAsync(
            new GetRepositoriesRequest(lab.Token.Host) { Credential = new NetworkCredential(lab.Token.UserName, lab.Token.Password) }, null, default));
        Assert.Subset(repos.Select(r => r.Repository).ToHashSet(), new HashSet<string> { "team/a", "team/b" });
        Assert.Contains("registry:catalog:*", lab.Token.TokenService!.RequestedScopes);
    }

    [Fact]
    public async Task Pushing_to_a_token_registry_keeps_digests_and_skopeo_reads_the_result()
    {
        using var engine = lab.NewEngine();
        var credential = new NetworkCredential(lab.Token.UserName, lab.Token.Password);
        var source = engine.OpenStore(lab.Open.Host);
        var target = engine.OpenStore(lab.Token.Host, credential);
        await ImageStoreCopy.CopyAsync(source, "lab/dockerlist", target, "copied/list", "multi");
        await ImageStoreCopy.CopyAsync(source, "lab/oci", target, "copied/oci", "v1");

        Assert.Equal(lab.DockerList.Digest, (await target.HeadManifestAsync("copied/list", "multi", default))!.Digest);
        using var inspected = await LabSkopeo.InspectAsync(lab.Token.Endpoint, "copied/oci", "v1");
        Assert.Equal(lab.OciImage.Digest, inspected.RootElement.GetProperty("Digest").GetString());
        var raw = await LabSkopeo.RawManifestAsync(lab.Token.Endpoint, "copied/list", "multi");
        Assert.Equal(lab.DockerList.ManifestBytes, raw);
        Assert.Contains(lab.Token.TokenService!.RequestedScopes, s => s == "repository:copied/oci:pull,push");
    }

    [Fact]
    public async Task A_user_without_rights_on_a_repository_is_permission_denied_not_unauthenticated()
    {
        var service = lab.Token.TokenService!;
        var password = Guid.NewGuid().ToString("N");
        service.AddUser("reader-of-a", password, LabGrant.Pull("team/a"));
        using var engine = lab.NewEngine();
        engine.Credentials.Set(lab.Token.Host, new NetworkCredential("reader-of-a", password));

        Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Token.Host}/team/a:v1"), null, default)));
        var denied = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Token.Host}/team/b:v1"), null, default)));
        Assert.Equal((RegistryErrorIds.PermissionDenied, FailureKind.PermissionDenied), (denied.ErrorId, denied.Kind));
        Assert.Contains("user 'reader-of-a'", denied.Message);
        Assert.Contains("repository:team/b:pull", denied.Message);
    }

    [Fact]
    public async Task Token_auth_wrong_password_is_authentication_failed_and_anonymous_is_told_to_set_credentials()
    {
        using var engine = lab.NewEngine();
        var wrong = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(
            new GetTagsRequest($"{lab.Token.Host}/team/a:v1") { Credential = new NetworkCredential(lab.Token.UserName, "not-it") }, null, default)));
        Assert.Equal(RegistryErrorIds.AuthenticationFailed, wrong.ErrorId);
        Assert.Contains("token service", wrong.Message);
        Assert.Contains(lab.Token.Host, wrong.Message);

        var anonymous = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Token.Host}/team/a:v1"), null, default)));
        Assert.Equal(RegistryErrorIds.AuthenticationFailed, anonymous.ErrorId);
        Assert.Contains("Set-RegistryCredential", anonymous.Message);
    }

    [Fact]
    public async Task Identity_token_from_docker_config_is_used_in_the_oauth2_refresh_grant()
    {
        // Get a refresh token the way docker login does (offline_token=true), independently of the engine.
        var service = lab.Token.TokenService!;
        using var http = new HttpClient();
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{lab.Token.UserName}:{lab.Token.Password}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{service.Realm}?service={Uri.EscapeDataString(service.Service)}&offline_token=true&client_id=test");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", basic);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var refreshToken = doc.RootElement.GetProperty("refresh_token").GetString()!;

        var dir = Directory.CreateTempSubdirectory("harborops-docker-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "config.json"), DockerConfigJson(lab.Token.Host, "identitytoken", refreshToken));
            using var engine = lab.NewEngine(o => o with { DockerConfigPath = Path.Combine(dir, "config.json") });
            var tag = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{lab.Token.Host}/team/b:v1"), null, default)));
            Assert.Equal(lab.TokenImageB.Digest, tag.Digest);
            var issued = service.Issued[^1];
            Assert.Equal(("POST", "refresh_token"), (issued.Method, issued.GrantType));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Expired_tokens_are_refreshed_before_they_run_out()
    {
        var service = lab.Token.TokenService!;
        var credential = new NetworkCredential(lab.Token.UserName, lab.Token.Password);
        var original = service.TokenLifetime;
        service.TokenLifetime = TimeSpan.FromSeconds(2);
        try
        {
            using var engine = lab.NewEngine();
            var store = engine.OpenStore(lab.Token.Host, credential);
            var before = service.TokensIssued;
            await store.HeadManifestAsync("team/a", "v1", default);
            await store.HeadManifestAsync("team/a", "v1", default);
            Assert.Equal(1, service.TokensIssued - before);
            await Task.Delay(1300); // past lifetime minus skew (half of 2 s)
            await store.HeadManifestAsync("team/a", "v1", default);
            Assert.Equal(2, service.TokensIssued - before);
        }
        finally
        {
            service.TokenLifetime = original;
        }
    }

    [Fact]
    public async Task Cancellation_stops_a_listing_promptly()
    {
        using var engine = lab.NewEngine();
        using var cts = new CancellationTokenSource();
        var count = 0;
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{lab.Open.Host}/lab/many"), null, cts.Token))
                if (++count == 5) cts.Cancel();
        });
        Assert.Equal(5, count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }
}
