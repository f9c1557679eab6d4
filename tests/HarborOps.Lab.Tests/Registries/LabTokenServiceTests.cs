using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit;

namespace HarborOps.Lab.Tests.Registries;

/// <summary>The token service against a real Distribution in token mode: the registry is the judge of every token.</summary>
public sealed class LabTokenServiceTests(LabRegistriesFixture lab) : IClassFixture<LabRegistriesFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    private DistributionRegistry Registry => lab.Token;
    private LabTokenService Tokens => lab.Token.TokenService!;

    private static AuthenticationHeaderValue BasicHeader(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetTokenAsync(AuthenticationHeaderValue? basic, params string[] scopes)
    {
        var query = $"?service={Uri.EscapeDataString(Tokens.Service)}" + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));
        using var request = new HttpRequestMessage(HttpMethod.Get, Tokens.Realm + query);
        request.Headers.Authorization = basic;
        using var response = await Http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostTokenAsync(Dictionary<string, string> form)
    {
        using var response = await Http.PostAsync(Tokens.Realm, new FormUrlEncodedContent(form));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private async Task<HttpStatusCode> RegistryStatusAsync(HttpMethod method, string path, string? bearer)
    {
        using var request = new HttpRequestMessage(method, new Uri(Registry.BaseUri, path));
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    private static JsonElement Claims(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
        return JsonDocument.Parse(Convert.FromBase64String(payload)).RootElement.Clone();
    }

    [Fact]
    public async Task Registry_challenges_with_the_lab_realm_and_accepts_a_real_token_but_not_none_or_a_forged_one()
    {
        await LabContent.PushImageAsync(Registry, "token/app", "1.0");
        using (var anonymous = await Http.GetAsync(new Uri(Registry.BaseUri, "v2/token/app/tags/list")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            var challenge = anonymous.Headers.WwwAuthenticate.Single();
            Assert.Equal("Bearer", challenge.Scheme);
            Assert.Equal($"realm=\"{Tokens.Realm.AbsoluteUri}\",service=\"{Tokens.Service}\",scope=\"repository:token/app:pull\"", challenge.Parameter);
        }

        var (status, body) = await GetTokenAsync(BasicHeader(Registry.UserName!, Registry.Password!), "repository:token/app:pull");
        Assert.Equal(HttpStatusCode.OK, status);
        var token = body.GetProperty("access_token").GetString()!;
        Assert.Equal(token, body.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, await RegistryStatusAsync(HttpMethod.Get, "v2/token/app/tags/list", token));

        Assert.Equal(HttpStatusCode.Unauthorized, await RegistryStatusAsync(HttpMethod.Get, "v2/token/app/tags/list", token[..^4] + "AAAA"));

        // Same claims, signed by a certificate the registry does not have in its rootcertbundle.
        await using var rogue = await LabTokenService.StartAsync(new LabTokenServiceOptions
        {
            Service = Tokens.Service,
            Issuer = Tokens.Issuer,
            SigningCertificate = LabTokenService.CreateSigningCertificate(),
        });
        rogue.AddUser("mallory", "pw", LabGrant.Everything);
        using var rogueRequest = new HttpRequestMessage(HttpMethod.Get, rogue.Realm + "?scope=repository:token/app:pull");
        rogueRequest.Headers.Authorization = BasicHeader("mallory", "pw");
        using var rogueResponse = await Http.SendAsync(rogueRequest);
        var rogueToken = JsonDocument.Parse(await rogueResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();
        Assert.Equal(HttpStatusCode.Unauthorized, await RegistryStatusAsync(HttpMethod.Get, "v2/token/app/tags/list", rogueToken));
    }

    [Fact]
    public async Task Token_carries_the_claims_distribution_checks_and_the_configured_lifetime()
    {
        var (status, body) = await GetTokenAsync(BasicHeader(Registry.UserName!, Registry.Password!), "repository:token/claims:pull,push");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(300, body.GetProperty("expires_in").GetInt32());
        var token = body.GetProperty("access_token").GetString()!;
        var header = JsonDocument.Parse(Convert.FromBase64String(PadBase64(token.Split('.')[0]))).RootElement;
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal(1, header.GetProperty("x5c").GetArrayLength());

        var claims = Claims(token);
        Assert.Equal(Tokens.Issuer, claims.GetProperty("iss").GetString());
        Assert.Equal(Tokens.Service, claims.GetProperty("aud").GetString());
        Assert.Equal(Registry.UserName, claims.GetProperty("sub").GetString());
        Assert.Equal(300, claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64());
        Assert.True(claims.GetProperty("nbf").GetInt64() <= claims.GetProperty("iat").GetInt64());
        Assert.False(string.IsNullOrEmpty(claims.GetProperty("jti").GetString()));
        var access = claims.GetProperty("access").EnumerateArray().Single();
        Assert.Equal("repository", access.GetProperty("type").GetString());
        Assert.Equal("token/claims", access.GetProperty("name").GetString());
        Assert.Equal(["pull", "push"], access.GetProperty("actions").EnumerateArray().Select(a => a.GetString()));
    }

    private static string PadBase64(string value)
    {
        value = value.Replace('-', '+').Replace('_', '/');
        return value.PadRight(value.Length + (4 - value.Length % 4) % 4, '=');
    }

    [Fact]
    public async Task Grants_only_the_intersection_of_what_was_asked_and_what_the_user_may_do()
    {
        await LabContent.PushImageAsync(Registry, "team-a/api", "1.0");
        Tokens.AddUser("reader", "reader-pw", LabGrant.Pull("team-a/*"));
        Tokens.ClearRecords();

        var (status, body) = await GetTokenAsync(BasicHeader("reader", "reader-pw"),
            "repository:team-a/api:pull,push", "repository:team-b/worker:pull", "registry:catalog:*");
        Assert.Equal(HttpStatusCode.OK, status);
        var token = body.GetProperty("token").GetString()!;
        var granted = Claims(token).GetProperty("access").EnumerateArray()
            .Select(a => $"{a.GetProperty("type").GetString()}:{a.GetProperty("name").GetString()}:{string.Join(',', a.GetProperty("actions").EnumerateArray().Select(x => x.GetString()))}");
        Assert.Equal(["repository:team-a/api:pull"], granted);
        Assert.Equal(["repository:team-a/api:pull,push", "repository:team-b/worker:pull", "registry:catalog:*"], Tokens.RequestedScopes);
        Assert.Equal(1, Tokens.TokensIssued);

        Assert.Equal(HttpStatusCode.OK, await RegistryStatusAsync(HttpMethod.Get, "v2/team-a/api/tags/list", token));
        Assert.Equal(HttpStatusCode.Unauthorized, await RegistryStatusAsync(HttpMethod.Post, "v2/team-a/api/blobs/uploads/", token));
        Assert.Equal(HttpStatusCode.Unauthorized, await RegistryStatusAsync(HttpMethod.Get, "v2/_catalog", token));
    }

    [Fact]
    public async Task Catalog_needs_the_registry_catalog_scope()
    {
        var basic = BasicHeader(Registry.UserName!, Registry.Password!);
        var (_, repositoryOnly) = await GetTokenAsync(basic, "repository:token/app:pull");
        Assert.Equal(HttpStatusCode.Unauthorized, await RegistryStatusAsync(HttpMethod.Get, "v2/_catalog", repositoryOnly.GetProperty("token").GetString()));
        var (_, catalog) = await GetTokenAsync(basic, "registry:catalog:*");
        Assert.Equal(HttpStatusCode.OK, await RegistryStatusAsync(HttpMethod.Get, "v2/_catalog", catalog.GetProperty("token").GetString()));
    }

    [Fact]
    public async Task Wrong_password_is_refused_and_anonymous_gets_nothing_or_pull_as_configured()
    {
        await LabContent.PushImageAsync(Registry, "token/public", "1.0");
        var (wrong, _) = await GetTokenAsync(BasicHeader(Registry.UserName!, "not-the-password"), "repository:token/public:pull");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);

        var (status, nothing) = await GetTokenAsync(null, "repository:token/public:pull");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, Claims(nothing.GetProperty("token").GetString()!).GetProperty("access").GetArrayLength());
        Assert.Equal(HttpStatusCode.Unauthorized, await RegistryStatusAsync(HttpMethod.Get, "v2/token/public/tags/list", nothing.GetProperty("token").GetString()));

        Tokens.AnonymousAccess = LabAnonymousAccess.Pull;
        try
        {
            var (_, pull) = await GetTokenAsync(null, "repository:token/public:pull,push");
            var token = pull.GetProperty("token").GetString()!;
            Assert.Equal(["pull"], Claims(token).GetProperty("access")[0].GetProperty("actions").EnumerateArray().Select(a => a.GetString()));
            Assert.False(pull.TryGetProperty("refresh_token", out _));
            Assert.Equal(HttpStatusCode.OK, await RegistryStatusAsync(HttpMethod.Get, "v2/token/public/tags/list", token));
        }
        finally
        {
            Tokens.AnonymousAccess = LabAnonymousAccess.None;
        }
    }

    [Fact]
    public async Task Oauth2_post_password_grant_returns_a_refresh_token_that_yields_working_access_tokens()
    {
        await LabContent.PushImageAsync(Registry, "token/oauth", "1.0");
        var (status, first) = await PostTokenAsync(new()
        {
            ["grant_type"] = "password", ["username"] = Registry.UserName!, ["password"] = Registry.Password!,
            ["service"] = Tokens.Service, ["client_id"] = "harborops-tests", ["access_type"] = "offline",
            ["scope"] = "repository:token/oauth:pull registry:catalog:*",
        });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("repository:token/oauth:pull registry:catalog:*", first.GetProperty("scope").GetString());
        var refresh = first.GetProperty("refresh_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await RegistryStatusAsync(HttpMethod.Get, "v2/_catalog", first.GetProperty("access_token").GetString()));

        var (refreshed, second) = await PostTokenAsync(new()
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["service"] = Tokens.Service,
            ["client_id"] = "harborops-tests", ["scope"] = "repository:token/oauth:pull",
        });
        Assert.Equal(HttpStatusCode.OK, refreshed);
        Assert.False(second.TryGetProperty("refresh_token", out _));
        Assert.Equal(HttpStatusCode.OK, await RegistryStatusAsync(HttpMethod.Get, "v2/token/oauth/tags/list", second.GetProperty("access_token").GetString()));

        var (unknown, _) = await PostTokenAsync(new()
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh + "x", ["service"] = Tokens.Service, ["client_id"] = "harborops-tests",
        });
        Assert.Equal(HttpStatusCode.Unauthorized, unknown);
        var (noClient, error) = await PostTokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["service"] = Tokens.Service });
        Assert.Equal(HttpStatusCode.BadRequest, noClient);
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        var (badGrant, _) = await PostTokenAsync(new() { ["grant_type"] = "client_credentials", ["service"] = Tokens.Service, ["client_id"] = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, badGrant);
    }

    [Fact]
    public async Task Get_with_offline_token_returns_a_refresh_token_and_lifetime_is_configurable()
    {
        var before = Tokens.TokenLifetime;
        Tokens.TokenLifetime = TimeSpan.FromSeconds(90);
        try
        {
            var query = $"?service={Tokens.Service}&scope=repository:token/app:pull&offline_token=true&client_id=harborops-tests";
            using var request = new HttpRequestMessage(HttpMethod.Get, Tokens.Realm + query);
            request.Headers.Authorization = BasicHeader(Registry.UserName!, Registry.Password!);
            using var response = await Http.SendAsync(request);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(90, body.RootElement.GetProperty("expires_in").GetInt32());
            Assert.StartsWith("lab-refresh-", body.RootElement.GetProperty("refresh_token").GetString());
            Assert.True(DateTimeOffset.TryParse(body.RootElement.GetProperty("issued_at").GetString(), out _));
        }
        finally
        {
            Tokens.TokenLifetime = before;
        }
    }

    [Fact]
    public void Scope_parsing_keeps_a_port_in_the_repository_name()
    {
        var access = LabTokenService.ParseScope("repository:127.0.0.1:5000/team/app:pull,push");
        Assert.Equal(("repository", "127.0.0.1:5000/team/app"), (access!.Type, access.Name));
        Assert.Equal(["pull", "push"], access.Actions);
        Assert.Null(LabTokenService.ParseScope("nonsense"));
    }
}
