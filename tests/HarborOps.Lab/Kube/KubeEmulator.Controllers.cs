using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>
/// The controllers, in the small: Deployments through ReplicaSets, StatefulSets and DaemonSets replace one pod per
/// <see cref="KubeEmulatorOptions.RolloutStepInterval"/> after a template change and report status the way
/// <c>kubectl rollout status</c> reads it; Jobs run one pod to completion (Indexed Jobs: KubeEmulator.IndexedJobs.cs); CronJobs create Jobs when a test runs them.
/// </summary>
public sealed partial class KubeEmulator
{
    private const string RevisionLabel = "lab.harborops.io/revision";
    private const string NotReadySince = "lab.harborops.io/not-ready";
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stalled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTime LastProgress, DateTime NextStep)> _rollouts = new(StringComparer.Ordinal);

    private async Task RunControllersAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Tick);
        while (await timer.WaitForNextTickAsync(ct))
        {
            lock (_gate)
            {
                foreach (var key in _dirty.ToList())
                {
                    try
                    {
                        if (!_objects.TryGetValue(key, out var item) || Reconcile(item)) _dirty.Remove(key);
                    }
                    catch (Exception ex)
                    {
                        _failures.Add($"controller for {key}: {ex}");
                        _dirty.Remove(key);
                    }
                }
            }
        }
    }

    /// <summary>One reconcile pass; true when the object needs no more attention.</summary>
    private bool Reconcile(JsonObject item) => item["kind"]!.GetValue<string>() switch
    {
        "Job" => ReconcileJob(item),
        _ => ReconcileWorkload(item),
    };

    /// <summary>Starts a CronJob's Job now, as its schedule would (owned by the CronJob), and returns the Job's name.</summary>
    public string RunCronJob(string ns, string name)
    {
        lock (_gate)
        {
            var cronJob = Find(KubeResourceType.CronJobs, ns, name);
            var jobTemplate = cronJob["spec"]!["jobTemplate"]!;
            var scheduled = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60;
            while (_objects.ContainsKey(Key(KubeResourceType.Jobs, ns, $"{name}-{scheduled}"))) scheduled++;
            var metadata = new JsonObject
            {
                ["name"] = $"{name}-{scheduled}",
                ["labels"] = jobTemplate["metadata"]?["labels"]?.DeepClone(),
                ["ownerReferences"] = new JsonArray(OwnerReference(cronJob)),
            };
            if (metadata["labels"] is null) metadata.Remove("labels");
            var job = CreateLocked(KubeResourceType.Jobs, ns, new JsonObject { ["metadata"] = metadata, ["spec"] = jobTemplate["spec"]!.DeepClone() });
            var next = (JsonObject)cronJob.DeepClone();
            var status = next["status"] as JsonObject ?? new JsonObject();
            status["lastScheduleTime"] = Now();
            status["active"] = new JsonArray(new JsonObject { ["apiVersion"] = "batch/v1", ["kind"] = "Job", ["name"] = NameOf(job), ["namespace"] = ns, ["uid"] = UidOf(job) });
            next["status"] = status;
            Store(KubeResourceType.CronJobs, next, "MODIFIED");
            return NameOf(job);
        }
    }

    private static JsonObject OwnerReference(JsonObject owner) => new()
    {
        ["apiVersion"] = owner["apiVersion"]!.GetValue<string>(), ["kind"] = owner["kind"]!.GetValue<string>(),
        ["name"] = NameOf(owner), ["uid"] = UidOf(owner), ["controller"] = true, ["blockOwnerDeletion"] = true,
    };

    private bool IsStalled(JsonObject item) =>
        _stalled.Contains(Key(KubeResourceType.OfKind(item["kind"]!.GetValue<string>()), NamespaceOf(item), NameOf(item)));

    private static bool IsReady(JsonObject pod) => pod["status"]?["phase"]?.GetValue<string>() == "Running";

    private List<JsonObject> OwnedPods(string ns, IEnumerable<string> ownerUids)
    {
        var uids = ownerUids.ToHashSet(StringComparer.Ordinal);
        return ListLocked(KubeResourceType.Pods, ns).Where(p => OwnerUids(p).Any(uids.Contains)).ToList();
    }

    /// <summary>The pod-template-hash: a stable short name of a template, in the API server's safe alphabet.</summary>
    private static string TemplateHash(JsonNode template)
    {
        var hash = BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(template.ToJsonString())));
        var text = new StringBuilder();
        do
        {
            text.Append(SafeAlphabet[(int)(hash % (uint)SafeAlphabet.Length)]);
            hash /= (uint)SafeAlphabet.Length;
        }
        while (hash > 0);
        return text.ToString();
    }

    private JsonObject? CreatePod(string ns, JsonObject template, JsonObject owner, string? name, JsonObject extraLabels, bool ready, string? nodeName = null)
    {
        var metadata = new JsonObject { ["ownerReferences"] = new JsonArray(OwnerReference(owner)) };
        if (name is null) metadata["generateName"] = NameOf(owner) + "-";
        else metadata["name"] = name;
        var labels = template["metadata"]?["labels"]?.DeepClone() as JsonObject ?? new JsonObject();
        foreach (var (key, value) in extraLabels) labels[key] = value?.DeepClone();
        metadata["labels"] = labels;
        if (!ready) metadata["annotations"] = new JsonObject { [NotReadySince] = Now() };
        var spec = (JsonObject)(template["spec"]?.DeepClone() ?? new JsonObject());
        if (nodeName is not null) spec["nodeName"] = nodeName;
        var pod = new JsonObject { ["metadata"] = metadata, ["spec"] = spec };
        pod["status"] = PodStatus(pod, ready);
        try
        {
            return CreateLocked(KubeResourceType.Pods, ns, pod);
        }
        catch (KubeApiError)
        {
            // What a controller sees as a FailedCreate event (a missing ServiceAccount, say): no pod, no progress.
            return null;
        }
    }

    private void MakeReady(JsonObject pod)
    {
        var next = (JsonObject)pod.DeepClone();
        Annotations(next).Remove(NotReadySince);
        next["status"] = PodStatus(next, ready: true);
        Store(KubeResourceType.Pods, next, "MODIFIED");
    }

    private void RemovePod(JsonObject pod) => RemoveLocked(KubeResourceType.Pods, pod);

    // ---------------------------------------------------------------- Deployment, StatefulSet, DaemonSet

    private bool ReconcileWorkload(JsonObject workload)
    {
        var kind = workload["kind"]!.GetValue<string>();
        var type = KubeResourceType.OfKind(kind);
        var ns = NamespaceOf(workload)!;
        var name = NameOf(workload);
        var key = Key(type, ns, name);
        var spec = workload["spec"]!.AsObject();
        var template = spec["template"]!.AsObject();
        var hash = TemplateHash(template);
        var generation = Number(workload["metadata"]!["generation"]);
        var now = DateTime.UtcNow;
        var observed = Number(workload["status"]?["observedGeneration"]);
        if (!_rollouts.TryGetValue(key, out var timing) || observed < generation) timing = (now, now);

        // Who owns the pods: a Deployment through one ReplicaSet per template, the others directly.
        JsonObject podOwner = workload;
        var ownerUids = new List<string> { UidOf(workload) };
        if (type == KubeResourceType.Deployments)
        {
            podOwner = EnsureReplicaSet(workload, template, hash);
            workload = _objects[key]; // EnsureReplicaSet may have recorded the new revision on it
            ownerUids = ListLocked(KubeResourceType.ReplicaSets, ns).Where(rs => OwnerUids(rs).Contains(UidOf(workload))).Select(UidOf).ToList();
        }
        var pods = OwnedPods(ns, ownerUids);
        var fresh = pods.Where(p => p["metadata"]?["labels"]?[RevisionLabel]?.GetValue<string>() == hash).ToList();
        var stale = pods.Except(fresh).ToList();
        var desired = type == KubeResourceType.DaemonSets ? _options.DaemonSetNodes : (int)Number(spec["replicas"], 1);
        var stalled = IsStalled(workload);
        var extraLabels = new JsonObject { [RevisionLabel] = hash };
        if (type == KubeResourceType.Deployments) extraLabels["pod-template-hash"] = hash;
        else extraLabels["controller-revision-hash"] = $"{name}-{hash}";

        var progressed = false;
        var notReady = fresh.FirstOrDefault(p => !IsReady(p));
        var work = notReady is not null || stale.Count > 0 || fresh.Count != desired;
        if (work && now >= timing.NextStep)
        {
            if (notReady is not null)
            {
                if (!stalled)
                {
                    MakeReady(notReady);
                    progressed = true;
                }
            }
            else if (type == KubeResourceType.Deployments && stale.Count > 0 && pods.Count > desired)
            {
                RemovePod(stale[0]); // surge first, then scale the old ReplicaSet down
                progressed = true;
            }
            else if (fresh.Count < desired)
            {
                string? podName = null;
                string? node = null;
                if (type != KubeResourceType.Deployments && stale.Count > 0)
                {
                    // StatefulSets and DaemonSets replace in place: the old pod goes first
                    var victim = type == KubeResourceType.StatefulSets ? stale.OrderByDescending(NameOf, StringComparer.Ordinal).First() : stale[0];
                    podName = type == KubeResourceType.StatefulSets ? NameOf(victim) : null;
                    node = victim["spec"]?["nodeName"]?.GetValue<string>();
                    RemovePod(victim);
                }
                else if (type == KubeResourceType.StatefulSets)
                {
                    podName = Enumerable.Range(0, desired).Select(i => $"{name}-{i}").First(n => fresh.All(p => NameOf(p) != n));
                }
                else if (type == KubeResourceType.DaemonSets)
                {
                    node = Enumerable.Range(1, desired).Select(i => $"lab-node-{i}").First(n => pods.All(p => p["spec"]?["nodeName"]?.GetValue<string>() != n));
                }
                if (type == KubeResourceType.StatefulSets) extraLabels["statefulset.kubernetes.io/pod-name"] = podName;
                progressed = CreatePod(ns, template, podOwner, podName, extraLabels, ready: !stalled, node) is not null && !stalled;
            }
            else if (stale.Count > 0)
            {
                RemovePod(stale[0]);
                progressed = true;
            }
            else if (fresh.Count > desired)
            {
                RemovePod(fresh.OrderByDescending(NameOf, StringComparer.Ordinal).First());
                progressed = true;
            }
            if (progressed) timing = (now, now + _options.RolloutStepInterval);
        }
        _rollouts[key] = timing;

        pods = OwnedPods(ns, ownerUids);
        fresh = pods.Where(p => p["metadata"]?["labels"]?[RevisionLabel]?.GetValue<string>() == hash).ToList();
        if (type == KubeResourceType.Deployments) UpdateReplicaSets(workload, hash, pods);
        var ready = pods.Count(IsReady);
        var freshReady = fresh.Count(IsReady);
        var complete = fresh.Count == desired && pods.Count == desired && freshReady == desired;
        var status = type switch
        {
            _ when type == KubeResourceType.Deployments => DeploymentStatus(workload, generation, desired, pods.Count, fresh.Count, ready, complete, timing.LastProgress, NameOf(podOwner)),
            _ when type == KubeResourceType.StatefulSets => StatefulSetStatus(workload, generation, pods.Count, fresh.Count, ready, complete, $"{name}-{hash}"),
            _ => DaemonSetStatus(generation, desired, pods.Count, fresh.Count, ready, freshReady),
        };
        if (!JsonNode.DeepEquals(workload["status"], status))
        {
            var next = (JsonObject)workload.DeepClone();
            next["status"] = status;
            Store(type, next, "MODIFIED");
        }
        var done = complete && !stalled;
        if (done) _rollouts.Remove(key);
        return done;
    }

    private JsonObject EnsureReplicaSet(JsonObject deployment, JsonObject template, string hash)
    {
        var ns = NamespaceOf(deployment)!;
        var rsName = $"{NameOf(deployment)}-{hash}";
        if (_objects.TryGetValue(Key(KubeResourceType.ReplicaSets, ns, rsName), out var existing)) return existing;
        var revisions = ListLocked(KubeResourceType.ReplicaSets, ns).Where(rs => OwnerUids(rs).Contains(UidOf(deployment)))
            .Select(rs => int.TryParse(rs["metadata"]?["annotations"]?["deployment.kubernetes.io/revision"]?.GetValue<string>(), out var r) ? r : 0);
        var revision = (revisions.DefaultIfEmpty(0).Max() + 1).ToString();
        var rsTemplate = (JsonObject)template.DeepClone();
        var labels = Metadata(rsTemplate)["labels"] as JsonObject ?? new JsonObject();
        labels["pod-template-hash"] = hash;
        Metadata(rsTemplate)["labels"] = labels;
        var selector = (JsonObject)deployment["spec"]!["selector"]!.DeepClone();
        var matchLabels = selector["matchLabels"] as JsonObject ?? new JsonObject();
        matchLabels["pod-template-hash"] = hash;
        selector["matchLabels"] = matchLabels;
        var replicaSet = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = rsName, ["labels"] = labels.DeepClone(), ["ownerReferences"] = new JsonArray(OwnerReference(deployment)),
                ["annotations"] = new JsonObject { ["deployment.kubernetes.io/revision"] = revision },
            },
            ["spec"] = new JsonObject { ["replicas"] = 0, ["selector"] = selector, ["template"] = rsTemplate },
        };
        var created = CreateLocked(KubeResourceType.ReplicaSets, ns, replicaSet);
        var next = (JsonObject)deployment.DeepClone();
        Annotations(next)["deployment.kubernetes.io/revision"] = revision;
        Store(KubeResourceType.Deployments, next, "MODIFIED");
        return created;
    }

    private void UpdateReplicaSets(JsonObject deployment, string hash, List<JsonObject> pods)
    {
        var ns = NamespaceOf(deployment)!;
        foreach (var rs in ListLocked(KubeResourceType.ReplicaSets, ns).Where(rs => OwnerUids(rs).Contains(UidOf(deployment))))
        {
            var own = pods.Where(p => OwnerUids(p).Contains(UidOf(rs))).ToList();
            var isNew = NameOf(rs).EndsWith("-" + hash, StringComparison.Ordinal);
            var next = (JsonObject)rs.DeepClone();
            next["spec"]!["replicas"] = isNew ? (int)Number(deployment["spec"]!["replicas"], 1) : own.Count;
            next["status"] = new JsonObject
            {
                ["replicas"] = own.Count, ["fullyLabeledReplicas"] = own.Count, ["readyReplicas"] = own.Count(IsReady),
                ["availableReplicas"] = own.Count(IsReady), ["observedGeneration"] = Number(rs["metadata"]!["generation"]),
            };
            if (!JsonNode.DeepEquals(rs, next)) Store(KubeResourceType.ReplicaSets, next, "MODIFIED");
        }
    }

    private static JsonObject Condition(JsonObject? previous, string type, bool status, string reason, string message)
    {
        var now = Now();
        var old = (previous?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);
        var text = status ? "True" : "False";
        var sameStatus = old?["status"]?.GetValue<string>() == text;
        var sameReason = sameStatus && old?["reason"]?.GetValue<string>() == reason;
        return new JsonObject
        {
            ["type"] = type, ["status"] = text,
            ["lastUpdateTime"] = sameReason ? old!["lastUpdateTime"]?.DeepClone() : now,
            ["lastTransitionTime"] = sameStatus ? old!["lastTransitionTime"]?.DeepClone() : now,
            ["reason"] = reason, ["message"] = message,
        };
    }

    private static JsonObject DeploymentStatus(JsonObject deployment, long generation, int desired, int replicas, int updated, int ready,
        bool complete, DateTime lastProgress, string replicaSet)
    {
        var previous = deployment["status"] as JsonObject;
        var deadline = (int)Number(deployment["spec"]!["progressDeadlineSeconds"], 600);
        var maxUnavailable = desired / 4; // 25%, rounded down
        var available = ready >= desired - maxUnavailable;
        JsonObject progressing;
        if (complete)
            progressing = Condition(previous, "Progressing", true, "NewReplicaSetAvailable", $"ReplicaSet \"{replicaSet}\" has successfully progressed.");
        else if (DateTime.UtcNow - lastProgress > TimeSpan.FromSeconds(deadline))
            progressing = Condition(previous, "Progressing", false, "ProgressDeadlineExceeded", $"ReplicaSet \"{replicaSet}\" has timed out progressing.");
        else
            progressing = Condition(previous, "Progressing", true, "ReplicaSetUpdated", $"ReplicaSet \"{replicaSet}\" is progressing.");
        // the update time of an unchanged Progressing=True condition moves with progress, as the controller's does
        if (progressing["status"]!.GetValue<string>() == "True" && !complete) progressing["lastUpdateTime"] = lastProgress.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        var status = new JsonObject
        {
            ["observedGeneration"] = generation, ["replicas"] = replicas, ["updatedReplicas"] = updated, ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
            ["conditions"] = new JsonArray(
                available
                    ? Condition(previous, "Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.")
                    : Condition(previous, "Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
                progressing),
        };
        if (replicas - ready > 0) status["unavailableReplicas"] = replicas - ready;
        if (ready == 0) status.Remove("readyReplicas");
        if (ready == 0) status.Remove("availableReplicas");
        return status;
    }

    private static JsonObject StatefulSetStatus(JsonObject sts, long generation, int replicas, int updated, int ready, bool complete, string updateRevision)
    {
        var previousCurrent = sts["status"]?["currentRevision"]?.GetValue<string>();
        var current = complete || previousCurrent is null ? updateRevision : previousCurrent;
        return new JsonObject
        {
            ["observedGeneration"] = generation, ["replicas"] = replicas, ["readyReplicas"] = ready, ["availableReplicas"] = ready,
            ["currentReplicas"] = complete ? replicas : replicas - updated, ["updatedReplicas"] = updated,
            ["currentRevision"] = current, ["updateRevision"] = updateRevision, ["collisionCount"] = 0,
        };
    }

    private static JsonObject DaemonSetStatus(long generation, int desired, int scheduled, int updated, int ready, int updatedReady) => new()
    {
        ["observedGeneration"] = generation, ["desiredNumberScheduled"] = desired, ["currentNumberScheduled"] = scheduled,
        ["numberMisscheduled"] = 0, ["numberReady"] = ready, ["numberAvailable"] = ready, ["updatedNumberScheduled"] = updated,
        ["numberUnavailable"] = Math.Max(0, desired - updatedReady),
    };

    // ---------------------------------------------------------------- Job

    private bool ReconcileJob(JsonObject job)
    {
        if (IsIndexed(job)) return ReconcileIndexedJob(job);
        var ns = NamespaceOf(job)!;
        var pods = OwnedPods(ns, [UidOf(job)]);
        var status = job["status"] as JsonObject ?? new JsonObject();
        if (status["completionTime"] is not null) return true;
        if (pods.Count == 0)
        {
            var stalled = IsStalled(job);
            if (CreatePod(ns, job["spec"]!["template"]!.AsObject(), job, null, new JsonObject(), ready: !stalled) is null) return false;
            var next = (JsonObject)job.DeepClone();
            next["status"] = new JsonObject { ["startTime"] = Now(), ["active"] = 1, ["ready"] = stalled ? 0 : 1, ["terminating"] = 0, ["uncountedTerminatedPods"] = new JsonObject() };
            Store(KubeResourceType.Jobs, next, "MODIFIED");
            return false;
        }
        if (IsStalled(job)) return false;
        var started = DateTime.Parse(status["startTime"]?.GetValue<string>() ?? Now()).ToUniversalTime();
        if (DateTime.UtcNow - started < _options.JobDuration) return false;
        foreach (var pod in pods.Where(p => p["status"]?["phase"]?.GetValue<string>() != "Succeeded"))
        {
            var finished = (JsonObject)pod.DeepClone();
            finished["status"] = PodStatus(finished, ready: true, succeeded: true);
            Store(KubeResourceType.Pods, finished, "MODIFIED");
        }
        var done = (JsonObject)job.DeepClone();
        var now = Now();
        done["status"] = new JsonObject
        {
            ["startTime"] = status["startTime"]?.DeepClone(), ["completionTime"] = now, ["succeeded"] = 1, ["ready"] = 0, ["terminating"] = 0,
            ["uncountedTerminatedPods"] = new JsonObject(),
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "SuccessCriteriaMet", ["status"] = "True", ["lastProbeTime"] = now, ["lastTransitionTime"] = now, ["reason"] = "CompletionsReached", ["message"] = "Reached expected number of succeeded pods" },
                new JsonObject { ["type"] = "Complete", ["status"] = "True", ["lastProbeTime"] = now, ["lastTransitionTime"] = now, ["reason"] = "CompletionsReached", ["message"] = "Reached expected number of succeeded pods" }),
        };
        Store(KubeResourceType.Jobs, done, "MODIFIED");
        return true;
    }
}
