using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>
/// Indexed Jobs as the API server and the Job controller handle them (Kubernetes 1.32):
/// validation and defaults from kubernetes pkg/apis/batch/validation/validation.go (ValidateJobSpec,
/// validatePodFailurePolicyRule, validatePodFailurePolicyRuleOnExitCodes) and pkg/apis/batch/v1/defaults.go; the
/// controller's behaviour from https://kubernetes.io/docs/concepts/workloads/controllers/job/ ("Completion mode",
/// "Backoff limit per index", "Pod failure policy") and pkg/controller/job (indexed_job_utils.go, pod_failure_policy.go):
/// one pod per index labelled and annotated batch.kubernetes.io/job-completion-index, with JOB_COMPLETION_INDEX from
/// that annotation and the hostname "job-index"; completedIndexes and failedIndexes in the controller's compressed
/// "1,3-5" text; a failed pod's index retried alone until backoffLimitPerIndex, unless a podFailurePolicy rule says
/// FailJob, FailIndex or Ignore; the Job Failed with reason FailedIndexes once every index is done and one failed.
/// Pods run until a test ends them (<see cref="FinishJobIndex"/>): what a shard does is the test's to decide.
/// </summary>
public sealed partial class KubeEmulator
{
    private const string CompletionIndexKey = "batch.kubernetes.io/job-completion-index";
    private const string IndexFailureCountKey = "batch.kubernetes.io/job-index-failure-count";
    // validation.go: maxParallelismForIndexedJob, and the kubelet's cap on a termination message
    // (pkg/kubelet/kuberuntime/kuberuntime_container.go, maxMessageLength = 1024 * 4)
    private const int MaxParallelismForIndexedJob = 100_000;
    private const int MaxTerminationMessageBytes = 4096;
    private static readonly string[] PodFailurePolicyActions = ["Count", "FailIndex", "FailJob", "Ignore"];

    /// <summary>Jobs whose status a test set by hand: the controller leaves them alone.</summary>
    private readonly HashSet<string> _frozenJobs = new(StringComparer.Ordinal);
    /// <summary>Per Job, the terminated pods the controller has already counted (the real one tracks them with a finalizer).</summary>
    private readonly Dictionary<string, HashSet<string>> _countedPods = new(StringComparer.Ordinal);

    private static bool IsIndexed(JsonObject job) => job["spec"]?["completionMode"]?.GetValue<string>() == "Indexed";

