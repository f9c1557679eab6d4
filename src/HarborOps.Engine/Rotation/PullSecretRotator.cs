using System.Globalization;
using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Models;
using HarborOps.Engine.Kube;

namespace HarborOps.Engine.Rotation;

/// <summary>How the rotation runbook rotates.</summary>
public sealed record PullSecretRotationRequest
{
    public string SecretName { get; init; } = PullSecretSyncRequest.DefaultSecretName;
    /// <summary>Harbor projects the namespace pulls from; empty uses what the secret records (required on a namespace's first run).</summary>
    public IReadOnlyList<string> Projects { get; init; } = [];
    public IReadOnlyList<string> ServiceAccounts { get; init; } = ["default"];
    /// <summary>A robot is replaced once it is this old.</summary>
    public int RotationPeriodDays { get; init; } = 90;
    /// <summary>How long a replaced robot keeps working (for anything still holding its secret) before it is deleted.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromDays(7);
    /// <summary>Rotate now, whatever the current robot's age.</summary>
    public bool Force { get; init; }
    /// <summary>Refresh the current robot's secret in place instead of creating the next robot: the old secret dies at once.</summary>
    public bool RefreshInPlace { get; init; }
    public bool RestartWorkloads { get; init; }
    public bool Wait { get; init; }
    public TimeSpan RolloutTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Robots are named {prefix}-{namespace}-{UTC time}; the prefix tells this cluster's robots from others'.</summary>
    public string RobotNamePrefix { get; init; } = "k8s-pull";

    /// <summary>Robot lifetime: the rotation period plus the grace period, in whole days (Harbor's unit).</summary>
    public long RobotDurationDays => RotationPeriodDays + (long)Math.Ceiling(GracePeriod.TotalDays);
}

/// <summary>What a namespace's run will do, decided from what is there now; <see cref="Steps"/> is the -WhatIf plan.</summary>
public sealed record NamespaceRotationPlan(string Namespace)
{
    public IReadOnlyList<string> Projects { get; init; } = [];
    public PullSecretState State { get; init; } = new();
    public bool SecretExists { get; init; }
    public HarborRobotInfo? CurrentRobot { get; init; }
    public bool Rotate { get; init; }
    public string Reason { get; init; } = "";
    public IReadOnlyList<HarborRobotInfo> Orphans { get; init; } = [];
    public IReadOnlyList<string> Steps { get; init; } = [];
    /// <summary>Set when the namespace cannot be rotated as it is; the run reports it and goes on.</summary>
    public HarborOpsException? Problem { get; init; }
}

/// <summary>
/// The rotation runbook. For each namespace: create the next robot (pull on the namespace's projects, lifetime = rotation
/// period + grace), prove it pulls, write it into the secret with the previous robot recorded as retired, make the
/// ServiceAccounts list the secret, optionally restart workloads and wait, prove again what the secret now holds, and
/// delete retired robots whose grace period has passed. Every step is recorded on the secret or recognisable in Harbor
/// (robot names carry the namespace), so a run killed anywhere is finished by the next run; a robot is deleted only
/// while the credential in the secret has just pulled, so the last working credential is never removed.
/// </summary>
public sealed class PullSecretRotator
{
    private readonly KubeCluster cluster;
    private readonly PullSecretSync sync;
    private readonly WorkloadRestarter restarter;
    private readonly HarborClient harbor;
    private readonly PullVerifier verifier;
    private readonly TimeProvider time;

    public PullSecretRotator(KubeCluster cluster, HarborClient harbor, PullVerifier verifier, TimeProvider? clock = null)
    {
        this.cluster = cluster ?? throw new ArgumentNullException(nameof(cluster));
        this.harbor = harbor ?? throw new ArgumentNullException(nameof(harbor));
        this.verifier = verifier ?? throw new ArgumentNullException(nameof(verifier));
        time = clock ?? TimeProvider.System;
        sync = new PullSecretSync(cluster, time);
        restarter = new WorkloadRestarter(cluster, time);
    }

    /// <summary>
    /// Step notes as they happen ("ns: created robot ..."). Awaited before the next step starts, so a log cut off by a
    /// crash or a kill ends exactly at the last step taken.
    /// </summary>
    public Func<string, Task>? Log { get; init; }

