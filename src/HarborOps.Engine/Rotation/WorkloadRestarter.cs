using System.Globalization;
using System.Text.Json.Nodes;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Kube;
using HarborOps.Engine.References;
using HarborOps.Models;
using k8s;
using k8s.Models;

namespace HarborOps.Engine.Rotation;

/// <summary>Which workloads to restart: those that pull with a secret (directly or through their ServiceAccount) or from a registry.</summary>
public sealed record WorkloadSelection
{
    public string? SecretName { get; init; }
    public string? Registry { get; init; }
    /// <summary>Deployment, StatefulSet, DaemonSet (the default: all three).</summary>
    public IReadOnlyList<string> Kinds { get; init; } = WorkloadRestarter.Kinds;
    /// <summary>Only workloads with these names (wildcards allowed); empty means all that match.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];
}

/// <summary>A workload found by <see cref="WorkloadRestarter.FindAsync"/>.</summary>
public sealed record WorkloadTarget(string Namespace, string Kind, string Name, string Reason);

/// <summary>A workload's restart and rollout, with the failure that ended it, if any.</summary>
public sealed record WorkloadOutcome(WorkloadRestartResult Result, HarborOpsException? Failure);

/// <summary>
/// Restarts workloads the way <c>kubectl rollout restart</c> does (a <c>kubectl.kubernetes.io/restartedAt</c> pod
/// template annotation, by strategic merge patch so the template's other annotations stay) and follows their rollouts
/// the way <c>kubectl rollout status</c> does, including a Deployment's progress deadline.
/// </summary>
public sealed class WorkloadRestarter(KubeCluster cluster, TimeProvider? clock = null)
{
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";
    public static readonly IReadOnlyList<string> Kinds = ["Deployment", "StatefulSet", "DaemonSet"];

    private readonly TimeProvider _time = clock ?? TimeProvider.System;

