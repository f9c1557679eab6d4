using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Kube;
using HarborOps.Engine.Rotation;
using HarborOps.Lab.Kube;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Rotation;

/// <summary>
/// The rotation's cleanup with robots it did not create, or that other namespaces still hold: a kubelet-like puller
/// runs through every rotation and must never fail in any namespace (issue 6's "no outage", issue 13's shared robot).
/// </summary>
[Collection(RotationLabCollection.Name)]
public sealed class SharedRobotRotationTests(RotationLabFixture lab) : IDisposable
{
    public void Dispose() => lab.AssertAnswersMatchContract();

    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<(PullSecretRotationResult Result, HarborOpsException? Failure)> RotateAsync(string ns, PullSecretRotationRequest request, KubeCluster? cluster = null)
    {
        using var admin = cluster is null ? await lab.ClusterAsync() : null;
        using var registry = lab.NewRegistryEngine();
        var harbor = lab.Admin();
        var rotator = new PullSecretRotator(cluster ?? admin!, harbor, new PullVerifier(registry, harbor));
        var plan = await rotator.PlanAsync(ns, request, None);
        var (result, failure, _) = await rotator.ExecuteAsync(plan, request, None);
        return (result, failure);
    }

    private NetworkCredential LoginOf(string ns) =>
        DockerConfigJson.Read(Convert.FromBase64String((string)lab.Kube.Get(KubeResourceType.Secrets, ns, "harbor-pull")!["data"]![DockerConfigJson.DataKey]!), lab.Harbor.Host)!;

    private async Task<bool> RobotExistsAsync(string name) =>
        (await lab.Admin().ListRobotsAsync(null, None)).Any(r => r.Name == name)
        || (await lab.Admin().ListRobotsAsync(name.Split('$', '+')[1], None)).Any(r => r.Name == name);

    /// <summary>What <c>New-HarborRobot | Sync-PullSecret -Namespace a, b, c, d</c> does (examples/team-onboarding).</summary>
    private async Task<HarborRobotCredential> ShareRobotAsync(string project, IEnumerable<string> namespaces)
    {
        var robot = await lab.Admin().CreateRobotAsync(new HarborRobotRequest(lab.Unique("team")) { Projects = [project], DurationDays = 30 }, None);
        using var kube = await lab.ClusterAsync();
        var sync = new PullSecretSync(kube);
        foreach (var ns in namespaces)
            await sync.SyncAsync(ns, new PullSecretSyncRequest(robot.Registry, robot.UserName, robot.Secret) { RobotId = robot.RobotId, ExpiresAt = robot.ExpiresAt }, null, None);
        return robot;
    }

    [Fact]
    public async Task A_robot_shared_across_namespaces_is_never_deleted_and_no_namespace_fails_a_pull()
    {
        var project = await lab.NewProjectAsync();
        var namespaces = Enumerable.Range(1, 4).Select(_ => lab.NewNamespace("shared")).ToArray();
        var shared = await ShareRobotAsync(project, namespaces);
        var rotated = namespaces[..3];
        var request = new PullSecretRotationRequest { Projects = [project], GracePeriod = TimeSpan.FromHours(1), Force = true };

        await using var puller = new KubeletPuller(lab, namespaces.ToDictionary(ns => ns, _ => project));
        await puller.PullMoreAsync();
        var first = new Dictionary<string, string>();
        foreach (var ns in rotated)
        {
            var (result, failure) = await RotateAsync(ns, request);
            Assert.Null(failure);
            Assert.Equal(shared.UserName, result.PreviousRobot);
            Assert.Equal([shared.UserName], result.RobotsKept);
            first[ns] = result.Robot!;
        }
        await puller.PullMoreAsync();

        // The grace period has passed: the next forced rotation retires the rotation's own robots and cleans up.
        foreach (var ns in rotated)
        {
            var (result, failure) = await RotateAsync(ns, request with { GracePeriod = TimeSpan.Zero });
            Assert.Null(failure);
            Assert.True(result.Verified);
            Assert.Equal([first[ns]], result.RobotsDeleted);
            Assert.Contains(shared.UserName, result.RobotsKept);
            var kept = Assert.Single(result.KeptRobots, k => k.Name == shared.UserName);
            Assert.Equal(KeptRobotReason.NotCreatedByRotation, kept.Reason);
            Assert.Contains("did not create it", kept.Detail);
            await puller.PullMoreAsync();
        }
        // And once more: nothing of the shared robot's is left to decide, nothing more is deleted.
        foreach (var ns in rotated)
        {
            var (again, _) = await RotateAsync(ns, request with { GracePeriod = TimeSpan.Zero, Force = false });
            Assert.Empty(again.RobotsDeleted);
            Assert.Empty(again.RobotsKept);
        }
        await puller.PullMoreAsync();

        Assert.Empty(puller.Failures);
        Assert.True(await RobotExistsAsync(shared.UserName));
        Assert.Equal(shared.UserName, LoginOf(namespaces[3]).UserName);
        foreach (var ns in rotated)
        {
            Assert.False(await RobotExistsAsync(first[ns]));
            Assert.True(await RobotExistsAsync(LoginOf(ns).UserName));
        }
    }

