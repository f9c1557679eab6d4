using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace HarborOps.Lab.Tests.Registries;

public sealed class FaultProxyTests(LabRegistriesFixture lab) : IClassFixture<LabRegistriesFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    private static string BlobPath(string repository, string digest) => $"/v2/{repository}/blobs/{digest}";

    private static AuthenticationHeaderValue Basic(DistributionRegistry registry) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{registry.UserName}:{registry.Password}")));

    private static async Task<(string Repository, string Digest, byte[] Content)> PushBlobAsync(LabEndpoint endpoint, int size)
    {
        var content = new byte[size];
        Random.Shared.NextBytes(content);
        var digest = await LabContent.PushBlobAsync(endpoint, "proxy/blobs", content);
        return ("proxy/blobs", digest, content);
    }

    [Fact]
    public async Task Passes_traffic_through_so_pushes_and_skopeo_reads_work_via_the_proxy()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var image = await LabContent.PushImageAsync(proxy.EndpointFor(lab.Open), "proxy/through", "1.0", new LabImageOptions { LayerSize = 300_000 });

        using var inspected = await LabSkopeo.InspectAsync(proxy.EndpointFor(lab.Open), "proxy/through", "1.0");
        Assert.Equal(image.Digest, inspected.RootElement.GetProperty("Digest").GetString());
        // Upload Locations came back pointing at the proxy, so the PUTs went through it too.
        await FaultProxy.LoggedAsync(() => proxy.Requests, r => r.Method == "PUT" && r.PathAndQuery == "/v2/proxy/through/manifests/1.0", 1);
        Assert.Contains(proxy.Requests, r => r.Method == "PUT" && r.PathAndQuery.Contains("/blobs/uploads/") && r.StatusCode == 201);
        Assert.Contains(proxy.Requests, r => r.Method == "PUT" && r.PathAndQuery == "/v2/proxy/through/manifests/1.0" && r.StatusCode == 201);
        Assert.All(proxy.Requests, r => Assert.Null(r.Fault));
    }

    [Fact]
    public async Task Upload_location_pointing_at_the_upstream_is_rewritten_to_the_proxy()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        using var response = await Http.PostAsync(new Uri(proxy.BaseUri, "v2/proxy/upload/blobs/uploads/"), null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(proxy.Host, response.Headers.Location!.Authority);
    }

    [Fact]
    public async Task Too_many_requests_with_retry_after_seconds_fires_the_given_number_of_times_then_stops()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var fault = proxy.Inject(FaultRule.TooManyRequests("^/v2/$", TimeSpan.FromSeconds(2), times: 2, body: "slow down"));
        var ping = new Uri(proxy.BaseUri, "v2/");

        for (var i = 0; i < 2; i++)
        {
            using var limited = await Http.GetAsync(ping);
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), limited.Headers.RetryAfter!.Delta);
            Assert.Equal("slow down", await limited.Content.ReadAsStringAsync());
            Assert.Equal("text/plain", limited.Content.Headers.ContentType!.MediaType);
        }
        using var passed = await Http.GetAsync(ping);
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        Assert.Equal(2, fault.Fired);
        var log = await FaultProxy.LoggedAsync(() => proxy.Requests, _ => true, 3);
        Assert.Equal([FaultKind.Status, FaultKind.Status, null], log.Select(r => r.Fault));
        Assert.Equal([429, 429, 200], log.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task Too_many_requests_can_carry_an_http_date()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var retryAt = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        proxy.Inject(FaultRule.TooManyRequestsUntil("^/v2/$", retryAt));
        using var limited = await Http.GetAsync(new Uri(proxy.BaseUri, "v2/"));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("Wed, 02 Jan 2030 03:04:05 GMT", limited.Headers.GetValues("Retry-After").Single());
        Assert.Equal(retryAt, limited.Headers.RetryAfter!.Date);
    }

    [Fact]
    public async Task Server_error_only_hits_the_matching_method_and_path()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var image = await LabContent.PushImageAsync(lab.Open, "proxy/errors", "1.0");
        proxy.Inject(FaultRule.ServerError(FaultRule.ManifestPathPattern, 502, method: "GET"));

        using var head = new HttpRequestMessage(HttpMethod.Head, new Uri(proxy.BaseUri, "v2/proxy/errors/manifests/1.0"));
        head.Headers.Accept.ParseAdd(LabContent.OciManifest);
        using (var unaffected = await Http.SendAsync(head)) Assert.Equal(HttpStatusCode.OK, unaffected.StatusCode);

        using (var failed = await Http.GetAsync(new Uri(proxy.BaseUri, "v2/proxy/errors/manifests/1.0"))) Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(proxy.BaseUri, "v2/proxy/errors/manifests/1.0"));
        request.Headers.Accept.ParseAdd(LabContent.OciManifest);
        using var recovered = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(image.ManifestBytes, await recovered.Content.ReadAsByteArrayAsync());
        Assert.Equal(image.Digest, recovered.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task Drop_connection_cuts_the_body_after_the_given_bytes_once()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var (repository, digest, content) = await PushBlobAsync(lab.Open.Endpoint, 500_000);
        proxy.Inject(FaultRule.DropConnection(FaultRule.BlobPathPattern, afterBytes: 100_000));
        var blob = new Uri(proxy.BaseUri, BlobPath(repository, digest).TrimStart('/'));

        using (var cut = await Http.GetAsync(blob, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, cut.StatusCode);
            Assert.Equal(content.Length, cut.Content.Headers.ContentLength);
            await using var stream = await cut.Content.ReadAsStreamAsync();
            var received = 0L;
            var buffer = new byte[8192];
            var error = await Record.ExceptionAsync(async () =>
            {
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0) received += read;
            });
            Assert.True(error is IOException or HttpRequestException, $"expected the read to fail, got {error?.GetType().Name ?? "no error"}");
            Assert.Equal(100_000, received);
        }

        var whole = await Http.GetByteArrayAsync(blob);
        Assert.Equal(digest, LabContent.DigestOf(whole));
        Assert.Equal([FaultKind.DropConnection, null], (await FaultProxy.LoggedAsync(() => proxy.Requests, _ => true, 2)).Select(r => r.Fault));
    }

    [Fact]
    public async Task Slow_response_delays_before_headers_or_mid_body()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var (repository, digest, content) = await PushBlobAsync(lab.Open.Endpoint, 200_000);
        var blob = new Uri(proxy.BaseUri, BlobPath(repository, digest).TrimStart('/'));
        proxy.Inject(FaultRule.Slow(FaultRule.BlobPathPattern, TimeSpan.FromMilliseconds(400)));
        proxy.Inject(FaultRule.Slow(FaultRule.BlobPathPattern, TimeSpan.FromMilliseconds(400), afterBytes: 50_000));

        var clock = Stopwatch.StartNew();
        using (var delayed = await Http.GetAsync(blob, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.True(clock.ElapsedMilliseconds >= 390, $"headers came after {clock.ElapsedMilliseconds} ms");
            Assert.Equal(content, await delayed.Content.ReadAsByteArrayAsync());
        }

        clock.Restart();
        using (var stalled = await Http.GetAsync(blob, HttpCompletionOption.ResponseHeadersRead))
        {
            var headersAfter = clock.ElapsedMilliseconds;
            Assert.True(headersAfter < 300, $"headers should come at once, came after {headersAfter} ms");
            Assert.Equal(content, await stalled.Content.ReadAsByteArrayAsync());
            Assert.True(clock.ElapsedMilliseconds >= 390, $"body finished after {clock.ElapsedMilliseconds} ms");
        }

        clock.Restart();
        Assert.Equal(content, await Http.GetByteArrayAsync(blob));
        Assert.True(clock.ElapsedMilliseconds < 300, "both slow rules are used up");
    }

    [Fact]
    public async Task Blob_get_is_redirected_to_the_storage_host_which_serves_the_bytes_and_refuses_a_forwarded_authorization()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Basic);
        var (repository, digest, content) = await PushBlobAsync(lab.Basic.Endpoint, 300_000);
        proxy.Inject(FaultRule.RedirectBlobsToStorageHost());
        var blob = new Uri(proxy.BaseUri, BlobPath(repository, digest).TrimStart('/'));

        // Without credentials the registry's challenge comes back, not a redirect.
        using (var anonymous = await Http.GetAsync(blob)) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var authorized = new HttpRequestMessage(HttpMethod.Get, blob);
        authorized.Headers.Authorization = Basic(lab.Basic);
        using var redirect = await Http.SendAsync(authorized);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        var location = redirect.Headers.Location!;
        Assert.Equal(proxy.StorageHost, location.Authority);
        Assert.NotEqual(proxy.Host, location.Authority);

        // A client that drops Authorization on the cross-host hop gets the bytes...
        var bytes = await Http.GetByteArrayAsync(location);
        Assert.Equal(content, bytes);
        // ...one that forwards it is refused, and the storage host remembers which was which.
        using var leaking = new HttpRequestMessage(HttpMethod.Get, location);
        leaking.Headers.Authorization = Basic(lab.Basic);
        using (var refused = await Http.SendAsync(leaking)) Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        Assert.Equal([(false, 200), (true, 400)], proxy.StorageHostRequests.Select(r => (r.HadAuthorization, r.StatusCode)));
        Assert.Equal([(401, false), (307, true)], (await FaultProxy.LoggedAsync(() => proxy.Requests, _ => true, 2)).Select(r => (r.StatusCode, r.HadAuthorization)));
    }

    [Fact]
    public async Task Referrers_api_is_404_from_upstream_by_default_and_answered_from_subject_manifests_when_enabled()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var endpoint = proxy.EndpointFor(lab.Open);
        var image = await LabContent.PushImageAsync(endpoint, "proxy/referrers", "1.0");
        var referrersUri = new Uri(proxy.BaseUri, $"v2/proxy/referrers/referrers/{image.Digest}");

        var before = await LabContent.PushReferrerAsync(endpoint, image, "application/vnd.example.before");
        using (var off = await Http.GetAsync(referrersUri)) Assert.Equal(HttpStatusCode.NotFound, off.StatusCode);

        proxy.EnableReferrersApi = true;
        var sbom = await LabContent.PushReferrerAsync(endpoint, image, "application/vnd.example.sbom", updateReferrersTag: false);
        var signature = await LabContent.PushCosignSignatureAsync(endpoint, image);
        Assert.Contains(proxy.Requests, r => r.Method == "PUT" && r.PathAndQuery == $"/v2/proxy/referrers/manifests/{sbom.Digest}");

        using var all = await Http.GetAsync(referrersUri);
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal(LabContent.OciIndex, all.Content.Headers.ContentType!.MediaType);
        using var index = JsonDocument.Parse(await all.Content.ReadAsByteArrayAsync());
        var listed = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => (m.GetProperty("digest").GetString(), m.GetProperty("artifactType").GetString())).ToList();
        // The one pushed before the shim was on is unknown to it, as it would be to a registry that lost it.
        Assert.Equal([(sbom.Digest, "application/vnd.example.sbom"), (signature.Referrer!.Digest, LabContent.CosignSignatureArtifact)], listed);
        Assert.DoesNotContain(before.Digest, listed.Select(l => l.Item1));

        using var filtered = await Http.GetAsync(new Uri(referrersUri + "?artifactType=application/vnd.example.sbom"));
        Assert.Equal("artifactType", filtered.Headers.GetValues("OCI-Filters-Applied").Single());
        using var filteredIndex = JsonDocument.Parse(await filtered.Content.ReadAsByteArrayAsync());
        Assert.Equal([sbom.Digest], filteredIndex.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()));
    }

    [Fact]
    public async Task Referrers_shim_sets_oci_subject_on_put_and_leaves_access_to_the_registry()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Token);
        proxy.EnableReferrersApi = true;
        var endpoint = proxy.EndpointFor(lab.Token);
        var image = await LabContent.PushImageAsync(endpoint, "proxy/private-referrers", "1.0");
        await LabContent.PushReferrerAsync(endpoint, image);
        Assert.Contains(proxy.Requests, r => r.Method == "PUT" && r.StatusCode == 201 && r.PathAndQuery.Contains("/manifests/sha256:"));

        using var anonymous = await Http.GetAsync(new Uri(proxy.BaseUri, $"v2/proxy/private-referrers/referrers/{image.Digest}"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var challenge = anonymous.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains($"realm=\"{lab.Token.TokenService!.Realm.AbsoluteUri}\"", challenge.Parameter);
        Assert.Contains("scope=\"repository:proxy/private-referrers:pull\"", challenge.Parameter);
    }

    [Fact]
    public async Task Tag_list_paging_emulation_sorts_caps_n_and_links_to_the_next_page()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        var pushed = await LabContent.PushManyTagsAsync(lab.Open.Endpoint, "proxy/paged", 25);

        using (var unpaged = await Http.GetAsync(new Uri(proxy.BaseUri, "v2/proxy/paged/tags/list?n=10")))
        {
            // Distribution 2.8 itself ignores n: every tag, no Link.
            Assert.False(unpaged.Headers.Contains("Link"));
            using var all = JsonDocument.Parse(await unpaged.Content.ReadAsStringAsync());
            Assert.Equal(25, all.RootElement.GetProperty("tags").GetArrayLength());
        }

        proxy.TagsPageSize = 10;
        var collected = new List<string>();
        var next = "/v2/proxy/paged/tags/list?n=50";
        var pages = 0;
        while (next is not null && pages < 10)
        {
            using var page = await Http.GetAsync(new Uri(proxy.BaseUri, next.TrimStart('/')));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            using var json = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
            collected.AddRange(json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!));
            next = page.Headers.TryGetValues("Link", out var link) ? link.Single().Split('<', '>')[1] : null;
            pages++;
        }
        Assert.Equal(3, pages);
        Assert.Equal(pushed.Tags, collected);
    }

    [Fact]
    public async Task Control_api_lets_another_process_inject_faults_and_read_the_log()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        using (var inject = await Http.PostAsJsonAsync(new Uri(proxy.BaseUri, "_lab/faults"),
                   new { kind = "Status", statusCode = 503, pathPattern = "^/v2/$", times = 1, retryAfter = "1" }))
            Assert.Equal(HttpStatusCode.NoContent, inject.StatusCode);

        using (var failed = await Http.GetAsync(new Uri(proxy.BaseUri, "v2/")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), failed.Headers.RetryAfter!.Delta);
        }
        using (var ok = await Http.GetAsync(new Uri(proxy.BaseUri, "v2/"))) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        using var log = JsonDocument.Parse(await Http.GetStringAsync(new Uri(proxy.BaseUri, "_lab/requests")));
        Assert.Equal([503, 200], log.RootElement.GetProperty("requests").EnumerateArray().Select(r => r.GetProperty("statusCode").GetInt32()));
    }
}