    /// <summary>Namespaces to rotate: those given, or every namespace that has a managed secret of that name.</summary>
    public Task<IReadOnlyList<string>> ResolveNamespacesAsync(NamespaceSelection? selection, string secretName, CancellationToken cancellationToken) =>
        sync.ResolveManagedNamespacesAsync(selection, secretName, cancellationToken);

    /// <summary>Reads the namespace's secret and Harbor's robots and decides what the run will do. Changes nothing.</summary>
    public async Task<NamespaceRotationPlan> PlanAsync(string namespaceName, PullSecretRotationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = new NamespaceRotationPlan(namespaceName);
        var secret = await sync.ReadSecretAsync(namespaceName, request.SecretName, cancellationToken).ConfigureAwait(false);
        if (secret is not null && secret.Type != DockerConfigJson.SecretType)
            return plan with
            {
                Problem = new PullSecretException(PullSecretErrorIds.WrongType, FailureKind.Conflict,
                    $"Namespace '{namespaceName}' has a secret '{request.SecretName}' of type '{secret.Type}', which is not a pull secret; the rotation left it alone. Use another -SecretName, or replace it once with Sync-PullSecret -Force.",
                    namespaceName),
            };
        var state = PullSecretState.FromAnnotations(secret?.Metadata.Annotations);
        var projects = request.Projects.Count > 0 ? request.Projects.Distinct(StringComparer.Ordinal).ToList() : state.Projects;
        if (projects.Count == 0) projects = await ProjectsInUseAsync(namespaceName, cancellationToken).ConfigureAwait(false);
        if (projects.Count == 0)
            return plan with
            {
                Problem = new PullSecretException(PullSecretErrorIds.ProjectsUnknown, FailureKind.InvalidArgument,
                    $"Namespace '{namespaceName}' has no record of the Harbor projects it pulls from (its first rotation) and runs no image from {verifier.Registry}. Name them with -Project; later runs read them from the secret.",
                    namespaceName),
            };

        HarborRobotInfo? current = null;
        if (state.RobotId is { } id)
        {
            try
            {
                current = await harbor.FindRobotAsync(id.ToString(CultureInfo.InvariantCulture), null, cancellationToken).ConfigureAwait(false);
                if (current.Name != state.Robot) current = null;
            }
            catch (HarborException ex) when (ex.Kind == FailureKind.NotFound)
            {
            }
        }
        var now = time.GetUtcNow();
        var heldLogin = secret?.Data is { } data && data.TryGetValue(DockerConfigJson.DataKey, out var payload)
            ? DockerConfigJson.Read(payload, verifier.Registry)?.UserName : null;

        string reason = "";
        if (secret is null) reason = "the namespace has no pull secret yet";
        else if (heldLogin is null) reason = $"the secret holds no login for {verifier.Registry}";
        else if (state.RobotId is null || heldLogin != state.Robot) reason = $"the secret holds '{heldLogin}', which HarborOps did not create";
        else if (current is null) reason = $"robot '{state.Robot}' no longer exists in Harbor";
        else if (current.Disabled) reason = $"robot '{current.Name}' is disabled";
        else if (!SameProjects(ProjectsOf(current), projects)) reason = $"the projects changed to {string.Join(", ", projects)}";
        else if (current.ExpiresAt is { } expires && expires - now <= request.GracePeriod) reason = $"robot '{current.Name}' expires {expires:u}";
        else if (request.Force) reason = "-Force";
        else if (current.CreationTime is { } created && now - created >= TimeSpan.FromDays(request.RotationPeriodDays))
            reason = $"robot '{current.Name}' is {(int)(now - created).TotalDays} days old (rotation period {request.RotationPeriodDays})";
        var rotate = reason.Length > 0;

        var orphans = await FindOrphansAsync(namespaceName, request, projects, state, cancellationToken).ConfigureAwait(false);
        var steps = new List<string>();
        foreach (var orphan in orphans) steps.Add($"delete robot '{orphan.Name}' (created by an interrupted run, never written to a secret)");
        if (rotate && request.RefreshInPlace && current is not null && reason != $"the projects changed to {string.Join(", ", projects)}")
            steps.Add($"refresh the secret of robot '{current.Name}' in place ({reason}); its old secret stops working at once");
        else if (rotate)
            steps.Add($"create robot '{NextRobotName(namespaceName, request)}' with pull on {string.Join(", ", projects)} for {request.RobotDurationDays} days ({reason}), check that it pulls, write it into secret '{request.SecretName}'");
        steps.Add($"make ServiceAccount(s) {string.Join(", ", request.ServiceAccounts)} list '{request.SecretName}'");
        if (request.RestartWorkloads && (rotate || state.RestartedAt is null || state.RestartedAt < state.RotatedAt))
            steps.Add($"restart the workloads that pull with '{request.SecretName}'{(request.Wait ? " and wait for their rollouts" : "")}");
        steps.Add("check that the secret's credential pulls from Harbor");
        foreach (var retired in state.RetiredRobots.Concat(rotate && !request.RefreshInPlace && current is not null ? [new RetiredRobot(current.Id, current.Name, now)] : []))
        {
            var due = retired.RetiredAt + request.GracePeriod;
            steps.Add(due <= now ? $"delete retired robot '{retired.Name}' (grace period over)" : $"keep retired robot '{retired.Name}' until {due:u}");
        }
        return plan with { Projects = projects, State = state, SecretExists = secret is not null, CurrentRobot = current, Rotate = rotate, Reason = reason, Orphans = orphans, Steps = steps };
    }

