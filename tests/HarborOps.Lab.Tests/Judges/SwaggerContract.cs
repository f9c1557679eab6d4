using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarborOps.Lab.Contracts;
using HarborOps.Lab.Harbor;
using YamlDotNet.RepresentationModel;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>
/// A small validator of requests and responses against Harbor's Swagger 2.0 contract (contracts/harbor-v2.0-swagger.yaml),
/// and of responses against OpenAPI 3.0 documents such as Graph's (contracts/graph/graph-v1.0-openapi.yaml: nullable,
/// allOf, response content by media type, status classes such as 2XX).
/// Stricter than go-swagger in two ways, on purpose: a property the contract does not name is an error (Harbor silently
/// ignores a misspelt field, such as replicate_deletion for deletion), and null is allowed only where x-nullable says so.
/// Where real Harbor answers outside the spec, <see cref="KnownDeviations"/> names the case and the research note.
/// </summary>
public sealed partial class SwaggerContract
{
    private static readonly Lazy<SwaggerContract> Shared = new(() => Load(ContractPath()));
    private static readonly Lazy<SwaggerContract> SharedGraph = new(() => Load(ContractPath("graph", "graph-v1.0-openapi.yaml")));
    private readonly JsonObject _root;
    private readonly JsonSchemaCheck _schemas;
    private readonly List<(string Method, string[] Template, JsonObject Operation, JsonArray PathParameters)> _operations = [];

    private SwaggerContract(JsonObject root, JsonSchemaDialect? dialect = null)
    {
        _root = root;
        IsOpenApi3 = root["openapi"] is not null;
        _schemas = new JsonSchemaCheck(root, dialect ?? (IsOpenApi3 ? JsonSchemaDialect.OData : JsonSchemaDialect.Swagger2));
        // OpenAPI 3 names the base in its server URL (https://graph.microsoft.com/v1.0/ -> /v1.0).
        BasePath = IsOpenApi3 ? new Uri(root["servers"]![0]!["url"]!.GetValue<string>()).AbsolutePath.TrimEnd('/') : root["basePath"]?.GetValue<string>() ?? "";
        foreach (var (template, item) in root["paths"]!.AsObject())
        {
            var pathParameters = item!["parameters"] as JsonArray ?? [];
            foreach (var (method, operation) in item.AsObject())
                if (method != "parameters") _operations.Add((method.ToUpperInvariant(), template.Trim('/').Split('/'), operation!.AsObject(), pathParameters));
        }
    }

    public static SwaggerContract Harbor => Shared.Value;

    /// <summary>Graph's v1.0 OpenAPI, trimmed to the calls HarborOps makes (tests/contracts/graph/README.md).</summary>
    public static SwaggerContract Graph => SharedGraph.Value;

    public string BasePath { get; }
    public bool IsOpenApi3 { get; }

    /// <summary>Where real Harbor differs from its swagger (research/harbor-api-and-tools.md); each is validated as stated.</summary>
    public static IReadOnlyList<string> KnownDeviations =>
    [
        "422 UNPROCESSABLE_ENTITY from swagger parameter validation (page_size > 100) on any operation, body Errors (§1.4, §1.6)",
        "403 FORBIDDEN 'CSRF token invalid' on any mutating operation sent with the sid cookie, body Errors (§1.2)",
        "412 PRECONDITION from getCurrentUserInfo for a robot caller, body Errors (§1.1)",
        "getVulnerabilitiesAddition 200: a JSON object keyed by report MIME type where the spec says string (§4.5, go-client#20)",
        "Schedule.parameters (createGCSchedule, updateGCSchedule) holds JSON booleans and numbers where the spec says object (handler/gc.go kick)",
        "getGCSchedule 200 without a body when no schedule is set (handler/gc.go GetGCSchedule)",
        "RetentionRule.params (createRetention, updateRetention, getRetention) holds JSON numbers where the spec says object (rule/*/evaluator.go)",
        "undocumented error statuses Harbor returns, body Errors: " + string.Join(", ", UndocumentedErrors.Select(e => $"{e.Key.OperationId} {e.Key.Status} ({e.Value})")),
    ];

    /// <summary>Error statuses real Harbor returns that the operation's responses leave out.</summary>
    private static readonly Dictionary<(string OperationId, int Status), string> UndocumentedErrors = new()
    {
        [("getProject", 404)] = "missing project",
        [("CreateRobot", 409)] = "robot name exists in that project, §3.3",
        [("createProjectMember", 404)] = "unknown user that cannot be onboarded, §7",
        [("DeleteImmuRule", 404)] = "a rule id not in the project, handler/immutable.go requireRuleAccess",
    };

