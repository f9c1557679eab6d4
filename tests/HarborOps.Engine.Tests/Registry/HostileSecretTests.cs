using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Hostile;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>
/// The engine against the lab's hostile registry: where credentials go (only to the scheme, host and port they were given
/// for), what server text may carry into our messages (never a credential), and how long a hostile server can hold us.
/// One class on purpose: most of these bind 443/80 (UseDefaultPorts), where https://name and http://name share a
/// Uri.Authority, and xunit runs the tests of one class one after another.
/// </summary>
public sealed class HostileSecretTests
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };

    private static RegistryEngine EngineFor(HostileRegistry registry, Func<RegistryEngineOptions, RegistryEngineOptions>? configure = null)
    {
        var options = new RegistryEngineOptions
        {
            DockerConfigPath = "/nonexistent/config.json",
            ServerCertificateValidator = registry.CertificateAuthority.Validate,
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            RetryMaxDelay = TimeSpan.FromMilliseconds(200),
            MaxRetries = 2,
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        return new RegistryEngine(configure is null ? options : configure(options));
    }

    /// <summary>Every request that carried a credential went to the one origin the credential was given for.</summary>
    private static void AssertCredentialsOnlyWentTo(HostileRegistry registry, string scheme, string host, int port, string context)
    {
        foreach (var sent in registry.RequestsWithCredentials)
            Assert.True(sent.Scheme == scheme && sent.Port == port && string.Equals(sent.Host, host, StringComparison.OrdinalIgnoreCase),
                $"{context}: credentials given for {scheme}://{host}:{port} were sent with {sent}");
    }

    private static void AssertNoSecretIn(HostileRegistry registry, string text, string context)
    {
        foreach (var secret in registry.SecretForms)
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{context}: a credential ({secret[..Math.Min(6, secret.Length)]}...) appears in:\n{text}");
    }

    /// <summary>The https registry as a reference names it: a bare host name is a Docker Hub namespace, so 443 is spelled out.</summary>
    private static string HttpsReferenceHost(HostileRegistry registry) => registry.HttpsPort == 443 ? $"{registry.HostName}:443" : registry.HttpsHost;

    private static string Everything(Exception ex)
    {
        var text = new StringBuilder(ex.ToString());
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is HarborOpsException h) text.AppendLine().Append(h.Target);
        return text.ToString();
    }

    [Fact]
    public async Task A_blob_redirect_from_https_to_plain_http_on_the_default_ports_is_refused_and_carries_no_credentials()
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { UseDefaultPorts = true });
        var image = registry.PushImage("team/app", "1.0");
        registry.TurnOn(HostileMode.RedirectBlobToPlainHttp);
        using var engine = EngineFor(registry);
        var store = engine.OpenStore(registry.HttpsHost, registry.Credential);

        var refused = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await using var blob = await store.OpenBlobAsync("team/app", image.LayerDigest, null, CancellationToken.None);
        });

        Assert.Equal(RegistryErrorIds.InsecureRedirect, refused.ErrorId);
        Assert.Contains($"http://{registry.HostName}/v2/team/app/blobs/", refused.Message);
        Assert.Contains("HARBOROPS_PLAIN_HTTP_HOSTS", refused.Message);
        Assert.DoesNotContain(registry.Requests, r => r.Scheme == "http");
        AssertCredentialsOnlyWentTo(registry, "https", registry.HostName, 443, "blob redirect");
    }

    [Fact]
    public async Task An_upload_location_on_plain_http_on_the_default_ports_is_refused_and_carries_no_credentials()
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { UseDefaultPorts = true });
        registry.TurnOn(HostileMode.UploadLocationToPlainHttp);
        using var engine = EngineFor(registry);
        var store = engine.OpenStore(registry.HttpsHost, registry.Credential);
        var bytes = Encoding.UTF8.GetBytes("a layer that must not travel in clear text " + Guid.NewGuid());

        var refused = await Assert.ThrowsAsync<RegistryException>(() =>
            store.PutBlobAsync("team/app", HostileRegistry.DigestOf(bytes), bytes.Length, new MemoryStream(bytes), CancellationToken.None));

        Assert.Equal(RegistryErrorIds.InsecureRedirect, refused.ErrorId);
        Assert.DoesNotContain(registry.Requests, r => r.Scheme == "http");
        AssertCredentialsOnlyWentTo(registry, "https", registry.HostName, 443, "upload Location");
    }

    [Fact]
    public async Task A_plain_http_host_the_user_allowed_may_be_redirected_to_but_gets_no_credentials()
    {
        await using var registry = await HostileRegistry.StartAsync();
        var image = registry.PushImage("team/app", "1.0");
        registry.TurnOn(HostileMode.RedirectBlobToPlainHttp);
        using var engine = EngineFor(registry, o => o with { PlainHttpHosts = [$"{registry.HostName}:{registry.HttpPort}"] });
        var store = engine.OpenStore(registry.HttpsHost, registry.Credential);

        // The redirect is followed, bare: the plain listener wants credentials too and refuses it, as it should.
        var refused = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await using var blob = await store.OpenBlobAsync("team/app", image.LayerDigest, null, CancellationToken.None);
        });

        Assert.Equal(401, refused.StatusCode);
        Assert.Contains(registry.Requests, r => r.Scheme == "http" && r.Authorization is null && r.PathAndQuery.Contains(image.LayerDigest, StringComparison.Ordinal));
        AssertCredentialsOnlyWentTo(registry, "https", registry.HostName, registry.HttpsPort, "allowed plain-http redirect");
    }

    [Fact]
    public async Task A_token_realm_over_plain_http_on_another_host_is_refused_and_gets_no_credentials()
    {
        // The registry itself is plain http on loopback (allowed); its realm is plain http on a name that is not loopback.
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.Bearer });
        registry.PushImage("team/app", "1.0");
        registry.TurnOn(HostileMode.PlainHttpRealmOnOtherHost);
        using var engine = EngineFor(registry);

        var refused = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{registry.PlainHost}/team/app") { Credential = registry.Credential }, null, CancellationToken.None)) { }
        });

        Assert.Equal(RegistryErrorIds.TokenServiceInvalid, refused.ErrorId);
        Assert.Contains($"http://{registry.HostName}:{registry.HttpPort}/token", refused.Message);
        Assert.Contains("HARBOROPS_PLAIN_HTTP_HOSTS", refused.Message);
        Assert.Empty(registry.RequestsWithCredentials);
        Assert.DoesNotContain(registry.Requests, r => r.PathAndQuery.StartsWith("/token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Credentials_a_registry_or_token_service_echoes_never_reach_our_error_text()
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.Bearer, UseDefaultPorts = true });
        registry.PushImage("team/app", "1.0");
        var texts = new List<(string Context, string Text)>();

        // The registry echoes the bearer token on a missing manifest; then the token service echoes the Basic header.
        registry.TurnOn(HostileMode.EchoCredentialsInErrors);
        using (var engine = EngineFor(registry))
        {
            var store = engine.OpenStore(registry.HttpsHost, registry.Credential);
            var missing = await Assert.ThrowsAsync<RegistryException>(() => store.GetManifestAsync("team/app", "no-such-tag", CancellationToken.None));
            Assert.Equal(RegistryErrorIds.ManifestNotFound, missing.ErrorId);
            Assert.Contains("you sent Bearer", missing.Message); // the server text stays, only the secret goes
            texts.Add(("registry echo", Everything(missing)));
        }
        registry.SetModes([HostileMode.TokenServiceRefuses]);
        using (var engine = EngineFor(registry))
        {
            var refused = await Assert.ThrowsAsync<RegistryException>(async () =>
            {
                await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{HttpsReferenceHost(registry)}/team/app") { Credential = registry.Credential }, null, CancellationToken.None)) { }
            });
            Assert.True(refused.ErrorId == RegistryErrorIds.AuthenticationFailed, refused.ToString());
            texts.Add(("token service echo of Basic", Everything(refused)));
        }

        // A refresh token goes in a form body, which the token service echoes too.
        registry.SetModes([]);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, SslOptions = { RemoteCertificateValidationCallback = (_, c, _, e) => registry.CertificateAuthority.Validate(c as System.Security.Cryptography.X509Certificates.X509Certificate2, e) } });
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, $"https://{registry.HttpsHost}/token?service=hostile");
        tokenRequest.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{registry.UserName}:{registry.Password}")));
        using var tokenResponse = await http.SendAsync(tokenRequest);
        var refreshToken = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
        registry.SetModes([HostileMode.TokenServiceRefuses]);
        using (var engine = EngineFor(registry))
        {
            var refused = await Assert.ThrowsAsync<RegistryException>(async () =>
            {
                await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{HttpsReferenceHost(registry)}/team/app") { Credential = new NetworkCredential("<token>", refreshToken) }, null, CancellationToken.None)) { }
            });
            Assert.True(refused.ErrorId == RegistryErrorIds.AuthenticationFailed, refused.ToString());
            texts.Add(("token service echo of a refresh-token form", Everything(refused)));
        }

        Assert.Contains(registry.Requests, r => r.FormBody?.Contains(refreshToken, StringComparison.Ordinal) == true);
        foreach (var (context, text) in texts) AssertNoSecretIn(registry, text, context);
        AssertCredentialsOnlyWentTo(registry, "https", registry.HostName, 443, "echo");
    }

    [Fact]
    public async Task A_tag_list_whose_next_link_is_itself_ends_at_the_first_repeat_with_an_item_error()
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.None });
        registry.PushImage("team/app", "1.0");
        registry.TurnOn(HostileMode.TagListLinksToItself);
        using var engine = EngineFor(registry);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var looped = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{registry.HttpsHost}/team/app"), null, patience.Token)) { }
        });

        Assert.Equal(RegistryErrorIds.PagingLoop, looped.ErrorId);
        Assert.Contains("/v2/team/app/tags/list", looped.Message);
        Assert.Equal($"{registry.HttpsHost}/team/app", looped.Target?.ToString());
        Assert.InRange(registry.Requests.Count(r => r.PathAndQuery.Contains("/tags/list", StringComparison.Ordinal)), 1, 2);
    }

    [Fact]
    public async Task A_token_service_that_hangs_fails_within_the_request_timeout_with_a_clear_error()
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.Bearer });
        registry.PushImage("team/app", "1.0");
        registry.TurnOn(HostileMode.TokenServiceHangs);
        var timeout = TimeSpan.FromSeconds(1);
        using var engine = EngineFor(registry, o => o with { RequestTimeout = timeout, MaxRetries = 5, RetryBaseDelay = TimeSpan.FromMilliseconds(200), RetryMaxDelay = TimeSpan.FromSeconds(2) });
        var clock = Stopwatch.StartNew();

        var hung = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{registry.HttpsHost}/team/app") { Credential = registry.Credential }, null, CancellationToken.None)) { }
        });

        Assert.Equal(RegistryErrorIds.Timeout, hung.ErrorId);
        Assert.Contains("token", hung.Message);
        Assert.Contains($"https://{registry.HttpsHost}/token", hung.Message);
        // One wait of the request timeout, not one per retry (6 x 60 s + backoff was 393 s with the defaults).
        Assert.True(clock.Elapsed < timeout * 3, $"the hanging token service held the request for {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// Every <see cref="HostileMode"/> alone (a new mode is scanned without touching this test), against what a user
    /// runs: the tag listing, a copy out of the registry, a copy into it, and a parity check; everything the engine hands
    /// back or writes is searched for each form of each credential, and the request log for any credential that went to
    /// another scheme, host or port than the one it was given for.
    /// </summary>
    [Theory]
    [InlineData(HostileAuth.Basic, false)]
    [InlineData(HostileAuth.Bearer, false)]
    [InlineData(HostileAuth.Basic, true)]
    [InlineData(HostileAuth.Bearer, true)]
    public async Task Every_hostile_mode_alone_leaks_no_credential_into_what_we_return_or_write_nor_sends_one_elsewhere(HostileAuth auth, bool plainHttpEndpoint)
    {
        await using var registry = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = auth, UseDefaultPorts = true });
        registry.PushImage("team/app", "1.0");
        registry.PushImage("team/app", "2.0");
        registry.ServerErrorTags["2.0"] = true;
        var host = plainHttpEndpoint ? registry.PlainHost : HttpsReferenceHost(registry);
        var (scheme, issuedHost, port) = plainHttpEndpoint
            ? ("http", LabLoopbackName.Address.ToString(), registry.HttpPort)
            : ("https", registry.HostName, registry.HttpsPort);
        var work = Directory.CreateTempSubdirectory("harborops-secret-scan-");
        try
        {
            var layout = Path.Combine(work.FullName, "layout");
            using (var engine = EngineFor(registry))
            {
                var seeded = await new ImageCopier(engine).CopyAsync(new CopyRequest([$"{host}/team/app"], $"oci:{layout}") { SourceCredential = registry.Credential },
                    null, null, CancellationToken.None);
                Assert.True(seeded.Failed == 0, string.Join("; ", seeded.Failures));
            }

            foreach (var mode in Enum.GetValues<HostileMode>())
            {
                registry.SetModes([mode]);
                registry.ClearRequests();
                var written = new StringBuilder();
                void Record(object? value) { lock (written) written.AppendLine(value is string s ? s : JsonSerializer.Serialize(value, value?.GetType() ?? typeof(object), Relaxed)); }
                async Task Run(Func<Task> operation)
                {
                    try { await operation(); }
                    catch (Exception ex) { Record(Everything(ex)); }
                }
                var progress = new RecordingProgress(Record);
                var name = mode.ToString().ToLowerInvariant();
                var pullJournal = Path.Combine(work.FullName, $"{name}.pull.journal");
                var pushJournal = Path.Combine(work.FullName, $"{name}.push.journal");
                using var engine = EngineFor(registry, o => o with { RequestTimeout = TimeSpan.FromSeconds(2) });

                await Run(async () =>
                {
                    await foreach (var tag in engine.GetTagsAsync(new GetTagsRequest($"{host}/team/app") { Credential = registry.Credential, IncludeReferrers = true }, progress, CancellationToken.None))
                        Record(tag);
                });
                await Run(async () => Record(await new ImageCopier(engine).CopyAsync(
                    new CopyRequest([$"{host}/team/app"], $"oci:{Path.Combine(work.FullName, "pulled-" + name)}") { SourceCredential = registry.Credential, JournalPath = pullJournal },
                    progress, (result, _) => Record(result), CancellationToken.None)));
                await Run(async () => Record(await new ImageCopier(engine).CopyAsync(
                    new CopyRequest([$"oci:{layout}"], $"{host}/pushed-{name}") { DestinationCredential = registry.Credential, JournalPath = pushJournal },
                    progress, (result, _) => Record(result), CancellationToken.None)));
                await Run(async () => Record(await new ParityChecker(engine).CompareAsync(
                    new ParityRequest([$"{host}/team/app"], $"{host}/pushed-{name}") { SourceCredential = registry.Credential, DestinationCredential = registry.Credential, IncludeReferrers = true },
                    progress, Record, Record, CancellationToken.None)));
                foreach (var journal in new[] { pullJournal, pushJournal }.Where(File.Exists))
                    Record(await File.ReadAllTextAsync(journal));

                AssertNoSecretIn(registry, written.ToString(), $"{auth} {host} {mode}");
                AssertCredentialsOnlyWentTo(registry, scheme, issuedHost, port, $"{auth} {host} {mode}");
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Progress recorded as it is reported (Progress&lt;T&gt; would post it later, past the scan).</summary>
    private sealed class RecordingProgress(Action<object?> record) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value) => record(value);
    }
}
