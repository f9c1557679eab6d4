using System.Globalization;
using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Kube;
using HarborOps.Models;

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
    /// <summary>
    /// How long a replaced robot keeps working (for anything still holding its secret) before it is deleted. A negative
    /// period is refused as it is given (CredentialInvalid, naming <see cref="SecretName"/> when that was given first):
    /// retired robots would be deleted before the run that retires them, while something may still pull with them.
    /// </summary>
    public TimeSpan GracePeriod
    {
        get => _gracePeriod;
        init => _gracePeriod = value >= TimeSpan.Zero ? value
            : throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument, $"-GracePeriod must not be negative; {value} is.", SecretName);
    }
    private readonly TimeSpan _gracePeriod = TimeSpan.FromDays(7);
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
/// delete retired robots whose grace period has passed. Every step is recorded on the secret (the name of a robot is
/// recorded before Harbor is asked to create it), so a run killed anywhere is finished by the next run. A robot is
/// deleted only while the credential in the secret has just pulled, only when the secret recorded that the rotation
/// created it for this namespace, and only when no managed pull secret in any namespace holds it (<see cref="RobotCleanup"/>):
/// one robot may serve many namespaces, and deleting it under another namespace's secret fails every pull there.
/// </summary>
public sealed partial class PullSecretRotator
{
    private readonly KubeCluster _cluster;
    private readonly PullSecretSync _sync;
    private readonly WorkloadRestarter _restarter;
    private readonly HarborClient _harbor;
    private readonly PullVerifier _verifier;
    private readonly TimeProvider _time;

    public PullSecretRotator(KubeCluster cluster, HarborClient harbor, PullVerifier verifier, TimeProvider? clock = null)
    {
        this._cluster = cluster ?? throw new ArgumentNullException(nameof(cluster));
        this._harbor = harbor ?? throw new ArgumentNullException(nameof(harbor));
        this._verifier = verifier ?? throw new ArgumentNullException(nameof(verifier));
        _time = clock ?? TimeProvider.System;
        _sync = new PullSecretSync(cluster, _time);
        _restarter = new WorkloadRestarter(cluster, _time);
    }

    /// <summary>
    /// Step notes as they happen ("ns: created robot ..."). Awaited before the next step starts, so a log cut off by a
    /// crash or a kill ends exactly at the last step taken.
    /// </summary>
    public Func<string, Task>? Log { get; init; }

    /// <summary>Namespaces to rotate: those given, or every namespace that has a managed secret of that name.</summary>
    public Task<IReadOnlyList<string>> ResolveNamespacesAsync(NamespaceSelection? selection, string secretName, CancellationToken cancellationToken) =>
        _sync.ResolveManagedNamespacesAsync(selection, secretName, cancellationToken);

