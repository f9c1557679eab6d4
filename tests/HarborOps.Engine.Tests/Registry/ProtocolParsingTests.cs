using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Resilience;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

public sealed class ProtocolParsingTests
{
    [Fact]
    public void Parses_bearer_challenge_with_quoted_parameters_and_several_scopes()
    {
        var challenges = AuthChallenge.Parse([
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push repository:other:pull\",error=\"insufficient_scope\""]);
        var c = Assert.Single(challenges);
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.docker.io/token", c.Realm);
        Assert.Equal("registry.docker.io", c.Service);
        Assert.Equal(["repository:samalba/my-app:pull,push", "repository:other:pull"], c.Scopes);
        Assert.Equal("insufficient_scope", c.Error);
    }

    [Fact]
    public void Parses_several_challenges_case_insensitively_with_escapes()
    {
        var challenges = AuthChallenge.Parse(["basic REALM=\"a \\\"quoted\\\" realm\", Bearer realm=https://h/t, service=svc"]);
        Assert.Equal(2, challenges.Count);
        Assert.True(challenges[0].IsBasic);
        Assert.Equal("a \"quoted\" realm", challenges[0].Realm);
        Assert.True(challenges[1].IsBearer);
        Assert.Equal("https://h/t", challenges[1].Realm);
        Assert.Equal("svc", challenges[1].Service);
    }

    [Theory]
    [InlineData("</v2/team/app/tags/list?last=v1&n=100>; rel=\"next\"", "http://r:5000/v2/team/app/tags/list?n=100", "http://r:5000/v2/team/app/tags/list?last=v1&n=100")]
    [InlineData("<https://other.example/v2/_catalog?last=x&n=2>; rel=next", "https://r/v2/_catalog?n=2", "https://other.example/v2/_catalog?last=x&n=2")]
    [InlineData("<https://r/p?a=1>; rel=\"prev\", </v2/x/tags/list?last=a,b&n=1>; rel=\"next\"", "https://r/v2/x/tags/list", "https://r/v2/x/tags/list?last=a,b&n=1")]
    [InlineData("</acr/v1/x/_tags?last=a&orderby=timedesc>; rel=\"next last\"", "https://r/acr/v1/x/_tags", "https://r/acr/v1/x/_tags?last=a&orderby=timedesc")]
    public void Finds_next_link_relative_or_absolute(string header, string request, string expected) =>
        Assert.Equal(new Uri(expected), LinkHeader.FindNext([header], new Uri(request)));

    [Fact]
    public void No_next_link_means_last_page() =>
        Assert.Null(LinkHeader.FindNext(["</v2/x?last=a>; rel=\"prev\""], new Uri("https://r/")));

    [Fact]
    public void Error_bodies_lose_every_form_of_the_credentials_the_request_sent_however_the_server_escapes_them()
    {
        const string password = "pa+ss/w0rd<&>";
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:" + password));
        var sent = new SentSecrets().AddBasic("alice", password).Add("refresh-token-1");
        static string EveryCharEscaped(string s) => string.Concat(s.Select(c => $"\\u{(int)c:x4}"));
        var json = $"{{\"errors\":[{{\"code\":\"UNAUTHORIZED\",\"message\":\"you sent Basic {basic}\"}}],\"detail\":\"password={Uri.EscapeDataString(password)} token {EveryCharEscaped("refresh-token-1")}\"}}";

        var fromJson = RegistryErrorBody.Parse(Encoding.UTF8.GetBytes(json), sent);
        var fromText = RegistryErrorBody.Parse(Encoding.UTF8.GetBytes($"<html>you sent alice:{password} and {basic}</html>"), sent);

        Assert.Equal("UNAUTHORIZED: you sent Basic [redacted]", fromJson.Describe());
        foreach (var text in new[] { fromJson.Describe(), fromJson.RawText, fromText.Describe(), fromText.RawText })
            foreach (var secret in new[] { password, basic, Uri.EscapeDataString(password), "refresh-token-1", "pa+ss", "w0rd" })
                Assert.DoesNotContain(secret, text);
        Assert.Contains("[redacted]", fromText.RawText);
    }

    [Fact]
    public void Parses_registry_error_json_and_tolerates_plain_text()
    {
        var json = RegistryErrorBody.Parse(Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"name_unknown\",\"message\":\"repository name not known to registry\",\"detail\":{\"name\":\"x\"}}]}"), new SentSecrets());
        Assert.True(json.HasCode("NAME_UNKNOWN"));
        Assert.Equal("NAME_UNKNOWN: repository name not known to registry", json.Describe());

        var text = RegistryErrorBody.Parse(Encoding.UTF8.GetBytes("<html>Ref A: 123 Ref B: 456\n too many requests</html>"), new SentSecrets());
        Assert.Empty(text.Errors);
        Assert.Contains("Ref A: 123", text.Describe());

