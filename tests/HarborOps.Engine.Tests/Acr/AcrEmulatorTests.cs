using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Acr;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>
/// The ACR emulator is as strict as ACR: independent clients (skopeo, raw HTTP) see ACR's token flow, challenges,
/// scope checks, 307 blob redirects and JSON shapes, and a wrong token is refused.
/// </summary>
[Collection(AcrLabCollection.Name)]
public sealed class AcrEmulatorTests(AcrLabFixture lab)
{
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
        var pullToken = await TokenAsync($"repository:{repository}:pull");

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Acr.BaseUri, $"acr/v1/{repository}/_manifests"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", pullToken);
        using var refused = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var challenge = refused.Headers.WwwAuthenticate.ToString();
        Assert.Contains($"realm=\"http://{lab.AcrHost}/oauth2/token\"", challenge);
        Assert.Contains($"service=\"{lab.AcrHost}\"", challenge);
        Assert.Contains($"scope=\"repository:{repository}:metadata_read\"", challenge);
        Assert.Contains("error=\"insufficient_scope\"", challenge);

        var metadataToken = await TokenAsync($"repository:{repository}:metadata_read");
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

    private async Task<string> TokenAsync(string scope)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Acr.BaseUri, $"oauth2/token?service={Uri.EscapeDataString(lab.AcrHost)}&scope={Uri.EscapeDataString(scope)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{lab.Acr.AdminUser}:{lab.Acr.AdminPassword}")));
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(json.RootElement.TryGetProperty("expires_in", out _), "ACR sends no expires_in");
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
