using System.Net;
using System.Security;
using System.Text.Json.Nodes;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Rotation;
using HarborOps.Lab.Kube;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Rotation;

/// <summary>Sync, restart and rotation against the Harbor and Kubernetes emulators together.</summary>
[Collection(RotationLabCollection.Name)]
public class PullSecretRotationTests(RotationLabFixture lab) : IDisposable
{
    public void Dispose()
    {
        lab.AssertAnswersMatchContract();
        GC.SuppressFinalize(this);
    }

    private static readonly CancellationToken None = CancellationToken.None;

    private static SecureString Secure(string value)
    {
        var secure = new SecureString();
        foreach (var c in value) secure.AppendChar(c);
        return secure;
    }

    private static string[] PullSecretsOf(JsonObject serviceAccount) =>
        (serviceAccount["imagePullSecrets"] as JsonArray ?? []).Select(e => (string)e!["name"]!).ToArray();

    private int Writes(string resource, string ns) =>
        lab.Kube.Requests.Count(r => r.Method is "PUT" or "POST" or "PATCH" or "DELETE" && r.Path.Contains($"/namespaces/{ns}/{resource}", StringComparison.Ordinal));

    private static NetworkCredential LoginIn(JsonObject secret, string registry) =>
        DockerConfigJson.Read(Convert.FromBase64String((string)secret["data"]![DockerConfigJson.DataKey]!), registry)!;

    [Fact]
    public async Task Sync_writes_the_pull_secret_keeps_existing_service_account_entries_and_is_free_on_the_second_run()
    {
        var ns = lab.NewNamespace();
        lab.Kube.Create(KubeResourceType.ServiceAccounts, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "builder", ["namespace"] = ns },
            ["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = "legacy-pull" }),
        }, ns);
        using var kube = await lab.ClusterAsync();
        var sync = new PullSecretSync(kube);
        var request = new PullSecretSyncRequest("harbor.lab:5000", "robot$team+k8s", Secure("first-secret"))
        { ServiceAccounts = ["default", "builder"], ExpiresAt = DateTimeOffset.UtcNow.AddDays(90), RobotId = 12 };

        var first = await sync.SyncAsync(ns, request, null, None);
        Assert.Equal(PullSecretAction.Created, first.Action);
        Assert.Equal(["default", "builder"], first.ServiceAccountsUpdated);
        Assert.Equal(["legacy-pull", "harbor-pull"], PullSecretsOf(lab.Kube.Get(KubeResourceType.ServiceAccounts, ns, "builder")!));
        var secret = lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!;
        Assert.Equal(DockerConfigJson.SecretType, (string?)secret["type"]);
        Assert.Equal("harborops", (string?)secret["metadata"]!["labels"]![PullSecretKeys.ManagedByLabel]);
        Assert.Equal("robot$team+k8s", (string?)secret["metadata"]!["annotations"]![PullSecretKeys.Robot]);
        Assert.NotNull(secret["metadata"]!["annotations"]![PullSecretKeys.RotatedAt]);
        Assert.NotNull(secret["metadata"]!["annotations"]![PullSecretKeys.ExpiresAt]);
        Assert.Equal("first-secret", LoginIn(secret, "harbor.lab:5000").Password);

        var writes = Writes("secrets", ns) + Writes("serviceaccounts", ns);
        var second = await sync.SyncAsync(ns, request, null, None);
        Assert.Equal(PullSecretAction.Unchanged, second.Action);
        Assert.Empty(second.ServiceAccountsUpdated);
        Assert.Equal(writes, Writes("secrets", ns) + Writes("serviceaccounts", ns));

