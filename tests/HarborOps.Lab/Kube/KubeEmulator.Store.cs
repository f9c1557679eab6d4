using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>
/// The emulator's store: objects kept as the API server keeps them in etcd, by resource, namespace and name, with the
/// resource version, uid, generation and timestamps it sets on create, update and delete, and the garbage collection of
/// dependents by owner reference; every change is also an event for the watches.
/// </summary>
public sealed partial class KubeEmulator
{
    private static string Key(KubeResourceType type, string? ns, string name) => $"{type.Plural}.{type.Group}/{ns}/{name}";

    private static string NameOf(JsonObject item) => item["metadata"]?["name"]?.GetValue<string>() ?? "";

    private static string? NamespaceOf(JsonObject item) => item["metadata"]?["namespace"]?.GetValue<string>();

    private static string UidOf(JsonObject item) => item["metadata"]!["uid"]!.GetValue<string>();

    private static JsonObject Metadata(JsonObject item) => item["metadata"] as JsonObject ?? (JsonObject)(item["metadata"] = new JsonObject());

    private static JsonObject Annotations(JsonObject item) =>
        Metadata(item)["annotations"] as JsonObject ?? (JsonObject)(Metadata(item)["annotations"] = new JsonObject());

    private static JsonObject LabelsNode(JsonObject item) =>
        Metadata(item)["labels"] as JsonObject ?? (JsonObject)(Metadata(item)["labels"] = new JsonObject());

    /// <summary>Items in a list response carry no kind/apiVersion, as the API server serves them.</summary>
    private static JsonObject ForList(JsonObject item)
    {
        var copy = (JsonObject)item.DeepClone();
        copy.Remove("kind");
        copy.Remove("apiVersion");
        return copy;
    }

    private IEnumerable<JsonObject> ListLocked(KubeResourceType type, string? ns)
    {
        var prefix = ns is null ? $"{type.Plural}.{type.Group}/" : $"{type.Plural}.{type.Group}/{ns}/";
        return _objects.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(p => p.Value)
            .OrderBy(o => NamespaceOf(o), StringComparer.Ordinal).ThenBy(NameOf, StringComparer.Ordinal).ToList();
    }

    private JsonObject Find(KubeResourceType type, string? ns, string name) =>
        _objects.TryGetValue(Key(type, ns, name), out var item) ? item : throw KubeApiError.NotFound(type, name);

    private string NextResourceVersion() => (++_resourceVersion).ToString();

    private void Store(KubeResourceType type, JsonObject item, string eventType)
    {
        FillRequiredStatus(type, item);
        if (_dryRun) return;
        Metadata(item)["resourceVersion"] = NextResourceVersion();
        _objects[Key(type, NamespaceOf(item), NameOf(item))] = item;
        Publish(type, eventType, item);
    }

    private JsonObject CreateLocked(KubeResourceType type, string? ns, JsonObject body)
    {
        var metadata = Metadata(body);
        if (type.Namespaced)
        {
            var bodyNamespace = metadata["namespace"]?.GetValue<string>();
            ns ??= bodyNamespace ?? "default";
            if (bodyNamespace is not null && bodyNamespace != ns)
                throw KubeApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            metadata["namespace"] = ns;
            if (!_objects.ContainsKey(Key(KubeResourceType.Namespaces, null, ns))) throw KubeApiError.NotFound(KubeResourceType.Namespaces, ns);
        }
        else
        {
            metadata.Remove("namespace");
        }
        var name = metadata["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            var generateName = metadata["generateName"]?.GetValue<string>();
            if (string.IsNullOrEmpty(generateName))
                throw KubeApiError.Invalid(type, "", ("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"));
            name = generateName + RandomSuffix();
            metadata["name"] = name;
        }
        ValidateName(type, name);
        if (_objects.ContainsKey(Key(type, type.Namespaced ? ns : null, name))) throw KubeApiError.AlreadyExists(type, name);
        body["kind"] = type.Kind;
        body["apiVersion"] = type.ApiVersion;
        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = Now();
        metadata.Remove("resourceVersion");
        metadata.Remove("deletionTimestamp");
        if (type.HasGeneration) metadata["generation"] = 1;
        Admit(type, body, old: null);
        Store(type, body, "ADDED");
        AfterWrite(type, body, old: null);
        return body;
    }