        Assert.Empty(RegistryErrorBody.Parse(Encoding.UTF8.GetBytes("{\"errors\": \"not an array\"}"), new SentSecrets()).Errors);
        Assert.Empty(RegistryErrorBody.Parse(null, new SentSecrets()).Errors);
    }

    [Fact]
    public void Scope_union_merges_actions_and_keeps_the_needed_scope_first()
    {
        var union = TokenScope.Union(["repository:b:push", "repository:a:pull", "repository:b:pull", "registry:catalog:*"]);
        Assert.Equal(["repository:b:pull,push", "repository:a:pull", "registry:catalog:*"], union);
        Assert.True(TokenScope.AllCovered(union, ["repository:b:pull"]));
        Assert.False(TokenScope.AllCovered(union, ["repository:a:push"]));
        // A name with host:port keeps its colon.
        var scope = TokenScope.Parse("repository:localhost:5000/app:pull")!;
        Assert.Equal("localhost:5000/app", scope.Name);
    }

    [Fact]
    public void Tag_schema_tag_of_a_digest()
    {
        var digest = "sha256:" + new string('a', 64);
        Assert.Equal("sha256-" + new string('a', 64), Digests.ToTagSchemaTag(digest));
        Assert.True(ImageReference.IsValidTag(Digests.ToTagSchemaTag(digest) + ".sig"));
    }

    [Fact]
    public async Task Digest_stream_passes_matching_content()
    {
        var content = Encoding.UTF8.GetBytes("hello blob");
        await using var stream = new DigestVerifyingStream(new MemoryStream(content), Digests.Sha256(content), content.Length);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task Digest_stream_throws_at_end_when_content_differs()
    {
        var content = Encoding.UTF8.GetBytes("hello blob");
        var expected = Digests.Sha256(Encoding.UTF8.GetBytes("hello blub"));
        await using var stream = new DigestVerifyingStream(new MemoryStream(content), expected, content.Length, "repo@x");
        var ex = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal(RegistryErrorIds.DigestMismatch, ex.ErrorId);
        Assert.Contains(Digests.Sha256(content), ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData(5, "ended after 10 of 15 bytes")]
    [InlineData(-5, "longer than the 5 bytes")]
    public async Task Digest_stream_throws_when_length_differs(int sizeDelta, string expected)
    {
        var content = Encoding.UTF8.GetBytes("0123456789");
        await using var stream = new DigestVerifyingStream(new MemoryStream(content), Digests.Sha256(content), content.Length + sizeDelta);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal(RegistryErrorIds.DigestMismatch, ex.ErrorId);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Manifest_parsing_rejects_schema1_and_type_disagreement()
    {
        var schema1 = Encoding.UTF8.GetBytes("{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"1\",\"fsLayers\":[]}");
        var ex = Assert.Throws<RegistryException>(() => ManifestContent.Parse(schema1, MediaTypes.DockerSchema1Signed, "r/x:1"));
        Assert.Equal(RegistryErrorIds.UnsupportedMediaType, ex.ErrorId);
        Assert.Contains("schema 1", ex.Message);

        var oci = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"sha256:{new string('1', 64)}\",\"size\":2}},\"layers\":[]}}");
        var mismatch = Assert.Throws<RegistryException>(() => ManifestContent.Parse(oci, MediaTypes.DockerManifest, "r/x:1"));
        Assert.Equal(RegistryErrorIds.ManifestInvalid, mismatch.ErrorId);

        var parsed = ManifestContent.Parse(oci, "application/json; charset=utf-8", "r/x:1");
        Assert.Equal(MediaTypes.OciManifest, parsed.MediaType);
        Assert.Equal(Digests.Sha256(oci), parsed.Digest);
        Assert.Equal(2, parsed.Config!.Size);
    }

    [Fact]
    public void Manifest_without_media_type_is_recognised_by_shape()
    {
        var index = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"sha256:{new string('2', 64)}\",\"size\":3,\"platform\":{{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}}}]}}");
        var parsed = ManifestContent.Parse(index, null, "r/x:1");
        Assert.Equal(MediaTypes.OciIndex, parsed.MediaType);
        Assert.Equal("linux/arm64/v8", parsed.Manifests[0].Platform!.ToString());
    }

    [Fact]
    public void Jwt_expiry_is_read_without_validation()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var jwt = $"{B64("{\"alg\":\"none\"}")}.{B64("{\"exp\":2000000000}")}.sig";
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(2000000000), AzureIdentityRefreshTokenProvider.JwtExpiry(jwt));
        Assert.Null(AzureIdentityRefreshTokenProvider.JwtExpiry("opaque-token"));
    }
}