    /// <summary>Carries out a plan. Per-namespace failures come back in the result (with the exception); only cancellation and terminating failures throw.</summary>
    public async Task<(PullSecretRotationResult Result, HarborOpsException? Failure, IReadOnlyList<WorkloadOutcome> Workloads)> ExecuteAsync(
        NamespaceRotationPlan plan, PullSecretRotationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(request);
        var ns = plan.Namespace;
        var changes = new List<string>();
        var deleted = new List<string>();
        var kept = new List<string>();
        var workloads = new List<WorkloadOutcome>();
        var robot = plan.State.Robot;
        var verified = false;
        DateTimeOffset? expires = plan.State.ExpiresAt;

        async Task Note(string change)
        {
            changes.Add(change);
            if (Log is not null) await Log($"{ns}: {change}").ConfigureAwait(false);
        }

        var rotated = false;
        var rotatedAt = plan.State.RotatedAt;
        PullSecretRotationResult Result(string? error = null) => new()
        {
            Namespace = ns, SecretName = request.SecretName, Robot = robot, PreviousRobot = plan.State.Robot, Rotated = rotated,
            Verified = verified, RobotsDeleted = [.. deleted], RobotsKept = [.. kept], ExpiresAt = expires,
            NextRotation = rotatedAt + TimeSpan.FromDays(request.RotationPeriodDays),
            Changes = [.. changes], Error = error,
        };

        if (plan.Problem is not null) return (Result(plan.Problem.Message), plan.Problem, workloads);
        try
        {
            foreach (var orphan in plan.Orphans)
            {
                await DeleteRobotAsync(orphan.Id, cancellationToken).ConfigureAwait(false);
                deleted.Add(orphan.Name);
                await Note($"deleted robot '{orphan.Name}' (an interrupted run created it; no secret held it)");
            }

            if (plan.Rotate)
            {
                HarborRobotCredential credential;
                var retire = new List<RetiredRobot>();
                if (request.RefreshInPlace && plan.CurrentRobot is not null && SameProjects(ProjectsOf(plan.CurrentRobot), plan.Projects))
                {
                    credential = await harbor.RefreshRobotSecretAsync(plan.CurrentRobot.Id, cancellationToken).ConfigureAwait(false);
                    await Note($"refreshed the secret of robot '{credential.UserName}' in place (the old secret stopped working)");
                }
                else
                {
                    var name = NextRobotName(ns, request);
                    credential = await harbor.CreateRobotAsync(new HarborRobotRequest(name)
                    {
                        Level = plan.Projects.Count == 1 ? "project" : "system",
                        Projects = plan.Projects,
                        Preset = HarborRobotPreset.PullOnly,
                        DurationDays = request.RobotDurationDays,
                        Description = $"HarborOps pull secret '{request.SecretName}' of namespace '{ns}'",
                    }, cancellationToken).ConfigureAwait(false);
                    await Note($"created robot '{credential.UserName}' (pull on {string.Join(", ", plan.Projects)}, {request.RobotDurationDays} days)");
                    // Check before the secret is written, so the secret never holds a login that cannot pull.
                    var proof = await verifier.VerifyAsync(new NetworkCredential(credential.UserName, credential.Secret), plan.Projects, ns, cancellationToken).ConfigureAwait(false);
                    await Note($"the new robot pulled {proof}");
                    if (plan.CurrentRobot is not null) retire.Add(new RetiredRobot(plan.CurrentRobot.Id, plan.CurrentRobot.Name, time.GetUtcNow()));
                }
                var written = await sync.SyncAsync(ns, new PullSecretSyncRequest(credential.Registry, credential.UserName, credential.Secret)
                {
                    SecretName = request.SecretName, ExpiresAt = credential.ExpiresAt, RobotId = credential.RobotId, ServiceAccounts = [],
                    Projects = plan.Projects,
                    UpdateState = s => s with
                    {
                        RetiredRobots = [.. s.RetiredRobots.Where(r => r.Id != credential.RobotId && retire.All(n => n.Id != r.Id)), .. retire],
                        RestartedAt = null,
                    },
                }, null, cancellationToken).ConfigureAwait(false);
                robot = credential.UserName;
                expires = credential.ExpiresAt;
                rotatedAt = time.GetUtcNow();
                rotated = true;
                await Note($"{written.Action.ToString().ToLowerInvariant()} secret '{request.SecretName}' with robot '{credential.UserName}'");
            }

            foreach (var account in request.ServiceAccounts.Distinct(StringComparer.Ordinal))
            {
                if (await sync.EnsureServiceAccountListsAsync(ns, account, request.SecretName, null, cancellationToken).ConfigureAwait(false) == true)
                    await Note($"added '{request.SecretName}' to ServiceAccount '{account}'");
            }

            var state = await sync.UpdateStateAsync(ns, request.SecretName, s => s, cancellationToken).ConfigureAwait(false);
            if (request.RestartWorkloads && (state.RestartedAt is null || state.RestartedAt < state.RotatedAt))
            {
                var targets = await restarter.FindAsync(ns, new WorkloadSelection { SecretName = request.SecretName }, cancellationToken).ConfigureAwait(false);
                var outcomes = await restarter.RestartAllAsync(targets, request.Wait, request.RolloutTimeout, null, cancellationToken).ConfigureAwait(false);
                workloads.AddRange(outcomes);
                await Note($"restarted {outcomes.Count(o => o.Failure is null)} of {targets.Count} workloads{(request.Wait ? " and waited for their rollouts" : "")}");
                if (outcomes.All(o => o.Failure is null))
                {
                    var restartedAt = time.GetUtcNow();
                    await sync.UpdateStateAsync(ns, request.SecretName, s => s with { RestartedAt = restartedAt }, cancellationToken).ConfigureAwait(false);
                }
            }

            // What the secret holds now, read back: that is what the kubelet will use.
            var secret = await sync.ReadSecretAsync(ns, request.SecretName, cancellationToken).ConfigureAwait(false);
            var held = secret?.Data is { } data && data.TryGetValue(DockerConfigJson.DataKey, out var payload) ? DockerConfigJson.Read(payload, verifier.Registry) : null;
            if (held is null)
                throw new PullSecretException(PullSecretErrorIds.VerificationFailed, FailureKind.InvalidData,
                    $"Secret '{request.SecretName}' in namespace '{ns}' holds no login for {verifier.Registry} after the rotation; run the rotation again.", ns);
            var pulled = await verifier.VerifyAsync(held, plan.Projects, ns, cancellationToken).ConfigureAwait(false);
            verified = true;
            await Note($"the secret's credential pulled {pulled}");
            var verifiedAt = time.GetUtcNow();

            // Only now, with a credential in the secret that just pulled, may older robots go.
            var now = time.GetUtcNow();
            state = await sync.UpdateStateAsync(ns, request.SecretName, s => s with { VerifiedAt = verifiedAt }, cancellationToken).ConfigureAwait(false);
            var gone = new List<long>();
            foreach (var retired in state.RetiredRobots)
            {
                if (retired.Name == held.UserName) continue;
                if (retired.RetiredAt + request.GracePeriod > now)
                {
                    kept.Add(retired.Name);
                    continue;
                }
                await DeleteRobotAsync(retired.Id, cancellationToken).ConfigureAwait(false);
                gone.Add(retired.Id);
                deleted.Add(retired.Name);
                await Note($"deleted retired robot '{retired.Name}' (grace period over)");
            }
            if (gone.Count > 0)
                await sync.UpdateStateAsync(ns, request.SecretName, s => s with { RetiredRobots = [.. s.RetiredRobots.Where(r => !gone.Contains(r.Id))] }, cancellationToken).ConfigureAwait(false);
            if (kept.Count > 0) await Note($"kept {kept.Count} retired robot(s) until their grace period ends");
            return (Result(), null, workloads);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating || ex is PullSecretException { ErrorId: PullSecretErrorIds.ProjectsUnknown })
        {
            return (Result(ex.Message), ex, workloads);
        }
    }

