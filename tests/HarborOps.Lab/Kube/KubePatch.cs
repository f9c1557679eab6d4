using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>
/// The three patch types the API server takes (server-side apply aside): JSON merge patch (RFC 7386), JSON patch
/// (RFC 6902) and the strategic merge patch, whose lists merge by the key the Go types declare
/// (<c>patchMergeKey</c>) and are replaced whole where the type says atomic: a ServiceAccount's
/// <c>imagePullSecrets</c> is atomic, a PodSpec's merges by name. That difference is why clients read-merge-write.
/// </summary>
public static class KubePatch
{
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string JsonPatch = "application/json-patch+json";

    public static JsonObject Apply(JsonObject target, string contentType, JsonNode? patch, string kind)
    {
        var result = (JsonObject)target.DeepClone();
        switch (contentType)
        {
            case MergePatch:
                return MergeObject(result, AsObject(patch), strategic: false, kind, []);
            case StrategicMergePatch:
                return MergeObject(result, AsObject(patch), strategic: true, kind, []);
            case JsonPatch:
                if (patch is not JsonArray operations) throw KubeApiError.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
                JsonNode root = result;
                foreach (var operation in operations) root = ApplyOperation(root, operation as JsonObject ?? throw KubeApiError.BadRequest("invalid JSON patch operation"));
                return root as JsonObject ?? throw KubeApiError.BadRequest("the patch replaced the whole object with a non-object");
            default:
                throw KubeApiError.UnsupportedMediaType();
        }
    }

    private static JsonObject AsObject(JsonNode? patch) =>
        patch as JsonObject ?? throw KubeApiError.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");

    // ------------------------------------------------------------ merge patch and strategic merge patch

    private static JsonObject MergeObject(JsonObject target, JsonObject patch, bool strategic, string kind, List<string> path)
    {
        if (strategic && patch["$patch"]?.GetValue<string>() == "replace")
        {
            var replacement = (JsonObject)patch.DeepClone();
            replacement.Remove("$patch");
            return replacement;
        }
        foreach (var (key, value) in patch)
        {
            if (strategic && key.StartsWith('$'))
            {
                // $setElementOrder, $retainKeys: ordering and pruning hints kubectl sends; the result is the same without them here.
                continue;
            }
            if (strategic && key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                continue;
            }
            if (value is null)
            {
                target.Remove(key);
                continue;
            }
            path.Add(key);
            var existing = target[key];
            if (value is JsonObject patchObject)
            {
                if (strategic && patchObject["$patch"]?.GetValue<string>() == "delete") target.Remove(key);
                else if (existing is JsonObject existingObject && !(strategic && patchObject["$patch"]?.GetValue<string>() == "replace"))
                    MergeObject(existingObject, patchObject, strategic, kind, path); // in place: the node keeps its parent
                else target[key] = MergeObject([], patchObject, strategic, kind, path);
            }
            else if (value is JsonArray patchArray && strategic && existing is JsonArray existingArray && MergeKey(kind, path) is { } mergeKey)
            {
                target[key] = MergeList(existingArray, patchArray, mergeKey, kind, path);
            }
            else
            {
                target[key] = StripDirectives(value.DeepClone());
            }
            path.RemoveAt(path.Count - 1);
        }
        return target;
    }

    private static JsonArray MergeList(JsonArray existing, JsonArray patch, string mergeKey, string kind, List<string> path)
    {
        var result = new JsonArray(existing.Select(e => e?.DeepClone()).ToArray());
        foreach (var element in patch)
        {
            if (element is not JsonObject patchItem || patchItem[mergeKey] is not JsonValue keyValue)
            {
                result.Add(StripDirectives(element?.DeepClone()));
                continue;
            }
            var keyText = keyValue.ToJsonString();
            var index = result.Select((item, i) => (item, i)).FirstOrDefault(x => x.item?[mergeKey]?.ToJsonString() == keyText, (null, -1)).i;
            if (patchItem["$patch"]?.GetValue<string>() == "delete")
            {
                if (index >= 0) result.RemoveAt(index);
            }
            else if (index >= 0)
            {
                MergeObject((JsonObject)result[index]!, patchItem, strategic: true, kind, path); // in place
            }
            else
            {
                result.Add(StripDirectives(patchItem.DeepClone()));
            }
        }
        return result;
    }

