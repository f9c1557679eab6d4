using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HarborOps.Lab.Acr;
using Xunit;

namespace HarborOps.Lab.Tests.Acr;

/// <summary>
/// The ACR emulator is as strict as ACR: independent clients (skopeo, raw HTTP) see ACR's token flow, challenges,
/// scope checks, 307 blob redirects and JSON shapes, and a wrong token is refused.
/// </summary>
public sealed class AcrEmulatorTests(AcrEmulatorFixture lab) : IClassFixture<AcrEmulatorFixture>, IDisposable
{
    public void Dispose() => lab.Audit.AssertExchangesMatchContract();

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    [Fact]
    public async Task Skopeo_reads_an_image_through_the_token_service_and_the_storage_redirect()
    {
        await lab.ResetAsync();
        var repository = lab.Unique("emu/skopeo");
        var pushed = await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0", new LabImageOptions { LayerCount = 2 });
        var target = Path.Combine(LabDirectories.CreateOwned("acr-skopeo"), "image");

        var result = await LabSkopeo.RunAsync(lab.Acr.AdminEndpoint, ["copy", "--src-tls-verify=false", $"docker://{lab.AcrHost}/{repository}:1.0", $"dir:{target}"]);

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.True(File.Exists(Path.Combine(target, pushed.Digest["sha256:".Length..])) || Directory.GetFiles(target).Length >= 4);
        var storage = lab.Acr.Front.StorageHostRequests;
        Assert.Equal(pushed.BlobDigests.Count, storage.Count(r => r.Method == "GET" && r.StatusCode == 200));
        Assert.All(storage, r => Assert.False(r.HadAuthorization));
        Assert.Contains(lab.Acr.TokenCalls, c => c.Endpoint == "token" && c.GrantType == "basic" && c.Status == 200);
    }

    [Fact]
    public async Task Listing_needs_metadata_read_and_the_challenge_names_it()
    {
        await lab.ResetAsync();
        var repository = lab.Unique("emu/scopes");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0");
        var pullToken = await lab.AdminTokenAsync($"repository:{repository}:pull");

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Acr.BaseUri, $"acr/v1/{repository}/_manifests"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", pullToken);
        using var refused = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var challenge = refused.Headers.WwwAuthenticate.ToString();
        Assert.Contains($"realm=\"http://{lab.AcrHost}/oauth2/token\"", challenge);
        Assert.Contains($"service=\"{lab.AcrHost}\"", challenge);
        Assert.Contains($"scope=\"repository:{repository}:metadata_read\"", challenge);
        Assert.Contains("error=\"insufficient_scope\"", challenge);

        var metadataToken = await lab.AdminTokenAsync($"repository:{repository}:metadata_read");
        using var allowed = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Acr.BaseUri, $"acr/v1/{repository}/_manifests"));
        allowed.Headers.Authorization = new AuthenticationHeaderValue("Bearer", metadataToken);
        using var response = await Http.SendAsync(allowed);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(repository, json.RootElement.GetProperty("imageName").GetString());
        var manifest = Assert.Single(json.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(["1.0"], manifest.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.True(manifest.GetProperty("changeableAttributes").GetProperty("readEnabled").GetBoolean());
        Assert.EndsWith("Z", manifest.GetProperty("lastUpdateTime").GetString());
        Assert.Equal("amd64", manifest.GetProperty("architecture").GetString());
    }

    [Fact]
    public async Task The_exchange_refuses_tokens_for_another_audience_or_from_another_issuer()
    {
        await lab.ResetAsync();
        var application = lab.Acr.Entra.AddApplication();
        // A real Entra token, but for Microsoft Graph, not for ACR.
        var graph = await new Azure.Identity.ClientSecretCredential(lab.Acr.Entra.TenantId, application.ClientId, application.ClientSecret,
            new Azure.Identity.ClientSecretCredentialOptions
            {
                AuthorityHost = lab.Acr.Entra.AuthorityHost, DisableInstanceDiscovery = true,
                Transport = new Azure.Core.Pipeline.HttpClientTransport(lab.Acr.Entra.CreateTrustingHandler()),
            }).GetTokenAsync(new Azure.Core.TokenRequestContext(["https://graph.microsoft.com/.default"]), default);
        var forged = LabJwt.Sign(LabTokenService.CreateSigningCertificate(), new Dictionary<string, object>
        {
            ["aud"] = AcrEmulator.EntraAudience, ["iss"] = lab.Acr.Entra.Issuer, ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
            ["oid"] = application.ObjectId, ["tid"] = lab.Acr.Entra.TenantId,
        });

        foreach (var (token, why) in new[] { (graph.Token, "wrong audience"), (forged, "signature does not verify") })
        {
            using var response = await Http.PostAsync(new Uri(lab.Acr.BaseUri, "oauth2/exchange"), new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "access_token", ["service"] = lab.AcrHost, ["access_token"] = token,
            }));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains(why, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Tags_page_with_n_last_and_a_link_that_keeps_orderby_and_a_patch_locks_a_manifest()
    {
        await lab.ResetAsync();
        var repository = lab.Unique("emu/paging");
        var pushed = new List<PushedImage>();
        foreach (var tag in new[] { "a", "b", "c", "d", "e" }) pushed.Add(await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, tag));
        var token = await lab.AdminTokenAsync($"repository:{repository}:metadata_read,metadata_write");

        var names = new List<string>();
        var next = $"acr/v1/{repository}/_tags?n=2&orderby=timedesc";
        var pages = 0;
        while (next is not null && pages++ < 10)
        {
            using var response = await SendAsync(HttpMethod.Get, next, token);
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            names.AddRange(json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()!));
            next = response.Headers.TryGetValues("Link", out var links) ? links.Single().Split('<', '>')[1].TrimStart('/') : null;
            if (next is not null) Assert.Contains("orderby=timedesc", next);
        }
        Assert.Equal(3, pages);
        Assert.Equal(["e", "d", "c", "b", "a"], names); // newest first: pushed in this order

        using (var patch = new HttpRequestMessage(HttpMethod.Patch, new Uri(lab.Acr.BaseUri, $"acr/v1/{repository}/_manifests/{pushed[0].Digest}")))
        {
            patch.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            patch.Content = new StringContent("{\"readEnabled\":false}", Encoding.UTF8, "application/json");
            using var patched = await Http.SendAsync(patch);
            patched.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await patched.Content.ReadAsStringAsync());
            Assert.False(json.RootElement.GetProperty("manifest").GetProperty("changeableAttributes").GetProperty("readEnabled").GetBoolean());
        }
        var pullToken = await lab.AdminTokenAsync($"repository:{repository}:pull");
        using var refused = await SendAsync(HttpMethod.Get, $"v2/{repository}/manifests/a", pullToken);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("DENIED", await refused.Content.ReadAsStringAsync());
        using var other = await SendAsync(HttpMethod.Get, $"v2/{repository}/manifests/b", pullToken);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string relative, string token)
    {
        var request = new HttpRequestMessage(method, new Uri(lab.Acr.BaseUri, relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd(LabContent.OciManifest);
        request.Headers.Accept.ParseAdd(LabContent.DockerManifest);
        return Http.SendAsync(request);
    }
}
