using System.Net;
using HarborOps.Engine.Harbor;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>The robot lifecycle against a Harbor whose robot_name_prefix is svc-: every caller learns the prefix the way
/// it can (system admin from /configurations, project admin from its projects, robot from its own name, anyone from a
/// robot Harbor returns, or the prefix given), and finds, changes and removes robots by their full names.</summary>
public sealed class HarborRobotNamePrefixTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly HarborClientOptions Fast = new() { MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(20) };
    private HarborEmulator _harbor = null!;
    private int _names;

    public async Task InitializeAsync() => _harbor = await HarborEmulator.StartAsync(new HarborEmulatorOptions { RobotNamePrefix = "svc-" });

    public async Task DisposeAsync() => await _harbor.DisposeAsync();

    private HarborClient As(string user, string secret, string? prefix = null) =>
        new(new HarborConnection(_harbor.BaseUri, new NetworkCredential(user, secret)) { RobotNamePrefix = prefix }, null, Fast);

    private HarborClient Admin() => As(_harbor.AdminUser, _harbor.AdminPassword);

    private async Task<string> NewProjectAsync()
    {
        var name = $"team-{Interlocked.Increment(ref _names):000}";
        await Admin().CreateProjectAsync(name, new HarborProjectSettings(), None);
        return name;
    }

    [Fact]
    public async Task A_system_admin_creates_finds_changes_and_removes_robots_by_their_full_names()
    {
        var project = await NewProjectAsync();
        var created = await Admin().CreateRobotAsync(new HarborRobotRequest("k8s-pull") { Projects = [project] }, None);
        Assert.Equal($"svc-{project}+k8s-pull", created.UserName);
        var system = await Admin().CreateRobotAsync(new HarborRobotRequest("ci") { Level = "system", Projects = [project] }, None);
        Assert.Equal("svc-ci", system.UserName);

        // A fresh client knows nothing yet: the admin reads the setting.
        var found = await Admin().FindRobotAsync($"svc-{project}+k8s-pull", null, None);
        Assert.Equal((created.RobotId, "k8s-pull", project), (found.Id, found.ShortName, found.Project));
        var foundSystem = await Admin().FindRobotAsync("svc-ci", null, None);
        Assert.Equal((system.RobotId, "ci"), (foundSystem.Id, foundSystem.ShortName));
        Assert.Equal("ci", Assert.Single(await Admin().ListRobotsAsync(null, None)).ShortName);

        var disabled = await Admin().UpdateRobotAsync(found.Id, new HarborRobotUpdate { Disabled = true }, None);
        Assert.True(disabled.Disabled);
        await Admin().RefreshRobotSecretAsync(found.Id, None);
        await Admin().DeleteRobotAsync(found.Id, None);
        var missing = await Assert.ThrowsAsync<HarborException>(() => Admin().FindRobotAsync($"svc-{project}+k8s-pull", null, None));
        Assert.Equal(HarborErrorIds.RobotNotFound, missing.ErrorId);
        Assert.Contains($"robots of project '{project}'", missing.Message);
    }

    [Fact]
    public async Task A_system_admin_connection_reports_the_prefix_it_read()
    {
        var info = await Admin().ConnectAsync(None);
        Assert.Equal("svc-", info.RobotNamePrefix);
    }

    [Fact]
    public async Task A_project_admin_who_may_not_read_the_setting_finds_a_robot_by_its_full_name()
    {
        var project = await NewProjectAsync();
        _harbor.AddUser("lead", "Passw0rd1");
        await Admin().AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.ProjectAdmin) { UserName = "lead" }, None);
        var created = await Admin().CreateRobotAsync(new HarborRobotRequest("deploy") { Projects = [project] }, None);

        var lead = As("lead", "Passw0rd1");
        var found = await lead.FindRobotAsync(created.UserName, null, None);
        Assert.Equal(created.RobotId, found.Id);
        Assert.Equal("svc-", lead.RobotNamePrefix);
    }

    [Fact]
    public async Task A_robot_connects_and_is_recognized_by_the_prefix_it_learnt()
    {
        var project = await NewProjectAsync();
        var robot = await Admin().CreateRobotAsync(new HarborRobotRequest("connect") { Projects = [project] }, None);
        var info = await As(robot.UserName, HarborClientTests.Plain(robot.Secret)).ConnectAsync(None);
        Assert.Equal(("Robot", $"svc-{project}+connect", "svc-"), (info.Kind, info.UserName, info.RobotNamePrefix));
        Assert.True(new HarborConnection(_harbor.BaseUri, new NetworkCredential(robot.UserName, "x")) { RobotNamePrefix = info.RobotNamePrefix }.IsRobot);
        // A '$' proves nothing: without the prefix known, no login is taken for a robot.
        Assert.False(new HarborConnection(_harbor.BaseUri, new NetworkCredential("robot$team+x", "x")).IsRobot);
        Assert.False(new HarborConnection(_harbor.BaseUri, new NetworkCredential("robot$team+x", "x")) { RobotNamePrefix = "svc-" }.IsRobot);
    }

    [Fact]
    public async Task A_given_prefix_is_used_without_asking_Harbor()
    {
        var project = await NewProjectAsync();
        var created = await Admin().CreateRobotAsync(new HarborRobotRequest("given") { Projects = [project] }, None);
        _harbor.ClearExchanges();
        var found = await As(_harbor.AdminUser, _harbor.AdminPassword, "svc-").FindRobotAsync(created.UserName, null, None);
        Assert.Equal(created.RobotId, found.Id);
        Assert.DoesNotContain(_harbor.Exchanges, x => x.Path.EndsWith("/configurations", StringComparison.Ordinal) || x.Path.EndsWith("/projects", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("robot$team-a+ci", "robot$", "team-a", "ci")]
    [InlineData("svc-team-a+ci", "svc-", "team-a", "ci")]
    [InlineData("svc-ci", "svc-", null, "ci")]
    [InlineData("a+b$team+ci", "a+b$", "team", "ci")]
    public void A_full_name_splits_at_the_prefix_and_the_first_plus_after_it(string fullName, string prefix, string? project, string name)
    {
        var parts = HarborRobotName.Split(fullName, prefix)!;
        Assert.Equal((project, name, fullName), (parts.Project, parts.Name, parts.FullName));
        Assert.Equal(name, HarborRobotName.ShortNameOf(fullName, prefix));
        Assert.Null(HarborRobotName.Split(fullName, "other-"));
    }
}
