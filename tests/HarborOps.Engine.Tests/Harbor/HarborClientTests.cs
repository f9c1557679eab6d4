using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Harbor;
using HarborOps.Lab.Tests.Judges;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>The Harbor client against the lab's Harbor emulator; every exchange of every test is checked against the
/// swagger contract when the test ends.</summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborClientTests(HarborLabFixture lab) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    public void Dispose() => lab.AssertExchangesMatchContract();

    internal static string Plain(SecureString secure)
    {
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secure);
        try { return Marshal.PtrToStringUni(pointer)!; }
        finally { Marshal.ZeroFreeGlobalAllocUnicode(pointer); }
    }

    private async Task<string> NewProjectAsync(string prefix = "p", HarborProjectSettings? settings = null)
    {
        var name = lab.Unique(prefix);
        await lab.Admin().CreateProjectAsync(name, settings ?? new HarborProjectSettings(), None);
        return name;
    }

    /// <summary>Reads a manifest through Harbor's /v2/ with the engine's registry client, as a kubelet would pull.</summary>
    internal static async Task<RegistryTagInfo> PullAsync(HarborEmulator harbor, string reference, string user, string secret)
    {
        using var engine = new RegistryEngine(new RegistryEngineOptions
        {
            DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-none-" + Guid.NewGuid().ToString("N"), "config.json"),
            MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        });
        await foreach (var tag in engine.GetTagsAsync(new GetTagsRequest($"{harbor.Host}/{reference}") { Credential = new NetworkCredential(user, secret) }, null, None))
            return tag;
        throw new InvalidOperationException("no tag");
    }

    // ---------------------------------------------------------------- connection

    [Fact]
    public async Task Connect_checks_a_user_for_real_and_reports_version_and_role()
    {
        var info = await lab.Admin().ConnectAsync(None);
        Assert.Equal("User", info.Kind);
        Assert.True(info.IsSystemAdmin);
        Assert.Equal("v2.15.2-lab", info.HarborVersion);
        Assert.Equal(lab.Harbor.Host, info.Registry);
    }

    [Fact]
    public async Task A_wrong_password_fails_instead_of_running_anonymously()
    {
        var log = new List<string>();
        var failure = await Assert.ThrowsAsync<HarborException>(() => lab.As(lab.Harbor.AdminUser, "wrong-password-123", log).ConnectAsync(None));
        Assert.Equal(HarborErrorIds.AuthenticationFailed, failure.ErrorId);
        Assert.Equal(FailureKind.AuthenticationFailed, failure.Kind);
        Assert.NotNull(failure.RequestId);
        Assert.Contains(failure.RequestId!, failure.Message);
        Assert.Contains(log, line => line.Contains(failure.RequestId!, StringComparison.Ordinal));
        Assert.DoesNotContain("wrong-password-123", failure.Message + string.Join("", log));
        // The same credential on an endpoint that serves anonymous callers would have "worked": Harbor hides bad logins.
        var anonymousLooking = await lab.As(lab.Harbor.AdminUser, "wrong-password-123").ListProjectsAsync(null, None).ToListAsync();
        Assert.All(anonymousLooking, p => Assert.True(p.Public));
    }

    [Fact]
    public async Task A_robot_is_checked_at_v_2_because_users_current_refuses_robots()
    {
        var project = await NewProjectAsync();
        var robot = await lab.Admin().CreateRobotAsync(new HarborRobotRequest("connect") { Projects = [project] }, None);
        var info = await lab.As(robot.UserName, Plain(robot.Secret)).ConnectAsync(None);
        Assert.Equal("Robot", info.Kind);
        Assert.Equal($"robot${project}+connect", info.UserName);
        var failure = await Assert.ThrowsAsync<HarborException>(() => lab.As(robot.UserName, "NotTheSecret1").ConnectAsync(None));
        Assert.Equal(HarborErrorIds.AuthenticationFailed, failure.ErrorId);
    }

    [Fact]
    public async Task No_cookie_is_sent_back_although_Harbor_sets_one_and_every_call_has_a_request_id()
    {
        var client = lab.Admin();
        var name = lab.Unique("cookies");
        await client.CreateProjectAsync(name, new HarborProjectSettings(), None);
        await client.UpdateProjectAsync(name, new HarborProjectSettings { AutoScan = true }, None);
        await client.DeleteProjectAsync(name, deleteRepositories: false, None);
        var mine = lab.Harbor.Exchanges.Where(x => x.Path.Contains(name, StringComparison.Ordinal) || x.Method == "POST").TakeLast(6).ToList();
        Assert.All(mine, x => Assert.True(x.ResponseHeaders.ContainsKey("Set-Cookie"), "the emulator sets sid like Harbor"));
        Assert.All(lab.Harbor.Exchanges, x => Assert.False(x.RequestHeaders.ContainsKey("Cookie"), $"{x.Method} {x.Path} sent a cookie"));
        Assert.All(lab.Harbor.Exchanges, x => Assert.False(string.IsNullOrEmpty(x.RequestHeaders.GetValueOrDefault("X-Request-Id")), $"{x.Method} {x.Path} had no X-Request-Id"));
        Assert.Equal(lab.Harbor.Exchanges.Count, lab.Harbor.Exchanges.Select(x => x.RequestHeaders["X-Request-Id"]).Distinct().Count());
    }

    [Fact]
    public async Task A_client_that_keeps_cookies_is_rejected_by_the_csrf_check_with_a_clear_error()
    {
        // What a default HttpClient (or PowerShell -WebSession) does: keep the sid cookie and send it back.
        using var cookieClient = new HttpClient(new SocketsHttpHandler { UseCookies = true, CookieContainer = new CookieContainer() });
        var client = new HarborClient(lab.AdminConnection, cookieClient, null, lab.FastOptions);
        var name = lab.Unique("csrf");
        await client.CreateProjectAsync(name, new HarborProjectSettings(), None);
        var failure = await Assert.ThrowsAsync<HarborException>(() => client.UpdateProjectAsync(name, new HarborProjectSettings { AutoScan = true }, None));
        Assert.Equal(HarborErrorIds.CsrfRejected, failure.ErrorId);
        Assert.Equal(403, failure.StatusCode);
        // The real pipeline, cookies off, does the same update fine.
        var updated = await lab.Admin().UpdateProjectAsync(name, new HarborProjectSettings { AutoScan = true }, None);
        Assert.True(updated.AutoScan);
    }

    [Fact]
    public async Task Tls_is_verified_unless_the_user_opts_out()
    {
        var verified = HarborHttp.CreateHandler(skipCertificateCheck: false);
        var unverified = HarborHttp.CreateHandler(skipCertificateCheck: true);
        Assert.Null(verified.SslOptions.RemoteCertificateValidationCallback);
        Assert.NotNull(unverified.SslOptions.RemoteCertificateValidationCallback);
        Assert.False(verified.UseCookies);
        Assert.False(verified.AllowAutoRedirect);
        Assert.False(new HarborConnection(new Uri("https://harbor.example.com/"), new NetworkCredential("a", "b")).SkipCertificateCheck);
        Assert.Equal(new Uri("https://harbor.example.com/"), HarborConnection.ParseUrl("harbor.example.com"));
        Assert.Equal(new Uri("https://harbor.example.com/"), HarborConnection.ParseUrl("https://harbor.example.com/api/v2.0/projects"));
        Assert.Equal("HarborUrlInvalid", Assert.Throws<HarborException>(() => HarborConnection.ParseUrl("ftp://x")).ErrorId);
    }

    // ---------------------------------------------------------------- projects

    [Fact]
    public async Task Projects_are_created_read_updated_and_deleted_with_their_policies()
    {
        var client = lab.Admin();
        var name = lab.Unique("team");
        var created = await client.CreateProjectAsync(name, new HarborProjectSettings
        {
            AutoScan = true, PreventVulnerable = true, Severity = "High", RequireCosignSignature = true,
            CveAllowlist = ["CVE-2024-0001"], StorageLimit = 10 * 1024 * 1024,
        }, None);
        Assert.Equal(name, created.Name);
        Assert.True(created.AutoScan && created.PreventVulnerable && created.RequireCosignSignature);
        Assert.False(created.Public);
        Assert.Equal("high", created.Severity);
        Assert.Equal(["CVE-2024-0001"], created.CveAllowlist);
        Assert.False(created.ReuseSystemCveAllowlist);
        Assert.Equal(10 * 1024 * 1024, created.StorageLimit);
        // Metadata values travel as strings.
        var post = lab.Harbor.Exchanges.Last(x => x.Method == "POST" && x.Path == "/api/v2.0/projects");
        Assert.Contains("\"auto_scan\":\"true\"", Encoding.UTF8.GetString(post.RequestBody));
        Assert.Contains("\"severity\":\"high\"", Encoding.UTF8.GetString(post.RequestBody));

        var updated = await client.UpdateProjectAsync(name, new HarborProjectSettings { Severity = "critical", Public = true, StorageLimit = -1 }, None);
        Assert.Equal("critical", updated.Severity);
        Assert.True(updated.Public && updated.AutoScan, "unchanged policies stay");
        Assert.Equal(-1, updated.StorageLimit);
        Assert.Contains(lab.Harbor.Exchanges, x => x.Method == "PUT" && x.Path.StartsWith("/api/v2.0/quotas/", StringComparison.Ordinal));

        var conflict = await Assert.ThrowsAsync<HarborException>(() => client.CreateProjectAsync(name, new HarborProjectSettings(), None));
        Assert.Equal(HarborErrorIds.ProjectExists, conflict.ErrorId);
        Assert.Equal(FailureKind.Conflict, conflict.Kind);
        Assert.Equal(name, conflict.Target);

        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{name}/app", "1.0");
        var notEmpty = await Assert.ThrowsAsync<HarborException>(() => client.DeleteProjectAsync(name, deleteRepositories: false, None));
        Assert.Equal(HarborErrorIds.ProjectNotEmpty, notEmpty.ErrorId);
        await client.DeleteProjectAsync(name, deleteRepositories: true, None);
        var gone = await Assert.ThrowsAsync<HarborException>(() => client.GetProjectAsync(name, None));
        Assert.Equal(HarborErrorIds.ProjectNotFound, gone.ErrorId);
    }

    [Fact]
    public async Task Invalid_project_names_are_refused_by_the_client_and_by_Harbor()
    {
        var failure = await Assert.ThrowsAsync<HarborException>(() => lab.Admin().CreateProjectAsync("Team_A", new HarborProjectSettings(), None));
        Assert.Equal(HarborErrorIds.ProjectNameInvalid, failure.ErrorId);
        // And the emulator refuses it like Harbor (400) when a client sends it anyway.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(lab.Harbor.BaseUri, "api/v2.0/projects"))
        {
            Content = new StringContent("""{"project_name":"Team_A"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{lab.Harbor.AdminUser}:{lab.Harbor.AdminPassword}")));
        request.Headers.Add("X-Request-Id", "invalid-name-test");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_all_digit_project_name_is_read_as_a_name_not_an_id()
    {
        var client = lab.Admin();
        var other = await client.CreateProjectAsync(lab.Unique("idholder"), new HarborProjectSettings(), None);
        var digits = other.ProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await client.CreateProjectAsync(digits, new HarborProjectSettings { AutoScan = true }, None);
        var read = await client.GetProjectAsync(digits, None);
        Assert.Equal(digits, read.Name);
        Assert.NotEqual(other.ProjectId, read.ProjectId);
        Assert.True(read.AutoScan);
    }

    [Fact]
    public async Task Lists_are_paged_at_one_hundred_and_Harbor_refuses_more()
    {
        var client = lab.Admin();
        var prefix = lab.Unique("paged");
        for (var i = 0; i < 103; i++) await client.CreateProjectAsync($"{prefix}-{i:000}", new HarborProjectSettings(), None);
        lab.SkipExchanges();
        var listed = await client.ListProjectsAsync(prefix + "-*", None).ToListAsync();
        Assert.Equal(103, listed.Count);
        Assert.Equal(listed.Select(p => p.Name).Order(StringComparer.Ordinal), listed.Select(p => p.Name));
        var pages = lab.Harbor.Exchanges.Where(x => x.Path == "/api/v2.0/projects" && x.Method == "GET").TakeLast(2).ToList();
        Assert.Contains("page_size=100", pages[0].Query);
        Assert.Contains("page=2", pages[1].Query);
        lab.AssertExchangesMatchContract();

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Harbor.BaseUri, "api/v2.0/projects?page_size=101"));
        request.Headers.Add("X-Request-Id", "page-size-test");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var exchange = lab.Harbor.Exchanges.Last();
        Assert.Contains(SwaggerContract.Harbor.ValidateRequest("GET", exchange.Path, exchange.Query, null), p => p.Contains("maximum 100", StringComparison.Ordinal));
        lab.SkipExchanges();
    }

    // ---------------------------------------------------------------- robots

    [Fact]
    public async Task A_pull_only_robot_pulls_but_cannot_push_and_has_harbors_full_name()
    {
        var project = await NewProjectAsync();
        var image = await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/app", "1.0");
        var robot = await lab.Admin().CreateRobotAsync(new HarborRobotRequest("k8s-pull") { Projects = [project], DurationDays = 30, Description = "pull secret" }, None);
        Assert.Equal($"robot${project}+k8s-pull", robot.UserName);
        Assert.Equal(lab.Harbor.Host, robot.Registry);
        Assert.Equal(32, robot.Secret.Length);
        Assert.InRange(robot.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddDays(30).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30).AddMinutes(5));
        Assert.DoesNotContain(Plain(robot.Secret), robot.ToString());

        var pulled = await PullAsync(lab.Harbor, $"{project}/app:1.0", robot.UserName, Plain(robot.Secret));
        Assert.Equal(image.Digest, pulled.Digest);
        await Assert.ThrowsAnyAsync<Exception>(() => LabContent.PushImageAsync(lab.Endpoint(robot.UserName, Plain(robot.Secret)), $"{project}/app", "2.0"));

        var listed = Assert.Single(await lab.Admin().ListRobotsAsync(project, None));
        Assert.Equal("k8s-pull", listed.ShortName);
        Assert.Equal(project, listed.Project);
        Assert.Equal("project", listed.Level);
        Assert.InRange(listed.DaysLeft!.Value, 29, 30);
        Assert.Equal([$"{project}:repository:pull", $"{project}:artifact:read"], listed.Permissions);
    }

    [Fact]
    public async Task Duplicate_invalid_and_ungrantable_robots_fail_with_clear_errors()
    {
        var project = await NewProjectAsync();
        var client = lab.Admin();
        await client.CreateRobotAsync(new HarborRobotRequest("ci") { Projects = [project] }, None);
        var duplicate = await Assert.ThrowsAsync<HarborException>(() => client.CreateRobotAsync(new HarborRobotRequest("ci") { Projects = [project] }, None));
        Assert.Equal(HarborErrorIds.RobotNameConflict, duplicate.ErrorId);
        Assert.Equal(409, duplicate.StatusCode);
        var invalid = await Assert.ThrowsAsync<HarborException>(() => client.CreateRobotAsync(new HarborRobotRequest("CI$bot") { Projects = [project] }, None));
        Assert.Equal(HarborErrorIds.RobotNameInvalid, invalid.ErrorId);
        var badPermission = await Assert.ThrowsAsync<HarborException>(() =>
            client.CreateRobotAsync(new HarborRobotRequest("fly") { Projects = [project], Permissions = ["repository:fly"] }, None));
        Assert.Equal(HarborErrorIds.RobotPermissionInvalid, badPermission.ErrorId);
        Assert.Contains("repository:fly", badPermission.Message);

        // A robot may create robots only with permissions it holds itself.
        var creator = await client.CreateRobotAsync(new HarborRobotRequest("creator")
        {
            Level = "system", Projects = [project], Permissions = ["repository:pull", "robot:create", "robot:list"],
        }, None);
        var asRobot = lab.As(creator.UserName, Plain(creator.Secret));
        var denied = await Assert.ThrowsAsync<HarborException>(() => asRobot.CreateRobotAsync(new HarborRobotRequest("pusher") { Projects = [project], Preset = HarborRobotPreset.Push }, None));
        Assert.Equal(HarborErrorIds.PermissionDenied, denied.ErrorId);
        var narrow = await asRobot.CreateRobotAsync(new HarborRobotRequest("puller") { Projects = [project], Permissions = ["repository:pull"] }, None);
        Assert.Equal($"robot${project}+puller", narrow.UserName);
    }

    [Fact]
    public async Task Robots_are_extended_from_today_disabled_reenabled_refreshed_and_removed()
    {
        var project = await NewProjectAsync();
        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/app", "1.0");
        var client = lab.Admin();
        var robot = await client.CreateRobotAsync(new HarborRobotRequest("rotate") { Projects = [project], DurationDays = 10 }, None);
        var secret = Plain(robot.Secret);

        var extended = await client.UpdateRobotAsync(robot.RobotId, new HarborRobotUpdate { ExtendDays = 90 }, None);
        Assert.InRange(extended.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddDays(90).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(91).AddMinutes(5));
        var put = lab.Harbor.Exchanges.Last(x => x.Method == "PUT");
        Assert.Contains($"\"name\":\"robot${project}+rotate\"", Encoding.UTF8.GetString(put.RequestBody).Replace("\\u002B", "+"));

        var disabled = await client.UpdateRobotAsync(robot.RobotId, new HarborRobotUpdate { Disabled = true }, None);
        Assert.True(disabled.Disabled);
        Assert.Equal(extended.ExpiresAt, disabled.ExpiresAt);
        Assert.Equal(HarborErrorIds.AuthenticationFailed, (await Assert.ThrowsAsync<HarborException>(() => lab.As(robot.UserName, secret).ConnectAsync(None))).ErrorId);
        var enabled = await client.UpdateRobotAsync(robot.RobotId, new HarborRobotUpdate { Disabled = false }, None);
        Assert.False(enabled.Disabled);
        Assert.Equal("Robot", (await lab.As(robot.UserName, secret).ConnectAsync(None)).Kind);

        var refreshed = await client.RefreshRobotSecretAsync(robot.RobotId, None);
        Assert.NotEqual(secret, Plain(refreshed.Secret));
        Assert.Equal(enabled.ExpiresAt, refreshed.ExpiresAt);
        await Assert.ThrowsAsync<HarborException>(() => lab.As(robot.UserName, secret).ConnectAsync(None));
        await PullAsync(lab.Harbor, $"{project}/app:1.0", refreshed.UserName, Plain(refreshed.Secret));

        var found = await client.FindRobotAsync(robot.UserName, null, None);
        Assert.Equal(robot.RobotId, found.Id);
        await client.DeleteRobotAsync(robot.RobotId, None);
        var missing = await Assert.ThrowsAsync<HarborException>(() => client.FindRobotAsync("rotate", project, None));
        Assert.Equal(HarborErrorIds.RobotNotFound, missing.ErrorId);
    }

    // ---------------------------------------------------------------- artifacts, scans, usage, members

    [Fact]
    public async Task Artifacts_show_tags_signatures_and_scans_and_vulnerabilities_come_back_as_objects()
    {
        var project = await NewProjectAsync();
        var client = lab.Admin();
        var signed = await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/api/web", "1.0");
        await LabContent.PutManifestAsync(lab.Harbor.AdminEndpoint, $"{project}/api/web", "stable", signed.MediaType, signed.ManifestBytes);
        await LabContent.PushCosignSignatureAsync(lab.Harbor.AdminEndpoint, signed);
        var plain = await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/api/web", "2.0");
        lab.Harbor.SeedScanReport(plain.Digest,
        [
            new LabVulnerability("CVE-2024-0002", "Medium", "zlib", "1.2", "1.3"),
            new LabVulnerability("CVE-2024-0001", "Critical", "openssl", "3.0.1", null, "bad", 9.8),
        ]);

        var artifacts = await client.ListArtifactsAsync(project, null, None).ToListAsync();
        Assert.Equal(2, artifacts.Count);
        var signedArtifact = Assert.Single(artifacts, a => a.Digest == signed.Digest);
        Assert.Equal(["1.0", "stable"], signedArtifact.Tags);
        Assert.True(signedArtifact.Signed);
        Assert.Equal("api/web", signedArtifact.Repository);
        Assert.Null(signedArtifact.ScanStatus);
        Assert.False(Assert.Single(artifacts, a => a.Digest == plain.Digest).Signed);
        // The repository name went out encoded twice.
        Assert.Contains(lab.Harbor.Exchanges, x => x.Path.Contains("/repositories/api%2Fweb/artifacts", StringComparison.Ordinal));

        var progress = new List<OperationProgress>();
        foreach (var artifact in artifacts) Assert.True(await client.StartScanAsync(project, artifact.Repository, artifact.Digest, None));
        var scans = await client.WaitForScansAsync(artifacts, TimeSpan.FromSeconds(20), new SyncProgress(progress), None);
        Assert.All(scans, s => Assert.Equal("Success", s.Status));
        Assert.True(progress.Last().IsComplete);
        Assert.Equal("Critical", Assert.Single(scans, s => s.Digest == plain.Digest).Severity);
        Assert.Equal(0, Assert.Single(scans, s => s.Digest == signed.Digest).VulnerabilityCount);

        await client.UpdateProjectAsync(project, new HarborProjectSettings { CveAllowlist = ["CVE-2024-0002"] }, None);
        var vulnerabilities = await client.GetVulnerabilitiesAsync(project, "api/web", "2.0", None);
        Assert.Equal(["CVE-2024-0001", "CVE-2024-0002"], vulnerabilities.Select(v => v.Id));
        Assert.Equal(9.8, vulnerabilities[0].CvssScoreV3);
        Assert.Null(vulnerabilities[0].FixVersion);
        Assert.Equal("1.3", vulnerabilities[1].FixVersion);
        Assert.Equal([false, true], vulnerabilities.Select(v => v.Allowlisted));
        Assert.Equal($"{lab.Harbor.Host}/{project}/api/web:2.0", vulnerabilities[0].Reference);

        var missing = await Assert.ThrowsAsync<HarborException>(() => client.GetArtifactAsync(project, "api/web", "9.9", None));
        Assert.Equal(HarborErrorIds.ArtifactNotFound, missing.ErrorId);
    }

    [Fact]
    public async Task Scan_all_scans_every_artifact_and_waits_with_progress()
    {
        var project = await NewProjectAsync();
        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/one", "1");
        await LabContent.PushIndexAsync(lab.Harbor.AdminEndpoint, $"{project}/multi", "1", ["linux/amd64", "linux/arm64"]);
        var progress = new List<OperationProgress>();
        await lab.Admin().ScanAllAsync(wait: true, TimeSpan.FromSeconds(30), new SyncProgress(progress), None);
        Assert.True(progress.Last().IsComplete);
        var artifacts = await lab.Admin().ListArtifactsAsync(project, null, None).ToListAsync();
        Assert.All(artifacts, a => Assert.Equal("Success", a.ScanStatus));
        Assert.Contains(artifacts, a => a.IsIndex);
    }

    [Fact]
    public async Task Usage_is_reported_per_project_largest_first()
    {
        var small = await NewProjectAsync("usage");
        var large = await NewProjectAsync("usage");
        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{small}/app", "1", new LabImageOptions { LayerSize = 1024 });
        await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{large}/app", "1", new LabImageOptions { LayerSize = 64 * 1024, LayerCount = 2 });
        await lab.Admin().UpdateProjectAsync(large, new HarborProjectSettings { StorageLimit = 1024 * 1024 }, None);
        var usage = await lab.Admin().GetProjectUsageAsync("usage-*", None);
        var mine = usage.Where(u => u.Project == small || u.Project == large).ToList();
        Assert.Equal([large, small], mine.Select(u => u.Project));
        Assert.True(mine[0].UsedBytes > 64 * 1024 * 2);
        Assert.Equal(1024 * 1024, mine[0].QuotaBytes);
        Assert.NotNull(mine[0].PercentUsed);
        Assert.Equal(-1, mine[1].QuotaBytes);
        Assert.Null(mine[1].PercentUsed);
        Assert.Equal(usage.OrderByDescending(u => u.UsedBytes).Select(u => u.UsedBytes), usage.Select(u => u.UsedBytes));
    }

    [Fact]
    public async Task Users_are_added_as_members_and_removed()
    {
        // Groups, which depend on Harbor's auth mode, are HarborMemberAuthModeTests'.
        var project = await NewProjectAsync();
        lab.Harbor.AddUser("alice", "Alice-Pass-1");
        var client = lab.Admin();
        var alice = await client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Developer) { UserName = "alice" }, None);
        Assert.Equal(("alice", "User", "Developer"), (alice.Name, alice.EntityType, alice.Role));
        var duplicate = await Assert.ThrowsAsync<HarborException>(() => client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { UserName = "alice" }, None));
        Assert.Equal(HarborErrorIds.MemberExists, duplicate.ErrorId);
        var unknown = await Assert.ThrowsAsync<HarborException>(() => client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { UserName = "nobody" }, None));
        Assert.Equal(HarborErrorIds.MemberNotFound, unknown.ErrorId);

        await client.RemoveMemberAsync(project, alice.MemberId, None);
        var members = await client.ListMembersAsync(project, None);
        Assert.DoesNotContain(members, m => m.Name == "alice");
        Assert.Contains(members, m => m.Name == "admin" && m.Role == "ProjectAdmin");
    }
}

/// <summary>IProgress that records synchronously (Progress&lt;T&gt; posts to the thread pool and may report late).</summary>
internal sealed class SyncProgress(List<OperationProgress> sink) : IProgress<OperationProgress>
{
    public void Report(OperationProgress value)
    {
        lock (sink) sink.Add(value);
    }
}
