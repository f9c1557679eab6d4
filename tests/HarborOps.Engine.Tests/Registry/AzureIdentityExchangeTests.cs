using System.Collections.Concurrent;
using System.Text;
using Azure.Core;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Auth;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>
/// ACR's Entra flow: Entra token (through an Azure.Core TokenCredential) -> POST /oauth2/exchange -> ACR refresh token ->
/// OAuth2 refresh_token grant -> access token. The ACR side is a loopback endpoint that checks every form field the
/// way ACR documents them; the full ACR emulator comes with the ACR work.
/// </summary>
public sealed class AzureIdentityExchangeTests
{
    private const string Service = "fakeacr.azurecr.io";

    /// <summary>An Azure.Core credential that hands out a fixed Entra token and records what it was asked for.</summary>
    private sealed class RecordingEntraCredential(string token) : TokenCredential
    {
        public ConcurrentQueue<TokenRequestContext> Requests { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Requests.Enqueue(requestContext);
            return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    private sealed class FakeAcr
    {
        public ConcurrentQueue<Dictionary<string, string>> Exchanges { get; } = new();
        public ConcurrentQueue<Dictionary<string, string>> TokenRequests { get; } = new();
        public string RefreshToken { get; } = Jwt(DateTimeOffset.UtcNow.AddHours(3));
        public string AccessToken { get; } = Jwt(DateTimeOffset.UtcNow.AddMinutes(75));
        public bool RefuseExchange { get; set; }

        private static string Jwt(DateTimeOffset exp)
        {
            static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            return $"{B64("{\"alg\":\"RS256\"}")}.{B64($"{{\"exp\":{exp.ToUnixTimeSeconds()},\"jti\":\"{Guid.NewGuid():N}\"}}")}.c2ln";
        }

        public async Task HandleAsync(HttpContext context)
        {
            var path = context.Request.Path.Value!;
            var realm = $"http://{context.Request.Host}/oauth2/token";
            if (context.Request.Method == "POST" && path == "/oauth2/exchange")
            {
                var form = (await context.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
                Exchanges.Enqueue(form);
                if (RefuseExchange || form.GetValueOrDefault("access_token") != "entra-token-for-acr")
                {
                    context.Response.StatusCode = 401;
                    await context.Response.WriteAsync("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"invalid aad token\"}]}");
                    return;
                }
                await context.Response.WriteAsJsonAsync(new { refresh_token = RefreshToken });
                return;
            }
            if (context.Request.Method == "POST" && path == "/oauth2/token")
            {
                var form = (await context.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
                TokenRequests.Enqueue(form);
                if (form.GetValueOrDefault("refresh_token") != RefreshToken || form.GetValueOrDefault("grant_type") != "refresh_token")
                {
                    context.Response.StatusCode = 401;
                    return;
                }
                // ACR's token response has no expires_in; the client reads the JWT's exp.
                await context.Response.WriteAsJsonAsync(new { access_token = AccessToken });
                return;
            }
            if (path.StartsWith("/v2/"))
            {
                if (context.Request.Headers.Authorization.ToString() != "Bearer " + AccessToken)
                {
                    context.Response.StatusCode = 401;
                    context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm}\",service=\"{Service}\",scope=\"repository:team/app:metadata_read\"";
                    return;
                }
                if (path == "/v2/team/app/tags/list")
                {
                    await context.Response.WriteAsJsonAsync(new { name = "team/app", tags = Array.Empty<string>() });
                    return;
                }
            }
            context.Response.StatusCode = 404;
        }
    }

    [Fact]
    public async Task Entra_token_is_exchanged_for_an_acr_refresh_token_used_in_the_refresh_grant_and_cached()
    {
        var acr = new FakeAcr();
        await using var server = await LoopbackServer.StartAsync(acr.HandleAsync);
        var credential = new RecordingEntraCredential("entra-token-for-acr");
        using var engine = new RegistryEngine(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/config.json" });
        engine.Credentials.SetAzureIdentity(server.Host, credential, "tenant-guid-1");

        var tags = new List<HarborOps.Models.RegistryTagInfo>();
        await foreach (var t in engine.GetTagsAsync(new GetTagsRequest($"{server.Host}/team/app"), null, default)) tags.Add(t);
        await foreach (var t in engine.GetTagsAsync(new GetTagsRequest($"{server.Host}/team/app"), null, default)) tags.Add(t);
        Assert.Empty(tags);

        var entra = Assert.Single(credential.Requests);
        Assert.Equal(["https://containerregistry.azure.net/.default"], entra.Scopes);
        Assert.Equal("tenant-guid-1", entra.TenantId);

        var exchange = Assert.Single(acr.Exchanges);
        Assert.Equal("access_token", exchange["grant_type"]);
        Assert.Equal(Service, exchange["service"]);
        Assert.Equal("tenant-guid-1", exchange["tenant"]);
        Assert.Equal("entra-token-for-acr", exchange["access_token"]);

        var token = Assert.Single(acr.TokenRequests); // the second listing reused the cached access token
        Assert.Equal(("refresh_token", Service, acr.RefreshToken), (token["grant_type"], token["service"], token["refresh_token"]));
        // The challenge's scope and the request's own merge into one resource scope with both actions.
        Assert.Equal("repository:team/app:metadata_read,pull", token["scope"]);

        var listed = Assert.Single(engine.Credentials.List());
        Assert.Equal(("AzureIdentity", server.Host), (listed.Kind, listed.Registry));
        Assert.Contains(nameof(RecordingEntraCredential), listed.Source);
    }

    [Fact]
    public async Task A_refused_exchange_is_authentication_failed_with_the_role_hint()
    {
        var acr = new FakeAcr { RefuseExchange = true };
        await using var server = await LoopbackServer.StartAsync(acr.HandleAsync);
        using var engine = new RegistryEngine(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/config.json" });
        engine.Credentials.SetAzureIdentity(server.Host, new RecordingEntraCredential("entra-token-for-acr"));
        var ex = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{server.Host}/team/app"), null, default)) { }
        });
        Assert.Equal(RegistryErrorIds.AuthenticationFailed, ex.ErrorId);
        Assert.Contains("AcrPull", ex.Message);
        Assert.DoesNotContain("entra-token-for-acr", ex.Message);
        Assert.False(Assert.Single(acr.Exchanges).ContainsKey("tenant"), "no tenant is sent when none was given");
    }

    [Fact]
    public void Default_azure_credential_is_used_when_none_is_given()
    {
        var store = new RegistryCredentialStore();
        store.SetAzureIdentity("myacr.azurecr.io");
        Assert.Contains("DefaultAzureCredential", Assert.Single(store.List()).Source);
    }
}
