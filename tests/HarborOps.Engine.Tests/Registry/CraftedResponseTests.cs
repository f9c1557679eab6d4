using System.Diagnostics;
using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>
/// Responses a healthy Distribution never sends but a broken registry, proxy or attacker can: wrong digests, lying
/// content types, schema 1, null tag lists, odd realms, 401 without a challenge. Served from a loopback endpoint.
/// </summary>
public sealed class CraftedResponseTests
{
    private static readonly byte[] Config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes(
        $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{Digests.Sha256(Config)}\",\"size\":{Config.Length}}},\"layers\":[]}}");
    private static readonly string ManifestDigest = Digests.Sha256(Manifest);
    private static readonly byte[] Schema1 = Encoding.UTF8.GetBytes("{\"schemaVersion\":1,\"name\":\"old/schema1\",\"fsLayers\":[]}");
    private static readonly string OtherDigest = "sha256:" + new string('e', 64);

    private static RegistryEngine NewEngine(TimeSpan? maxRetryAfter = null) => new(new RegistryEngineOptions
    {
        DockerConfigPath = "/nonexistent/config.json",
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        MaxRetries = 2,
        MaxRetryAfter = maxRetryAfter ?? TimeSpan.FromMinutes(2),
    });

    private static async Task Respond(HttpContext context, int status, string? contentType, byte[] body, string? digestHeader = null)
    {
        context.Response.StatusCode = status;
        if (contentType is not null) context.Response.ContentType = contentType;
        if (digestHeader is not null) context.Response.Headers["Docker-Content-Digest"] = digestHeader;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    private static Task Handle(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        return path switch
        {
            "/v2/lying/header/manifests/v1" => Respond(context, 200, MediaTypes.OciManifest, Manifest, OtherDigest),
            _ when path == $"/v2/lying/bydigest/manifests/{OtherDigest}" => Respond(context, 200, MediaTypes.OciManifest, Manifest),
            "/v2/lying/type/manifests/v1" => Respond(context, 200, MediaTypes.DockerManifest, Manifest, ManifestDigest),
            "/v2/old/schema1/manifests/v1" => Respond(context, 200, MediaTypes.DockerSchema1Signed, Schema1, Digests.Sha256(Schema1)),
            _ when path == $"/v2/lying/blob/blobs/{Digests.Sha256(Config)}" => Respond(context, 200, "application/octet-stream", Encoding.UTF8.GetBytes("{\"architecture\":\"arm64\",\"os\":\"linux\"}")),
            "/v2/old/schema1/tags/list" => Respond(context, 200, "application/json", Encoding.UTF8.GetBytes("{\"name\":\"old/schema1\",\"tags\":[\"v1\",\"v2\"]}")),
            "/v2/old/schema1/manifests/v2" => Respond(context, 200, MediaTypes.OciManifest, Manifest, ManifestDigest),
            _ when path == $"/v2/old/schema1/manifests/{ManifestDigest}" => Respond(context, 200, MediaTypes.OciManifest, Manifest, ManifestDigest),
            _ when path == $"/v2/old/schema1/manifests/{Digests.Sha256(Schema1)}" => Respond(context, 200, MediaTypes.DockerSchema1Signed, Schema1, Digests.Sha256(Schema1)),
            _ when path == $"/v2/old/schema1/blobs/{Digests.Sha256(Config)}" => Respond(context, 200, "application/octet-stream", Config),
            _ when path == $"/v2/refs/app/referrers/{ManifestDigest}" => Referrers(context),
            "/v2/loop/app/manifests/v1" => Redirect(context, "/v2/loop/app/manifests/v1"),
            "/v2/empty/tags/list" => Respond(context, 200, "application/json", Encoding.UTF8.GetBytes("{\"name\":\"empty\",\"tags\":null}")),
            "/v2/badrealm/app/tags/list" => Challenge(context, "Bearer realm=\"ftp://127.0.0.1/token\",service=\"x\""),
            "/v2/slowdown/app/tags/list" => TooManyRequests(context, "3600"),
            _ when path.StartsWith("/v2/harbor27/app/referrers/") => Respond(context, 401, "application/json", Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}")),
            _ => Respond(context, 404, "application/json", Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"unknown\"}]}")),
        };
    }

    private static string Descriptor(char fill, string artifactType) =>
        $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"sha256:{new string(fill, 64)}\",\"size\":10,\"artifactType\":\"{artifactType}\"}}";