    public static string ContractPath(params string[] underContracts)
    {
        var relative = underContracts.Length == 0 ? ["harbor-v2.0-swagger.yaml"] : underContracts;
        var path = Path.GetFullPath(Path.Combine([RepositoryFiles.Root(), "tests", "contracts", .. relative]));
        if (!File.Exists(path))
            throw new FileNotFoundException($"The contract is not at {path}: it is part of the repository (tests/contracts); restore it from git.", path);
        return path;
    }

    public static SwaggerContract Load(string path)
    {
        if (path.EndsWith(".json", StringComparison.Ordinal)) return new SwaggerContract(ReadJson(path));
        var stream = new YamlStream();
        using (var reader = File.OpenText(path)) stream.Load(reader);
        return new SwaggerContract((JsonObject)ToJson(stream.Documents[0].RootNode)!);
    }

    private static JsonObject ReadJson(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar when scalar.Style is YamlDotNet.Core.ScalarStyle.Plain => scalar.Value switch
        {
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            var v when long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
            var v => JsonValue.Create(v),
        },
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };

    /// <summary>The operation for a method and a path as sent (decoded once, so an encoded '/' stays inside its segment).</summary>
    public (string OperationId, JsonObject Operation, JsonArray PathParameters)? Find(string method, string path)
    {
        var relative = path.StartsWith(BasePath, StringComparison.Ordinal) ? path[BasePath.Length..] : path;
        // Graph's CSDL declares the alias graph for the namespace microsoft.graph: an OData cast spelt either way is one path.
        var segments = relative.Trim('/').Split('/').Select(s => IsOpenApi3 && s.StartsWith("microsoft.graph.", StringComparison.Ordinal) ? s["microsoft.".Length..] : s).ToArray();
        var match = _operations
            .Where(o => o.Method == method && o.Template.Length == segments.Length
                && o.Template.Select((t, i) => t.StartsWith('{') || t == segments[i]).All(x => x))
            .OrderByDescending(o => o.Template.Count(t => !t.StartsWith('{')))
            .FirstOrDefault();
        return match.Operation is null ? null : (match.Operation["operationId"]!.GetValue<string>(), match.Operation, match.PathParameters);
    }

    private JsonObject Resolve(JsonNode node) => _schemas.Resolve(node);

    /// <summary>What in the exchanges from index <paramref name="from"/> on breaks the contract (requests, responses, X-Request-Id).</summary>
    public List<string> ProblemsIn(IReadOnlyList<HarborExchange> exchanges, int from)
    {
        var problems = new List<string>();
        for (var i = from; i < exchanges.Count; i++)
        {
            var x = exchanges[i];
            var sid = x.RequestHeaders.TryGetValue("Cookie", out var cookie) && cookie.Contains("sid=", StringComparison.Ordinal);
            foreach (var problem in ValidateRequest(x.Method, x.Path, x.Query, Encoding.UTF8.GetString(x.RequestBody), x.RequestHeaders))
                problems.Add($"request {x.Method} {x.Path}{x.Query}: {problem}");
            foreach (var problem in ValidateResponse(x.Method, x.Path, x.Status, x.ContentType, Encoding.UTF8.GetString(x.ResponseBody), sid))
                problems.Add($"response {x.Status} to {x.Method} {x.Path}: {problem}");
            if (!x.RequestHeaders.ContainsKey("X-Request-Id") && !x.RequestHeaders.ContainsKey("X-Harbor-Lab-Raw"))
                problems.Add($"request {x.Method} {x.Path}: no X-Request-Id");
        }
        return problems;
    }

