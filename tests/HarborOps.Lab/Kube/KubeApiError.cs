using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>
/// A failure the emulator answers with the API server's Status object, worded as the API server words it (client-go,
/// kubectl and KubernetesClient all parse these, so the wording and the reason/code pairs are part of the contract).
/// </summary>
public sealed class KubeApiError(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public JsonObject? Details { get; } = details;

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
            ["message"] = Message, ["reason"] = Reason,
        };
        if (Details is not null) status["details"] = Details.DeepClone();
        status["code"] = Code;
        return status;
    }

    private static JsonObject DetailsOf(KubeResourceType type, string? name, string? kindOverride = null)
    {
        var details = new JsonObject();
        if (!string.IsNullOrEmpty(name)) details["name"] = name;
        if (type.Group.Length > 0 && kindOverride is null) details["group"] = type.Group;
        details["kind"] = kindOverride ?? type.Plural;
        return details;
    }

    public static KubeApiError NotFound(KubeResourceType type, string name) =>
        new(404, "NotFound", $"{type.Qualified} \"{name}\" not found", DetailsOf(type, name));

    public static KubeApiError AlreadyExists(KubeResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.Qualified} \"{name}\" already exists", DetailsOf(type, name));

    public static KubeApiError Conflict(KubeResourceType type, string name,
        string cause = "the object has been modified; please apply your changes to the latest version and try again") =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.Qualified} \"{name}\": {cause}", DetailsOf(type, name));

    /// <summary>Request options the API server refuses (metainternalversion validation), e.g.
    /// <c>CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "x": supported values: "All"</c>.</summary>
    public static KubeApiError InvalidOptions(string optionsKind, string field, string value)
    {
        var detail = $"Unsupported value: \"{value}\": supported values: \"All\"";
        var details = new JsonObject
        {
            ["group"] = "meta.k8s.io", ["kind"] = optionsKind,
            ["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueNotSupported", ["message"] = detail, ["field"] = field }),
        };
        return new(422, "Invalid", $"{optionsKind}.meta.k8s.io \"\" is invalid: {field}: {detail}", details);
    }

    /// <summary>The RBAC authorizer's denial, e.g. <c>secrets "x" is forbidden: User "u" cannot get resource "secrets" in API group "" in the namespace "ns"</c>.</summary>
    public static KubeApiError Forbidden(KubeResourceType type, string? subresource, string? name, string user, string verb, string? ns)
    {
        var resource = subresource is null ? type.Plural : $"{type.Plural}/{subresource}";
        var scope = string.IsNullOrEmpty(ns) ? "at the cluster scope" : $"in the namespace \"{ns}\"";
        var reason = $"User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{type.Group}\" {scope}";
        var subject = string.IsNullOrEmpty(name) ? type.Qualified : $"{type.Qualified} \"{name}\"";
        return new(403, "Forbidden", $"{subject} is forbidden: {reason}", DetailsOf(type, name));
    }

    /// <summary>A validation failure: <c>Secret "x" is invalid: type: Invalid value: "...": field is immutable</c>.</summary>
    public static KubeApiError Invalid(KubeResourceType type, string name, params (string Field, string CauseReason, string Detail)[] causes)
    {
        var list = new JsonArray();
        foreach (var (field, causeReason, detail) in causes)
            list.Add(new JsonObject { ["reason"] = causeReason, ["message"] = detail, ["field"] = field });
        var details = DetailsOf(type, name, type.Kind);
        if (type.Group.Length > 0) details["group"] = type.Group;
        var qualifiedKind = type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}";
        details["causes"] = list;
        var summary = causes.Length == 1
            ? $"{causes[0].Field}: {causes[0].Detail}"
            : "[" + string.Join(", ", causes.Select(c => $"{c.Field}: {c.Detail}")) + "]";
        return new(422, "Invalid", $"{qualifiedKind} \"{name}\" is invalid: {summary}", details);
    }

    public static KubeApiError BadRequest(string message) => new(400, "BadRequest", message);

    public static KubeApiError Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    public static KubeApiError MethodNotAllowed() => new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");

    public static KubeApiError UnsupportedMediaType() =>
        new(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json");

    public static KubeApiError NotFoundPath() => new(404, "NotFound", "the server could not find the requested resource", new JsonObject());
}