    /// <summary>Two pages, an absolute Link to the second, and no OCI-Filters-Applied: the client must filter itself.</summary>
    private static Task Referrers(HttpContext context)
    {
        var second = context.Request.Query["page"] == "2";
        if (!second)
            context.Response.Headers.Link = $"<http://{context.Request.Host}/v2/refs/app/referrers/{ManifestDigest}?page=2>; rel=\"next\"";
        var manifests = second ? Descriptor('c', "application/sbom") : Descriptor('a', "application/sbom") + "," + Descriptor('b', "application/signature");
        return Respond(context, 200, MediaTypes.OciIndex, Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":[{manifests}]}}"));
    }

    private static Task Redirect(HttpContext context, string location)
    {
        context.Response.StatusCode = 307;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    private static Task Challenge(HttpContext context, string challenge)
    {
        context.Response.StatusCode = 401;
        context.Response.Headers.WWWAuthenticate = challenge;
        return Task.CompletedTask;
    }

    private static Task TooManyRequests(HttpContext context, string retryAfter)
    {
        context.Response.StatusCode = 429;
        context.Response.Headers.RetryAfter = retryAfter;
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Manifest_whose_bytes_do_not_match_the_digest_header_or_the_requested_digest_is_refused()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var store = engine.OpenStore(server.Host);

        var header = await Assert.ThrowsAsync<RegistryException>(() => store.GetManifestAsync("lying/header", "v1", default));
        Assert.Equal((RegistryErrorIds.DigestMismatch, FailureKind.InvalidData), (header.ErrorId, header.Kind));
        Assert.Contains(ManifestDigest, header.Message);
        Assert.Contains(OtherDigest, header.Message);

        var requested = await Assert.ThrowsAsync<RegistryException>(() => store.GetManifestAsync("lying/bydigest", OtherDigest, default));
        Assert.Equal(RegistryErrorIds.DigestMismatch, requested.ErrorId);
        Assert.Contains("requested digest", requested.Message);
    }

    [Fact]
    public async Task Blob_with_the_right_length_but_other_bytes_fails_at_the_end_of_the_stream()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        await using var stream = await engine.OpenStore(server.Host).OpenBlobAsync("lying/blob", Digests.Sha256(Config), Config.Length, default);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal(RegistryErrorIds.DigestMismatch, ex.ErrorId);
    }

    [Fact]
    public async Task Content_type_that_contradicts_the_body_and_schema1_are_refused()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var store = engine.OpenStore(server.Host);
        var type = await Assert.ThrowsAsync<RegistryException>(() => store.GetManifestAsync("lying/type", "v1", default));
        Assert.Equal(RegistryErrorIds.ManifestInvalid, type.ErrorId);
        var schema1 = await Assert.ThrowsAsync<RegistryException>(() => store.GetManifestAsync("old/schema1", "v1", default));
        Assert.Equal((RegistryErrorIds.UnsupportedMediaType, FailureKind.NotSupported), (schema1.ErrorId, schema1.Kind));
    }

    [Fact]
    public async Task A_schema1_tag_is_listed_without_details_instead_of_hiding_the_other_tags()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var tags = new List<HarborOps.Models.RegistryTagInfo>();
        await foreach (var t in engine.GetTagsAsync(new GetTagsRequest($"{server.Host}/old/schema1"), null, default)) tags.Add(t);
        Assert.Equal(["v1", "v2"], tags.Select(t => t.Tag));
        Assert.Equal((Digests.Sha256(Schema1), MediaTypes.DockerSchema1Signed, null), (tags[0].Digest, tags[0].MediaType, tags[0].Size));
        Assert.Empty(tags[0].Platforms);
        Assert.Equal(ManifestDigest, tags[1].Digest);
        Assert.Equal(["linux/amd64"], tags[1].Platforms);

        var single = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{server.Host}/old/schema1:v1"), null, default)) { }
        });
        Assert.Equal(RegistryErrorIds.UnsupportedMediaType, single.ErrorId);
    }

    [Fact]
    public async Task Referrers_are_paged_and_filtered_client_side_when_the_registry_did_not_filter()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var store = engine.OpenStore(server.Host);
        var all = await store.GetReferrersAsync("refs/app", ManifestDigest, null, default);
        Assert.Equal(["a", "b", "c"], all!.Select(d => d.Digest[7..8]));
        var sboms = await store.GetReferrersAsync("refs/app", ManifestDigest, "application/sbom", default);
        Assert.Equal(["a", "c"], sboms!.Select(d => d.Digest[7..8]));
    }

    [Fact]
    public async Task Registry_without_a_catalog_says_so()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var ex = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetRepositoriesAsync(new GetRepositoriesRequest(server.Host), null, default)) { }
        });
        Assert.Equal((RegistryErrorIds.CatalogUnsupported, FailureKind.NotSupported), (ex.ErrorId, ex.Kind));
    }

    [Fact]
    public async Task A_redirect_loop_ends_in_an_error()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var ex = await Assert.ThrowsAsync<RegistryException>(() => engine.OpenStore(server.Host).GetManifestAsync("loop/app", "v1", default));
        Assert.Equal(RegistryErrorIds.RequestFailed, ex.ErrorId);
        Assert.Contains("redirected", ex.Message);
    }

    [Fact]
    public async Task Null_tag_list_is_an_empty_repository()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var pages = new List<IReadOnlyList<string>>();
        await foreach (var page in engine.OpenStore(server.Host).ListTagPagesAsync("empty", default)) pages.Add(page);
        Assert.Empty(Assert.Single(pages));
    }

    [Fact]
    public async Task A_token_realm_that_is_not_http_or_https_is_refused()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var ex = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.OpenStore(server.Host).ListTagPagesAsync("badrealm/app", default)) { }
        });
        Assert.Equal(RegistryErrorIds.TokenServiceInvalid, ex.ErrorId);
        Assert.Contains("ftp://127.0.0.1/token", ex.Message);
    }

    [Fact]
    public async Task Retry_After_longer_than_the_engine_accepts_fails_at_once_with_the_wait()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine(maxRetryAfter: TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.OpenStore(server.Host).ListTagPagesAsync("slowdown/app", default)) { }
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal((RegistryErrorIds.Throttled, 429), (ex.ErrorId, ex.StatusCode));
        Assert.Equal(TimeSpan.FromHours(1), ex.RetryAfter);
        Assert.Contains("3600 s", ex.Message);
    }

    [Fact]
    public async Task Referrers_answered_with_401_and_no_challenge_fall_back_to_the_tag_schema()
    {
        await using var server = await LoopbackServer.StartAsync(Handle);
        using var engine = NewEngine();
        var store = engine.OpenStore(server.Host);
        Assert.Null(await store.GetReferrersAsync("harbor27/app", OtherDigest, null, default));
        var found = await ReferrerDiscovery.DiscoverAsync(store, "harbor27/app", OtherDigest, null, default);
        Assert.Empty(found);
    }
}
