using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>
/// Throttling, server errors, dropped connections, slow answers and cross-host redirects, injected by the lab's
/// FaultProxy in front of real Distribution registries. Each test gets fresh proxies so faults and logs do not mix.
/// </summary>
[Collection(RegistryLabCollection.Name)]
public sealed class ResilienceTests(RegistryLabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    private FaultProxy _open = null!;
    private FaultProxy _basic = null!;

    public async Task InitializeAsync()
    {
        var proxies = await Task.WhenAll(FaultProxy.StartAsync(lab.Open), FaultProxy.StartAsync(lab.Basic));
        (_open, _basic) = (proxies[0], proxies[1]);
    }

    public async Task DisposeAsync()
    {
        await _open.DisposeAsync();
        await _basic.DisposeAsync();
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    private string OciManifestPath => $"^/v2/lab/oci/manifests/";

    /// <summary>
    /// The proxy logs a request when it has finished answering, which can be just after the client has everything:
    /// wait (bounded) until the expected entries are there before asserting on the log.
    /// </summary>
    private static Task<IReadOnlyList<ProxiedRequest>> LoggedAsync(Func<IReadOnlyList<ProxiedRequest>> read, Func<ProxiedRequest, bool> match, int count) =>
        FaultProxy.LoggedAsync(read, match, count);
    private void Log(FaultProxy proxy) { foreach (var r in proxy.Requests) output.WriteLine(r.ToString()); }

    [Fact]
    public async Task A_429_with_Retry_After_seconds_is_waited_out_and_then_succeeds()
    {
        using var engine = lab.NewEngine();
        _open.Inject(FaultRule.TooManyRequests(OciManifestPath, TimeSpan.FromSeconds(1), method: "GET"));
        var clock = Stopwatch.StartNew();
        var manifest = await engine.OpenStore(_open.Host).GetManifestAsync("lab/oci", "v1", default);
        clock.Stop();
        Assert.Equal(lab.OciImage.Digest, manifest.Digest);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"waited only {clock.Elapsed.TotalSeconds:0.00} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"waited {clock.Elapsed.TotalSeconds:0.00} s");
        var log = await LoggedAsync(() => _open.Requests, r => r.Method == "GET", 2);
        Log(_open);
        Assert.Equal([429, 200], log.Where(r => r.Method == "GET").Select(r => r.StatusCode));
    }

    [Fact]
    public async Task A_429_with_an_HTTP_date_is_waited_out_too()
    {
        using var engine = lab.NewEngine();
        var until = DateTimeOffset.UtcNow.AddSeconds(2);
        _open.Inject(FaultRule.TooManyRequestsUntil(OciManifestPath, until, method: "GET"));
        var manifest = await engine.OpenStore(_open.Host).GetManifestAsync("lab/oci", "v1", default);
        Assert.Equal(lab.OciImage.Digest, manifest.Digest);
        // HTTP-dates have one-second resolution: the wait ends at the named second, not earlier.
        Assert.True(DateTimeOffset.UtcNow >= until.AddSeconds(-1));
    }

    [Fact]
    public async Task Endless_429s_end_as_throttled_never_as_not_found()
    {
        using var engine = lab.NewEngine();
        _open.Inject(FaultRule.Status(429, "^/v2/lab/oci/", times: 100, retryAfter: "0", body: "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}"));
        var store = engine.OpenStore(_open.Host);

        var head = await Assert.ThrowsAsync<RegistryException>(() => store.HeadManifestAsync("lab/oci", "v1", default));
        Assert.Equal((RegistryErrorIds.Throttled, FailureKind.Throttled, 429), (head.ErrorId, head.Kind, head.StatusCode));

        var get = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{_open.Host}/lab/oci"), null, default)));
        Assert.Equal(RegistryErrorIds.Throttled, get.ErrorId);
        Assert.Contains("after 3 retries", get.Message);
        Assert.Contains("Retry-After", get.Message);
        Assert.Equal(TimeSpan.Zero, get.RetryAfter);
        Assert.Equal(4, (await LoggedAsync(() => _open.Requests, r => r.PathAndQuery.StartsWith("/v2/lab/oci/tags/list"), 4))
            .Count(r => r.PathAndQuery.StartsWith("/v2/lab/oci/tags/list")));
    }

    [Fact]
    public async Task TOOMANYREQUESTS_in_the_body_of_another_status_counts_as_throttling()
    {
        using var engine = lab.NewEngine();
        _open.Inject(FaultRule.Status(403, OciManifestPath, times: 2, body: "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"pull rate limit\"}]}"));
        var manifest = await engine.OpenStore(_open.Host).GetManifestAsync("lab/oci", "v1", default);
        Assert.Equal(lab.OciImage.Digest, manifest.Digest);
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_then_succeed_or_end_as_server_error()
    {
        using var engine = lab.NewEngine();
        _open.Inject(FaultRule.ServerError(OciManifestPath, 503, times: 1));
        _open.Inject(FaultRule.ServerError(OciManifestPath, 502, times: 1));
        var clock = Stopwatch.StartNew();
        var manifest = await engine.OpenStore(_open.Host).GetManifestAsync("lab/oci", "v1", default);
        Assert.Equal(lab.OciImage.Digest, manifest.Digest);
        Assert.Equal([503, 502, 200], (await LoggedAsync(() => _open.Requests, _ => true, 3)).Select(r => r.StatusCode));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(100), "two backoff waits of at least 40 and 80 ms");

        _open.Inject(FaultRule.ServerError(OciManifestPath, 500, times: 100));
        var ex = await Assert.ThrowsAsync<RegistryException>(() => engine.OpenStore(_open.Host).GetManifestAsync("lab/oci", "v1", default));
        Assert.Equal((RegistryErrorIds.ServerError, FailureKind.ServerError, 500), (ex.ErrorId, ex.Kind, ex.StatusCode));
        Assert.Contains("after 3 retries", ex.Message);
    }

    [Fact]
    public async Task A_connection_dropped_mid_blob_resumes_with_a_range_request_and_verifies_the_digest()
    {
        using var engine = lab.NewEngine();
        var digest = lab.OciImage.BlobDigests[1]; // a 4 KiB layer
        var store = engine.OpenStore(_open.Host);
        var size = (await store.HeadBlobAsync("lab/oci", digest, default))!.Value;
        _open.Inject(FaultRule.DropConnection(FaultRule.BlobPathPattern, afterBytes: size / 2));

        await using (var stream = await store.OpenBlobAsync("lab/oci", digest, size, default))
        {
            var hash = await SHA256.HashDataAsync(stream);
            Assert.Equal(digest, "sha256:" + Convert.ToHexString(hash).ToLowerInvariant());
        }
        var log = await LoggedAsync(() => _open.Requests, r => r.Method == "GET" && r.PathAndQuery.Contains("/blobs/"), 2);
        Log(_open);
        Assert.Equal(2, log.Count(r => r.Method == "GET" && r.PathAndQuery.Contains("/blobs/")));
    }

    [Fact]
    public async Task A_connection_that_keeps_dropping_ends_in_a_clear_error()
    {
        using var engine = lab.NewEngine();
        var digest = lab.OciImage.BlobDigests[1];
        _open.Inject(FaultRule.DropConnection(FaultRule.BlobPathPattern, afterBytes: 100, times: 100));
        var store = engine.OpenStore(_open.Host);
        var ex = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await using var stream = await store.OpenBlobAsync("lab/oci", digest, null, default);
            await stream.CopyToAsync(Stream.Null);
        });
        Assert.Equal((RegistryErrorIds.RequestFailed, FailureKind.ConnectionFailed), (ex.ErrorId, ex.Kind));
        Assert.Contains(digest, ex.Message);
        Assert.Contains("kept breaking off", ex.Message);
    }

    [Fact]
    public async Task A_blob_body_that_stalls_midway_is_resumed_after_the_idle_timeout()
    {
        using var engine = lab.NewEngine(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(500) });
        var digest = lab.OciImage.BlobDigests[1];
        var store = engine.OpenStore(_open.Host);
        var size = (await store.HeadBlobAsync("lab/oci", digest, default))!.Value;
        _open.Inject(FaultRule.Slow(FaultRule.BlobPathPattern, TimeSpan.FromSeconds(30), method: "GET", afterBytes: size / 2));
        var clock = Stopwatch.StartNew();
        await using (var stream = await store.OpenBlobAsync("lab/oci", digest, size, default))
            Assert.Equal(digest, "sha256:" + Convert.ToHexString(await SHA256.HashDataAsync(stream)).ToLowerInvariant());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed.TotalSeconds:0.00} s");
        Assert.Equal(2, (await LoggedAsync(() => _open.Requests, r => r.Method == "GET" && r.PathAndQuery.Contains("/blobs/"), 2))
            .Count(r => r.Method == "GET" && r.PathAndQuery.Contains("/blobs/")));
    }

    [Fact]
    public async Task Blob_redirect_to_another_host_does_not_carry_the_Authorization_header()
    {
        using var engine = lab.NewEngine();
        engine.Credentials.Set(_basic.Host, new NetworkCredential(lab.Basic.UserName, lab.Basic.Password));
        _basic.Inject(FaultRule.RedirectBlobsToStorageHost());
        var store = engine.OpenStore(_basic.Host);
        foreach (var digest in lab.BasicImage.BlobDigests)
        {
            await using var stream = await store.OpenBlobAsync("private/app", digest, null, default);
            var hash = await SHA256.HashDataAsync(stream);
            Assert.Equal(digest, "sha256:" + Convert.ToHexString(hash).ToLowerInvariant());
        }
        var storage = await LoggedAsync(() => _basic.StorageHostRequests, _ => true, lab.BasicImage.BlobDigests.Count);
        await LoggedAsync(() => _basic.Requests, r => r.StatusCode == 307, lab.BasicImage.BlobDigests.Count);
        Log(_basic);
        foreach (var r in storage) output.WriteLine("storage: " + r);

        var registryBlobGets = _basic.Requests.Where(r => r.Method == "GET" && r.PathAndQuery.Contains("/blobs/")).ToList();
        Assert.Equal(lab.BasicImage.BlobDigests.Count, registryBlobGets.Count(r => r.StatusCode == 307));
        Assert.All(registryBlobGets.Where(r => r.StatusCode == 307), r => Assert.True(r.HadAuthorization, "the registry got the credentials"));
        Assert.Equal(lab.BasicImage.BlobDigests.Count, _basic.StorageHostRequests.Count);
        Assert.All(_basic.StorageHostRequests, r => Assert.False(r.HadAuthorization, $"storage host got Authorization: {r}"));
        Assert.All(_basic.StorageHostRequests, r => Assert.Equal(200, r.StatusCode));
    }

    [Fact]
    public async Task Tag_list_follows_Link_pagination_across_many_pages()
    {
        _open.TagsPageSize = 100;
        using var engine = lab.NewEngine();
        var tags = await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{_open.Host}/lab/many"), null, default));
        Assert.Equal(RegistryLabFixture.ManyTagsCount, tags.Count);
        Assert.Equal(lab.ManyTags.Tags.Order(StringComparer.Ordinal), tags.Select(t => t.Tag));
        var pages = (await LoggedAsync(() => _open.Requests, r => r.PathAndQuery.StartsWith("/v2/lab/many/tags/list"), 15))
            .Where(r => r.PathAndQuery.StartsWith("/v2/lab/many/tags/list")).ToList();
        foreach (var p in pages.Take(3)) output.WriteLine(p.ToString());
        Assert.Equal(15, pages.Count);
        Assert.Contains(pages, p => p.PathAndQuery.Contains("last=v0099"));
    }

    [Fact]
    public async Task Referrers_api_is_used_when_the_registry_offers_it()
    {
        _open.EnableReferrersApi = true;
        var endpoint = _open.EndpointFor(lab.Open);
        var image = await LabContent.PushImageAsync(endpoint, "lab/api-referrers", "1.0");
        var sbom = await LabContent.PushReferrerAsync(endpoint, image, updateReferrersTag: false);
        var signature = await LabContent.PushReferrerAsync(endpoint, image, artifactType: "application/vnd.cncf.notary.signature", updateReferrersTag: false);

        using var engine = lab.NewEngine();
        var tag = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"{_open.Host}/lab/api-referrers:1.0") { IncludeReferrers = true }, null, default)));
        Assert.All(tag.Referrers!, r => Assert.Equal(ReferrerDiscovery.ReferrersApi, r.Source));
        Assert.Equal(new[] { sbom.Digest, signature.Digest }.Order(), tag.Referrers!.Select(r => r.Digest).Order());
        Assert.True(tag.Signed);

        var filtered = await engine.OpenStore(_open.Host).GetReferrersAsync("lab/api-referrers", image.Digest, LabContent.DefaultReferrerArtifactType, default);
        Assert.Equal([sbom.Digest], filtered!.Select(d => d.Digest));
    }

    [Fact]
    public async Task A_slow_response_is_abandoned_quickly_when_canceled()
    {
        using var engine = lab.NewEngine();
        _open.Inject(FaultRule.Slow(OciManifestPath, TimeSpan.FromSeconds(20)));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.OpenStore(_open.Host).GetManifestAsync("lab/oci", "v1", cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed.TotalSeconds:0.00} s to stop");
    }

    [Fact]
    public async Task A_response_that_never_starts_times_out_and_is_retried()
    {
        using var engine = lab.NewEngine(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(500) });
        _open.Inject(FaultRule.Slow(OciManifestPath, TimeSpan.FromSeconds(20)));
        var clock = Stopwatch.StartNew();
        var manifest = await engine.OpenStore(_open.Host).GetManifestAsync("lab/oci", "v1", default);
        Assert.Equal(lab.OciImage.Digest, manifest.Digest);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed.TotalSeconds:0.00} s");
    }

    [Fact]
    public async Task Throttling_of_one_request_holds_back_the_other_requests_to_that_host()
    {
        using var engine = lab.NewEngine();
        var store = engine.OpenStore(_open.Host);
        _open.Inject(FaultRule.TooManyRequests(OciManifestPath, TimeSpan.FromSeconds(1), method: "GET"));
        var throttled = store.GetManifestAsync("lab/oci", "v1", default);
        for (var i = 0; i < 250 && engine.Pipeline.Backoff.Remaining(_open.Host) <= TimeSpan.Zero; i++) await Task.Delay(10);
        Assert.True(engine.Pipeline.Backoff.Remaining(_open.Host) > TimeSpan.FromMilliseconds(500), "the 429 opened a wait window for the host");
        var log = await LoggedAsync(() => _open.Requests, r => r.StatusCode == 429, 1);
        var answered = log.First(r => r.StatusCode == 429);
        var throttledAt = answered.StartedAt + answered.Duration;

        // A different request to the same host, issued while the host asked us to wait, waits too.
        var other = await store.HeadManifestAsync("lab/docker", "v1", default);
        Assert.Equal(lab.DockerImage.Digest, other!.Digest);
        await throttled;
        var otherSent = (await LoggedAsync(() => _open.Requests, r => r.PathAndQuery.StartsWith("/v2/lab/docker/"), 1)).First(r => r.PathAndQuery.StartsWith("/v2/lab/docker/"));
        Assert.True(otherSent.StartedAt >= throttledAt.AddMilliseconds(850), $"sent {(otherSent.StartedAt - throttledAt).TotalMilliseconds:0} ms after the 429");
    }
}
