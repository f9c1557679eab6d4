using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;

namespace HarborOps.Lab.Kube;

/// <summary>
/// The API server's request rules beyond the store: query parameters as apimachinery converts them, field validation
/// against the published OpenAPI, dry runs, chunked lists, delete options and the Status a delete answers.
/// </summary>
public sealed partial class KubeEmulator
{
    /// <summary>True while a dryRun=All request runs: admission and defaults apply, nothing is stored, published or reconciled.</summary>
    private bool _dryRun;

    /// <summary>
    /// A boolean query parameter as apimachinery converts it (k8s.io/apimachinery/pkg/runtime/conversion.go,
    /// Convert_Slice_string_To_bool): absent, "0" or "false" in any case is false; anything else, the empty string
    /// included, is true. So watch=True and watch=1 are watches.
    /// </summary>
    public static bool QueryBool(StringValues values) =>
        values.Count > 0 && values[0] is var value && value != "0" && !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>dryRun: absent, or "All" (the only directive there is); anything else is refused before any work
    /// (k8s.io/apiserver/pkg/endpoints/handlers/rest.go, dryRun validation in apimachinery's ValidateDryRun).</summary>
    private static bool DryRun(StringValues values, string verb)
    {
        var optionsKind = verb switch { "create" => "CreateOptions", "update" => "UpdateOptions", "patch" => "PatchOptions", _ => "DeleteOptions" };
        foreach (var value in values)
            if (value != "All") throw KubeApiError.InvalidOptions(optionsKind, "dryRun", value ?? "");
        return values.Count > 0;
    }

    /// <summary>Runs a write under the gate, storing nothing when <paramref name="dryRun"/> is set.</summary>
    private T Write<T>(bool dryRun, Func<T> write)
    {
        lock (_gate)
        {
            _dryRun = dryRun;
            try { return write(); }
            finally { _dryRun = false; }
        }
    }