    /// <summary>
    /// The Harbor projects whose images the namespace's workloads and pods run (Get-WorkloadImage's inventory): on a
    /// first rotation without -Project, the least privilege that keeps every workload pulling.
    /// </summary>
    private async Task<IReadOnlyList<string>> ProjectsInUseAsync(string namespaceName, CancellationToken cancellationToken)
    {
        var images = await WorkloadImageInventory.ListAsync(cluster, new WorkloadImageRequest { Namespaces = [namespaceName], Registries = [verifier.Registry] },
            null, cancellationToken).ConfigureAwait(false);
        return images.Select(i => i.Repository.Split('/')[0]).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>A robot that is already gone is what deleting wanted.</summary>
    private async Task DeleteRobotAsync(long id, CancellationToken cancellationToken)
    {
        try
        {
            await harbor.DeleteRobotAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (HarborException ex) when (ex.Kind == FailureKind.NotFound)
        {
        }
    }

    /// <summary>
    /// Robots named for this namespace that neither the secret holds nor records as retired: a run died between creating
    /// one and writing it into the secret, so nothing can be using it.
    /// </summary>
    private async Task<IReadOnlyList<HarborRobotInfo>> FindOrphansAsync(string namespaceName, PullSecretRotationRequest request, IReadOnlyList<string> projects,
        PullSecretState state, CancellationToken cancellationToken)
    {
        var prefix = $"{request.RobotNamePrefix}-{namespaceName}-";
        var scopes = new HashSet<string?>(StringComparer.Ordinal) { projects.Count == 1 ? projects[0] : null };
        if (state.Robot is { } held) scopes.Add(ProjectOfName(held));
        foreach (var retired in state.RetiredRobots) scopes.Add(ProjectOfName(retired.Name));
        var known = new HashSet<long>(state.RetiredRobots.Select(r => r.Id));
        if (state.RobotId is { } id) known.Add(id);
        var orphans = new List<HarborRobotInfo>();
        foreach (var scope in scopes)
        {
            IReadOnlyList<HarborRobotInfo> robots;
            try
            {
                robots = await harbor.ListRobotsAsync(scope, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborException ex) when (ex.Kind == FailureKind.NotFound)
            {
                continue;
            }
            orphans.AddRange(robots.Where(r => !known.Contains(r.Id) && r.ShortName.StartsWith(prefix, StringComparison.Ordinal)
                && r.ShortName.Length > prefix.Length && r.ShortName[prefix.Length..].All(char.IsAsciiDigit)));
        }
        return orphans;
    }

    /// <summary>The project of a project robot's full name (robot$team-a+name), or null for a system robot.</summary>
    private static string? ProjectOfName(string robotName)
    {
        var dollar = robotName.IndexOf('$');
        var plus = robotName.IndexOf('+');
        return plus > dollar + 1 ? robotName[(dollar + 1)..plus] : null;
    }

    private static IReadOnlyList<string> ProjectsOf(HarborRobotInfo robot) =>
        robot.Permissions.Select(p => p.Split(':')[0]).Distinct(StringComparer.Ordinal).ToList();

    private static bool SameProjects(IReadOnlyList<string> left, IReadOnlyList<string> right) =>
        left.ToHashSet(StringComparer.Ordinal).SetEquals(right);

    private string NextRobotName(string namespaceName, PullSecretRotationRequest request) =>
        $"{request.RobotNamePrefix}-{namespaceName}-{time.GetUtcNow():yyyyMMddHHmmssfff}";
}