    public IReadOnlyList<string> ValidateRequest(string method, string path, string query, string? body, IReadOnlyDictionary<string, string>? headers = null)
    {
        var errors = new List<string>();
        var found = Find(method, path);
        if (found is null) return [$"{method} {path}: no such operation in the contract"];
        var (id, operation, pathParameters) = found.Value;
        var parameters = pathParameters.Concat(operation["parameters"] as JsonArray ?? []).Select(p => Resolve(p!)).ToList();
        var queryValues = System.Web.HttpUtility.ParseQueryString(query);
        foreach (var name in queryValues.AllKeys.Where(k => k is not null))
        {
            var parameter = parameters.FirstOrDefault(p => p["in"]!.GetValue<string>() == "query" && p["name"]!.GetValue<string>() == name);
            if (parameter is null) { errors.Add($"{id}: query parameter '{name}' is not in the contract"); continue; }
            ValidateSimple(parameter, queryValues[name]!, $"{id} query {name}", errors);
        }
        foreach (var required in parameters.Where(p => p["in"]!.GetValue<string>() == "query" && p["required"]?.GetValue<bool>() == true))
            if (queryValues[required["name"]!.GetValue<string>()] is null) errors.Add($"{id}: required query parameter '{required["name"]}' is missing");
        if (headers is not null)
            foreach (var header in parameters.Where(p => p["in"]!.GetValue<string>() == "header"))
                if (headers.TryGetValue(header["name"]!.GetValue<string>(), out var value)) ValidateSimple(header, value, $"{id} header {header["name"]}", errors);
        var bodyParameter = parameters.FirstOrDefault(p => p["in"]!.GetValue<string>() == "body");
        if (string.IsNullOrEmpty(body))
        {
            if (bodyParameter?["required"]?.GetValue<bool>() == true) errors.Add($"{id}: the request body is required");
        }
        else if (bodyParameter is null)
        {
            errors.Add($"{id}: the operation takes no request body");
        }
        else
        {
            JsonNode? json;
            try { json = JsonNode.Parse(body); }
            catch (JsonException ex) { errors.Add($"{id}: request body is not JSON: {ex.Message}"); return errors; }
            if (bodyParameter["schema"]?["$ref"]?.GetValue<string>() == "#/definitions/Schedule" && json?["parameters"] is JsonObject scheduleParameters)
            {
                // Deviation: Schedule.parameters says additionalProperties object, but Harbor reads JSON scalars from it
                // (handler/gc.go kick: parameters["dry_run"].(bool), parameters["workers"].(json.Number)), as its portal sends.
                foreach (var (name, value) in scheduleParameters)
                    if (value is not JsonValue) errors.Add($"{id} body.parameters.{name}: Harbor reads a boolean, number or string here, got {value?.GetValueKind()}");
                json = json.DeepClone();
                json["parameters"] = new JsonObject();
            }
            if (bodyParameter["schema"]?["$ref"]?.GetValue<string>() == "#/definitions/RetentionPolicy") json = WithoutRetentionParams(json, $"{id} body", errors);
            ValidateSchema(bodyParameter["schema"]!, json, $"{id} body", errors);
        }
        return errors;
    }

