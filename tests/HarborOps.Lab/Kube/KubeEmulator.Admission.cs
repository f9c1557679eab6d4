using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Kube;

/// <summary>Validation, defaulting and the admission plugins that matter to pull secrets (the ServiceAccount plugin
/// copies a ServiceAccount's imagePullSecrets into a pod that names none).</summary>
public sealed partial class KubeEmulator
{
    private const string Label1123 = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private const string Subdomain1123 = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private const string LabelValueRule = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    private const string QualifiedNameRule = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    private void SeedSystemNamespaces()
    {
        lock (_gate)
            foreach (var name in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
                CreateLocked(KubeResourceType.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } });
    }

    private static void ValidateName(KubeResourceType type, string name)
    {
        var label = type == KubeResourceType.Namespaces;
        var valid = label ? name.Length <= 63 && DnsLabel().IsMatch(name) : name.Length <= 253 && DnsSubdomain().IsMatch(name);
        if (!valid) throw KubeApiError.Invalid(type, name, ("metadata.name", "FieldValueInvalid", $"Invalid value: \"{name}\": {(label ? Label1123 : Subdomain1123)}"));
    }

    private void Admit(KubeResourceType type, JsonObject item, JsonObject? old, string? sub = null)
    {
        var name = NameOf(item);
        ValidateMetadata(type, item, name);
        if (type == KubeResourceType.Namespaces)
        {
            LabelsNode(item)["kubernetes.io/metadata.name"] = name;
            item["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
            item["status"] = new JsonObject { ["phase"] = "Active" };
        }
        else if (type == KubeResourceType.Secrets) AdmitSecret(item, old, name);
        else if (type == KubeResourceType.Pods) AdmitPod(item, old, name, sub);
        else if (type.IsWorkload || type == KubeResourceType.ReplicaSets) AdmitWorkload(type, item, old, name);
        else if (type == KubeResourceType.Jobs) AdmitJob(item, old, name);
        else if (type == KubeResourceType.CronJobs) AdmitCronJob(item, name);
    }

    private static void ValidateMetadata(KubeResourceType type, JsonObject item, string name)
    {
        if (item["metadata"]?["labels"] is JsonObject labels)
            foreach (var (key, value) in labels)
            {
                if (!QualifiedKey().IsMatch(key))
                    throw KubeApiError.Invalid(type, name, ("metadata.labels", "FieldValueInvalid", $"Invalid value: \"{key}\": {QualifiedNameRule}"));
                var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
                if (text.Length > 63 || !LabelValue().IsMatch(text))
                    throw KubeApiError.Invalid(type, name, ("metadata.labels", "FieldValueInvalid", $"Invalid value: \"{text}\": {LabelValueRule}"));
            }
        if (item["metadata"]?["annotations"] is JsonObject annotations)
            foreach (var (key, value) in annotations)
            {
                if (!QualifiedKey().IsMatch(key))
                    throw KubeApiError.Invalid(type, name, ("metadata.annotations", "FieldValueInvalid", $"Invalid value: \"{key}\": {QualifiedNameRule}"));
                if (value is not JsonValue av || !av.TryGetValue<string>(out _))
                    throw KubeApiError.BadRequest($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: json: cannot unmarshal {value?.GetValueKind().ToString().ToLowerInvariant()} into Go struct field ObjectMeta.metadata.annotations of type string");
            }
    }

    private static void AdmitSecret(JsonObject item, JsonObject? old, string name)
    {
        var type = KubeResourceType.Secrets;
        var secretType = item["type"]?.GetValue<string>();
        if (string.IsNullOrEmpty(secretType)) item["type"] = secretType = "Opaque";
        var data = item["data"] as JsonObject ?? new JsonObject();
        if (item["stringData"] is JsonObject stringData)
        {
            foreach (var (key, value) in stringData) data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? ""));
            item.Remove("stringData");
        }
        foreach (var (key, value) in data)
        {
            if (!SecretKey().IsMatch(key))
                throw KubeApiError.Invalid(type, name, ($"data[{key}]", "FieldValueInvalid", $"Invalid value: \"{key}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
            var text = value?.GetValue<string>() ?? "";
            try
            {
                Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                throw KubeApiError.BadRequest("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0");
            }
        }
        if (data.Count > 0) item["data"] = data;
        if (old is not null)
        {
            var oldType = old["type"]?.GetValue<string>();
            if (oldType != secretType)
                throw KubeApiError.Invalid(type, name, ("type", "FieldValueInvalid", $"Invalid value: \"{secretType}\": field is immutable"));
            if (old["immutable"]?.GetValue<bool>() == true)
            {
                if (item["immutable"]?.GetValue<bool>() != true)
                    throw KubeApiError.Invalid(type, name, ("immutable", "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set"));
                if (!JsonNode.DeepEquals(old["data"], item["data"]))
                    throw KubeApiError.Invalid(type, name, ("data", "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set"));
            }
        }
        var requiredKey = secretType switch
        {
            "kubernetes.io/dockerconfigjson" => ".dockerconfigjson",
            "kubernetes.io/dockercfg" => ".dockercfg",
            _ => null,
        };
        if (requiredKey is null) return;
        if (data[requiredKey]?.GetValue<string>() is not { } encoded)
            throw KubeApiError.Invalid(type, name, ($"data[{requiredKey}]", "FieldValueRequired", "Required value"));
        try
        {
            using var parsed = JsonDocument.Parse(Convert.FromBase64String(encoded));
            if (parsed.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("json: cannot unmarshal into Go value of type map[string]interface {}");
        }
        catch (JsonException e)
        {
            throw KubeApiError.Invalid(type, name, ($"data[{requiredKey}]", "FieldValueInvalid", $"Invalid value: \"<secret contents redacted>\": {e.Message}"));
        }
    }

    private void AdmitPod(JsonObject item, JsonObject? old, string name, string? sub)
    {
        var type = KubeResourceType.Pods;
        var spec = item["spec"] as JsonObject ?? throw KubeApiError.Invalid(type, name, ("spec.containers", "FieldValueRequired", "Required value"));
        ValidateContainers(type, name, spec, "spec");
        if (old is null)
        {
            if (spec["ephemeralContainers"] is JsonArray { Count: > 0 })
                throw KubeApiError.Invalid(type, name, ("spec.ephemeralContainers", "FieldValueForbidden", "Forbidden: cannot be set on create"));
            var ns = NamespaceOf(item)!;
            var account = spec["serviceAccountName"]?.GetValue<string>();
            if (string.IsNullOrEmpty(account)) spec["serviceAccountName"] = account = "default";
            if (!_objects.TryGetValue(Key(KubeResourceType.ServiceAccounts, ns, account), out var serviceAccount))
                throw new KubeApiError(403, "Forbidden", $"pods \"{name}\" is forbidden: error looking up service account {ns}/{account}: serviceaccount \"{account}\" not found",
                    new JsonObject { ["name"] = name, ["kind"] = "pods" });
            if (spec["imagePullSecrets"] is not JsonArray { Count: > 0 } && serviceAccount["imagePullSecrets"] is JsonArray { Count: > 0 } inherited)
                spec["imagePullSecrets"] = inherited.DeepClone();
            spec["nodeName"] ??= "lab-node-1";
            spec["restartPolicy"] ??= "Always";
            if (item["metadata"]?["ownerReferences"] is null) item["status"] = PodStatus(item, ready: true);
            return;
        }
        if (sub == "ephemeralcontainers")
        {
            ValidateContainerList(type, name, spec["ephemeralContainers"] as JsonArray, "spec.ephemeralContainers");
            var status = item["status"] as JsonObject ?? new JsonObject();
            status["ephemeralContainerStatuses"] = ContainerStatuses(spec["ephemeralContainers"] as JsonArray, running: true);
            item["status"] = status;
            return;
        }
        if (!JsonNode.DeepEquals(old["spec"]?["ephemeralContainers"], spec["ephemeralContainers"]))
            throw KubeApiError.Invalid(type, name, ("spec.ephemeralContainers", "FieldValueForbidden", "Forbidden: ephemeral containers may only be changed through the ephemeralcontainers subresource"));
        if (!JsonNode.DeepEquals(WithoutImages(old["spec"]), WithoutImages(spec)))
            throw KubeApiError.Invalid(type, name, ("spec", "FieldValueForbidden", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
    }

    private static JsonNode? WithoutImages(JsonNode? spec)
    {
        var copy = spec?.DeepClone();
        foreach (var list in new[] { "containers", "initContainers" })
            if (copy?[list] is JsonArray containers)
                foreach (var c in containers.OfType<JsonObject>()) c.Remove("image");
        return copy;
    }

    private static void ValidateContainers(KubeResourceType type, string name, JsonObject podSpec, string prefix)
    {
        if (podSpec["containers"] is not JsonArray { Count: > 0 } containers)
            throw KubeApiError.Invalid(type, name, ($"{prefix}.containers", "FieldValueRequired", "Required value"));
        ValidateContainerList(type, name, containers, $"{prefix}.containers");
        ValidateContainerList(type, name, podSpec["initContainers"] as JsonArray, $"{prefix}.initContainers");
    }

    private static void ValidateContainerList(KubeResourceType type, string name, JsonArray? containers, string field)
    {
        if (containers is null) return;
        for (var i = 0; i < containers.Count; i++)
        {
            if (containers[i]?["name"]?.GetValue<string>() is not { Length: > 0 })
                throw KubeApiError.Invalid(type, name, ($"{field}[{i}].name", "FieldValueRequired", "Required value"));
            if (containers[i]?["image"]?.GetValue<string>() is not { Length: > 0 })
                throw KubeApiError.Invalid(type, name, ($"{field}[{i}].image", "FieldValueRequired", "Required value"));
            CanonicalQuantities(containers[i]?["resources"]);
        }
    }

    /// <summary>A quantity may arrive as a JSON number (YAML "cpu: 2"); the API server decodes it
    /// (k8s.io/apimachinery/pkg/api/resource Quantity.UnmarshalJSON) and always serves it as a string.</summary>
    private static void CanonicalQuantities(JsonNode? resources)
    {
        foreach (var list in new[] { "requests", "limits" })
            if (resources?[list] is JsonObject quantities)
                foreach (var (key, value) in quantities.ToList())
                    if (value is JsonValue number && number.GetValueKind() == JsonValueKind.Number)
                        quantities[key] = number.ToJsonString();
    }

    private static void AdmitWorkload(KubeResourceType type, JsonObject item, JsonObject? old, string name)
    {
        var spec = item["spec"] as JsonObject ?? throw KubeApiError.Invalid(type, name, ("spec.selector", "FieldValueRequired", "Required value"));
        if (spec["selector"] is not JsonObject selector)
            throw KubeApiError.Invalid(type, name, ("spec.selector", "FieldValueRequired", "Required value"));
        var template = spec["template"] as JsonObject ?? throw KubeApiError.Invalid(type, name, ("spec.template.spec.containers", "FieldValueRequired", "Required value"));
        var templateLabels = KubeLabelSelector.LabelsOf(template);
        if (templateLabels.Count == 0 || !KubeLabelSelector.FromObject(selector).Matches(templateLabels))
            throw KubeApiError.Invalid(type, name, ("spec.template.metadata.labels", "FieldValueInvalid",
                $"Invalid value: map[string]string{{{string.Join(", ", templateLabels.Select(l => $"\"{l.Key}\":\"{l.Value}\""))}}}: `selector` does not match template `labels`"));
        ValidateContainers(type, name, template["spec"] as JsonObject ?? [], "spec.template.spec");
        if (old is not null && !JsonNode.DeepEquals(old["spec"]?["selector"], selector))
            throw KubeApiError.Invalid(type, name, ("spec.selector", "FieldValueInvalid", $"Invalid value: {selector.ToJsonString()}: field is immutable"));
        if (type != KubeResourceType.DaemonSets) spec["replicas"] ??= 1;
        if (type != KubeResourceType.ReplicaSets) spec["revisionHistoryLimit"] ??= 10; // a ReplicaSetSpec has none
        if (type == KubeResourceType.Deployments)
        {
            spec["progressDeadlineSeconds"] ??= 600;
            spec["strategy"] ??= new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["maxSurge"] = "25%", ["maxUnavailable"] = "25%" } };
        }
        else if (type == KubeResourceType.StatefulSets)
        {
            spec["updateStrategy"] ??= new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["partition"] = 0 } };
            spec["podManagementPolicy"] ??= "OrderedReady";
            spec["serviceName"] ??= ""; // a string without omitempty in k8s.io/api/apps/v1: always serialized, required in the OpenAPI
        }
        else if (type == KubeResourceType.DaemonSets)
        {
            spec["updateStrategy"] ??= new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = 1, ["maxSurge"] = 0 } };
        }
        if (old is null) item["status"] ??= new JsonObject();
    }

    private static void AdmitJob(JsonObject item, JsonObject? old, string name)
    {
        var type = KubeResourceType.Jobs;
        var spec = item["spec"] as JsonObject ?? throw KubeApiError.Invalid(type, name, ("spec.template.spec.containers", "FieldValueRequired", "Required value"));
        var template = spec["template"] as JsonObject ?? throw KubeApiError.Invalid(type, name, ("spec.template.spec.containers", "FieldValueRequired", "Required value"));
        var podSpec = template["spec"] as JsonObject ?? [];
        ValidateContainers(type, name, podSpec, "spec.template.spec");
        var restartPolicy = podSpec["restartPolicy"]?.GetValue<string>() ?? "Always";
        if (restartPolicy is not ("Never" or "OnFailure"))
            throw KubeApiError.Invalid(type, name, ("spec.template.spec.restartPolicy", "FieldValueNotSupported", $"Unsupported value: \"{restartPolicy}\": supported values: \"OnFailure\", \"Never\""));
        AdmitJobCompletion(spec, podSpec, name, create: old is null);
        if (old is not null)
        {
            if (!JsonNode.DeepEquals(old["spec"]?["template"], template))
                throw KubeApiError.Invalid(type, name, ("spec.template", "FieldValueInvalid", "Invalid value: ...: field is immutable"));
            return;
        }
        var uid = UidOf(item);
        var labels = Metadata(template)["labels"] as JsonObject ?? (JsonObject)(Metadata(template)["labels"] = new JsonObject());
        labels["batch.kubernetes.io/controller-uid"] = uid;
        labels["batch.kubernetes.io/job-name"] = name;
        labels["controller-uid"] = uid;
        labels["job-name"] = name;
        spec["selector"] ??= new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
        spec["completions"] ??= 1;
        spec["parallelism"] ??= 1;
        spec["backoffLimit"] ??= 6;
        item["status"] ??= new JsonObject();
    }

    private static void AdmitCronJob(JsonObject item, string name)
    {
        var type = KubeResourceType.CronJobs;
        var spec = item["spec"] as JsonObject ?? throw KubeApiError.Invalid(type, name, ("spec.schedule", "FieldValueRequired", "Required value"));
        if (spec["schedule"]?.GetValue<string>() is not { Length: > 0 })
            throw KubeApiError.Invalid(type, name, ("spec.schedule", "FieldValueRequired", "Required value"));
        ValidateContainers(type, name, spec["jobTemplate"]?["spec"]?["template"]?["spec"] as JsonObject ?? [], "spec.jobTemplate.spec.template.spec");
        spec["concurrencyPolicy"] ??= "Allow";
        spec["suspend"] ??= false;
        spec["successfulJobsHistoryLimit"] ??= 3;
        spec["failedJobsHistoryLimit"] ??= 1;
        item["status"] ??= new JsonObject();
    }

    /// <summary>
    /// Status counters that k8s.io/api declares without omitempty are always serialized (as 0), and the OpenAPI lists
    /// them as required: a DaemonSet's scheduling counts, a StatefulSet's and a ReplicaSet's replicas.
    /// </summary>
    private static void FillRequiredStatus(KubeResourceType type, JsonObject item)
    {
        string[] counters = type == KubeResourceType.DaemonSets ? ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"]
            : type == KubeResourceType.StatefulSets || type == KubeResourceType.ReplicaSets ? ["replicas"] : [];
        if (counters.Length == 0) return;
        var status = item["status"] as JsonObject ?? (JsonObject)(item["status"] = new JsonObject());
        foreach (var counter in counters) status[counter] ??= 0;
    }

    private void AfterWrite(KubeResourceType type, JsonObject item, JsonObject? old)
    {
        if (_dryRun) return;
        if (type == KubeResourceType.Namespaces && old is null)
        {
            // the ServiceAccount controller's doing: every namespace gets its "default" account
            CreateLocked(KubeResourceType.ServiceAccounts, NameOf(item), new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } });
        }
        else if (type.IsWorkload || type == KubeResourceType.Jobs)
        {
            _dirty.Add(Key(type, NamespaceOf(item), NameOf(item)));
        }
    }

    /// <summary>What the kubelet reports: running and ready (or waiting in ImagePullBackOff), with the image digests the node resolved.</summary>
    private JsonObject PodStatus(JsonObject pod, bool ready, bool succeeded = false)
    {
        var spec = pod["spec"]!;
        var now = Now();
        var phase = succeeded ? "Succeeded" : ready ? "Running" : "Pending";
        var status = new JsonObject
        {
            ["phase"] = phase,
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastTransitionTime"] = now },
                new JsonObject { ["type"] = "Initialized", ["status"] = "True", ["lastTransitionTime"] = now },
                new JsonObject { ["type"] = "ContainersReady", ["status"] = ready && !succeeded ? "True" : "False", ["lastTransitionTime"] = now },
                new JsonObject { ["type"] = "Ready", ["status"] = ready && !succeeded ? "True" : "False", ["lastTransitionTime"] = now }),
            ["hostIP"] = "10.0.0.1", ["podIP"] = "10.244.0." + RandomNumberGeneratorByte(), ["startTime"] = now,
            ["containerStatuses"] = ContainerStatuses(spec["containers"] as JsonArray, ready, succeeded),
            ["qosClass"] = "BestEffort",
        };
        if (spec["initContainers"] is JsonArray init) status["initContainerStatuses"] = ContainerStatuses(init, ready, succeeded: true);
        return status;
    }

    private static string RandomNumberGeneratorByte() => System.Security.Cryptography.RandomNumberGenerator.GetInt32(2, 254).ToString();

    private JsonArray ContainerStatuses(JsonArray? containers, bool running, bool succeeded = false)
    {
        var statuses = new JsonArray();
        foreach (var container in (containers ?? []).OfType<JsonObject>())
        {
            var image = container["image"]!.GetValue<string>();
            var state = succeeded
                ? new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = 0, ["reason"] = "Completed", ["finishedAt"] = Now() } }
                : running
                    ? new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Now() } }
                    : new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ImagePullBackOff", ["message"] = $"Back-off pulling image \"{image}\"" } };
            statuses.Add(new JsonObject
            {
                ["name"] = container["name"]!.GetValue<string>(), ["image"] = image,
                // a container that never pulled has no imageID, as with a real kubelet
                ["imageID"] = running || succeeded ? ImageIdFor(image) : "",
                ["ready"] = running && !succeeded, ["started"] = running && !succeeded, ["restartCount"] = 0, ["state"] = state,
            });
        }
        return statuses;
    }

    /// <summary>The node's view of a pulled image: repository@digest, from <see cref="SetImageDigest"/>, the reference's
    /// own pinned digest, or (for images no test named) a digest derived from the reference text.</summary>
    private string ImageIdFor(string image)
    {
        var at = image.IndexOf('@');
        var repository = at >= 0 ? image[..at] : StripTag(image);
        if (_imageDigests.TryGetValue(image, out var digest)) return $"{repository}@{digest}";
        if (at >= 0) return image;
        return $"{repository}@sha256:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(image))).ToLowerInvariant()}";
    }

    private static string StripTag(string image)
    {
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? image[..colon] : image;
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex(@"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")]
    private static partial Regex QualifiedKey();

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex SecretKey();
}
