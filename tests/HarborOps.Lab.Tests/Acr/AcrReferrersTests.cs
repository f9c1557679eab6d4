using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HarborOps.Lab.Acr;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Acr;

/// <summary>
/// The ACR emulator serves the OCI 1.1 referrers API as ACR does (its Distribution 2.8 has none): untagged signatures and
/// SBOMs pushed with a subject are listed with their artifactType and annotations, the artifactType filter is applied and
/// said so, a digest without referrers has an empty list, and the route needs pull on the repository. Every answer is held
/// to the OCI specs by the audit after each test.
/// </summary>
public sealed class AcrReferrersTests(AcrEmulatorFixture lab) : IClassFixture<AcrEmulatorFixture>, IDisposable
{
    private const string Sbom = "application/spdx+json";
    private const string NotationSignature = "application/vnd.cncf.notary.signature";
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    public void Dispose() => lab.Audit.AssertExchangesMatchContract();

    private async Task<(PushedImage Image, PushedImage Signature, PushedImage Sbom)> SeedAsync(string name)
    {
        await lab.ResetAsync();
        var repository = lab.Unique(name);
        var image = await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0");
        // OCI 1.1 mode (notation, cosign --registry-referrers-mode=oci-1-1): pushed by digest, no tag, no tag-schema index.
        var signature = await LabContent.PushReferrerAsync(lab.Acr.AdminEndpoint, image, NotationSignature,
            new Dictionary<string, string> { ["io.cncf.notary.x509chain.thumbprint#S256"] = "[\"ab12\"]" }, updateReferrersTag: false);
        var sbom = await LabContent.PushReferrerAsync(lab.Acr.AdminEndpoint, image, Sbom,
            new Dictionary<string, string> { ["org.opencontainers.image.created"] = "2026-12-01T10:00:00Z" }, updateReferrersTag: false);
        return (image, signature, sbom);
    }

