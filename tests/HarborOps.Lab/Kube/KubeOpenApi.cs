using System.Security.Cryptography;
using System.Text.Json.Nodes;
using HarborOps.Lab.Contracts;

namespace HarborOps.Lab.Kube;

/// <summary>
/// The Kubernetes 1.32 OpenAPI v3 documents of the groups the emulator serves (tests/contracts/kubernetes, trimmed to its
/// resources; README there says where they come from). The emulator serves them at /openapi/v3 as the API server does
/// (k8s.io/kube-openapi/pkg/handler3: a root naming each group-version document with its hash), decodes request bodies
/// strictly against them (fieldValidation), and holds every answer it gives to them.
/// </summary>
public sealed class KubeOpenApi
{
    public const string StatusSchema = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
    private static readonly Lazy<KubeOpenApi> Loaded = new(() => Load(Path.Combine(AppContext.BaseDirectory, "contracts", "kubernetes")));
    private readonly Dictionary<string, GroupDocument> _documents;

    /// <summary>One group-version document ("api/v1", "apis/apps/v1") as served, parsed, and with its schemas' checker.</summary>
    public sealed record GroupDocument(string Path, byte[] Bytes, string Hash, JsonObject Root, JsonSchemaCheck Schemas,
        IReadOnlyList<(string Method, string[] Template, JsonObject Operation)> Operations);

    private KubeOpenApi(Dictionary<string, GroupDocument> documents) => _documents = documents;

    public static KubeOpenApi Shared => Loaded.Value;

    public IReadOnlyCollection<GroupDocument> Documents => _documents.Values;

    public static KubeOpenApi Load(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"The Kubernetes OpenAPI documents are not at {directory}: they are tests/contracts/kubernetes, copied beside the lab by its project file.");
        var documents = new Dictionary<string, GroupDocument>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(directory, "*_openapi.json"))
        {
            // api__v1_openapi.json -> api/v1; apis__apps__v1_openapi.json -> apis/apps/v1 (upstream's file naming)
            var path = System.IO.Path.GetFileName(file)[..^"_openapi.json".Length].Replace("__", "/", StringComparison.Ordinal);
            var bytes = File.ReadAllBytes(file);
            var root = JsonNode.Parse(bytes)!.AsObject();
            var operations = new List<(string, string[], JsonObject)>();
            foreach (var (template, item) in root["paths"]!.AsObject())
                foreach (var (method, operation) in item!.AsObject())
                    if (method != "parameters") operations.Add((method.ToUpperInvariant(), template.Trim('/').Split('/'), operation!.AsObject()));
            // kube-openapi's hash is the SHA-512 of the served document, upper-case hex (handler3.go computeETag)
            var hash = Convert.ToHexString(SHA512.HashData(bytes));
            documents[path] = new GroupDocument(path, bytes, hash, root, new JsonSchemaCheck(root, JsonSchemaDialect.Kubernetes), operations);
        }
        return new KubeOpenApi(documents);
    }

    /// <summary>/openapi/v3: every group-version with the URL (and hash) of its document.</summary>
    public JsonObject Root() => new()
    {
        ["paths"] = new JsonObject(_documents.Values.OrderBy(d => d.Path, StringComparer.Ordinal).Select(d =>
            KeyValuePair.Create(d.Path, (JsonNode?)new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{d.Path}?hash={d.Hash}" }))),
    };

    public GroupDocument? Document(string path) => _documents.GetValueOrDefault(path.Trim('/'));

    public GroupDocument DocumentOf(KubeResourceType type) =>
        _documents[type.Group.Length == 0 ? $"api/{type.Version}" : $"apis/{type.Group}/{type.Version}"];

    /// <summary>The schema whose x-kubernetes-group-version-kind names the type's kind (or another kind of its group, such as DeploymentList).</summary>
    public static string SchemaName(GroupDocument document, string group, string version, string kind)
    {
        foreach (var (name, schema) in document.Root["components"]!["schemas"]!.AsObject())
            if (schema?["x-kubernetes-group-version-kind"] is JsonArray kinds
                && kinds.Any(k => k?["group"]?.GetValue<string>() == group && k?["version"]?.GetValue<string>() == version && k?["kind"]?.GetValue<string>() == kind))
                return name;
        throw new InvalidOperationException($"no schema for {group}/{version} {kind} in {document.Path}");
    }

    private static JsonNode Reference(string schema) => new JsonObject { ["$ref"] = $"#/components/schemas/{schema}" };

    /// <summary>The fields of a request body its kind's schema does not declare, as the API server's strict decoding names
    /// them; with <paramref name="drop"/> they are removed from the body, as decoding drops them.</summary>
    public IReadOnlyList<string> UnknownFields(KubeResourceType type, JsonObject body, bool drop = false)
    {
        var document = DocumentOf(type);
        var unknown = new List<string>();
        document.Schemas.UnknownFields(Reference(SchemaName(document, type.Group, type.Version, type.Kind)), body, "", unknown, drop);
        return unknown;
    }

    /// <summary>What in one watch event breaks the contract (a WatchEvent whose object is of the watched kind).</summary>
    public IReadOnlyList<string> WatchEventProblems(KubeResourceType type, string eventType, JsonObject item)
    {
        var errors = new List<string>();
        if (eventType is not ("ADDED" or "MODIFIED" or "DELETED" or "BOOKMARK" or "ERROR")) errors.Add($"watch event type '{eventType}' is not one the API server sends");
        var document = DocumentOf(type);
        document.Schemas.Validate(Reference(SchemaName(document, type.Group, type.Version, type.Kind)), item, $"{type.Kind} (watch {eventType})", errors);
        return errors;
    }

    /// <summary>
    /// What in one answer breaks the contract: a failure must be a Status; a success must be an answer the operation
    /// documents (status code and schema). Paths outside the vendored documents (/version, /api, /apis, /openapi) are not judged.
    /// </summary>
    public IReadOnlyList<string> ResponseProblems(string method, string path, int status, JsonNode body)
    {
        var errors = new List<string>();
        var core = _documents["api/v1"];
        if (status >= 400)
        {
            core.Schemas.Validate(Reference(StatusSchema), body, $"{status} Status", errors);
            if (body["kind"]?.GetValue<string>() != "Status") errors.Add($"{status}: a failure that is not a Status");
            return errors;
        }
        var segments = path.Trim('/').Split('/');
        var document = segments.Length >= 2 && segments[0] == "api" ? Document($"api/{segments[1]}")
            : segments.Length >= 3 && segments[0] == "apis" ? Document($"apis/{segments[1]}/{segments[2]}") : null;
        if (document is null) return errors;
        var match = document.Operations
            .Where(o => o.Method == method && o.Template.Length == segments.Length && o.Template.Select((t, i) => t.StartsWith('{') || t == segments[i]).All(x => x))
            .OrderByDescending(o => o.Template.Count(t => !t.StartsWith('{')))
            .FirstOrDefault();
        if (match.Operation is null) return [$"{method} {path}: no such operation in the Kubernetes OpenAPI"];
        var id = match.Operation["operationId"]?.GetValue<string>() ?? $"{method} {path}";
        if (match.Operation["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] is not JsonObject response)
            return [$"{id}: status {status} is not one the operation answers"];
        if (response["content"]?["application/json"]?["schema"] is { } schema) document.Schemas.Validate(schema, body, $"{id} {status}", errors);
        return errors;
    }
}
