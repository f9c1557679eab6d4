using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using HarborOps.Lab.Graph;
using HarborOps.Lab.Tests.Judges;
using Xunit;
using Xunit.Sdk;

namespace HarborOps.Lab.Tests.Graph;

/// <summary>
/// What Graph publishes for the calls HarborOps makes: a user's memberships include directory roles and administrative
/// units, the group cast leaves them out, each call takes the permissions its page lists, objects the app cannot read
/// come back limited, and every response matches Graph's OpenAPI (the contract judge is shown to catch a broken one).
/// </summary>
public sealed class GraphDirectoryObjectTests(GraphEmulatorFixture lab) : IClassFixture<GraphEmulatorFixture>, IDisposable
{
    public void Dispose() => lab.Audit.AssertExchangesMatchContract();

    private async Task<string> TokenAsync(params string[] roles)
    {
        var app = lab.Graph.RegisterApp(Guid.NewGuid().ToString(), "secret-" + Guid.NewGuid().ToString("N"), roles);
        var credential = new ClientSecretCredential(lab.Graph.TenantId, app.ClientId, app.ClientSecret, new ClientSecretCredentialOptions
        {
            AuthorityHost = lab.Graph.AuthorityHost, DisableInstanceDiscovery = true,
            Transport = new HttpClientTransport(new HttpClient(lab.Graph.CreateTrustingHandler())),
        });
        return (await credential.GetTokenAsync(new TokenRequestContext([lab.Graph.Audience + "/.default"]), default)).Token;
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string pathAndQuery, string token, bool eventual = false)
    {
        using var client = new HttpClient(lab.Graph.CreateTrustingHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Graph.GraphEndpoint, pathAndQuery));
        request.Headers.Authorization = new("Bearer", token);
        if (eventual) request.Headers.Add("ConsistencyLevel", "eventual");
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A user in 3 groups (one through nesting), 1 directory role and 1 administrative unit.</summary>
    private (string User, string Role, string Unit) UserWithEverything()
    {
        var user = lab.Graph.AddUser("Member Of All", lab.Unique("all") + "@lab.example");
        var outer = lab.Graph.AddGroup(lab.Unique("outer"));
        var inner = lab.Graph.AddGroup(lab.Unique("inner"));
        var direct = lab.Graph.AddGroup(lab.Unique("direct"));
        lab.Graph.AddMembers(outer, [inner]);
        lab.Graph.AddMembers(inner, [user]);
        lab.Graph.AddMembers(direct, [user]);
        var role = lab.Graph.AddDirectoryRole(lab.Unique("Global Reader"));
        var unit = lab.Graph.AddAdministrativeUnit(lab.Unique("Seattle"));
        lab.Graph.AddMembers(role, [user]);
        lab.Graph.AddMembers(unit, [user]);
        return (user, role, unit);
    }

    [Fact]
    public async Task A_users_transitiveMemberOf_lists_groups_directory_roles_and_administrative_units_and_the_group_cast_counts_only_groups()
    {
        var (user, role, unit) = UserWithEverything();
        var token = await TokenAsync(GraphEmulator.HarborOpsRoles.ToArray());

        var (status, body) = await GetAsync($"v1.0/users/{user}/transitiveMemberOf", token);
        Assert.Equal(HttpStatusCode.OK, status);
        var types = JsonNode.Parse(body)!["value"]!.AsArray().Select(o => o!["@odata.type"]!.GetValue<string>()).ToList();
        Assert.Equal(3, types.Count(t => t == "#microsoft.graph.group"));
        Assert.Contains("#microsoft.graph.directoryRole", types);
        Assert.Contains("#microsoft.graph.administrativeUnit", types);
        Assert.Equal("5", (await GetAsync($"v1.0/users/{user}/transitiveMemberOf/$count", token, eventual: true)).Body);

        // Both spellings of the cast: the docs' microsoft.graph.group and the SDKs' alias graph.group.
        Assert.Equal("3", (await GetAsync($"v1.0/users/{user}/transitiveMemberOf/microsoft.graph.group/$count", token, eventual: true)).Body);
        Assert.Equal("3", (await GetAsync($"v1.0/users/{user}/transitiveMemberOf/graph.group/$count", token, eventual: true)).Body);
        var (_, groups) = await GetAsync($"v1.0/users/{user}/transitiveMemberOf/graph.group?$select=id,displayName", token);
        Assert.All(JsonNode.Parse(groups)!["value"]!.AsArray(), g => Assert.Equal("#microsoft.graph.group", g!["@odata.type"]!.GetValue<string>()));
        Assert.DoesNotContain(role, groups);
        Assert.DoesNotContain(unit, groups);
    }

    [Fact]
    public async Task Roles_and_administrative_units_are_limited_objects_for_an_app_that_cannot_read_them()
    {
        var (user, role, _) = UserWithEverything();
        var (_, body) = await GetAsync($"v1.0/users/{user}/transitiveMemberOf", await TokenAsync(GraphEmulator.HarborOpsRoles.ToArray()));
        var limited = JsonNode.Parse(body)!["value"]!.AsArray().Single(o => o!["id"]!.GetValue<string>() == role)!.AsObject();
        Assert.Equal("#microsoft.graph.directoryRole", limited["@odata.type"]!.GetValue<string>());
        Assert.True(limited.ContainsKey("displayName") && limited["displayName"] is null, limited.ToJsonString());
    }

