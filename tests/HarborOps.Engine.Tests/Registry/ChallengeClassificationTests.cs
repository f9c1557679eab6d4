using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>
/// A 401 that survives a token the token service issued is told apart without relying on error="insufficient_scope":
/// ACR's recorded challenges (tests/contracts/acr/recordings) carry no error at all, and a token the registry no longer
/// takes is marked error="invalid_token". The token service accepting the credential is what says "permission denied".
/// </summary>
public sealed class ChallengeClassificationTests
{
    /// <summary>A registry that challenges every /v2 request as ACR does (realm, service, scope; error as given) and a token service that accepts anyone.</summary>
    private static async Task<(WebApplication App, string Host)> StartAsync(string? error)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        string host = "";
        app.Run(async context =>
        {
            if (context.Request.Path == "/oauth2/token")
            {
                await context.Response.WriteAsJsonAsync(new { access_token = "issued" });
                return;
            }
            var challenge = $"Bearer realm=\"http://{host}/oauth2/token\",service=\"{host}\",scope=\"repository:library/hello-world:metadata_read\"";
            if (error is not null && context.Request.Headers.Authorization.Count > 0) challenge += $",error=\"{error}\"";
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = challenge;
            await context.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "UNAUTHORIZED", message = "authentication required, visit https://aka.ms/acr/authorization for more information." } } });
        });
        await app.StartAsync();
        host = new Uri(app.Urls.First()).Authority;
        return (app, host);
    }

    private static async Task<RegistryException> ListAsync(string host)
    {
        using var engine = new RegistryEngine(new RegistryEngineOptions
        {
            AcrHosts = [host],
            DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-tests-no-docker-config.json"),
        });
        engine.Credentials.Set(host, new NetworkCredential("scoped-token", "its-password"));
        return await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var _ in engine.GetTagsAsync(new GetTagsRequest($"{host}/library/hello-world"), null, default)) { }
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("insufficient_scope")]
    public async Task A_401_after_an_issued_token_is_permission_denied_with_or_without_an_error_in_the_challenge(string? error)
    {
        var (app, host) = await StartAsync(error);
        await using var _ = app;

        var failure = await ListAsync(host);

        Assert.Equal((RegistryErrorIds.PermissionDenied, FailureKind.PermissionDenied), (failure.ErrorId, failure.Kind));
    }

    [Fact]
    public async Task A_401_marking_the_token_invalid_is_an_authentication_failure()
    {
        var (app, host) = await StartAsync("invalid_token");
        await using var _ = app;

        var failure = await ListAsync(host);

        Assert.Equal((RegistryErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed), (failure.ErrorId, failure.Kind));
    }
}
