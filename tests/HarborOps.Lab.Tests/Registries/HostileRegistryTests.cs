using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HarborOps.Lab.Hostile;
using Xunit;

namespace HarborOps.Lab.Tests.Registries;

/// <summary>The hostile registry judged by clients that are not ours: skopeo reads what it serves over https (so it speaks
/// enough of the Distribution API to be a fair source), and a bare HttpClient sees each attack exactly as designed.</summary>
public sealed class HostileRegistryTests
{
    private static HttpClient ClientTrusting(HostileRegistry registry) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, errors) => registry.CertificateAuthority.Validate(certificate, errors) },
        });

    private static AuthenticationHeaderValue Basic(HostileRegistry registry) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{registry.UserName}:{registry.Password}")));

    [Fact]
    public async Task Skopeo_reads_an_image_over_https_with_the_lab_CA_and_Basic_credentials()
    {
        await using var registry = await HostileRegistry.StartAsync();
        var image = registry.PushImage("team/app", "1.0");
        var certs = Directory.CreateTempSubdirectory("harborops-hostile-certs-");
        try
        {
            File.Copy(registry.CertificateAuthority.BundlePath, Path.Combine(certs.FullName, "ca.crt"));
            var endpoint = new LabEndpoint(new Uri($"https://{registry.HttpsHost}/"), registry.UserName, registry.Password);
            var result = await LabSkopeo.RunAsync(endpoint, ["inspect", "--raw", "--cert-dir", certs.FullName, $"docker://{registry.HttpsHost}/team/app:1.0"]);
            Assert.True(result.ExitCode == 0, result.StandardError);
            Assert.Equal(image.Manifest, Encoding.UTF8.GetBytes(result.StandardOutput.TrimEnd('\n')));
            Assert.All(registry.Requests.Where(r => r.StatusCode == 200), r => Assert.Equal("https", r.Scheme));
        }
        finally
        {
            certs.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Each_secret_mode_attacks_as_designed()
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.Bearer });
        var image = registry.PushImage("team/app", "1.0");
        using var http = ClientTrusting(registry);
        var https = new Uri($"https://{registry.HttpsHost}/");

        registry.TurnOn(HostileMode.PlainHttpRealmOnOtherHost, HostileMode.EchoCredentialsInErrors);
        using var challenge = new HttpRequestMessage(HttpMethod.Get, new Uri(https, "v2/team/app/manifests/1.0"));
        challenge.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        using var challenged = await http.SendAsync(challenge);
        Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);
        var realm = challenged.Headers.WwwAuthenticate.Single().Parameter!;
        Assert.Contains($"realm=\"http://{registry.HostName}:{registry.HttpPort}/token\"", realm);
        Assert.Contains("you sent Bearer not-a-token", await challenged.Content.ReadAsStringAsync());

        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, new Uri(https, "token?service=hostile&scope=repository:team/app:pull"));
        tokenRequest.Headers.Authorization = Basic(registry);
        using var tokenResponse = await http.SendAsync(tokenRequest);
        var token = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
        Assert.Contains(token, registry.SecretForms);

        registry.TurnOn(HostileMode.RedirectBlobToPlainHttp, HostileMode.UploadLocationToPlainHttp);
        using var blob = new HttpRequestMessage(HttpMethod.Get, new Uri(https, $"v2/team/app/blobs/{image.LayerDigest}"));
        blob.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var redirected = await http.SendAsync(blob);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirected.StatusCode);
        Assert.Equal($"http://{registry.HostName}:{registry.HttpPort}/v2/team/app/blobs/{image.LayerDigest}", redirected.Headers.Location!.AbsoluteUri);
        using var upload = new HttpRequestMessage(HttpMethod.Post, new Uri(https, "v2/team/app/blobs/uploads/"));
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var started = await http.SendAsync(upload);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal("http", started.Headers.Location!.Scheme);

        // The log says which scheme and port each credential went to.
        Assert.Contains(registry.RequestsWithCredentials, r => r.Scheme == "https" && r.Port == registry.HttpsPort && r.PathAndQuery.StartsWith("/token"));
        Assert.DoesNotContain(registry.RequestsWithCredentials, r => r.Scheme == "http");
    }

    [Fact]
    public async Task Content_modes_lie_about_digests_loop_tag_pages_fail_chosen_tags_and_hang_the_token_service()
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.None, TagsPageSize = 2 });
        var image = registry.PushImage("team/app", "1.0");
        registry.PutRawManifest("team/app", "..", image.Manifest);
        registry.PutRawManifest("team/app", "2.0", image.Manifest);
        using var http = ClientTrusting(registry);
        var plain = new Uri($"http://{registry.PlainHost}/");

        registry.TurnOn(HostileMode.LyingContentDigest, HostileMode.TagListLinksToItself, HostileMode.ManifestServerError);
        registry.ServerErrorTags["2.0"] = true;
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(plain, "v2/team/app/manifests/1.0")));
        Assert.NotEqual(image.Digest, head.Headers.GetValues("Docker-Content-Digest").Single());
        using var failed = await http.GetAsync(new Uri(plain, "v2/team/app/manifests/2.0"));
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        using var page = await http.GetAsync(new Uri(plain, "v2/team/app/tags/list?n=2"));
        Assert.Equal("</v2/team/app/tags/list?n=2>; rel=\"next\"", page.Headers.GetValues("Link").Single());
        Assert.Equal(["..", "1.0"], JsonDocument.Parse(await page.Content.ReadAsStringAsync()).RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!));

        registry.TurnOn(HostileMode.TokenServiceHangs);
        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.GetAsync(new Uri(plain, "token"), patience.Token));
    }
}