    private JsonObject UpdateLocked(KubeResourceType type, string? ns, string name, string? sub, JsonObject body, bool fromPatch)
    {
        var current = Find(type, ns, name);
        var metadata = Metadata(body);
        var bodyName = metadata["name"]?.GetValue<string>();
        if (bodyName is not null && bodyName != name)
            throw KubeApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        var bodyNamespace = metadata["namespace"]?.GetValue<string>();
        if (type.Namespaced && bodyNamespace is not null && bodyNamespace != ns)
            throw KubeApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        var sentVersion = metadata["resourceVersion"]?.GetValue<string>();
        var currentVersion = current["metadata"]!["resourceVersion"]!.GetValue<string>();
        if (!string.IsNullOrEmpty(sentVersion) && sentVersion != currentVersion) throw KubeApiError.Conflict(type, name);
        if (sub == "ephemeralcontainers")
        {
            var next = (JsonObject)current.DeepClone();
            next["spec"]!["ephemeralContainers"] = body["spec"]?["ephemeralContainers"]?.DeepClone();
            body = next;
        }
        else if (sub == "status")
        {
            var next = (JsonObject)current.DeepClone();
            next["status"] = body["status"]?.DeepClone();
            body = next;
        }
        else if (current["status"] is { } status && type != KubeResourceType.Namespaces)
        {
            // status is a subresource: writes to the object itself keep it
            body["status"] = status.DeepClone();
        }
        body["kind"] = type.Kind;
        body["apiVersion"] = type.ApiVersion;
        metadata["name"] = name;
        if (type.Namespaced) metadata["namespace"] = ns;
        foreach (var immutable in new[] { "uid", "creationTimestamp", "generation" })
        {
            if (current["metadata"]![immutable] is { } value) metadata[immutable] = value.DeepClone();
            else metadata.Remove(immutable);
        }
        metadata["resourceVersion"] = currentVersion;
        if (type.HasGeneration && !JsonNode.DeepEquals(current["spec"], body["spec"]))
            metadata["generation"] = Number(current["metadata"]!["generation"]) + 1;
        Admit(type, body, current, sub);
        if (JsonNode.DeepEquals(current, body)) return current; // a no-op write keeps the resourceVersion, as the API server does
        Store(type, body, "MODIFIED");
        AfterWrite(type, body, current);
        return body;
    }

    private JsonObject DeleteLocked(KubeResourceType type, string? ns, string name)
    {
        var item = Find(type, ns, name);
        RemoveLocked(type, item);
        return item;
    }

    /// <summary>Removes an object and, like the garbage collector with background propagation, everything it owns;
    /// a namespace takes everything in it.</summary>
    private void RemoveLocked(KubeResourceType type, JsonObject item)
    {
        if (_dryRun) return;
        if (!_objects.Remove(Key(type, NamespaceOf(item), NameOf(item)))) return;
        Metadata(item)["resourceVersion"] = NextResourceVersion();
        Publish(type, "DELETED", item);
        if (type == KubeResourceType.Namespaces)
        {
            foreach (var inner in KubeResourceType.All.Where(t => t.Namespaced))
                foreach (var child in ListLocked(inner, NameOf(item))) RemoveLocked(inner, child);
            return;
        }
        var uid = UidOf(item);
        foreach (var inner in KubeResourceType.All.Where(t => t.Namespaced))
            foreach (var child in ListLocked(inner, NamespaceOf(item)).Where(c => OwnerUids(c).Contains(uid)))
                RemoveLocked(inner, child);
    }

    private static IEnumerable<string> OwnerUids(JsonObject item) =>
        (item["metadata"]?["ownerReferences"] as JsonArray ?? []).Select(r => r?["uid"]?.GetValue<string>() ?? "");

    /// <summary>A number however it was stored (parsed JSON or a value the emulator set), or the fallback when absent.</summary>
    private static long Number(JsonNode? node, long fallback = 0) =>
        node is null ? fallback : long.TryParse(node.ToJsonString(), out var value) ? value : fallback;

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    private static string NewToken() => "lab-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>Five characters from the API server's generateName alphabet (no vowels, no look-alikes).</summary>
    private static string RandomSuffix() => new(Enumerable.Range(0, 5).Select(_ => SafeAlphabet[RandomNumberGenerator.GetInt32(SafeAlphabet.Length)]).ToArray());
}