    [Fact]
    public async Task The_untagged_signature_and_sbom_of_an_image_are_listed_with_their_artifact_type_size_and_annotations()
    {
        var (image, signature, sbom) = await SeedAsync("referrers/list");
        var token = await lab.AdminTokenAsync($"repository:{image.Repository}:pull");

        using var response = await GetAsync($"v2/{image.Repository}/referrers/{image.Digest}", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OciReferrersContract.IndexMediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("OCI-Filters-Applied"));
        using var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, index.RootElement.GetProperty("schemaVersion").GetInt32());
        var listed = index.RootElement.GetProperty("manifests").EnumerateArray().ToDictionary(d => d.GetProperty("digest").GetString()!);
        Assert.Equal(new[] { signature.Digest, sbom.Digest }.Order(StringComparer.Ordinal), listed.Keys.Order(StringComparer.Ordinal));
        foreach (var (pushed, type) in new[] { (signature, NotationSignature), (sbom, Sbom) })
        {
            var descriptor = listed[pushed.Digest];
            Assert.Equal(LabContent.OciManifest, descriptor.GetProperty("mediaType").GetString());
            Assert.Equal(pushed.Size, descriptor.GetProperty("size").GetInt64());
            Assert.Equal(type, descriptor.GetProperty("artifactType").GetString());
        }
        Assert.Equal("2026-12-01T10:00:00Z", listed[sbom.Digest].GetProperty("annotations").GetProperty("org.opencontainers.image.created").GetString());
        // OCI 1.1 mode left no tag behind: the referrers API is the only way to find them.
        Assert.DoesNotContain(await TagsAsync(image.Repository, await lab.AdminTokenAsync($"repository:{image.Repository}:metadata_read")), t => t.StartsWith("sha256-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_artifact_type_filter_is_applied_and_the_answer_says_so()
    {
        var (image, _, sbom) = await SeedAsync("referrers/filter");
        var token = await lab.AdminTokenAsync($"repository:{image.Repository}:pull");

        using var response = await GetAsync($"v2/{image.Repository}/referrers/{image.Digest}?artifactType={Uri.EscapeDataString(Sbom)}", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["artifactType"], response.Headers.GetValues("OCI-Filters-Applied"));
        using var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var only = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(sbom.Digest, only.GetProperty("digest").GetString());
    }

    [Fact]
    public async Task A_digest_or_repository_without_referrers_has_an_empty_list_not_a_404_and_a_malformed_digest_is_a_400()
    {
        var (image, signature, _) = await SeedAsync("referrers/empty");
        var token = await lab.AdminTokenAsync($"repository:{image.Repository}:pull");

        using (var none = await GetAsync($"v2/{image.Repository}/referrers/{signature.Digest}", token))
        {
            Assert.Equal(HttpStatusCode.OK, none.StatusCode);
            using var index = JsonDocument.Parse(await none.Content.ReadAsStringAsync());
            Assert.Empty(index.RootElement.GetProperty("manifests").EnumerateArray());
        }
        using (var malformed = await GetAsync($"v2/{image.Repository}/referrers/sha256:not-hex", token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Contains("DIGEST_INVALID", await malformed.Content.ReadAsStringAsync());
        }
        // No answer of a registry with the API is a 404 (a client would take it for "no referrers API"), not even this one.
        var missing = lab.Unique("referrers/missing");
        using var unknown = await GetAsync($"v2/{missing}/referrers/{image.Digest}", await lab.AdminTokenAsync($"repository:{missing}:pull"));
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        using var empty = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync());
        Assert.Empty(empty.RootElement.GetProperty("manifests").EnumerateArray());
    }

    [Fact]
    public async Task The_referrers_route_needs_pull_on_that_repository_and_the_challenge_names_it()
    {
        var (image, _, _) = await SeedAsync("referrers/scope");
        var other = lab.Unique("referrers/other");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, other, "1.0");

        foreach (var scope in new[] { $"repository:{image.Repository}:metadata_read", $"repository:{other}:pull" })
        {
            using var refused = await GetAsync($"v2/{image.Repository}/referrers/{image.Digest}", await lab.AdminTokenAsync(scope));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains($"scope=\"repository:{image.Repository}:pull\"", refused.Headers.WwwAuthenticate.ToString());
        }
        using var anonymous = await GetAsync($"v2/{image.Repository}/referrers/{image.Digest}", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_manifest_put_with_a_subject_is_answered_with_OCI_Subject_and_one_without_is_not()
    {
        var (image, _, _) = await SeedAsync("referrers/put");
        var token = await lab.AdminTokenAsync($"repository:{image.Repository}:pull,push");
        // The empty config {} is in the repository already (the referrers above use it).
        const string empty = """{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}""";
        var head = $$"""{"schemaVersion":2,"mediaType":"{{LabContent.OciManifest}}","artifactType":"application/vnd.example.scan+json","config":{{empty}},"layers":[{{empty}}]""";
        var withSubject = head + $$""","subject":{"mediaType":"{{image.MediaType}}","digest":"{{image.Digest}}","size":{{image.Size}}""" + "}}";
        var without = head + "}";

        using var put = await PutAsync(image.Repository, withSubject, token);
        using var plain = await PutAsync(image.Repository, without, token);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal([image.Digest], put.Headers.GetValues("OCI-Subject"));
        Assert.Equal(HttpStatusCode.Created, plain.StatusCode);
        Assert.False(plain.Headers.Contains("OCI-Subject"));
        using var listed = await GetAsync($"v2/{image.Repository}/referrers/{image.Digest}?artifactType=application/vnd.example.scan%2Bjson", token);
        using var index = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        Assert.Equal(LabContent.DigestOf(Encoding.UTF8.GetBytes(withSubject)), Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray()).GetProperty("digest").GetString());
    }

    [Theory]
    [InlineData(200, "application/json", """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""", "", null, "Content-Type")]
    [InlineData(200, OciReferrersContract.IndexMediaType, """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":12}]}""", "", null, "without artifactType")]
    [InlineData(200, OciReferrersContract.IndexMediaType, """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":"12","artifactType":"a/b"}]}""", "", null, "integer")]
    [InlineData(200, OciReferrersContract.IndexMediaType, """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""", "?artifactType=a%2Fb", null, "OCI-Filters-Applied")]
    [InlineData(200, OciReferrersContract.IndexMediaType, """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":2,"artifactType":"c/d"}]}""", "?artifactType=a%2Fb", "artifactType", "filtered")]
    [InlineData(200, OciReferrersContract.IndexMediaType, """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"aa","size":2,"artifactType":"a/b","annotations":{"k":1}}]}""", "", null, "not a digest")]
    [InlineData(200, OciReferrersContract.IndexMediaType, """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}""", "", null, "manifests")]
    [InlineData(404, "application/json", """{"errors":[{"code":"NAME_UNKNOWN"}]}""", "", null, "must not answer 404")]
    [InlineData(401, "application/json", """{"errors":[{"code":"UNAUTHORIZED"}]}""", "", null, "")]
    public void A_referrers_answer_that_breaks_the_OCI_specs_fails_the_audit(int status, string contentType, string body, string query, string? applied, string named)
    {
        var problems = AcrExchangeAudit.ProblemsIn([new AcrExchange("GET", "/v2/team/app/referrers/sha256:aa", query, status, contentType, body) { FiltersApplied = applied }], 0);

        if (named.Length == 0) Assert.Empty(problems); // a refusal is an error answer, not a referrers list
        else Assert.Contains(problems, p => p.Contains(named, StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> GetAsync(string relative, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Acr.BaseUri, relative));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd(OciReferrersContract.IndexMediaType);
        return Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PutAsync(string repository, string manifest, string token)
    {
        var bytes = Encoding.UTF8.GetBytes(manifest);
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri(lab.Acr.BaseUri, $"v2/{repository}/manifests/{LabContent.DigestOf(bytes)}"))
        {
            Content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue(LabContent.OciManifest) } },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Http.SendAsync(request);
    }

    private async Task<List<string>> TagsAsync(string repository, string token)
    {
        using var response = await GetAsync($"v2/{repository}/tags/list", token);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
    }
}