    /// <summary>Reads the namespace's secret and Harbor's robots and decides what the run will do. Changes nothing.</summary>
    public async Task<NamespaceRotationPlan> PlanAsync(string namespaceName, PullSecretRotationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = new NamespaceRotationPlan(namespaceName);
        var secret = await _sync.ReadSecretAsync(namespaceName, request.SecretName, cancellationToken).ConfigureAwait(false);
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
                    $"Namespace '{namespaceName}' has no record of the Harbor projects it pulls from (its first rotation) and runs no image from {_verifier.Registry}. Name them with -Project; later runs read them from the secret.",
                    namespaceName),
            };

        HarborRobotInfo? current = null;
        if (state.RobotId is { } id)
        {
            try
            {
                current = await _harbor.FindRobotAsync(id.ToString(CultureInfo.InvariantCulture), null, cancellationToken).ConfigureAwait(false);
                if (current.Name != state.Robot) current = null;
            }
            catch (HarborException ex) when (ex.Kind == FailureKind.NotFound)
            {
            }
        }
        await KnowRobotNamePrefixAsync(state, current, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var heldLogin = secret?.Data is { } data && data.TryGetValue(DockerConfigJson.DataKey, out var payload)
            ? DockerConfigJson.Read(payload, _verifier.Registry)?.UserName : null;

        string reason = "";
        if (secret is null) reason = "the namespace has no pull secret yet";
        else if (heldLogin is null) reason = $"the secret holds no login for {_verifier.Registry}";
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
        foreach (var orphan in orphans) steps.Add($"delete robot '{orphan.Name}' (created by an interrupted run, never written to a secret) unless a pull secret holds it");
        if (rotate && request.RefreshInPlace && current is not null && reason != $"the projects changed to {string.Join(", ", projects)}")
            steps.Add($"refresh the secret of robot '{current.Name}' in place ({reason}); its old secret stops working at once");
        else if (rotate)
            steps.Add($"create robot '{NextRobotName(namespaceName, request)}' with pull on {string.Join(", ", projects)} for {request.RobotDurationDays} days ({reason}), check that it pulls, write it into secret '{request.SecretName}'");
        steps.Add($"make ServiceAccount(s) {string.Join(", ", request.ServiceAccounts)} list '{request.SecretName}'");
        if (request.RestartWorkloads && (rotate || state.RestartedAt is null || state.RestartedAt < state.RotatedAt))
            steps.Add($"restart the workloads that pull with '{request.SecretName}'{(request.Wait ? " and wait for their rollouts" : "")}");
        steps.Add("check that the secret's credential pulls from Harbor");
        foreach (var retired in state.RetiredRobots.Concat(rotate && !request.RefreshInPlace && current is not null ? [Retire(current, state, now)] : []))
        {
            var due = retired.RetiredAt + request.GracePeriod;
            steps.Add(!retired.CreatedByRotation || !RobotCleanup.NamedFor(_harbor.ShortRobotName(retired.Name), namespaceName, request.RobotNamePrefix)
                ? $"keep retired robot '{retired.Name}' for good (the rotation did not create it for this namespace)"
                : due <= now ? $"delete retired robot '{retired.Name}' (grace period over) unless a pull secret in any namespace holds it"
                : $"keep retired robot '{retired.Name}' until {due:u}");
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
        var kept = new List<KeptRobot>();
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
            Verified = verified, RobotsDeleted = [.. deleted], RobotsKept = [.. kept.Select(k => k.Name)], KeptRobots = [.. kept], ExpiresAt = expires,
            NextRotation = rotatedAt + TimeSpan.FromDays(request.RotationPeriodDays),
            Changes = [.. changes], Error = error,
        };

        if (plan.Problem is not null) return (Result(plan.Problem.Message), plan.Problem, workloads);
        try
        {
            var orphanCleanup = new RobotCleanup(_cluster, _harbor, ns, request.RobotNamePrefix);
            foreach (var orphan in plan.Orphans)
            {
                var decision = await orphanCleanup.OrphanAsync(orphan, cancellationToken).ConfigureAwait(false);
                if (decision.Kept is { } keep)
                {
                    kept.Add(keep);
                    await Note($"kept robot '{orphan.Name}' an interrupted run created: {keep.Detail}");
                    continue;
                }
                if (decision.Verdict == CleanupVerdict.Deleted)
                {
                    deleted.Add(orphan.Name);
                    await Note($"deleted robot '{orphan.Name}' (an interrupted run created it; no secret held it)");
                }
                var orphanName = orphan.ShortName;
                await _sync.UpdateStateAsync(ns, request.SecretName, s => s.CreatingRobot == orphanName ? s with { CreatingRobot = null } : s, cancellationToken).ConfigureAwait(false);
            }

            if (plan.Rotate)
            {
                HarborRobotCredential credential;
                string? created = null;
                var retire = new List<RetiredRobot>();
                if (request.RefreshInPlace && plan.CurrentRobot is not null && SameProjects(ProjectsOf(plan.CurrentRobot), plan.Projects))
                {
                    credential = await _harbor.RefreshRobotSecretAsync(plan.CurrentRobot.Id, cancellationToken).ConfigureAwait(false);
                    await Note($"refreshed the secret of robot '{credential.UserName}' in place (the old secret stopped working)");
                }
                else
                {
                    var name = NextRobotName(ns, request);
                    // Recorded before Harbor is asked: if the run dies after the robot exists, the next run can prove it is
                    // the rotation's own. A first run has no secret to record it on; its orphan is left to expire.
                    if (plan.SecretExists)
                        await _sync.UpdateStateAsync(ns, request.SecretName, s => s with { CreatingRobot = name }, cancellationToken).ConfigureAwait(false);
                    created = name;
                    credential = await _harbor.CreateRobotAsync(new HarborRobotRequest(name)
                    {
                        Level = plan.Projects.Count == 1 ? "project" : "system",
                        Projects = plan.Projects,
                        Preset = HarborRobotPreset.PullOnly,
                        DurationDays = request.RobotDurationDays,
                        Description = $"HarborOps pull secret '{request.SecretName}' of namespace '{ns}'",
                    }, cancellationToken).ConfigureAwait(false);
                    await Note($"created robot '{credential.UserName}' (pull on {string.Join(", ", plan.Projects)}, {request.RobotDurationDays} days)");
                    // Check before the secret is written, so the secret never holds a login that cannot pull.
                    var proof = await _verifier.VerifyAsync(new NetworkCredential(credential.UserName, credential.Secret), plan.Projects, ns, cancellationToken).ConfigureAwait(false);
                    await Note($"the new robot pulled {proof}");
                    if (plan.CurrentRobot is not null) retire.Add(Retire(plan.CurrentRobot, plan.State, _time.GetUtcNow()));
                }
                var written = await _sync.SyncAsync(ns, new PullSecretSyncRequest(credential.Registry, credential.UserName, credential.Secret)
                {
                    SecretName = request.SecretName, ExpiresAt = credential.ExpiresAt, RobotId = credential.RobotId, ServiceAccounts = [],
                    Projects = plan.Projects,
                    UpdateState = s => s with
                    {
                        RetiredRobots = [.. s.RetiredRobots.Where(r => r.Id != credential.RobotId && retire.All(n => n.Id != r.Id)), .. retire],
                        RestartedAt = null,
                        CreatedRobot = created ?? s.CreatedRobot,
                        CreatingRobot = created is not null && s.CreatingRobot == created ? null : s.CreatingRobot,
                    },
                }, null, cancellationToken).ConfigureAwait(false);
                robot = credential.UserName;
                expires = credential.ExpiresAt;
                rotatedAt = _time.GetUtcNow();
                rotated = true;
                await Note($"{written.Action.ToString().ToLowerInvariant()} secret '{request.SecretName}' with robot '{credential.UserName}'");
            }

            foreach (var account in request.ServiceAccounts.Distinct(StringComparer.Ordinal))
            {
                if (await _sync.EnsureServiceAccountListsAsync(ns, account, request.SecretName, null, cancellationToken).ConfigureAwait(false) == true)
                    await Note($"added '{request.SecretName}' to ServiceAccount '{account}'");
            }

            var state = await _sync.UpdateStateAsync(ns, request.SecretName, s => s, cancellationToken).ConfigureAwait(false);
            if (request.RestartWorkloads && (state.RestartedAt is null || state.RestartedAt < state.RotatedAt))
            {
                var targets = await _restarter.FindAsync(ns, new WorkloadSelection { SecretName = request.SecretName }, cancellationToken).ConfigureAwait(false);
                var outcomes = await _restarter.RestartAllAsync(targets, request.Wait, request.RolloutTimeout, null, cancellationToken).ConfigureAwait(false);
                workloads.AddRange(outcomes);
                await Note($"restarted {outcomes.Count(o => o.Failure is null)} of {targets.Count} workloads{(request.Wait ? " and waited for their rollouts" : "")}");
                if (outcomes.All(o => o.Failure is null))
                {
                    var restartedAt = _time.GetUtcNow();
                    await _sync.UpdateStateAsync(ns, request.SecretName, s => s with { RestartedAt = restartedAt }, cancellationToken).ConfigureAwait(false);
                }
            }

            // What the secret holds now, read back: that is what the kubelet will use.
            var secret = await _sync.ReadSecretAsync(ns, request.SecretName, cancellationToken).ConfigureAwait(false);
            var held = secret?.Data is { } data && data.TryGetValue(DockerConfigJson.DataKey, out var payload) ? DockerConfigJson.Read(payload, _verifier.Registry) : null;
            if (held is null)
                throw new PullSecretException(PullSecretErrorIds.VerificationFailed, FailureKind.InvalidData,
                    $"Secret '{request.SecretName}' in namespace '{ns}' holds no login for {_verifier.Registry} after the rotation; run the rotation again.", ns);
            var pulled = await _verifier.VerifyAsync(held, plan.Projects, ns, cancellationToken).ConfigureAwait(false);
            verified = true;
            await Note($"the secret's credential pulled {pulled}");
            var verifiedAt = _time.GetUtcNow();

            // Only now, with a credential in the secret that just pulled, may older robots go.
            var now = _time.GetUtcNow();
            state = await _sync.UpdateStateAsync(ns, request.SecretName, s => s with { VerifiedAt = verifiedAt }, cancellationToken).ConfigureAwait(false);
            var cleanup = new RobotCleanup(_cluster, _harbor, ns, request.RobotNamePrefix);
            var forget = new List<long>();
            foreach (var retired in state.RetiredRobots)
            {
                if (retired.Name == held.UserName) continue;
                var due = retired.RetiredAt + request.GracePeriod;
                if (due > now)
                {
                    kept.Add(new KeptRobot { Name = retired.Name, Reason = KeptRobotReason.GracePeriod, Detail = $"its grace period ends {due:u}" });
                    continue;
                }
                var decision = await cleanup.RetiredAsync(retired, cancellationToken).ConfigureAwait(false);
                if (decision.Verdict != CleanupVerdict.Kept) forget.Add(retired.Id);
                if (decision.Kept is { } keep)
                {
                    kept.Add(keep);
                    await Note($"kept retired robot '{retired.Name}': {keep.Detail}");
                }
                else if (decision.Verdict == CleanupVerdict.Deleted)
                {
                    deleted.Add(retired.Name);
                    await Note($"deleted retired robot '{retired.Name}' (grace period over; the rotation created it for this namespace and no pull secret holds it)");
                }
                else
                {
                    await Note($"retired robot '{retired.Name}' no longer exists in Harbor");
                }
            }
            if (forget.Count > 0)
                await _sync.UpdateStateAsync(ns, request.SecretName, s => s with { RetiredRobots = [.. s.RetiredRobots.Where(r => !forget.Contains(r.Id))] }, cancellationToken).ConfigureAwait(false);
            var waiting = kept.Count(k => k.Reason == KeptRobotReason.GracePeriod);
            if (waiting > 0) await Note($"kept {waiting} retired robot(s) until their grace period ends");
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
        var images = await WorkloadImageInventory.ListAsync(_cluster, new WorkloadImageRequest { Namespaces = [namespaceName], Registries = [_verifier.Registry] },
            null, cancellationToken).ConfigureAwait(false);
        return images.Select(i => i.Repository.Split('/')[0]).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The robot a run recorded on the secret as about to be created, when the secret never came to hold it and no list
    /// of retired robots names it: the run died in between, so only this run's own record proves whose it is.
    /// </summary>
    private async Task<IReadOnlyList<HarborRobotInfo>> FindOrphansAsync(string namespaceName, PullSecretRotationRequest request, IReadOnlyList<string> projects,
        PullSecretState state, CancellationToken cancellationToken)
    {
        if (state.CreatingRobot is not { } created || (state.Robot is { } current && _harbor.ShortRobotName(current) == created)
            || !RobotCleanup.NamedFor(created, namespaceName, request.RobotNamePrefix)
            || state.RetiredRobots.Any(r => _harbor.ShortRobotName(r.Name) == created))
            return [];
        // Created as a project robot for one project, as a system robot for several; either way under the recorded name.
        var scopes = new HashSet<string?>(StringComparer.Ordinal) { projects.Count == 1 ? projects[0] : null, null };
        if (state.Robot is { } held && held.Contains('+')) scopes.Add((await _harbor.ParseRobotNameAsync(held, cancellationToken).ConfigureAwait(false))?.Project);
        foreach (var scope in scopes)
        {
            IReadOnlyList<HarborRobotInfo> robots;
            try
            {
                robots = await _harbor.ListRobotsAsync(scope, cancellationToken).ConfigureAwait(false);
            }
            catch (HarborException ex) when (ex.Kind == FailureKind.NotFound)
            {
                continue;
            }
            var orphan = robots.FirstOrDefault(r => r.ShortName == created && r.Id != state.RobotId);
            if (orphan is not null) return [orphan];
        }
        return [];
    }

    /// <summary>The current robot as retired now, with whether the secret recorded that the rotation created it.</summary>
    private RetiredRobot Retire(HarborRobotInfo current, PullSecretState state, DateTimeOffset now) =>
        new(current.Id, current.Name, now, state.HoldsCreatedRobot(_harbor.RobotNamePrefix) && state.Robot == current.Name);

    /// <summary>
    /// Makes sure the client knows Harbor's robot name prefix before names are read: the current robot (a project robot
    /// tells it), the system setting (system admins), or a system robot the rotation created, whose full name ends with the
    /// name the secret recorded it was created with. Unknown, a retired system robot's name cannot be told apart from
    /// someone else's, and it is kept rather than deleted.
    /// </summary>
    private async Task KnowRobotNamePrefixAsync(PullSecretState state, HarborRobotInfo? current, CancellationToken cancellationToken)
    {
        if (_harbor.RobotNamePrefix is not null) return;
        if (current is { Level: "system" } && state.CreatedRobot is { } created && current.Name == state.Robot) _harbor.LearnRobotNamePrefix(current.Name, created);
        if (_harbor.RobotNamePrefix is null && (state.Robot is not null || state.RetiredRobots.Count > 0 || state.CreatingRobot is not null))
            await _harbor.ReadRobotNamePrefixAsync(cancellationToken).ConfigureAwait(false);
    }

    private static IReadOnlyList<string> ProjectsOf(HarborRobotInfo robot) =>
        robot.Permissions.Select(p => p.Split(':')[0]).Distinct(StringComparer.Ordinal).ToList();

    private static bool SameProjects(IReadOnlyList<string> left, IReadOnlyList<string> right) =>
        left.ToHashSet(StringComparer.Ordinal).SetEquals(right);

    private string NextRobotName(string namespaceName, PullSecretRotationRequest request) =>
        $"{request.RobotNamePrefix}-{namespaceName}-{_time.GetUtcNow():yyyyMMddHHmmssfff}";
}