    /// <summary>
    /// Server-side field validation (KEP-2885, GA in 1.27): fieldValidation=Strict refuses fields the kind's schema does
    /// not declare, Warn (the default) answers with a Warning header per field, Ignore drops them silently. kubectl 1.32
    /// sends Strict when the group's OpenAPI v3 document lists fieldValidation among the PATCH parameters
    /// (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go), which the vendored documents do.
    /// </summary>
    private static void ValidateFields(HttpContext context, KubeResourceType type, JsonObject body, string verb)
    {
        var directive = context.Request.Query["fieldValidation"].ToString();
        if (directive is not ("" or "Ignore" or "Warn" or "Strict"))
            throw KubeApiError.BadRequest($"invalid fieldValidation directive: {directive}, must be one of: Ignore, Warn, Strict");
        var unknown = KubeOpenApi.Shared.UnknownFields(type, body, drop: directive != "Strict");
        if (unknown.Count == 0 || directive == "Ignore") return;
        if (directive == "Strict")
        {
            // apimachinery's strict decoding error, which the create and update handlers prefix with the codec's wording
            var strict = "strict decoding error: " + string.Join(", ", unknown.Select(f => $"unknown field \"{f}\""));
            throw KubeApiError.BadRequest(verb == "patch" ? strict : $"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: {strict}");
        }
        foreach (var field in unknown) context.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{field}\\\"\"");
    }

    // ---------------------------------------------------------------- chunked lists

    /// <summary>
    /// limit/continue as the API server pages a list: items in key order, metadata.continue an opaque token naming where
    /// the next page starts (the storage's continue key: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"key\u0000"},
    /// k8s.io/apiserver/pkg/storage/continue.go) and remainingItemCount. The emulator serves later pages from the current
    /// state, not from a snapshot at rv (tests/contracts/README.md); a token older than the kept history is 410 Expired.
    /// </summary>
    private (List<JsonObject> Page, string? Continue, long? Remaining) Chunk(List<JsonObject> items, IQueryCollection query)
    {
        var start = "";
        if (query["continue"].ToString() is { Length: > 0 } token)
        {
            JsonNode? decoded;
            try { decoded = JsonNode.Parse(Convert.FromBase64String(token.Replace('-', '+').Replace('_', '/').PadRight((token.Length + 3) / 4 * 4, '='))); }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                throw KubeApiError.BadRequest($"continue key is not valid: {e.Message}");
            }
            if (decoded?["v"]?.GetValue<string>() != "meta.k8s.io/v1" || decoded["start"]?.GetValue<string>() is not { } from)
                throw KubeApiError.BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
            var rv = Number(decoded["rv"]);
            if (_history.First is { } oldest && rv < oldest.Value.ResourceVersion - 1)
                throw new KubeApiError(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
            start = from.TrimEnd('\0');
            items = items.Where(i => string.CompareOrdinal(ChunkKey(i), start) > 0).ToList();
        }
        if (!long.TryParse(query["limit"], out var limit) || limit <= 0 || items.Count <= limit) return (items, null, null);
        var page = items.Take((int)limit).ToList();
        var next = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = _resourceVersion, ["start"] = ChunkKey(page[^1]) + "\0" };
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(next.ToJsonString())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (page, encoded, items.Count - limit);
    }

    private static string ChunkKey(JsonObject item) => $"{NamespaceOf(item)}/{NameOf(item)}";

    // ---------------------------------------------------------------- delete

    /// <summary>
    /// A delete as the API server answers it: DeleteOptions' preconditions (uid, resourceVersion) must hold or the answer is
    /// 409 Conflict (k8s.io/apiserver/pkg/storage/etcd3/store.go, Preconditions.Check), dryRun deletes nothing, and the
    /// answer is a Status with the deleted object's name, group, kind and uid, except for the kinds whose REST storage
    /// returns the deleted object (pods: deleteCoreV1NamespacedPod answers a Pod). A namespace answers a Status too: the
    /// emulator removes it at once, where the API server answers the Terminating namespace while it finalizes.
    /// </summary>
    private async Task DeleteAsync(HttpContext context, KubeResourceType type, string? ns, string name)
    {
        // DeleteOptions travel in the body (client-go, kubectl and the Python client all send them there); it may be empty
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(context.RequestAborted);
        JsonObject options;
        try { options = string.IsNullOrWhiteSpace(text) ? [] : JsonNode.Parse(text) as JsonObject ?? []; }
        catch (JsonException e) { throw KubeApiError.BadRequest($"error decoding request body: {e.Message}"); }
        var dryRun = DryRun(context.Request.Query["dryRun"], "delete") || (options["dryRun"] as JsonArray)?.Any(d => d?.GetValue<string>() == "All") == true;
        var deleted = Write(dryRun, () =>
        {
            var current = Find(type, ns, name);
            var metadata = current["metadata"]!;
            if (options["preconditions"]?["uid"]?.GetValue<string>() is { Length: > 0 } uid && uid != metadata["uid"]!.GetValue<string>())
                throw KubeApiError.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {metadata["uid"]}");
            if (options["preconditions"]?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } version && version != metadata["resourceVersion"]!.GetValue<string>())
                throw KubeApiError.Conflict(type, name, $"Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {metadata["resourceVersion"]}");
            return (JsonObject)DeleteLocked(type, ns, name).DeepClone();
        });
        if (type == KubeResourceType.Pods)
        {
            await WriteJsonAsync(context, 200, deleted);
            return;
        }
        var details = new JsonObject { ["name"] = name, ["group"] = type.Group, ["kind"] = type.Plural, ["uid"] = UidOf(deleted) };
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["details"] = details,
        });
    }

    // ---------------------------------------------------------------- the contract

    /// <summary>Serves /openapi/v3 (the root) and /openapi/v3/{group-version} as k8s.io/kube-openapi/pkg/handler3 does.</summary>
    private static async Task<bool> OpenApiAsync(HttpContext context, string path)
    {
        if (path.TrimEnd('/') == "/openapi/v3")
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(KubeOpenApi.Shared.Root().ToJsonString(Compact), context.RequestAborted);
            return true;
        }
        if (!path.StartsWith("/openapi/v3/", StringComparison.Ordinal)) return false;
        var document = KubeOpenApi.Shared.Document(path["/openapi/v3/".Length..]) ?? throw KubeApiError.NotFoundPath();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.Headers.ETag = $"\"{document.Hash}\"";
        // a request naming the current hash may be cached for ever (handler3: "public, immutable")
        if (context.Request.Query["hash"] == document.Hash) context.Response.Headers.CacheControl = "public, immutable";
        await context.Response.Body.WriteAsync(document.Bytes, context.RequestAborted);
        return true;
    }

    /// <summary>Holds an answer to the Kubernetes OpenAPI; a breach is recorded as an emulator failure, which fails the test.</summary>
    private void CheckAnswer(HttpContext context, int status, JsonNode body)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
        var path = Uri.UnescapeDataString(raw.Split('?')[0]);
        var problems = KubeOpenApi.Shared.ResponseProblems(context.Request.Method, path, status, body);
        if (problems.Count > 0)
            lock (_gate) _failures.Add($"contract: {context.Request.Method} {raw} answered {status} outside the Kubernetes OpenAPI: {string.Join("; ", problems)}");
    }

    private void CheckWatchEvent(KubeResourceType type, string eventType, JsonObject item)
    {
        var problems = KubeOpenApi.Shared.WatchEventProblems(type, eventType, item);
        if (problems.Count > 0)
            lock (_gate) _failures.Add($"contract: watch event {eventType} of {type.Qualified} outside the Kubernetes OpenAPI: {string.Join("; ", problems)}");
    }
}