    /// <summary>
    /// Deviation: RetentionRule.params says additionalProperties object, but the rule templates read a JSON number there
    /// (src/pkg/retention/policy/rule/latestps/evaluator.go New: utils.ParseJSONInt(params["latestPushedK"])), as Harbor's
    /// portal sends and Harbor answers. Each value must be a number; the rest is checked against the schema.
    /// </summary>
    private static JsonNode? WithoutRetentionParams(JsonNode? json, string where, List<string> errors)
    {
        if (json?["rules"] is not JsonArray rules) return json;
        json = json.DeepClone();
        foreach (var rule in json["rules"]!.AsArray())
            if (rule?["params"] is JsonObject parameters)
            {
                foreach (var (name, value) in parameters)
                    if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) errors.Add($"{where} rules.params.{name}: the rule templates read a number here, got {value?.GetValueKind()}");
                rule["params"] = new JsonObject();
            }
        _ = rules;
        return json;
    }

    public IReadOnlyList<string> ValidateResponse(string method, string path, int status, string? contentType, string body, bool requestHadSidCookie = false)
    {
        var found = Find(method, path);
        // A path outside an OpenAPI 3 contract (a client's typo) is still answered with the service's error body.
        if (found is null && IsOpenApi3 && status >= 400 && _root["components"]?["responses"]?["error"] is JsonObject error)
            return ValidateContent($"{method} {path}", status, Resolve(error), contentType, body);
        if (found is null) return [$"{method} {path}: no such operation in the contract"];
        var (id, operation, _) = found.Value;
        var errors = new List<string>();
        var responses = operation["responses"]!.AsObject();
        var key = status.ToString(CultureInfo.InvariantCulture);
        JsonObject? response = responses[key] is { } r ? Resolve(r) : responses[$"{key[0]}XX"] is { } range ? Resolve(range) : responses["default"] is { } d ? Resolve(d) : null;
        if (IsOpenApi3 && response is not null) return ValidateContent(id, status, response, contentType, body);
        JsonNode? schema = response?["schema"];
        if (response is null)
        {
            var deviation = status == 422 || (status == 403 && requestHadSidCookie && method is "POST" or "PUT" or "PATCH" or "DELETE")
                || (status == 412 && id == "getCurrentUserInfo") || UndocumentedErrors.ContainsKey((id, status));
            if (!deviation) return [$"{id}: status {status} is not in the contract"];
            schema = JsonNode.Parse("""{"$ref":"#/definitions/Errors"}""");
        }
        // Deviation: with no schedule, handler/gc.go GetGCSchedule answers NewGetGCScheduleOK() without a payload.
        if (id == "getGCSchedule" && status == 200 && body.Length == 0) return errors;
        if (status < 300 && operation["produces"] is JsonArray produces && produces.Select(p => p?.GetValue<string>()).ToList() is var mediaTypes && !mediaTypes.Contains("application/json"))
        {
            // An operation that produces text (getGCLog, the retention task log): its media type, any text; none when it has no schema.
            if (body.Length == 0 && response?["schema"] is null) return errors;
            if (contentType is null || !mediaTypes.Any(m => m is not null && contentType.StartsWith(m, StringComparison.Ordinal)))
                errors.Add($"{id} {status}: content type '{contentType}' is not one of {string.Join(", ", mediaTypes)}");
            return errors;
        }
        if (schema is null)
        {
            if (body.Length > 0 && method != "HEAD") errors.Add($"{id} {status}: the contract has no response body but one was sent ({body.Length} chars)");
            return errors;
        }
        if (contentType is null || !contentType.StartsWith("application/json", StringComparison.Ordinal))
            errors.Add($"{id} {status}: content type '{contentType}' is not application/json");
        JsonNode? json;
        try { json = JsonNode.Parse(body); }
        catch (JsonException ex) { errors.Add($"{id} {status}: body is not JSON: {ex.Message}"); return errors; }
        if (id == "getVulnerabilitiesAddition" && status == 200)
        {
            // Deviation: an object of reports keyed by MIME type, not a string.
            if (json is not JsonObject reports) errors.Add($"{id}: expected an object of reports");
            else
                foreach (var (mime, report) in reports)
                    if (report?["vulnerabilities"] is not JsonArray) errors.Add($"{id}: report '{mime}' has no vulnerabilities array");
            return errors;
        }
        if (id == "getRetention") json = WithoutRetentionParams(json, $"{id} {status}", errors);
        ValidateSchema(schema, json, $"{id} {status}", errors);
        return errors;
    }

    /// <summary>An OpenAPI 3 response: the media type must be one the response names, and the body must match its schema.</summary>
    private List<string> ValidateContent(string id, int status, JsonObject response, string? contentType, string body)
    {
        var errors = new List<string>();
        if (response["content"] is not JsonObject content)
        {
            if (body.Length > 0) errors.Add($"{id} {status}: the contract has no response body but one was sent ({body.Length} chars)");
            return errors;
        }
        var mediaType = contentType?.Split(';')[0].Trim();
        if (mediaType is null || content[mediaType] is not JsonObject media)
            return [$"{id} {status}: content type '{contentType}' is not one of {string.Join(", ", content.Select(c => c.Key))}"];
        JsonNode? json;
        if (mediaType == "text/plain")
        {
            // A $count: the number alone, as text.
            json = long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number) : JsonValue.Create(body);
        }
        else
        {
            try { json = JsonNode.Parse(body); }
            catch (JsonException ex) { return [$"{id} {status}: body is not JSON: {ex.Message}"]; }
        }
        ValidateSchema(media["schema"]!, json, $"{id} {status}", errors);
        return errors;
    }

    private static void ValidateSimple(JsonObject parameter, string value, string where, List<string> errors)
    {
        switch (parameter["type"]?.GetValue<string>())
        {
            case "integer":
                if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)) { errors.Add($"{where}: '{value}' is not an integer"); return; }
                if (parameter["maximum"] is JsonValue max && number > max.GetValue<long>()) errors.Add($"{where}: {number} is above the maximum {max}");
                if (parameter["minimum"] is JsonValue min && number < min.GetValue<long>()) errors.Add($"{where}: {number} is below the minimum {min}");
                break;
            case "boolean":
                if (value is not ("true" or "false")) errors.Add($"{where}: '{value}' is not true or false");
                break;
            case "string":
                if (parameter["minLength"] is JsonValue minLength && value.Length < minLength.GetValue<long>()) errors.Add($"{where}: shorter than {minLength}");
                break;
        }
    }

    public void ValidateSchema(JsonNode schemaNode, JsonNode? value, string where, List<string> errors) => _schemas.Validate(schemaNode, value, where, errors);
}