public sealed class BackoffTests
{
    [Fact]
    public void Exponential_backoff_doubles_with_jitter_and_stops_at_the_cap()
    {
        var options = new RegistryEngineOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(100), RetryMaxDelay = TimeSpan.FromMilliseconds(1000), DockerConfigPath = "/nonexistent" };
        using var engine = new RegistryEngine(options);
        for (var retry = 0; retry < 8; retry++)
        {
            var nominal = Math.Min(100 * Math.Pow(2, retry), 1000);
            for (var sample = 0; sample < 20; sample++)
            {
                var delay = engine.Pipeline.Resilience.Rules.BackoffDelay(retry).TotalMilliseconds;
                Assert.InRange(delay, nominal * 0.8 - 0.001, nominal * 1.2 + 0.001);
            }
        }
    }

    [Fact]
    public async Task Host_backoff_holds_every_caller_until_the_window_ends_and_never_shortens_it()
    {
        var backoff = new HostBackoff();
        backoff.Register("h:1", TimeSpan.FromMilliseconds(300));
        backoff.Register("h:1", TimeSpan.FromMilliseconds(50)); // a shorter ask does not pull the window in
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(backoff.WaitAsync("h:1", default), backoff.WaitAsync("h:1", default));
        Assert.True(clock.ElapsedMilliseconds >= 250, $"{clock.ElapsedMilliseconds} ms");
        var other = System.Diagnostics.Stopwatch.StartNew();
        await backoff.WaitAsync("other:2", default);
        Assert.True(other.ElapsedMilliseconds < 50);
    }
}

public sealed class PlainHttpTests
{
    [Theory]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000/")]
    [InlineData("localhost:5000", "http://localhost:5000/")]
    [InlineData("[::1]:5000", "http://[::1]:5000/")]
    [InlineData("insecure.example.com:5000", "http://insecure.example.com:5000/")]
    [InlineData("registry.example.com", "https://registry.example.com/")]
    [InlineData("docker.io", "https://registry-1.docker.io/")]
    public void Loopback_and_configured_hosts_use_plain_http_everything_else_https(string registry, string expected)
    {
        using var engine = new RegistryEngine(new RegistryEngineOptions { PlainHttpHosts = ["http://Insecure.Example.com:5000/"], DockerConfigPath = "/nonexistent" });
        Assert.Equal(new Uri(expected), engine.Pipeline.BaseUri(registry));
    }

    [Fact]
    public void The_shared_engine_takes_plain_http_hosts_from_the_environment()
    {
        var variables = new Dictionary<string, string?> { [RegistryEngineOptions.PlainHttpHostsVariable] = " insecure.example.com:5000, registry.lab.internal ;" };
        var options = RegistryEngineOptions.FromEnvironment(name => variables.GetValueOrDefault(name));
        Assert.Equal(["insecure.example.com:5000", "registry.lab.internal"], options.PlainHttpHosts);
        using var engine = new RegistryEngine(options with { DockerConfigPath = "/nonexistent" });
        Assert.Equal(new Uri("http://registry.lab.internal/"), engine.Pipeline.BaseUri("registry.lab.internal"));
        Assert.Equal(new Uri("https://registry.example.com/"), engine.Pipeline.BaseUri("registry.example.com"));
        Assert.Empty(RegistryEngineOptions.FromEnvironment(_ => null).PlainHttpHosts);
    }

    [Theory]
    [InlineData("contoso.azurecr.io", true)]
    [InlineData("Contoso.AzureCR.io", true)]
    [InlineData("contoso.westeurope.geo.azurecr.io", true)]
    [InlineData("contoso.azurecr.cn", true)]
    [InlineData("contoso.azurecr.us", true)]
    [InlineData("registry.contoso.internal", true)]
    [InlineData("10.1.2.3:443", true)]
    [InlineData("azurecr.io.example.com", false)]
    [InlineData("ghcr.io", false)]
    [InlineData("docker.io", false)]
    public void Acr_is_known_by_its_suffix_or_by_HARBOROPS_ACR_HOSTS(string registry, bool isAcr)
    {
        var variables = new Dictionary<string, string?> { [RegistryEngineOptions.AcrHostsVariable] = "registry.contoso.internal, 10.1.2.3:443" };
        var options = RegistryEngineOptions.FromEnvironment(name => variables.GetValueOrDefault(name));
        Assert.Equal(["registry.contoso.internal", "10.1.2.3:443"], options.AcrHosts);
        using var engine = new RegistryEngine(options with { DockerConfigPath = "/nonexistent" });
        Assert.Equal(isAcr, engine.Pipeline.IsAcr(ImageReference.NormalizeRegistry(registry)));
        Assert.Equal(isAcr, engine.OpenStore(registry).HasBulkInventory);
    }
}

public sealed class SignatureRecognitionTests
{
    [Theory]
    [InlineData("application/vnd.dev.cosign.artifact.sig.v1+json", "ReferrersApi", null, true)]
    [InlineData("application/vnd.dev.cosign.simplesigning.v1+json", "ReferrersTagSchema", "sha256-x", true)]
    [InlineData("application/vnd.cncf.notary.signature", "ReferrersApi", null, true)]
    [InlineData("application/vnd.dev.sigstore.bundle.v0.3+json", "ReferrersApi", null, true)]
    [InlineData("application/spdx+json", "ReferrersApi", null, false)]
    [InlineData("application/vnd.dsse.envelope.v1+json", "CosignTag", "sha256-x.att", false)]
    [InlineData(null, "CosignTag", "sha256-x.sig", true)]
    public void Signatures_are_told_from_other_referrers(string? artifactType, string source, string? tag, bool signature) =>
        Assert.Equal(signature, ReferrerDiscovery.IsSignature(new HarborOps.Models.RegistryReferrerInfo { ArtifactType = artifactType, Source = source, Tag = tag }));
}