    [Fact]
    public async Task A_robot_the_rotation_created_is_kept_while_another_namespace_holds_it_and_deleted_once_none_does()
    {
        var project = await lab.NewProjectAsync();
        var owner = lab.NewNamespace("owner");
        var borrower = lab.NewNamespace("borrower");
        var request = new PullSecretRotationRequest { Projects = [project], GracePeriod = TimeSpan.Zero };
        var (created, _) = await RotateAsync(owner, request);
        // Someone copied the owner's credential into another namespace by hand.
        var copied = LoginOf(owner);
        using (var kube = await lab.ClusterAsync())
            await new PullSecretSync(kube).SyncAsync(borrower, new PullSecretSyncRequest(lab.Harbor.Host, copied.UserName, copied.SecurePassword), null, None);

        await using var puller = new KubeletPuller(lab, new Dictionary<string, string> { [owner] = project, [borrower] = project });
        await puller.PullMoreAsync();
        var (rotated, failure) = await RotateAsync(owner, request with { Force = true });
        Assert.Null(failure);
        Assert.Empty(rotated.RobotsDeleted);
        Assert.Equal([created.Robot!], rotated.RobotsKept);
        var kept = Assert.Single(rotated.KeptRobots);
        Assert.Equal(KeptRobotReason.HeldElsewhere, kept.Reason);
        Assert.Contains($"{borrower}/harbor-pull", kept.Detail);
        await puller.PullMoreAsync();
        Assert.True(await RobotExistsAsync(created.Robot!));

        // The borrower moves to a robot of its own; the owner's next run may now delete the one it created.
        await RotateAsync(borrower, request);
        var (cleanup, _) = await RotateAsync(owner, request);
        Assert.Equal([created.Robot!], cleanup.RobotsDeleted);
        await puller.PullMoreAsync();
        Assert.Empty(puller.Failures);
        Assert.False(await RobotExistsAsync(created.Robot!));
    }

    [Fact]
    public async Task Without_reading_every_namespaces_secrets_a_retired_robot_is_kept()
    {
        var project = await lab.NewProjectAsync();
        var ns = lab.NewNamespace("confined");
        var request = new PullSecretRotationRequest { Projects = [project], GracePeriod = TimeSpan.Zero };
        var (first, _) = await RotateAsync(ns, request);
        // A job confined to its namespace with a RoleBinding: it cannot list other namespaces' secrets.
        var grant = lab.Kube.AddToken(lab.Unique("confined"),
            new KubeAccessRule(["get", "list", "create", "update"], ["secrets"], [ns]),
            new KubeAccessRule(["get", "list", "update"], ["serviceaccounts"], [ns]));
        var path = KubeConfigFile.Write(Path.Combine(lab.Directory, $"{ns}.kubeconfig"), lab.Kube, "confined", new KubeConfigContext("confined", grant.User, grant.Token));
        using var confined = await KubeCluster.ConnectAsync(new KubeConnectionRequest { KubeconfigPath = path, Context = "confined" });

        var (rotated, failure) = await RotateAsync(ns, request with { Force = true }, confined);
        Assert.Null(failure);
        Assert.True(rotated.Rotated);
        Assert.True(rotated.Verified);
        Assert.Empty(rotated.RobotsDeleted);
        Assert.Equal([first.Robot!], rotated.RobotsKept);
        var kept = Assert.Single(rotated.KeptRobots);
        Assert.Equal(KeptRobotReason.HoldersUnknown, kept.Reason);
        Assert.Contains("may not list secrets in all namespaces", kept.Detail);
        Assert.True(await RobotExistsAsync(first.Robot!));

        // With the cluster-wide read back, the next run deletes it.
        var (cleanup, _) = await RotateAsync(ns, request);
        Assert.Equal([first.Robot!], cleanup.RobotsDeleted);
    }
}