    /// <summary>ValidateJobSpec's rules for completion mode, per-index backoff and the pod failure policy; defaults on create.</summary>
    private static void AdmitJobCompletion(JsonObject spec, JsonObject podSpec, string name, bool create)
    {
        var type = KubeResourceType.Jobs;
        var mode = spec["completionMode"]?.GetValue<string>();
        var indexed = mode == "Indexed";
        if (mode is not null && mode is not ("NonIndexed" or "Indexed"))
            throw KubeApiError.Invalid(type, name, ("spec.completionMode", "FieldValueNotSupported", $"Unsupported value: \"{mode}\": supported values: \"NonIndexed\", \"Indexed\""));
        var backoffPerIndex = spec["backoffLimitPerIndex"];
        var maxFailed = spec["maxFailedIndexes"];
        if (indexed)
        {
            if (spec["completions"] is null)
                throw KubeApiError.Invalid(type, name, ("spec.completions", "FieldValueRequired", "Required value: when completion mode is Indexed"));
            if (Number(spec["parallelism"], 1) > MaxParallelismForIndexedJob)
                throw KubeApiError.Invalid(type, name, ("spec.parallelism", "FieldValueInvalid", $"Invalid value: {Number(spec["parallelism"])}: must be less than or equal to {MaxParallelismForIndexedJob} when completion mode is Indexed"));
        }
        else
        {
            if (backoffPerIndex is not null)
                throw KubeApiError.Invalid(type, name, ("spec.backoffLimitPerIndex", "FieldValueInvalid", $"Invalid value: {Number(backoffPerIndex)}: requires indexed completion mode"));
            if (maxFailed is not null)
                throw KubeApiError.Invalid(type, name, ("spec.maxFailedIndexes", "FieldValueInvalid", $"Invalid value: {Number(maxFailed)}: requires indexed completion mode"));
        }
        if (maxFailed is not null && backoffPerIndex is null)
            throw KubeApiError.Invalid(type, name, ("spec.backoffLimitPerIndex", "FieldValueRequired", "Required value: when maxFailedIndexes is specified"));
        if (spec["podFailurePolicy"] is JsonObject policy)
        {
            var restartPolicy = podSpec["restartPolicy"]?.GetValue<string>();
            if (restartPolicy != "Never")
                throw KubeApiError.Invalid(type, name, ("spec.template.spec.restartPolicy", "FieldValueInvalid", $"Invalid value: \"{restartPolicy}\": only \"Never\" is supported when podFailurePolicy is specified"));
            ValidatePodFailurePolicy(policy, podSpec, backoffPerIndex is not null, name);
        }
        if (!create) return;
        spec["completionMode"] ??= "NonIndexed";
        spec["suspend"] ??= false;
        // defaults.go: with backoffLimitPerIndex the Job-wide limit defaults to MaxInt32, so only the per-index limit counts
        if (backoffPerIndex is not null) spec["backoffLimit"] ??= int.MaxValue;
        spec["podReplacementPolicy"] ??= spec["podFailurePolicy"] is null ? "TerminatingOrFailed" : "Failed";
    }

    private static void ValidatePodFailurePolicy(JsonObject policy, JsonObject podSpec, bool hasBackoffPerIndex, string name)
    {
        var type = KubeResourceType.Jobs;
        var containers = (podSpec["containers"] as JsonArray ?? []).Concat(podSpec["initContainers"] as JsonArray ?? [])
            .Select(c => c?["name"]?.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var rules = policy["rules"] as JsonArray ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            var path = $"spec.podFailurePolicy.rules[{i}]";
            var rule = rules[i] as JsonObject ?? [];
            var action = rule["action"]?.GetValue<string>() ?? "";
            if (action == "FailIndex" && !hasBackoffPerIndex)
                throw KubeApiError.Invalid(type, name, ($"{path}.action", "FieldValueInvalid", "Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set"));
            if (!PodFailurePolicyActions.Contains(action))
                throw KubeApiError.Invalid(type, name, ($"{path}.action", "FieldValueNotSupported", $"Unsupported value: \"{action}\": supported values: \"Count\", \"FailIndex\", \"FailJob\", \"Ignore\""));
            var onExit = rule["onExitCodes"] as JsonObject;
            var onConditions = rule["onPodConditions"] as JsonArray;
            if (onExit is not null && onConditions is { Count: > 0 })
                throw KubeApiError.Invalid(type, name, (path, "FieldValueInvalid", "Invalid value: \"null\": specifying both OnExitCodes and OnPodConditions is not supported"));
            if (onExit is null && onConditions is not { Count: > 0 })
                throw KubeApiError.Invalid(type, name, (path, "FieldValueInvalid", "Invalid value: \"null\": specifying one of OnExitCodes and OnPodConditions is required"));
            if (onExit is null) continue;
            var op = onExit["operator"]?.GetValue<string>();
            if (op is not ("In" or "NotIn"))
                throw KubeApiError.Invalid(type, name, ($"{path}.onExitCodes.operator", "FieldValueNotSupported", $"Unsupported value: \"{op}\": supported values: \"In\", \"NotIn\""));
            if (onExit["containerName"]?.GetValue<string>() is { } container && !containers.Contains(container))
                throw KubeApiError.Invalid(type, name, ($"{path}.onExitCodes.containerName", "FieldValueInvalid", $"Invalid value: \"{container}\": must be one of the container or initContainer names in the pod template"));
            var values = (onExit["values"] as JsonArray ?? []).Select(v => Number(v)).ToList();
            if (values.Count == 0)
                throw KubeApiError.Invalid(type, name, ($"{path}.onExitCodes.values", "FieldValueInvalid", "Invalid value: []int32{}: at least one value is required"));
            for (var j = 0; j < values.Count; j++)
            {
                if (op == "In" && values[j] == 0)
                    throw KubeApiError.Invalid(type, name, ($"{path}.onExitCodes.values[{j}]", "FieldValueInvalid", "Invalid value: 0: must not be 0 for the In operator"));
                if (j > 0 && values[j - 1] >= values[j])
                    throw KubeApiError.Invalid(type, name, ($"{path}.onExitCodes.values", "FieldValueInvalid", $"Invalid value: []int32{{{string.Join(", ", values)}}}: must be ordered"));
            }
        }
    }