    /// <summary>How often a rollout's status is read while waiting.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public async Task<IReadOnlyList<WorkloadTarget>> FindAsync(string namespaceName, WorkloadSelection selection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (selection.SecretName is null && selection.Registry is null)
            throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
                "Say which workloads to restart: -SecretName (those that pull with it) and/or -Registry (those whose images come from it).", namespaceName);
        var registry = selection.Registry is null ? null : ImageReference.NormalizeRegistry(DockerConfigJson.NormalizeRegistry(selection.Registry));
        var unknown = selection.Kinds.Where(k => !Kinds.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
            throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
                $"'{string.Join("', '", unknown)}' is not a workload kind Restart-Workload handles; use Deployment, StatefulSet or DaemonSet.", namespaceName);

        HashSet<string>? accountsWithSecret = null;
        if (selection.SecretName is not null)
        {
            var accounts = await cluster.CallAsync(KubeOperation.List("serviceaccounts", namespaceName),
                (k, ct) => k.CoreV1.ListNamespacedServiceAccountAsync(namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            accountsWithSecret = accounts.Items.Where(a => a.ImagePullSecrets?.Any(s => s.Name == selection.SecretName) == true)
                .Select(a => a.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        }
        var patterns = selection.Names.Select(Wildcard.ToRegex).ToList();

        var found = new List<WorkloadTarget>();
        foreach (var kind in Kinds.Where(k => selection.Kinds.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            foreach (var (name, template) in await ListTemplatesAsync(namespaceName, kind, cancellationToken).ConfigureAwait(false))
            {
                if (patterns.Count > 0 && !patterns.Any(p => p.IsMatch(name))) continue;
                var reason = WhyRestart(template, selection.SecretName, accountsWithSecret, registry);
                if (reason is not null) found.Add(new WorkloadTarget(namespaceName, kind, name, reason));
            }
        }
        return found;
    }

    private static string? WhyRestart(V1PodTemplateSpec template, string? secretName, HashSet<string>? accountsWithSecret, string? registry)
    {
        var spec = template.Spec;
        if (secretName is not null)
        {
            if (spec.ImagePullSecrets?.Any(s => s.Name == secretName) == true) return $"secret {secretName}";
            var account = string.IsNullOrEmpty(spec.ServiceAccountName) ? "default" : spec.ServiceAccountName;
            if (accountsWithSecret!.Contains(account)) return $"serviceaccount {account} (secret {secretName})";
        }
        if (registry is not null)
        {
            var images = (spec.Containers ?? []).Select(c => c.Image).Concat((spec.InitContainers ?? []).Select(c => c.Image));
            foreach (var image in images)
            {
                if (ImageReference.TryParse(image, out var reference) && reference is not null && reference.Registry == registry)
                    return $"registry {registry}";
            }
        }
        return null;
    }

    private async Task<IReadOnlyList<(string Name, V1PodTemplateSpec Template)>> ListTemplatesAsync(string namespaceName, string kind, CancellationToken cancellationToken)
    {
        var resource = Plural(kind);
        return kind switch
        {
            "Deployment" => (await cluster.CallAsync(KubeOperation.List(resource, namespaceName, "apps"), (k, ct) => k.AppsV1.ListNamespacedDeploymentAsync(namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false))
                .Items.Select(d => (d.Metadata.Name, d.Spec.Template)).ToList(),
            "StatefulSet" => (await cluster.CallAsync(KubeOperation.List(resource, namespaceName, "apps"), (k, ct) => k.AppsV1.ListNamespacedStatefulSetAsync(namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false))
                .Items.Select(d => (d.Metadata.Name, d.Spec.Template)).ToList(),
            _ => (await cluster.CallAsync(KubeOperation.List(resource, namespaceName, "apps"), (k, ct) => k.AppsV1.ListNamespacedDaemonSetAsync(namespaceName, cancellationToken: ct), cancellationToken).ConfigureAwait(false))
                .Items.Select(d => (d.Metadata.Name, d.Spec.Template)).ToList(),
        };
    }

    /// <summary>Writes the restartedAt annotation (RFC 3339, as kubectl writes it) into the pod template.</summary>
    public async Task<DateTimeOffset> RestartAsync(WorkloadTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var at = _time.GetUtcNow();
        var stamp = at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var body = new JsonObject
        {
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [RestartedAtAnnotation] = stamp } } } },
        };
        var patch = new V1Patch(body.ToJsonString(), V1Patch.PatchType.StrategicMergePatch);
        var resource = Plural(target.Kind);
        switch (target.Kind)
        {
            case "Deployment":
                await cluster.CallAsync(KubeOperation.Patch(resource, target.Namespace, target.Name, "apps"), (k, ct) => k.AppsV1.PatchNamespacedDeploymentAsync(patch, target.Name, target.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                break;
            case "StatefulSet":
                await cluster.CallAsync(KubeOperation.Patch(resource, target.Namespace, target.Name, "apps"), (k, ct) => k.AppsV1.PatchNamespacedStatefulSetAsync(patch, target.Name, target.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                break;
            default:
                await cluster.CallAsync(KubeOperation.Patch(resource, target.Namespace, target.Name, "apps"), (k, ct) => k.AppsV1.PatchNamespacedDaemonSetAsync(patch, target.Name, target.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                break;
        }
        return at;
    }

    /// <summary>
    /// Follows the rollout until it is complete, the Deployment reports ProgressDeadlineExceeded (a
    /// <see cref="PullSecretErrorIds.RolloutStalled"/> failure), or <paramref name="timeout"/> passes
    /// (<see cref="PullSecretErrorIds.RolloutTimeout"/>). Returns kubectl's final status line.
    /// </summary>
    public async Task<string> WaitAsync(WorkloadTarget target, TimeSpan timeout, IProgress<string>? status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var deadline = _time.GetUtcNow() + timeout;
        string? last = null;
        while (true)
        {
            var (done, message) = await ReadRolloutAsync(target, cancellationToken).ConfigureAwait(false);
            if (message != last)
            {
                status?.Report(message);
                last = message;
            }
            if (done) return message;
            if (_time.GetUtcNow() >= deadline)
                throw new PullSecretException(PullSecretErrorIds.RolloutTimeout, FailureKind.Timeout,
                    $"{target.Kind} '{target.Name}' in namespace '{target.Namespace}' did not finish rolling out within {timeout.TotalSeconds:0} s; last status: {message}. Check its pods (kubectl -n {target.Namespace} get pods), or wait longer with -Timeout.",
                    target);
            await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>kubectl's rollout status rules (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), one read.</summary>
    private async Task<(bool Done, string Message)> ReadRolloutAsync(WorkloadTarget target, CancellationToken cancellationToken)
    {
        var resource = Plural(target.Kind);
        switch (target.Kind)
        {
            case "Deployment":
                {
                    var deployment = await cluster.CallAsync(KubeOperation.Get(resource, target.Namespace, target.Name, "apps"), (k, ct) => k.AppsV1.ReadNamespacedDeploymentAsync(target.Name, target.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                    var s = deployment.Status ?? new V1DeploymentStatus();
                    if (deployment.Metadata.Generation > (s.ObservedGeneration ?? 0))
                        return (false, "Waiting for deployment spec update to be observed...");
                    var progressing = s.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
                    if (progressing?.Reason == "ProgressDeadlineExceeded")
                        throw new PullSecretException(PullSecretErrorIds.RolloutStalled, FailureKind.Timeout,
                            $"Deployment '{target.Name}' in namespace '{target.Namespace}' exceeded its progress deadline ({deployment.Spec.ProgressDeadlineSeconds ?? 600} s): {progressing.Message}. Its new pods do not become available; look at them (kubectl -n {target.Namespace} describe deployment {target.Name}).",
                            target);
                    var desired = deployment.Spec.Replicas ?? 1;
                    var updated = s.UpdatedReplicas ?? 0;
                    if (updated < desired)
                        return (false, $"Waiting for deployment \"{target.Name}\" rollout to finish: {updated} out of {desired} new replicas have been updated...");
                    if ((s.Replicas ?? 0) > updated)
                        return (false, $"Waiting for deployment \"{target.Name}\" rollout to finish: {(s.Replicas ?? 0) - updated} old replicas are pending termination...");
                    if ((s.AvailableReplicas ?? 0) < updated)
                        return (false, $"Waiting for deployment \"{target.Name}\" rollout to finish: {s.AvailableReplicas ?? 0} of {updated} updated replicas are available...");
                    return (true, $"deployment \"{target.Name}\" successfully rolled out");
                }
            case "StatefulSet":
                {
                    var set = await cluster.CallAsync(KubeOperation.Get(resource, target.Namespace, target.Name, "apps"), (k, ct) => k.AppsV1.ReadNamespacedStatefulSetAsync(target.Name, target.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                    var s = set.Status ?? new V1StatefulSetStatus();
                    if ((s.ObservedGeneration ?? 0) == 0 || set.Metadata.Generation > s.ObservedGeneration)
                        return (false, "Waiting for statefulset spec update to be observed...");
                    var desired = set.Spec.Replicas ?? 1;
                    if ((s.ReadyReplicas ?? 0) < desired)
                        return (false, $"Waiting for {desired - (s.ReadyReplicas ?? 0)} pods to be ready...");
                    if (set.Spec.UpdateStrategy?.Type == "RollingUpdate" && set.Spec.UpdateStrategy.RollingUpdate?.Partition is int partition && partition > 0)
                    {
                        if ((s.UpdatedReplicas ?? 0) < desired - partition)
                            return (false, $"Waiting for partitioned roll out to finish: {s.UpdatedReplicas ?? 0} out of {desired - partition} new pods have been updated...");
                        return (true, $"partitioned roll out complete: {s.UpdatedReplicas ?? 0} new pods have been updated...");
                    }
                    if (s.UpdateRevision != s.CurrentRevision)
                        return (false, $"waiting for statefulset rolling update to complete {s.UpdatedReplicas ?? 0} pods at revision {s.UpdateRevision}...");
                    return (true, $"statefulset rolling update complete {s.CurrentReplicas ?? 0} pods at revision {s.CurrentRevision}...");
                }
            default:
                {
                    var set = await cluster.CallAsync(KubeOperation.Get(resource, target.Namespace, target.Name, "apps"), (k, ct) => k.AppsV1.ReadNamespacedDaemonSetAsync(target.Name, target.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                    var s = set.Status ?? new V1DaemonSetStatus();
                    if (set.Metadata.Generation > (s.ObservedGeneration ?? 0))
                        return (false, "Waiting for daemon set spec update to be observed...");
                    if ((s.UpdatedNumberScheduled ?? 0) < s.DesiredNumberScheduled)
                        return (false, $"Waiting for daemon set \"{target.Name}\" rollout to finish: {s.UpdatedNumberScheduled ?? 0} out of {s.DesiredNumberScheduled} new pods have been updated...");
                    if ((s.NumberAvailable ?? 0) < s.DesiredNumberScheduled)
                        return (false, $"Waiting for daemon set \"{target.Name}\" rollout to finish: {s.NumberAvailable ?? 0} of {s.DesiredNumberScheduled} updated pods are available...");
                    return (true, $"daemon set \"{target.Name}\" successfully rolled out");
                }
        }
    }

    /// <summary>
    /// Restarts every target, then follows all rollouts at once when <paramref name="wait"/>: a stalled workload fails
    /// alone, the others go on.
    /// </summary>
    public async Task<IReadOnlyList<WorkloadOutcome>> RestartAllAsync(IReadOnlyList<WorkloadTarget> targets, bool wait, TimeSpan timeout,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var restarted = new List<(WorkloadTarget Target, DateTimeOffset At)>();
        var outcomes = new List<WorkloadOutcome>();
        foreach (var target in targets)
        {
            var result = ResultOf(target);
            try
            {
                var at = await RestartAsync(target, cancellationToken).ConfigureAwait(false);
                restarted.Add((target, at));
                if (!wait) outcomes.Add(new WorkloadOutcome(result with { State = WorkloadRolloutState.Restarted, RestartedAt = at }, null));
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating)
            {
                outcomes.Add(new WorkloadOutcome(result with { State = WorkloadRolloutState.Failed, Status = ex.Message }, ex));
            }
        }
        if (!wait) return outcomes;

        var done = 0;
        var waits = restarted.Select(async r =>
        {
            var result = ResultOf(r.Target) with { RestartedAt = r.At };
            try
            {
                var line = await WaitAsync(r.Target, timeout, null, cancellationToken).ConfigureAwait(false);
                return new WorkloadOutcome(result with { State = WorkloadRolloutState.RolledOut, Status = line }, null);
            }
            catch (HarborOpsException ex) when (!ex.IsTerminating && ex.Kind != FailureKind.Canceled)
            {
                return new WorkloadOutcome(result with { State = ex.ErrorId == PullSecretErrorIds.RolloutStalled || ex.ErrorId == PullSecretErrorIds.RolloutTimeout ? WorkloadRolloutState.Stalled : WorkloadRolloutState.Failed, Status = ex.Message }, ex);
            }
            finally
            {
                var count = Interlocked.Increment(ref done);
                progress?.Report(new OperationProgress("Waiting for rollouts", $"{count} of {restarted.Count} finished", $"{r.Target.Kind}/{r.Target.Name}", count, restarted.Count));
            }
        }).ToList();
        outcomes.AddRange(await Task.WhenAll(waits).ConfigureAwait(false));
        return outcomes;
    }

    private static WorkloadRestartResult ResultOf(WorkloadTarget target) =>
        new() { Namespace = target.Namespace, Kind = target.Kind, Name = target.Name, Reason = target.Reason };

    private static string Plural(string kind) => kind switch
    {
        "Deployment" => "deployments",
        "StatefulSet" => "statefulsets",
        _ => "daemonsets",
    };
}
