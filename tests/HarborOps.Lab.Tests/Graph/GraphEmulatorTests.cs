using System.Net;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Xunit;

namespace HarborOps.Lab.Tests.Graph;

/// <summary>The Graph emulator is as strict as Graph and Entra: what they refuse, it refuses, with their bodies.</summary>
public sealed class GraphEmulatorTests(GraphEmulatorFixture lab) : IClassFixture<GraphEmulatorFixture>, IDisposable
{
    /// <summary>Every response a test caused is held to Graph's OpenAPI when it ends (xunit fails the test on a cleanup failure).</summary>
    public void Dispose() => lab.Audit.AssertExchangesMatchContract();

    private HttpClient Client() => new(lab.Graph.CreateTrustingHandler());

    private async Task<string> TokenAsync()
    {
        var credential = new ClientSecretCredential(lab.Graph.TenantId, lab.Graph.DefaultApp.ClientId, lab.Graph.DefaultApp.ClientSecret, new ClientSecretCredentialOptions
        {
            AuthorityHost = lab.Graph.AuthorityHost, DisableInstanceDiscovery = true,
            Transport = new HttpClientTransport(new HttpClient(lab.Graph.CreateTrustingHandler())),
        });
        return (await credential.GetTokenAsync(new TokenRequestContext([lab.Graph.Audience + "/.default"]), default)).Token;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string pathAndQuery, string? token, string? consistency = null)
    {
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Graph.GraphEndpoint, pathAndQuery));
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        if (consistency is not null) request.Headers.Add("ConsistencyLevel", consistency);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : JsonDocument.Parse(JsonSerializer.Serialize(text)).RootElement.Clone());
    }

    private static string Code(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;

    [Fact]
    public async Task Issues_a_JWT_with_expiry_audience_tenant_and_roles_through_the_client_credentials_grant()
    {
        var token = await TokenAsync();
        var claims = JsonDocument.Parse(Convert.FromBase64String(Pad(token.Split('.')[1]))).RootElement;
        Assert.Equal(lab.Graph.Audience, claims.GetProperty("aud").GetString());
        Assert.Equal(lab.Graph.TenantId, claims.GetProperty("tid").GetString());
        Assert.Contains("GroupMember.Read.All", claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.True(claims.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Answers_the_discovery_documents_MSAL_asks_for()
    {
        using var client = Client();
        var host = lab.Graph.AuthorityHost.GetLeftPart(UriPartial.Authority);
        var discovery = JsonDocument.Parse(await client.GetStringAsync(
            $"{host}/common/discovery/instance?api-version=1.1&authorization_endpoint={Uri.EscapeDataString($"{host}/{lab.Graph.TenantId}/oauth2/v2.0/authorize")}")).RootElement;
        var openIdUrl = discovery.GetProperty("tenant_discovery_endpoint").GetString()!;
        var openId = JsonDocument.Parse(await client.GetStringAsync(openIdUrl)).RootElement;
        Assert.Equal($"{host}/{lab.Graph.TenantId}/oauth2/v2.0/token", openId.GetProperty("token_endpoint").GetString());
    }

    [Fact]
    public async Task Refuses_a_wrong_tenant_secret_or_scope_with_Entras_AADSTS_errors()
    {
        using var client = Client();
        async Task<JsonElement> Token(string tenant, string secret, string scope)
        {
            using var response = await client.PostAsync(new Uri(lab.Graph.AuthorityHost, $"{tenant}/oauth2/v2.0/token"), new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = lab.Graph.DefaultApp.ClientId, ["client_secret"] = secret, ["scope"] = scope,
            }));
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }
        var scope = lab.Graph.Audience + "/.default";
        Assert.Equal(90002, (await Token(Guid.NewGuid().ToString(), lab.Graph.DefaultApp.ClientSecret, scope)).GetProperty("error_codes")[0].GetInt32());
        Assert.Equal("invalid_client", (await Token(lab.Graph.TenantId, "wrong", scope)).GetProperty("error").GetString());
        // Client credentials need a resource's /.default scope, and that resource must exist in the tenant.
        Assert.Equal("invalid_scope", (await Token(lab.Graph.TenantId, lab.Graph.DefaultApp.ClientSecret, "GroupMember.Read.All")).GetProperty("error").GetString());
        Assert.Equal(500011, (await Token(lab.Graph.TenantId, lab.Graph.DefaultApp.ClientSecret, "https://no-such-api.example/.default")).GetProperty("error_codes")[0].GetInt32());
    }

    [Fact]
    public async Task Refuses_what_Graph_refuses()
    {
        var token = await TokenAsync();
        var group = lab.Graph.AddGroup(lab.Unique("strict"));

        Assert.Equal((HttpStatusCode.Unauthorized, "InvalidAuthenticationToken"), await Status("v1.0/groups/" + group, null));
        Assert.Equal((HttpStatusCode.NotFound, "Request_ResourceNotFound"), await Status("v1.0/groups/" + Guid.NewGuid(), token));
        Assert.Equal((HttpStatusCode.BadRequest, "Request_BadRequest"), await Status("v1.0/groups/not-a-guid", token));
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), await Status("v1.0/group/" + group, token));
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), await Status($"v1.0/groups/{group}/members?$expand=manager", token));
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), await Status($"v1.0/groups/{group}/members?$select=mail", token));
        Assert.Equal((HttpStatusCode.BadRequest, "Request_BadRequest"), await Status($"v1.0/groups/{group}/members?$top=1000", token));
        Assert.Equal((HttpStatusCode.BadRequest, "Request_UnsupportedQuery"), await Status("v1.0/groups?$filter=startswith(displayName,'x')", token));
        Assert.Equal((HttpStatusCode.BadRequest, "Directory_ExpiredPageToken"), await Status($"v1.0/groups/{group}/members?$skiptoken=made-up", token));
        var user = lab.Graph.AddUser("Counted", lab.Unique("counted") + "@lab.example");
        Assert.Equal((HttpStatusCode.BadRequest, "Request_BadRequest"), await Status($"v1.0/users/{user}/transitiveMemberOf/$count", token));

        var (status, body) = await GetAsync("v1.0/groups/" + Guid.NewGuid(), token);
        var inner = body.GetProperty("error").GetProperty("innerError");
        Assert.True(inner.TryGetProperty("request-id", out _) && inner.TryGetProperty("date", out _), body.ToString());
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Pages_with_an_opaque_nextLink_that_carries_select_and_top()
    {
        var token = await TokenAsync();
        var group = lab.Graph.AddGroup(lab.Unique("paged"));
        lab.Graph.AddMembers(group, Enumerable.Range(0, 5).Select(i => lab.Graph.AddUser($"P{i}", $"p{i}.{group[..8]}@lab.example")));
        var (_, first) = await GetAsync($"v1.0/groups/{group}/members?$select=id,userPrincipalName&$top=2", token);
        Assert.Equal(2, first.GetProperty("value").GetArrayLength());
        Assert.Equal("#microsoft.graph.user", first.GetProperty("value")[0].GetProperty("@odata.type").GetString());
        Assert.False(first.GetProperty("value")[0].TryGetProperty("displayName", out _));
        var next = new Uri(first.GetProperty("@odata.nextLink").GetString()!);
        Assert.Contains("$top=2", Uri.UnescapeDataString(next.Query));
        var (_, last) = await GetAsync(next.PathAndQuery.TrimStart('/'), token);
        var (_, end) = await GetAsync(new Uri(last.GetProperty("@odata.nextLink").GetString()!).PathAndQuery.TrimStart('/'), token);
        Assert.Equal(1, end.GetProperty("value").GetArrayLength());
        Assert.False(end.TryGetProperty("@odata.nextLink", out _));
    }

    private async Task<(HttpStatusCode, string)> Status(string pathAndQuery, string? token)
    {
        var (status, body) = await GetAsync(pathAndQuery, token);
        return (status, Code(body));
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }
}