        var third = await sync.SyncAsync(ns, request with { Secret = Secure("second-secret") }, null, None);
        Assert.Equal(PullSecretAction.Updated, third.Action);
        Assert.Equal("second-secret", LoginIn(lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!, "harbor.lab:5000").Password);
    }

    [Fact]
    public async Task A_service_account_write_that_loses_a_race_is_merged_again_not_dropped()
    {
        var ns = lab.NewNamespace();
        using var kube = await lab.ClusterAsync();
        lab.Kube.InjectConflicts("serviceaccounts", times: 2, ns: ns);
        var result = await new PullSecretSync(kube).SyncAsync(ns, new PullSecretSyncRequest("harbor.lab", "u", Secure("p")), null, None);
        Assert.Equal(["default"], result.ServiceAccountsUpdated);
        Assert.Equal(["harbor-pull"], PullSecretsOf(lab.Kube.Get(KubeResourceType.ServiceAccounts, ns, "default")!));
        Assert.True(lab.Kube.Requests.Count(r => r.Method == "PUT" && r.Path.EndsWith($"/namespaces/{ns}/serviceaccounts/default", StringComparison.Ordinal) && r.Status == 409) >= 2);
    }

    [Fact]
    public async Task A_secret_of_another_type_is_left_alone_unless_forced()
    {
        var ns = lab.NewNamespace();
        lab.Kube.Create(KubeResourceType.Secrets, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "harbor-pull", ["namespace"] = ns }, ["type"] = "Opaque",
            ["data"] = new JsonObject { ["token"] = Convert.ToBase64String("keep me"u8.ToArray()) },
        }, ns);
        using var kube = await lab.ClusterAsync();
        var sync = new PullSecretSync(kube);
        var request = new PullSecretSyncRequest("harbor.lab", "u", Secure("p"));
        var ex = await Assert.ThrowsAsync<PullSecretException>(() => sync.SyncAsync(ns, request, null, None));
        Assert.Equal(PullSecretErrorIds.WrongType, ex.ErrorId);
        Assert.Contains("-Force", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Opaque", ex.Message, StringComparison.Ordinal);
        Assert.Equal("Opaque", (string?)lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!["type"]);

        var forced = await sync.SyncAsync(ns, request with { Force = true }, null, None);
        Assert.Equal(PullSecretAction.Replaced, forced.Action);
        Assert.Equal(DockerConfigJson.SecretType, (string?)lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!["type"]);
    }

    [Fact]
    public async Task A_forced_replacement_whose_delete_meets_a_changed_secret_reads_again_and_retries()
    {
        // The delete carries preconditions.resourceVersion: when the secret changed since the read, the API server
        // answers 409 Conflict (and deletes nothing). -Force then reads again, like every other conflict.
        var ns = lab.NewNamespace();
        lab.Kube.Create(KubeResourceType.Secrets, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "harbor-pull", ["namespace"] = ns }, ["type"] = "Opaque",
            ["data"] = new JsonObject { ["token"] = Convert.ToBase64String("old"u8.ToArray()) },
        }, ns);
        lab.Kube.InjectFault(new KubeFault { Verb = "delete", Resource = "secrets", Namespace = ns, Name = "harbor-pull" });
        using var kube = await lab.ClusterAsync();
        var forced = await new PullSecretSync(kube).SyncAsync(ns, new PullSecretSyncRequest("harbor.lab", "u", Secure("p")) { Force = true }, null, None);
        Assert.Equal(PullSecretAction.Replaced, forced.Action);
        Assert.Equal(DockerConfigJson.SecretType, (string?)lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!["type"]);
        Assert.Equal(2, lab.Kube.Requests.Count(r => r.Method == "DELETE" && r.Path.EndsWith($"/namespaces/{ns}/secrets/harbor-pull", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Declined_changes_write_nothing()
    {
        var ns = lab.NewNamespace();
        using var kube = await lab.ClusterAsync();
        var asked = new List<string>();
        var result = await new PullSecretSync(kube).SyncAsync(ns, new PullSecretSyncRequest("harbor.lab", "u", Secure("p")),
            change => { asked.Add(change); return Task.FromResult(false); }, None);
        Assert.Equal(PullSecretAction.Planned, result.Action);
        Assert.Single(asked);
        Assert.Null(lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull"));
        Assert.Equal(0, Writes("secrets", ns) + Writes("serviceaccounts", ns));
    }

    [Fact]
    public async Task Restart_keeps_template_annotations_follows_rollouts_and_a_stalled_deployment_fails_alone()
    {
        var ns = lab.NewNamespace();
        lab.CreateDeployment(ns, "api", "harbor.lab/team/api:1", pullSecret: "harbor-pull", templateAnnotations: new Dictionary<string, string> { ["team/owner"] = "payments" });
        lab.CreateDeployment(ns, "stuck", "harbor.lab/team/stuck:1", pullSecret: "harbor-pull");
        lab.CreateDeployment(ns, "unrelated", "docker.io/library/nginx:1");
        using var kube = await lab.ClusterAsync();
        var restarter = new WorkloadRestarter(kube) { PollInterval = TimeSpan.FromMilliseconds(50) };
        await restarter.WaitAsync(new WorkloadTarget(ns, "Deployment", "stuck", ""), TimeSpan.FromSeconds(20), null, None);
        await restarter.WaitAsync(new WorkloadTarget(ns, "Deployment", "api", ""), TimeSpan.FromSeconds(20), null, None);

        var targets = await restarter.FindAsync(ns, new WorkloadSelection { SecretName = "harbor-pull" }, None);
        Assert.Equal(["api", "stuck"], targets.Select(t => t.Name).Order());
        lab.Kube.SetStalled("Deployment", ns, "stuck");
        var outcomes = await restarter.RestartAllAsync(targets, wait: true, TimeSpan.FromSeconds(30), null, None);

        var api = outcomes.Single(o => o.Result.Name == "api");
        Assert.Null(api.Failure);
        Assert.Equal(WorkloadRolloutState.RolledOut, api.Result.State);
        Assert.Contains("successfully rolled out", api.Result.Status, StringComparison.Ordinal);
        var annotations = lab.Kube.Get(KubeResourceType.Deployments, ns, "api")!["spec"]!["template"]!["metadata"]!["annotations"]!;
        Assert.Equal("payments", (string?)annotations["team/owner"]);
        Assert.NotNull(annotations[WorkloadRestarter.RestartedAtAnnotation]);

        var stuck = outcomes.Single(o => o.Result.Name == "stuck");
        Assert.Equal(WorkloadRolloutState.Stalled, stuck.Result.State);
        Assert.Equal(PullSecretErrorIds.RolloutStalled, stuck.Failure!.ErrorId);
        Assert.Contains("progress deadline", stuck.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workloads_are_found_through_their_service_account_and_by_registry()
    {
        var ns = lab.NewNamespace();
        lab.Kube.Create(KubeResourceType.ServiceAccounts, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "runner", ["namespace"] = ns } }, ns);
        lab.CreateDeployment(ns, "via-sa", "other.io/x:1");
        lab.CreateDeployment(ns, "by-image", "harbor.lab:5000/team/api:1", serviceAccount: "runner");
        using var kube = await lab.ClusterAsync();
        await new PullSecretSync(kube).SyncAsync(ns, new PullSecretSyncRequest("harbor.lab", "u", Secure("p")), null, None);
        var restarter = new WorkloadRestarter(kube);
        Assert.Equal(["via-sa"], (await restarter.FindAsync(ns, new WorkloadSelection { SecretName = "harbor-pull" }, None)).Select(t => t.Name));
        Assert.Equal(["by-image"], (await restarter.FindAsync(ns, new WorkloadSelection { Registry = "harbor.lab:5000" }, None)).Select(t => t.Name));
    }

    protected async Task<(PullSecretRotationResult Result, HarborOpsException? Failure)> RotateAsync(string ns, PullSecretRotationRequest request)
    {
        using var kube = await lab.ClusterAsync();
        using var registry = lab.NewRegistryEngine();
        var harbor = lab.Admin();
        var rotator = new PullSecretRotator(kube, harbor, new PullVerifier(registry, harbor));
        var plan = await rotator.PlanAsync(ns, request, None);
        var (result, failure, _) = await rotator.ExecuteAsync(plan, request, None);
        return (result, failure);
    }

    [Fact]
    public async Task Rotation_overlaps_two_robots_and_deletes_the_old_one_only_after_the_grace_period()
    {
        var project = await lab.NewProjectAsync();
        var ns = lab.NewNamespace();
        var request = new PullSecretRotationRequest { Projects = [project], GracePeriod = TimeSpan.FromHours(1), RotationPeriodDays = 90 };

        var (first, failure) = await RotateAsync(ns, request);
        Assert.Null(failure);
        Assert.True(first.Rotated);
        Assert.True(first.Verified);
        var robots = await lab.Admin().ListRobotsAsync(project, None);
        var firstRobot = Assert.Single(robots);
        Assert.Equal(first.Robot, firstRobot.Name);
        Assert.Equal(["artifact:read", "repository:pull"], firstRobot.Permissions.Select(p => p[(project.Length + 1)..]).Order());
        Assert.Equal(90 + 1, firstRobot.DurationDays);

        var (quiet, _) = await RotateAsync(ns, request);
        Assert.False(quiet.Rotated);
        Assert.Equal(first.Robot, quiet.Robot);

        var (second, _) = await RotateAsync(ns, request with { Force = true });
        Assert.True(second.Rotated);
        Assert.NotEqual(first.Robot, second.Robot);
        Assert.Equal([first.Robot!], second.RobotsKept);
        Assert.Equal(2, (await lab.Admin().ListRobotsAsync(project, None)).Count);
        Assert.Equal(second.Robot, LoginIn(lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!, lab.Harbor.Host).UserName);

        var (cleanup, _) = await RotateAsync(ns, request with { GracePeriod = TimeSpan.Zero });
        Assert.False(cleanup.Rotated);
        Assert.Equal([first.Robot!], cleanup.RobotsDeleted);
        Assert.Equal(second.Robot, Assert.Single(await lab.Admin().ListRobotsAsync(project, None)).Name);
    }

    [Fact]
    public async Task A_robot_that_never_reached_a_secret_is_deleted_by_the_next_run_and_a_robot_deleted_in_Harbor_is_replaced()
    {
        var project = await lab.NewProjectAsync();
        var ns = lab.NewNamespace();
        var request = new PullSecretRotationRequest { Projects = [project], GracePeriod = TimeSpan.Zero };
        var (first, _) = await RotateAsync(ns, request);
        // What a run killed right after creating its robot leaves behind: the name recorded on the secret, then the robot.
        var orphanName = $"k8s-pull-{ns}-20260101000000000";
        using (var kube = await lab.ClusterAsync())
            await new PullSecretSync(kube).UpdateStateAsync(ns, "harbor-pull", s => s with { CreatingRobot = orphanName }, None);
        var orphan = await lab.Admin().CreateRobotAsync(new HarborRobotRequest(orphanName) { Projects = [project] }, None);
        // A robot someone else named the same way, which no run recorded: a name alone proves nothing.
        var lookalike = await lab.Admin().CreateRobotAsync(new HarborRobotRequest($"k8s-pull-{ns}-20260101000000001") { Projects = [project] }, None);

        var (second, failure) = await RotateAsync(ns, request);
        Assert.Null(failure);
        Assert.Equal([orphan.UserName], second.RobotsDeleted);
        Assert.False(second.Rotated);
        Assert.Null((string?)lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!["metadata"]!["annotations"]![PullSecretKeys.CreatingRobot]);
        await lab.Admin().DeleteRobotAsync(lookalike.RobotId, None);
        // The robot the secret holds is still provably the rotation's: the next rotation deletes it once retired.
        var (forced, _) = await RotateAsync(ns, request with { Force = true });
        Assert.Equal([first.Robot!], forced.RobotsDeleted);

        var current = await lab.Admin().FindRobotAsync(forced.Robot!, null, None);
        await lab.Admin().DeleteRobotAsync(current.Id, None);
        var (third, _) = await RotateAsync(ns, request);
        Assert.True(third.Rotated);
        Assert.True(third.Verified);
        Assert.Equal(third.Robot, Assert.Single(await lab.Admin().ListRobotsAsync(project, None)).Name);
    }

    [Fact]
    public async Task Status_tries_the_secret_against_Harbor_and_flags_what_expires_or_fails()
    {
        var project = await lab.NewProjectAsync();
        var ns = lab.NewNamespace();
        var (rotated, _) = await RotateAsync(ns, new PullSecretRotationRequest { Projects = [project], RotationPeriodDays = 10, GracePeriod = TimeSpan.Zero });
        using var kube = await lab.ClusterAsync();
        using var registry = lab.NewRegistryEngine();
        var reader = new PullSecretStatusReader(kube, new PullVerifier(registry, lab.Admin()));

        var healthy = await reader.ReadAsync(ns, "harbor-pull", 5, null, None);
        Assert.True(healthy.Authenticates);
        Assert.Equal(rotated.Robot, healthy.Robot);
        Assert.Equal(0, healthy.AgeDays);
        Assert.InRange(healthy.DaysLeft!.Value, 9, 11);
        Assert.False(healthy.NeedsAttention);
        Assert.True((await reader.ReadAsync(ns, "harbor-pull", 30, null, None)).NeedsAttention);

        var robot = await lab.Admin().FindRobotAsync(rotated.Robot!, null, None);
        await lab.Admin().DeleteRobotAsync(robot.Id, None);
        using var fresh = lab.NewRegistryEngine();
        var broken = await new PullSecretStatusReader(kube, new PullVerifier(fresh, lab.Admin())).ReadAsync(ns, "harbor-pull", 5, null, None);
        Assert.False(broken.Authenticates);
        Assert.True(broken.NeedsAttention);
    }

    [Fact]
    public async Task Stateful_sets_and_daemon_sets_are_restarted_and_followed_to_the_end()
    {
        var ns = lab.NewNamespace();
        lab.CreateWorkload(KubeResourceType.StatefulSets, ns, "db", "harbor.lab/team/db:1", pullSecret: "harbor-pull");
        lab.CreateWorkload(KubeResourceType.DaemonSets, ns, "agent", "harbor.lab/team/agent:1", pullSecret: "harbor-pull");
        using var kube = await lab.ClusterAsync();
        var restarter = new WorkloadRestarter(kube) { PollInterval = TimeSpan.FromMilliseconds(50) };
        var targets = await restarter.FindAsync(ns, new WorkloadSelection { SecretName = "harbor-pull" }, None);
        Assert.Equal(["DaemonSet/agent", "StatefulSet/db"], targets.Select(t => $"{t.Kind}/{t.Name}").Order());
        foreach (var target in targets) await restarter.WaitAsync(target, TimeSpan.FromSeconds(20), null, None);

        var outcomes = await restarter.RestartAllAsync(targets, wait: true, TimeSpan.FromSeconds(30), null, None);
        Assert.All(outcomes, o => Assert.Null(o.Failure));
        Assert.Contains("statefulset rolling update complete", outcomes.Single(o => o.Result.Kind == "StatefulSet").Result.Status, StringComparison.Ordinal);
        Assert.Contains("successfully rolled out", outcomes.Single(o => o.Result.Kind == "DaemonSet").Result.Status, StringComparison.Ordinal);
        foreach (var type in new[] { KubeResourceType.StatefulSets, KubeResourceType.DaemonSets })
            Assert.NotNull(lab.Kube.Get(type, ns, type == KubeResourceType.StatefulSets ? "db" : "agent")!["spec"]!["template"]!["metadata"]!["annotations"]![WorkloadRestarter.RestartedAtAnnotation]);
    }

    [Fact]
    public async Task Namespaces_are_chosen_by_label_selector_wildcard_or_name()
    {
        var team = lab.Unique("team");
        var first = lab.NewNamespace("sel", new Dictionary<string, string> { ["team"] = team, ["env"] = "prod" });
        var second = lab.NewNamespace("sel", new Dictionary<string, string> { ["team"] = team, ["env"] = "dev" });
        using var kube = await lab.ClusterAsync();
        var sync = new PullSecretSync(kube);
        Assert.Equal([first], await sync.ResolveNamespacesAsync(new NamespaceSelection { LabelSelector = $"team={team},env!=dev" }, None));
        Assert.Equal(new[] { first, second }.Order(), await sync.ResolveNamespacesAsync(new NamespaceSelection { Names = [first[..^1] + "*", second] }, None));
        Assert.Equal(["not-listed-needs-no-list"], await sync.ResolveNamespacesAsync(new NamespaceSelection { Names = ["not-listed-needs-no-list"] }, None));
        var all = await sync.ResolveNamespacesAsync(new NamespaceSelection { All = true }, None);
        Assert.Contains(first, all);
        Assert.Contains("default", all);
    }

    [Fact]
    public async Task Several_projects_give_one_system_robot_with_pull_on_each_and_nothing_else()
    {
        var a = await lab.NewProjectAsync();
        var b = await lab.NewProjectAsync();
        var ns = lab.NewNamespace();
        var (result, failure) = await RotateAsync(ns, new PullSecretRotationRequest { Projects = [a, b], GracePeriod = TimeSpan.Zero });
        Assert.Null(failure);
        Assert.True(result.Verified);
        var robot = await lab.Admin().FindRobotAsync(result.Robot!, null, None);
        Assert.Equal("system", robot.Level);
        Assert.Equal(new[] { $"{a}:artifact:read", $"{a}:repository:pull", $"{b}:artifact:read", $"{b}:repository:pull" }.Order(), robot.Permissions.Order());
        Assert.Contains(result.Changes, c => c.Contains(a, StringComparison.Ordinal) && c.Contains(b, StringComparison.Ordinal) && c.StartsWith("the new robot pulled", StringComparison.Ordinal));
        // The next run that rotates cleans up the system robot too.
        var (second, _) = await RotateAsync(ns, new PullSecretRotationRequest { Force = true, GracePeriod = TimeSpan.Zero });
        Assert.Equal([result.Robot!], second.RobotsDeleted);
    }

    [Fact]
    public async Task Refresh_in_place_keeps_the_robot_and_its_old_secret_stops_pulling()
    {
        var project = await lab.NewProjectAsync();
        var ns = lab.NewNamespace();
        var (first, _) = await RotateAsync(ns, new PullSecretRotationRequest { Projects = [project], GracePeriod = TimeSpan.Zero });
        var old = LoginIn(lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!, lab.Harbor.Host);

        var (refreshed, failure) = await RotateAsync(ns, new PullSecretRotationRequest { Force = true, RefreshInPlace = true, GracePeriod = TimeSpan.Zero });
        Assert.Null(failure);
        Assert.True(refreshed.Rotated);
        Assert.True(refreshed.Verified);
        Assert.Equal(first.Robot, refreshed.Robot);
        Assert.Empty(refreshed.RobotsDeleted);
        var now = LoginIn(lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!, lab.Harbor.Host);
        Assert.Equal(old.UserName, now.UserName);
        Assert.NotEqual(old.Password, now.Password);

        using var registry = lab.NewRegistryEngine();
        var verifier = new PullVerifier(registry, lab.Admin());
        var ex = await Assert.ThrowsAsync<PullSecretException>(() => verifier.VerifyAsync(old, [project], ns, None));
        Assert.Equal(PullSecretErrorIds.VerificationFailed, ex.ErrorId);
        Assert.DoesNotContain(old.Password, ex.Message, StringComparison.Ordinal);
        Assert.Contains(project, await verifier.VerifyAsync(now, [project], ns, None), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_projects_the_first_rotation_grants_those_whose_images_the_namespace_runs()
    {
        var used = await lab.NewProjectAsync();
        var other = await lab.NewProjectAsync();
        var ns = lab.NewNamespace();
        lab.CreateDeployment(ns, "api", $"{lab.Harbor.Host}/{used}/app:1.0");
        lab.CreateDeployment(ns, "sidecar", "docker.io/library/busybox:1");
        var (result, failure) = await RotateAsync(ns, new PullSecretRotationRequest { GracePeriod = TimeSpan.Zero });
        Assert.Null(failure);
        Assert.True(result.Verified);
        var robot = await lab.Admin().FindRobotAsync(result.Robot!, null, None);
        Assert.Equal("project", robot.Level);
        Assert.Equal(used, robot.Project);
        Assert.DoesNotContain(robot.Permissions, p => p.StartsWith(other, StringComparison.Ordinal));
        Assert.Equal(used, (string?)lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!["metadata"]!["annotations"]![PullSecretKeys.Projects]);

        var empty = lab.NewNamespace();
        var (_, unknown) = await RotateAsync(empty, new PullSecretRotationRequest());
        Assert.Equal(PullSecretErrorIds.ProjectsUnknown, unknown!.ErrorId);
        Assert.Contains("-Project", unknown.Message, StringComparison.Ordinal);
    }
}

/// <summary>Every sync, restart and rotation test again, against a Harbor whose robot name prefix is svc-.</summary>
[Collection(SvcPrefixRotationLabCollection.Name)]
public sealed class PullSecretRotationWithSvcPrefixTests(SvcPrefixRotationLabFixture lab) : PullSecretRotationTests(lab)
{
    [Fact]
    public async Task Robots_carry_the_prefix_Harbor_is_configured_with()
    {
        var project = await lab.NewProjectAsync();
        var ns = lab.NewNamespace();
        var (result, failure) = await RotateAsync(ns, new PullSecretRotationRequest { Projects = [project], GracePeriod = TimeSpan.Zero });
        Assert.Null(failure);
        Assert.StartsWith($"svc-{project}+k8s-pull-{ns}-", result.Robot, StringComparison.Ordinal);
    }
}
