using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Azure.Core.Pipeline;
using Azure.Identity;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Lab;
using HarborOps.Lab.Acr;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>Entra ID through Azure.Identity for real (MSAL against the lab's https Entra endpoint), then ACR's exchange.</summary>
[Collection(AcrLabCollection.Name)]
public sealed class AcrEntraAuthTests(AcrLabFixture lab) : IDisposable
{
    public void Dispose() => lab.Audit.AssertExchangesMatchContract();

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    [Fact]
    public async Task Client_secret_credential_lists_tags_through_the_exchange_with_digests_from_the_listing()
    {
        var repository = lab.Unique("entra/list");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "2.0");
        var locked = await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "3.0");
        lab.Acr.Lock(repository, locked.Digest);
        await lab.ResetAsync();
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());

        var tags = new List<HarborOps.Models.RegistryTagInfo>();
        await foreach (var tag in engine.GetTagsAsync(new GetTagsRequest($"{lab.AcrHost}/{repository}"), null, default)) tags.Add(tag);

        Assert.Equal(["1.0", "2.0", "3.0"], tags.Select(t => t.Tag));
        Assert.All(tags.Take(2), t => Assert.Equal(["linux/amd64"], t.Platforms));
        // The locked tag is listed with what ACR's listing says; its manifest is not read.
        Assert.Equal((locked.Digest, 0), (tags[2].Digest, tags[2].Platforms.Length));
        Assert.Equal(1, lab.Acr.Entra.TokenRequestCount);
        Assert.Equal(1, lab.Acr.ExchangeCount);
        // Digests came from _manifests: no HEAD per tag, and nothing of the locked manifest was asked for.
        Assert.DoesNotContain(lab.Acr.Front.Requests, r => r.Method == "HEAD" || r.PathAndQuery.Contains(locked.Digest, StringComparison.Ordinal));
    }

    /// <summary>
    /// DefaultAzureCredential as the engine builds it, signing in through its environment credential
    /// (AZURE_CLIENT_ID/SECRET/TENANT_ID and AZURE_AUTHORITY_HOST, the way CI runners set them) against the lab's
    /// Entra endpoint. Only the transport differs from the engine's: it trusts the lab's self-signed certificate.
    /// </summary>
    [Fact]
    public async Task Default_azure_credential_signs_in_from_environment_variables_without_instance_discovery()
    {
        await lab.ResetAsync();
        var repository = lab.Unique("entra/default");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0");
        var variables = new Dictionary<string, string?>
        {
            ["AZURE_CLIENT_ID"] = lab.Reader.ClientId, ["AZURE_CLIENT_SECRET"] = lab.Reader.ClientSecret,
            ["AZURE_TENANT_ID"] = lab.Acr.Entra.TenantId, ["AZURE_AUTHORITY_HOST"] = lab.Acr.Entra.AuthorityHost.AbsoluteUri,
        };
        var saved = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in variables) Environment.SetEnvironmentVariable(name, value);
            var options = AzureIdentityRefreshTokenProvider.DefaultCredentialOptions(Environment.GetEnvironmentVariable);
            Assert.True(options.DisableInstanceDiscovery, "a private authority is not sent to login.microsoftonline.com for discovery");
            options.Transport = new HttpClientTransport(lab.Acr.Entra.CreateTrustingHandler());
            using var engine = lab.NewEngine();
            engine.Credentials.SetAzureIdentity(lab.AcrHost, new DefaultAzureCredential(options));

            var clock = Stopwatch.StartNew();
            var tags = new List<string>();
            await foreach (var tag in engine.GetTagsAsync(new GetTagsRequest($"{lab.AcrHost}/{repository}"), null, default)) tags.Add(tag.Tag);

            Assert.Equal(["1.0"], tags);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"sign-in took {clock.Elapsed}");
            Assert.Equal(lab.Reader.ClientId, Assert.Single(lab.Acr.Entra.Issued).ClientId);
            Assert.Equal(1, lab.Acr.ExchangeCount);
        }
        finally
        {
            foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
        }
        Assert.False(AzureIdentityRefreshTokenProvider.DefaultCredentialOptions(_ => "https://login.microsoftonline.us/").DisableInstanceDiscovery);
        Assert.False(AzureIdentityRefreshTokenProvider.DefaultCredentialOptions(_ => null).DisableInstanceDiscovery);
    }

    [Fact]
    public async Task Access_tokens_are_refreshed_shortly_before_their_jwt_expiry_and_the_refresh_token_is_kept()
    {
        var repository = lab.Unique("entra/expiry");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0");
        await lab.ResetAsync();
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());
        var store = engine.OpenStore(lab.AcrHost);
        lab.Acr.AccessTokenLifetime = TimeSpan.FromSeconds(4);
        try
        {
            await store.HeadManifestAsync(repository, "1.0", default);
            await store.HeadManifestAsync(repository, "1.0", default);
            Assert.Equal(1, lab.Acr.TokenRequestCount); // still fresh: reused
            // The token's exp is 4 s away and no expires_in was sent: the engine refreshes at half its life, before it runs out.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            await store.HeadManifestAsync(repository, "1.0", default);
        }
        finally
        {
            lab.Acr.AccessTokenLifetime = TimeSpan.FromMinutes(75);
        }
        Assert.Equal(2, lab.Acr.TokenRequestCount);
        Assert.Equal(1, lab.Acr.ExchangeCount);
        Assert.Equal(1, lab.Acr.Entra.TokenRequestCount);
        Assert.DoesNotContain(lab.Acr.Front.Requests, r => r.StatusCode == 401 && r.HadAuthorization);
    }

    [Fact]
    public async Task A_refresh_token_works_as_the_basic_password_of_the_null_guid_user_as_docker_login_uses_it()
    {
        await lab.ResetAsync();
        var repository = lab.Unique("emu/null-guid");
        await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, "1.0");
        var entra = await lab.ReaderCredential().GetTokenAsync(new Azure.Core.TokenRequestContext(["https://containerregistry.azure.net/.default"]), default);
        using var exchange = await Http.PostAsync(new Uri(lab.Acr.BaseUri, "oauth2/exchange"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "access_token", ["service"] = lab.AcrHost, ["tenant"] = lab.Acr.Entra.TenantId, ["access_token"] = entra.Token,
        }));
        exchange.EnsureSuccessStatusCode();
        using var refresh = JsonDocument.Parse(await exchange.Content.ReadAsStringAsync());
        using var engine = lab.NewEngine();
        engine.Credentials.Set(lab.AcrHost, new NetworkCredential(AcrEmulator.NullGuidUser, refresh.RootElement.GetProperty("refresh_token").GetString()));

        var tags = new List<string>();
        await foreach (var tag in engine.GetTagsAsync(new GetTagsRequest($"{lab.AcrHost}/{repository}"), null, default)) tags.Add(tag.Tag);

        Assert.Equal(["1.0"], tags);
        Assert.All(lab.Acr.TokenCalls.Where(c => c.Endpoint == "token"), c => Assert.Equal(("GET", "basic", 200), (c.Method, c.GrantType, c.Status)));
        Assert.StartsWith("entra:", lab.Acr.TokenCalls.Last().Subject);
    }
}
