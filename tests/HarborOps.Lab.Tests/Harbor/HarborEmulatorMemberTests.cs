using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Lab.Tests.Harbor;

/// <summary>
/// Group members follow Harbor's auth mode (goharbor/harbor src/controller/member/controller.go Create and the
/// authenticators in src/core/auth): the database mode onboards no group, OIDC any name, LDAP only a DN its directory has.
/// Judged with raw HTTP, as Harbor would answer any client. The class has its own emulator, so switching its mode
/// touches no other test.
/// </summary>
public sealed class HarborEmulatorMemberTests(HarborEmulatorFixture lab) : IClassFixture<HarborEmulatorFixture>, IDisposable
{
    // No cookie jar: Harbor answers a mutating call that sends its session cookie back with a CSRF 403.
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false });

    public void Dispose()
    {
        lab.Harbor.SetAuthMode(HarborAuthModes.Database);
        _http.Dispose();
    }

    private async Task<(HttpStatusCode Status, string Body, string? Location)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(lab.Harbor.BaseUri, "api/v2.0/" + path));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{lab.Harbor.AdminUser}:{lab.Harbor.AdminPassword}")));
        request.Headers.Add("X-Request-Id", Guid.NewGuid().ToString());
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location?.ToString());
    }

    private async Task<string> NewProjectAsync()
    {
        var project = lab.Unique("members");
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "projects", $$"""{"project_name":"{{project}}"}""")).Status);
        return project;
    }

    private Task<(HttpStatusCode Status, string Body, string? Location)> AddGroupAsync(string project, string group) =>
        SendAsync(HttpMethod.Post, $"projects/{project}/members", $$"""{"role_id":2,"member_group":{{group}}}""");

    private static (string Code, string Message) Error(string body)
    {
        var error = JsonNode.Parse(body)!["errors"]![0]!;
        return (error["code"]!.GetValue<string>(), error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Systeminfo_reports_the_configured_auth_mode_to_anyone()
    {
        lab.Harbor.SetAuthMode(HarborAuthModes.Ldap);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Harbor.BaseUri, "api/v2.0/systeminfo"));
        request.Headers.Add("X-Request-Id", "anonymous-systeminfo");
        using var anonymous = await _http.SendAsync(request);
        Assert.Equal("ldap_auth", JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!["auth_mode"]!.GetValue<string>());
        lab.Harbor.SetAuthMode(HarborAuthModes.Database);
        Assert.Contains("\"auth_mode\":\"db_auth\"", (await SendAsync(HttpMethod.Get, "systeminfo")).Body);
        lab.Audit.AssertExchangesMatchContract();
    }

    [Fact]
    public async Task The_database_mode_onboards_no_group_by_name_or_by_DN()
    {
        var project = await NewProjectAsync();
        lab.Audit.AssertExchangesMatchContract();
        // Harbor answers 404 here although its swagger lists no 404 for createProjectMember, so these are not audited.
        var byName = await AddGroupAsync(project, """{"group_name":"team-a-devs","group_type":3}""");
        Assert.Equal(HttpStatusCode.NotFound, byName.Status);
        Assert.Equal(("NOT_FOUND", "team-a-devs not found"), Error(byName.Body));
        var byDn = await AddGroupAsync(project, """{"ldap_group_dn":"cn=ops,dc=example,dc=com","group_type":1}""");
        Assert.Equal(HttpStatusCode.NotFound, byDn.Status);
        Assert.Equal(("NOT_FOUND", "cn=ops,dc=example,dc=com not found"), Error(byDn.Body));
        lab.Audit.SkipExchanges();
        Assert.DoesNotContain("\"entity_type\":\"g\"", (await SendAsync(HttpMethod.Get, $"projects/{project}/members")).Body);
    }

    [Fact]
    public async Task The_OIDC_mode_onboards_any_group_name_as_an_OIDC_group_and_a_second_add_is_a_conflict()
    {
        lab.Harbor.SetAuthMode(HarborAuthModes.Oidc);
        var project = await NewProjectAsync();
        var added = await AddGroupAsync(project, """{"group_name":"team-a-devs","group_type":3}""");
        Assert.Equal(HttpStatusCode.Created, added.Status);
        Assert.Matches($"^/api/v2.0/projects/[0-9]+/members/[0-9]+$", added.Location);
        var members = JsonNode.Parse((await SendAsync(HttpMethod.Get, $"projects/{project}/members")).Body)!.AsArray();
        Assert.Contains(members, m => m!["entity_name"]!.GetValue<string>() == "team-a-devs" && m["entity_type"]!.GetValue<string>() == "g");
        lab.Audit.AssertExchangesMatchContract();

        var again = await AddGroupAsync(project, """{"group_name":"team-a-devs","group_type":3}""");
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal(("CONFLICT", "The project member specified already exist"), Error(again.Body));
        lab.Audit.AssertExchangesMatchContract();
    }

    [Fact]
    public async Task The_LDAP_mode_onboards_a_DN_its_directory_has_and_fails_a_name_or_an_unknown_DN_as_Harbor_does()
    {
        lab.Harbor.SetAuthMode(HarborAuthModes.Ldap);
        lab.Harbor.AddLdapGroup("cn=Ops,ou=groups,dc=example,dc=com");
        var project = await NewProjectAsync();
        var added = await AddGroupAsync(project, """{"ldap_group_dn":"cn=Ops,ou=groups,dc=example,dc=com","group_type":1}""");
        Assert.Equal(HttpStatusCode.Created, added.Status);
        var members = JsonNode.Parse((await SendAsync(HttpMethod.Get, $"projects/{project}/members")).Body)!.AsArray();
        Assert.Contains(members, m => m!["entity_name"]!.GetValue<string>() == "Ops" && m["entity_type"]!.GetValue<string>() == "g");
        lab.Audit.AssertExchangesMatchContract();

        // A name is parsed as a DN by ldap.go SearchGroup: ErrInvalidLDAPGroupDN is a plain error, hence Harbor's 500.
        var byName = await AddGroupAsync(project, """{"group_name":"team-a-devs","group_type":1}""");
        Assert.Equal(HttpStatusCode.InternalServerError, byName.Status);
        Assert.Equal(("UNKNOWN", "internal server error"), Error(byName.Body));
        lab.Audit.AssertExchangesMatchContract();

        var unknown = await AddGroupAsync(project, """{"ldap_group_dn":"cn=nobody,dc=example,dc=com","group_type":1}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(("NOT_FOUND", "failed to searh ldap group with groupDN:cn=nobody,dc=example,dc=com"), Error(unknown.Body));
        lab.Audit.SkipExchanges();
    }

    [Fact]
    public async Task The_lab_control_switches_the_auth_mode_and_fills_the_directory()
    {
        async Task<HttpStatusCode> ControlAsync(string path, string json)
        {
            using var response = await _http.PostAsync(new Uri(lab.Harbor.BaseUri, "_lab/" + path), new StringContent(json, Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.NoContent, await ControlAsync("auth-mode", """{"auth_mode":"ldap_auth"}"""));
        Assert.Equal(HttpStatusCode.NoContent, await ControlAsync("ldap-groups", """{"dn":"cn=qa,dc=example,dc=com","name":"quality"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await ControlAsync("auth-mode", """{"auth_mode":"kerberos"}"""));
        Assert.Equal("ldap_auth", lab.Harbor.AuthMode);
        var project = await NewProjectAsync();
        Assert.Equal(HttpStatusCode.Created, (await AddGroupAsync(project, """{"ldap_group_dn":"cn=qa,dc=example,dc=com"}""")).Status);
        Assert.Contains("\"entity_name\":\"quality\"", (await SendAsync(HttpMethod.Get, $"projects/{project}/members")).Body);
        lab.Audit.AssertExchangesMatchContract();
    }
}