    // ---------------------------------------------------------------- controller

    private bool ReconcileIndexedJob(JsonObject job)
    {
        var ns = NamespaceOf(job)!;
        var key = Key(KubeResourceType.Jobs, ns, NameOf(job));
        if (_frozenJobs.Contains(key)) return true;
        var status = job["status"] as JsonObject ?? new JsonObject();
        if (HasCondition(status, "Complete") || HasCondition(status, "Failed")) return true;
        var spec = job["spec"]!.AsObject();
        var completions = (int)Number(spec["completions"], 1);
        var parallelism = (int)Number(spec["parallelism"], 1);
        long? backoffPerIndex = spec["backoffLimitPerIndex"] is null ? null : Number(spec["backoffLimitPerIndex"]);
        var completed = ParseIndexes(status["completedIndexes"]?.GetValue<string>());
        var failedIndexes = ParseIndexes(status["failedIndexes"]?.GetValue<string>());
        var counted = _countedPods.TryGetValue(key, out var c) ? c : _countedPods[key] = new HashSet<string>(StringComparer.Ordinal);
        var pods = OwnedPods(ns, [UidOf(job)]);
        long succeeded = Number(status["succeeded"]), failed = Number(status["failed"]);
        string? failJob = null;
        foreach (var pod in pods.Where(p => !counted.Contains(UidOf(p))))
        {
            var phase = pod["status"]?["phase"]?.GetValue<string>();
            if (phase is not ("Succeeded" or "Failed")) continue;
            counted.Add(UidOf(pod));
            var index = PodIndex(pod);
            if (phase == "Succeeded")
            {
                succeeded++;
                completed.Add(index);
                continue;
            }
            failed++;
            var (action, ruleIndex, exitCode) = MatchFailurePolicy(spec["podFailurePolicy"] as JsonObject, pod);
            // the annotation is a string, as every annotation value is
            var failures = (long.TryParse(pod["metadata"]?["annotations"]?[IndexFailureCountKey]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var before) ? before : 0)
                + (action == "Ignore" ? 0 : 1);
            if (action == "FailJob")
                failJob = $"Container {ContainerOf(pod)} for pod {ns}/{NameOf(pod)} failed with exit code {exitCode} matching FailJob rule at index {ruleIndex}";
            else if (action == "FailIndex" || (backoffPerIndex is { } limit && failures > limit)) failedIndexes.Add(index);
            else if (action != "Ignore" && backoffPerIndex is null && failed > Number(spec["backoffLimit"], 6))
                failJob = "Job has reached the specified backoff limit";
        }
        var active = pods.Where(p => p["status"]?["phase"]?.GetValue<string>() is not ("Succeeded" or "Failed")).ToList();
        var now = Now();
        var next = (JsonObject)job.DeepClone();
        var nextStatus = new JsonObject
        {
            ["startTime"] = status["startTime"]?.DeepClone() ?? now,
            ["succeeded"] = succeeded, ["failed"] = failed, ["terminating"] = 0,
            ["completedIndexes"] = FormatIndexes(completed),
            ["uncountedTerminatedPods"] = new JsonObject(),
        };
        if (backoffPerIndex is not null) nextStatus["failedIndexes"] = FormatIndexes(failedIndexes);
        var maxFailed = spec["maxFailedIndexes"] is null ? (long?)null : Number(spec["maxFailedIndexes"]);
        if (failJob is null && maxFailed is { } max && failedIndexes.Count > max) failJob = "Job has exceeded the specified maximal number of failed indexes";
        var done = completed.Count + failedIndexes.Count >= completions;
        if (failJob is not null || (done && failedIndexes.Count > 0))
        {
            foreach (var pod in active) RemovePod(pod); // the controller terminates a failed Job's pods
            var reason = failJob is null ? "FailedIndexes" : failJob.StartsWith("Container", StringComparison.Ordinal) ? "PodFailurePolicy"
                : failJob.Contains("maximal", StringComparison.Ordinal) ? "MaxFailedIndexesExceeded" : "BackoffLimitExceeded";
            var message = failJob ?? "Job has failed indexes";
            nextStatus["active"] = 0;
            nextStatus["ready"] = 0;
            nextStatus["conditions"] = new JsonArray(JobCondition("FailureTarget", reason, message, now), JobCondition("Failed", reason, message, now));
        }
        else if (done)
        {
            nextStatus["active"] = 0;
            nextStatus["ready"] = 0;
            nextStatus["completionTime"] = now;
            nextStatus["conditions"] = new JsonArray(
                JobCondition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", now),
                JobCondition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", now));
        }
        else
        {
            var stalled = IsStalled(job);
            var busy = active.Select(PodIndex).ToHashSet();
            foreach (var index in Enumerable.Range(0, completions).Where(i => !completed.Contains(i) && !failedIndexes.Contains(i) && !busy.Contains(i)))
            {
                if (active.Count >= parallelism) break;
                var previousFailures = pods.Where(p => PodIndex(p) == index && p["status"]?["phase"]?.GetValue<string>() == "Failed")
                    .Sum(p => MatchFailurePolicy(spec["podFailurePolicy"] as JsonObject, p).Action == "Ignore" ? 0 : 1);
                if (CreateIndexPod(job, index, previousFailures, ready: !stalled) is { } created) active.Add(created);
            }
            nextStatus["active"] = active.Count;
            nextStatus["ready"] = active.Count(IsReady);
        }
        next["status"] = nextStatus;
        if (!JsonNode.DeepEquals(job["status"], nextStatus)) Store(KubeResourceType.Jobs, next, "MODIFIED");
        return nextStatus["conditions"] is not null;
    }

    private static JsonObject JobCondition(string type, string reason, string message, string now) => new()
    {
        ["type"] = type, ["status"] = "True", ["lastProbeTime"] = now, ["lastTransitionTime"] = now, ["reason"] = reason, ["message"] = message,
    };

    private static bool HasCondition(JsonObject status, string type) =>
        (status["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == type && c?["status"]?.GetValue<string>() == "True");

    /// <summary>The pod of one index, as indexed_job_utils.go makes it: name "job-index-xxxxx", the index as label and
    /// annotation, JOB_COMPLETION_INDEX from the annotation (downward API), hostname "job-index".</summary>
    private JsonObject? CreateIndexPod(JsonObject job, int index, int failures, bool ready)
    {
        var name = NameOf(job);
        var template = (JsonObject)job["spec"]!["template"]!.DeepClone();
        var text = index.ToString(CultureInfo.InvariantCulture);
        var podSpec = template["spec"] as JsonObject ?? (JsonObject)(template["spec"] = new JsonObject());
        podSpec["hostname"] = $"{name}-{text}";
        foreach (var container in (podSpec["containers"] as JsonArray ?? []).Concat(podSpec["initContainers"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var env = container["env"] as JsonArray ?? (JsonArray)(container["env"] = new JsonArray());
            env.Add(new JsonObject
            {
                ["name"] = "JOB_COMPLETION_INDEX",
                ["valueFrom"] = new JsonObject { ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = $"metadata.annotations['{CompletionIndexKey}']" } },
            });
        }
        var pod = CreatePod(NamespaceOf(job)!, template, job, $"{name}-{text}-{RandomSuffix()}", new JsonObject { [CompletionIndexKey] = text }, ready);
        if (pod is null) return null;
        var annotated = (JsonObject)pod.DeepClone();
        Annotations(annotated)[CompletionIndexKey] = text;
        Annotations(annotated)[IndexFailureCountKey] = failures.ToString(CultureInfo.InvariantCulture);
        Store(KubeResourceType.Pods, annotated, "MODIFIED");
        return annotated;
    }

    private static int PodIndex(JsonObject pod) =>
        int.TryParse(pod["metadata"]?["labels"]?[CompletionIndexKey]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1;

    private static string ContainerOf(JsonObject pod) =>
        (pod["status"]?["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(s => s["state"]?["terminated"]?["exitCode"] is { } code && Number(code) != 0)?["name"]?.GetValue<string>() ?? "";

    /// <summary>The first rule that matches a failed pod (pod_failure_policy.go): onExitCodes over the containers'
    /// non-zero exit codes, onPodConditions over its conditions; no match is the default, Count.</summary>
    private static (string Action, int Rule, long ExitCode) MatchFailurePolicy(JsonObject? policy, JsonObject pod)
    {
        var statuses = (pod["status"]?["containerStatuses"] as JsonArray ?? []).Concat(pod["status"]?["initContainerStatuses"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var rules = policy?["rules"] as JsonArray ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i]!;
            if (rule["onExitCodes"] is JsonObject onExit)
            {
                var container = onExit["containerName"]?.GetValue<string>();
                var values = (onExit["values"] as JsonArray ?? []).Select(v => Number(v)).ToHashSet();
                var notIn = onExit["operator"]?.GetValue<string>() == "NotIn";
                foreach (var s in statuses.Where(s => container is null || s["name"]?.GetValue<string>() == container))
                {
                    var code = Number(s["state"]?["terminated"]?["exitCode"]);
                    if (code != 0 && values.Contains(code) != notIn) return (rule["action"]!.GetValue<string>(), i, code);
                }
            }
            else if (rule["onPodConditions"] is JsonArray patterns)
            {
                var conditions = pod["status"]?["conditions"] as JsonArray ?? [];
                if (patterns.Any(p => conditions.Any(c => c?["type"]?.GetValue<string>() == p?["type"]?.GetValue<string>()
                    && c?["status"]?.GetValue<string>() == (p?["status"]?.GetValue<string>() ?? "True"))))
                    return (rule["action"]!.GetValue<string>(), i, 0);
            }
        }
        return ("Count", -1, 0);
    }

    private static SortedSet<int> ParseIndexes(string? text)
    {
        var set = new SortedSet<int>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            var first = int.Parse(range[0], CultureInfo.InvariantCulture);
            var last = range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : first;
            for (var i = first; i <= last; i++) set.Add(i);
        }
        return set;
    }

    /// <summary>The controller's format (indexed_job_utils.go, succeededIndexesWithBackoff.String): increasing, runs of three or more as "first-last".</summary>
    private static string FormatIndexes(SortedSet<int> indexes)
    {
        var list = indexes.ToList();
        var text = new StringBuilder();
        for (var i = 0; i < list.Count;)
        {
            var j = i;
            while (j + 1 < list.Count && list[j + 1] == list[j] + 1) j++;
            if (text.Length > 0) text.Append(',');
            if (j - i >= 2) text.Append(CultureInfo.InvariantCulture, $"{list[i]}-{list[j]}");
            else text.Append(string.Join(',', list.Skip(i).Take(j - i + 1)));
            i = j + 1;
        }
        return text.ToString();
    }
}
