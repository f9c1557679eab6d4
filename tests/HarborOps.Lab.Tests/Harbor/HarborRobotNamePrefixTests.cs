using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Lab.Harbor;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Harbor;

/// <summary>Harbor's robot_name_prefix setting, judged over raw HTTP: robots are named, log in and are found with the
/// configured prefix, /configurations shows it to system admins only, and a changed prefix renames every robot.</summary>
public sealed class HarborRobotNamePrefixTests : IAsyncLifetime
{
    private HarborEmulator _harbor = null!;
    // No cookie jar: Harbor's CSRF check rejects a mutating call that sends its session cookie back.
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false });

    public async Task InitializeAsync() =>
        _harbor = await HarborEmulator.StartAsync(new HarborEmulatorOptions { RobotNamePrefix = "svc-", ScanDuration = TimeSpan.FromMilliseconds(50) });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _harbor.DisposeAsync();
    }

    [Fact]
    public async Task A_robot_is_named_logs_in_and_is_listed_with_the_configured_prefix()
    {
        var (robotName, secret) = await CreateProjectRobotAsync("team-007", "k8s-pull");
        Assert.Equal("svc-team-007+k8s-pull", robotName);

        using var asRobot = await SendAsync(HttpMethod.Get, "api/v2.0/projects/team-007", robotName, secret);
        Assert.Equal(HttpStatusCode.OK, asRobot.StatusCode);
        // The default prefix means nothing here: robot$... is no robot, so Harbor treats it as a failed user login (anonymous).
        using var asDefault = await SendAsync(HttpMethod.Get, "api/v2.0/projects/team-007", "robot$team-007+k8s-pull", secret);
        Assert.Equal(HttpStatusCode.Unauthorized, asDefault.StatusCode);

        using var projectList = await SendAsync(HttpMethod.Get, $"api/v2.0/robots?q={Uri.EscapeDataString("Level=project,ProjectID=" + await ProjectIdAsync("team-007"))}", _harbor.AdminUser, _harbor.AdminPassword);
        var robots = JsonNode.Parse(await projectList.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal("svc-team-007+k8s-pull", (string?)robots.Single()!["name"]);
        new HarborExchangeAudit(_harbor).AssertExchangesMatchContract();
    }

    [Fact]
    public async Task Configurations_show_the_prefix_to_system_admins_only()
    {
        using var admin = await SendAsync(HttpMethod.Get, "api/v2.0/configurations", _harbor.AdminUser, _harbor.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        var prefix = JsonNode.Parse(await admin.Content.ReadAsStringAsync())!["robot_name_prefix"]!;
        Assert.Equal("svc-", (string?)prefix["value"]);
        Assert.True((bool)prefix["editable"]!);
        var audit = new HarborExchangeAudit(_harbor);
        audit.AssertExchangesMatchContract();
        // Real Harbor answers 401 and 403 here with its errors body, which the swagger leaves out; those are not judged.
        audit.SkipExchanges();

        _harbor.AddUser("dev", "Passw0rd1");
        using var user = await SendAsync(HttpMethod.Get, "api/v2.0/configurations", "dev", "Passw0rd1");
        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        using var anonymous = await SendAsync(HttpMethod.Get, "api/v2.0/configurations", null, null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        // configuration is not in the robot permission catalogue, so no robot can read it either.
        var (robotName, secret) = await CreateProjectRobotAsync("team-cfg", "reader");
        using var robot = await SendAsync(HttpMethod.Get, "api/v2.0/configurations", robotName, secret);
        Assert.Equal(HttpStatusCode.Forbidden, robot.StatusCode);
    }

    [Fact]
    public async Task A_changed_prefix_renames_every_robot_and_an_empty_one_is_refused()
    {
        var (oldName, secret) = await CreateProjectRobotAsync("team-ren", "ci");
        using var change = await SendAsync(HttpMethod.Put, "api/v2.0/configurations", _harbor.AdminUser, _harbor.AdminPassword, """{"robot_name_prefix":"  bot_ "}""");
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        Assert.Equal("bot_", _harbor.RobotNamePrefix);
        using var asNew = await SendAsync(HttpMethod.Get, "api/v2.0/projects/team-ren", "bot_team-ren+ci", secret);
        Assert.Equal(HttpStatusCode.OK, asNew.StatusCode);
        using var asOld = await SendAsync(HttpMethod.Get, "api/v2.0/projects/team-ren", oldName, secret);
        Assert.Equal(HttpStatusCode.Unauthorized, asOld.StatusCode);

        using var empty = await SendAsync(HttpMethod.Put, "api/v2.0/configurations", _harbor.AdminUser, _harbor.AdminPassword, """{"robot_name_prefix":"   "}""");
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        _harbor.AddUser("dev2", "Passw0rd1");
        using var notAdmin = await SendAsync(HttpMethod.Put, "api/v2.0/configurations", "dev2", "Passw0rd1", """{"robot_name_prefix":"x-"}""");
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
        Assert.Equal("bot_", _harbor.RobotNamePrefix);
    }

    [Fact]
    public async Task A_user_whose_name_starts_with_the_prefix_still_logs_in_as_a_user()
    {
        // Harbor's robot authenticator passes on a name it does not know; the basic-auth one then tries the user.
        _harbor.AddUser("svc-builder", "Passw0rd1");
        using var response = await SendAsync(HttpMethod.Get, "api/v2.0/users/current", "svc-builder", "Passw0rd1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(string Name, string Secret)> CreateProjectRobotAsync(string project, string name)
    {
        using (var created = await SendAsync(HttpMethod.Post, "api/v2.0/projects", _harbor.AdminUser, _harbor.AdminPassword, $$$"""{"project_name":"{{{project}}}","metadata":{"public":"false"}}"""))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var robot = await SendAsync(HttpMethod.Post, "api/v2.0/robots", _harbor.AdminUser, _harbor.AdminPassword,
            $$$"""{"name":"{{{name}}}","level":"project","duration":30,"permissions":[{"kind":"project","namespace":"{{{project}}}","access":[{"resource":"repository","action":"pull"}]}]}""");
        Assert.Equal(HttpStatusCode.Created, robot.StatusCode);
        var body = JsonNode.Parse(await robot.Content.ReadAsStringAsync())!;
        return ((string)body["name"]!, (string)body["secret"]!);
    }

    private async Task<int> ProjectIdAsync(string project)
    {
        using var response = await SendAsync(HttpMethod.Get, $"api/v2.0/projects/{project}", _harbor.AdminUser, _harbor.AdminPassword);
        return (int)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["project_id"]!;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? user, string? password, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_harbor.BaseUri, path));
        request.Headers.Add("X-Request-Id", Guid.NewGuid().ToString());
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (user is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return await _http.SendAsync(request);
    }
}