    public static TheoryData<string, string, string> Calls => new()
    {
        // call, an insufficient permission, the least privileged one (GraphPermissions holds the documented tables)
        { "groups?$filter=displayName eq 'x'", "User.Read.All", "GroupMember.Read.All" },
        { "groups/{group}", "User.Read.All", "GroupMember.Read.All" },
        { "groups/{group}/members", "User.ReadBasic.All", "GroupMember.Read.All" },
        { "groups/{group}/transitiveMembers", "User.Read.All", "GroupMember.Read.All" },
        { "users/{user}/transitiveMemberOf", "User.ReadBasic.All", "User.Read.All" },
        { "users/{user}/transitiveMemberOf/graph.group/$count", "User.ReadBasic.All", "User.Read.All" },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task Each_call_is_refused_with_only_an_insufficient_permission_and_served_with_the_least_privileged_one(string call, string insufficient, string least)
    {
        var user = lab.Graph.AddUser("Permission Probe", lab.Unique("probe") + "@lab.example");
        var group = lab.Graph.AddGroup(lab.Unique("probe"));
        lab.Graph.AddMembers(group, [user]);
        var path = "v1.0/" + call.Replace("{group}", group, StringComparison.Ordinal).Replace("{user}", user, StringComparison.Ordinal);
        var eventual = call.EndsWith("$count", StringComparison.Ordinal);

        var (refused, body) = await GetAsync(path, await TokenAsync(insufficient), eventual);
        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Equal("Authorization_RequestDenied", JsonNode.Parse(body)!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(path, await TokenAsync(least), eventual)).Status);
    }

    [Fact]
    public async Task Users_among_a_groups_members_have_null_names_when_the_app_cannot_read_users()
    {
        var user = lab.Graph.AddUser("Named User", lab.Unique("named") + "@lab.example");
        var group = lab.Graph.AddGroup(lab.Unique("limited"));
        lab.Graph.AddMembers(group, [user]);
        var path = $"v1.0/groups/{group}/transitiveMembers?$select=id,displayName,userPrincipalName";

        var limited = JsonNode.Parse((await GetAsync(path, await TokenAsync("GroupMember.Read.All"))).Body)!["value"]![0]!.AsObject();
        Assert.Equal("#microsoft.graph.user", limited["@odata.type"]!.GetValue<string>());
        Assert.Equal(user, limited["id"]!.GetValue<string>());
        Assert.True(limited["displayName"] is null && limited["userPrincipalName"] is null && limited.ContainsKey("userPrincipalName"), limited.ToJsonString());

        var full = JsonNode.Parse((await GetAsync(path, await TokenAsync("GroupMember.Read.All", "User.ReadBasic.All"))).Body)!["value"]![0]!;
        Assert.Equal("Named User", full["displayName"]!.GetValue<string>());
    }

    [Fact]
    public void The_lab_default_app_carries_exactly_the_permissions_README_lists()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryFiles.Root(), "README.md"));
        var listed = Regex.Match(readme, @"<!-- graph-permissions -->(.*?)<!-- /graph-permissions -->", RegexOptions.Singleline);
        Assert.True(listed.Success, "README marks its list of Graph permissions with <!-- graph-permissions --> ... <!-- /graph-permissions -->");
        var permissions = Regex.Matches(listed.Groups[1].Value, @"^\| `([A-Za-z.]+)` \|", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(GraphEmulator.HarborOpsRoles.ToHashSet(), permissions);
    }

    [Fact]
    public async Task A_response_that_breaks_Graphs_contract_fails_the_test_that_caused_it()
    {
        var group = lab.Graph.AddGroup(lab.Unique("broken"));
        var token = await TokenAsync(GraphEmulator.HarborOpsRoles.ToArray());
        lab.Audit.AssertExchangesMatchContract();

        // securityEnabled is a boolean in Graph's group schema.
        lab.Graph.BreakNextResponse("securityEnabled", "yes");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync($"v1.0/groups/{group}", token)).Status);
        var caught = Assert.ThrowsAny<XunitException>(lab.Audit.AssertExchangesMatchContract);
        Assert.Contains("securityEnabled: expected a boolean", caught.Message);

        // A $count that is not a number, and a collection without its value array's items' shape.
        Assert.NotEmpty(GraphExchangeAudit.ProblemsIn([new GraphExchange("graph", "GET", "/v1.0/users/u/transitiveMemberOf/graph.group/$count", "", 200) { ResponseContentType = "text/plain", ResponseBody = "three" }], 0));
        Assert.NotEmpty(GraphExchangeAudit.ProblemsIn([new GraphExchange("graph", "GET", "/v1.0/groups", "", 200) { ResponseContentType = "application/json", ResponseBody = """{"value":[{"id":1}]}""" }], 0));
        Assert.NotEmpty(GraphExchangeAudit.ProblemsIn([new GraphExchange("graph", "GET", "/v1.0/groups/g", "", 404) { ResponseContentType = "application/json", ResponseBody = """{"error":{"message":"no code"}}""" }], 0));
    }
}