    private static JsonNode? StripDirectives(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            foreach (var key in obj.Select(p => p.Key).Where(k => k.StartsWith('$')).ToList()) obj.Remove(key);
            foreach (var (_, child) in obj.ToList()) StripDirectives(child);
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array) StripDirectives(child);
        }
        return node;
    }

    /// <summary>The patchMergeKey of a list field, or null where the Go type makes the list atomic (replaced whole).</summary>
    internal static string? MergeKey(string kind, IReadOnlyList<string> path)
    {
        var field = path[^1];
        // ServiceAccount.imagePullSecrets is +listType=atomic; PodSpec.imagePullSecrets merges by name.
        if (kind == "ServiceAccount" && path.Count == 1) return field == "secrets" ? "name" : null;
        return field switch
        {
            "containers" or "initContainers" or "ephemeralContainers" or "imagePullSecrets" or "env" or "volumes" => "name",
            "volumeMounts" => "mountPath",
            "ports" => "containerPort",
            "conditions" => "type",
            "ownerReferences" => "uid",
            _ => null,
        };
    }

    // ------------------------------------------------------------ JSON patch

    private static JsonNode ApplyOperation(JsonNode root, JsonObject operation)
    {
        var op = operation["op"]?.GetValue<string>() ?? throw KubeApiError.BadRequest("JSON patch operation has no \"op\"");
        var path = operation["path"]?.GetValue<string>() ?? throw KubeApiError.BadRequest($"JSON patch operation \"{op}\" has no \"path\"");
        switch (op)
        {
            case "add":
                return Add(root, path, operation["value"]?.DeepClone());
            case "remove":
                Remove(root, path);
                return root;
            case "replace":
                Remove(root, path);
                return Add(root, path, operation["value"]?.DeepClone());
            case "move":
                {
                    var from = operation["from"]!.GetValue<string>();
                    var value = Resolve(root, from)?.DeepClone();
                    Remove(root, from);
                    return Add(root, path, value);
                }
            case "copy":
                return Add(root, path, Resolve(root, operation["from"]!.GetValue<string>())?.DeepClone());
            case "test":
                if (!JsonNode.DeepEquals(Resolve(root, path), operation["value"]))
                    throw new KubeApiError(422, "Invalid", $"the server rejected our request due to an error in our request: testing value {path} failed");
                return root;
            default:
                throw KubeApiError.BadRequest($"Unexpected kind: {op}");
        }
    }

    private static string[] Segments(string pointer)
    {
        if (pointer.Length == 0) return [];
        if (pointer[0] != '/') throw KubeApiError.BadRequest($"JSON pointer \"{pointer}\" does not start with /");
        return pointer[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
    }

    private static JsonNode? Resolve(JsonNode root, string pointer)
    {
        JsonNode? node = root;
        foreach (var segment in Segments(pointer))
        {
            node = node switch
            {
                JsonObject obj when obj.ContainsKey(segment) => obj[segment],
                JsonArray array when int.TryParse(segment, out var i) && i >= 0 && i < array.Count => array[i],
                _ => throw new KubeApiError(422, "Invalid", $"the server rejected our request due to an error in our request: doc is missing path: \"{pointer}\": missing value"),
            };
        }
        return node;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode root, string pointer)
    {
        var segments = Segments(pointer);
        if (segments.Length == 0) throw KubeApiError.BadRequest("JSON patch path \"\" addresses the whole object");
        var parent = Resolve(root, "/" + string.Join('/', segments[..^1].Select(s => s.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal))))
            ?? throw new KubeApiError(422, "Invalid", $"the server rejected our request due to an error in our request: doc is missing path: \"{pointer}\": missing value");
        return (parent, segments[^1]);
    }

    private static JsonNode Add(JsonNode root, string pointer, JsonNode? value)
    {
        if (pointer.Length == 0) return value ?? throw KubeApiError.BadRequest("cannot replace the object with null");
        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject obj:
                obj[last] = value;
                break;
            case JsonArray array when last == "-":
                array.Add(value);
                break;
            case JsonArray array when int.TryParse(last, out var i) && i >= 0 && i <= array.Count:
                array.Insert(i, value);
                break;
            default:
                throw new KubeApiError(422, "Invalid", $"the server rejected our request due to an error in our request: add operation does not apply: doc is missing path: \"{pointer}\": missing value");
        }
        return root;
    }

    private static void Remove(JsonNode root, string pointer)
    {
        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject obj when obj.ContainsKey(last):
                obj.Remove(last);
                break;
            case JsonArray array when int.TryParse(last, out var i) && i >= 0 && i < array.Count:
                array.RemoveAt(i);
                break;
            default:
                throw new KubeApiError(422, "Invalid", $"the server rejected our request due to an error in our request: remove operation does not apply: doc is missing path: \"{pointer}\": missing value");
        }
    }
}
