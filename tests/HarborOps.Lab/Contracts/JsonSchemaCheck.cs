using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Contracts;

/// <summary>How a published contract's dialect differs: Swagger 2.0 (Harbor), Kubernetes' OpenAPI v3 or Graph's OData OpenAPI 3.</summary>
public sealed record JsonSchemaDialect
{
    /// <summary>Swagger 2.0 as Harbor writes it: null only where x-nullable says so, an object schema without properties has none.</summary>
    public static readonly JsonSchemaDialect Swagger2 = new();

    /// <summary>
    /// Kubernetes' OpenAPI (kube-openapi): references wrapped in allOf, int-or-string, an object schema without properties
    /// (FieldsV1, RawExtension) holds anything, required properties are checked, and null is accepted where Go's encoding
    /// writes it for a nil value (metav1.Time marshals a zero time as null: templates carry "creationTimestamp": null).
    /// </summary>
    public static readonly JsonSchemaDialect Kubernetes = new() { FreeFormObjects = true, CheckRequired = true, NullableFormats = ["date-time"] };

    /// <summary>
    /// Microsoft Graph's OpenAPI 3 (generated from OData CSDL): derived types through allOf, required properties checked,
    /// an object held to the schema its @odata.type names (a user inside a directoryObject collection; the discriminator),
    /// and OData control information (@odata.context, @odata.nextLink...) allowed beside the properties, as strings.
    /// </summary>
    public static readonly JsonSchemaDialect OData = new() { CheckRequired = true, ODataTypes = true };

    public bool FreeFormObjects { get; init; }
    public bool ODataTypes { get; init; }
    public bool CheckRequired { get; init; }
    public IReadOnlyList<string> NullableFormats { get; init; } = [];
}

/// <summary>
/// Checks a JSON value against a schema of a published contract. Stricter than the services' own validators on purpose:
/// a property the contract does not name is an error (a misspelt field is silently ignored by most servers).
/// </summary>
public sealed class JsonSchemaCheck(JsonObject root, JsonSchemaDialect dialect)
{
    /// <summary>The schema a reference points at ("#/definitions/X" or "#/components/schemas/X"), followed through chains of references.</summary>
    public JsonObject Resolve(JsonNode node)
    {
        var obj = node.AsObject();
        while (obj["$ref"] is JsonValue reference)
        {
            JsonNode current = root;
            foreach (var part in reference.GetValue<string>().TrimStart('#', '/').Split('/')) current = current[part]!;
            obj = current.AsObject();
        }
        return obj;
    }

    /// <summary>One schema with its allOf parts folded in (Kubernetes writes every reference as allOf: [$ref] beside a default).</summary>
    public JsonObject Effective(JsonNode node) => _effective.GetOrAdd(node, n => Merge(n));

    // Schemas are read-only once loaded: merge each once (responses are checked on every request, lists are large).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<JsonNode, JsonObject> _effective = new(ReferenceEqualityComparer.Instance);

    private JsonObject Merge(JsonNode node)
    {
        var schema = Resolve(node);
        if (schema["allOf"] is not JsonArray parts) return schema;
        var merged = new JsonObject();
        foreach (var (key, value) in schema)
            if (key != "allOf") merged[key] = value?.DeepClone();
        foreach (var part in parts)
        {
            var effective = Effective(part!);
            foreach (var (key, value) in effective)
            {
                if (key == "properties" && merged["properties"] is JsonObject existing && value is JsonObject more)
                    foreach (var (name, property) in more) existing[name] = property?.DeepClone();
                else if (key == "required" && merged["required"] is JsonArray required && value is JsonArray moreRequired)
                    foreach (var name in moreRequired) required.Add(name?.DeepClone());
                else if (!merged.ContainsKey(key)) merged[key] = value?.DeepClone();
            }
        }
        return merged;
    }

    public void Validate(JsonNode schemaNode, JsonNode? value, string where, List<string> errors)
    {
        var schema = Effective(schemaNode);
        if (dialect.ODataTypes && value is JsonObject typed && typed["@odata.type"] is JsonValue odataType && odataType.GetValueKind() == JsonValueKind.String
            && root["components"]?["schemas"]?[odataType.GetValue<string>().TrimStart('#')] is JsonObject derived && !ReferenceEquals(derived, Resolve(schemaNode)))
        {
            if (!DerivesFrom(derived, Resolve(schemaNode))) errors.Add($"{where}: @odata.type {odataType} does not derive from the declared type");
            else schema = Effective(derived);
        }
        if (value is null)
        {
            var format = schema["format"]?.GetValue<string>();
            var nullable = schema["x-nullable"]?.GetValue<bool>() == true || schema["nullable"]?.GetValue<bool>() == true
                || (format is not null && dialect.NullableFormats.Contains(format));
            if (!nullable) errors.Add($"{where}: null where the contract does not allow it");
            return;
        }
        if (schema["oneOf"] is JsonArray choices)
        {
            if (!choices.Any(c => { var inner = new List<string>(); Validate(c!, value, where, inner); return inner.Count == 0; }))
                errors.Add($"{where}: {value.ToJsonString()} matches none of {choices.ToJsonString()}");
            return;
        }
        if (schema["format"]?.GetValue<string>() == "int-or-string")
        {
            if (value.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number)) errors.Add($"{where}: expected an integer or a string, got {value.GetValueKind()}");
            return;
        }
        var type = schema["type"]?.GetValue<string>() ?? (schema["properties"] is not null || schema["additionalProperties"] is not null ? "object" : null);
        switch (type)
        {
            case "object": ValidateObject(schema, value, where, errors); break;
            case "array":
                if (value is not JsonArray array) { errors.Add($"{where}: expected an array, got {value.GetValueKind()}"); return; }
                for (var i = 0; i < array.Count; i++) Validate(schema["items"]!, array[i], $"{where}[{i}]", errors);
                break;
            case "string":
                if (value.GetValueKind() != JsonValueKind.String) { errors.Add($"{where}: expected a string, got {value.GetValueKind()}"); return; }
                var text = value.GetValue<string>();
                if (schema["format"]?.GetValue<string>() == "date-time" && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
                    errors.Add($"{where}: '{text}' is not a date-time");
                if (schema["enum"] is JsonArray values && values.All(v => v!.ToString() != text)) errors.Add($"{where}: '{text}' is not one of {values.ToJsonString()}");
                if (schema["maxLength"] is JsonValue maxLength && text.Length > maxLength.GetValue<long>()) errors.Add($"{where}: longer than {maxLength}");
                break;
            case "integer":
                if (value.GetValueKind() != JsonValueKind.Number || !long.TryParse(value.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
                { errors.Add($"{where}: expected an integer, got {value.ToJsonString()}"); return; }
                if (schema["format"]?.GetValue<string>() == "int32" && integer is > int.MaxValue or < int.MinValue) errors.Add($"{where}: {integer} does not fit int32");
                break;
            case "number":
                if (value.GetValueKind() != JsonValueKind.Number) errors.Add($"{where}: expected a number, got {value.GetValueKind()}");
                break;
            case "boolean":
                if (value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) errors.Add($"{where}: expected a boolean, got {value.GetValueKind()}");
                break;
        }
    }

    private bool DerivesFrom(JsonObject schema, JsonObject ancestor) =>
        ReferenceEquals(schema, ancestor) || (schema["allOf"] is JsonArray parts && parts.Any(p => DerivesFrom(Resolve(p!), ancestor)));

    private void ValidateObject(JsonObject schema, JsonNode value, string where, List<string> errors)
    {
        if (value is not JsonObject obj) { errors.Add($"{where}: expected an object, got {value.GetValueKind()}"); return; }
        var properties = schema["properties"] as JsonObject;
        var freeForm = dialect.FreeFormObjects && properties is null && schema["additionalProperties"] is null
            || schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true;
        foreach (var (name, child) in obj)
        {
            if (properties?[name] is { } propertySchema) Validate(propertySchema, child, $"{where}.{name}", errors);
            else if (dialect.ODataTypes && name.StartsWith("@odata.", StringComparison.Ordinal))
            {
                // OData control information is part of OData's JSON format, not of the schema.
                if (child?.GetValueKind() != JsonValueKind.String) errors.Add($"{where}.{name}: OData control information must be a string");
            }
            else if (schema["additionalProperties"] is JsonObject additional)
            {
                if (additional.Count > 0) Validate(additional, child, $"{where}.{name}", errors);
            }
            else if (!freeForm) errors.Add($"{where}: property '{name}' is not in the contract");
        }
        if (dialect.CheckRequired && schema["required"] is JsonArray required)
            foreach (var name in required.Select(r => r!.GetValue<string>()))
                if (!obj.ContainsKey(name)) errors.Add($"{where}: required property '{name}' is missing");
    }

    /// <summary>
    /// The fields of <paramref name="value"/> the schema does not declare, as paths ("spec.replica"): what the API server's
    /// strict decoding reports (k8s.io/apimachinery/pkg/runtime/serializer/json: unknown field "spec.replica").
    /// When <paramref name="drop"/> is set they are also removed, as the decoder drops them (fieldValidation Ignore and Warn).
    /// </summary>
    public void UnknownFields(JsonNode schemaNode, JsonNode? value, string path, List<string> unknown, bool drop = false)
    {
        if (value is null) return;
        var schema = Effective(schemaNode);
        if (value is JsonObject obj)
        {
            var properties = schema["properties"] as JsonObject;
            if ((properties is null && schema["additionalProperties"] is null) || schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true) return;
            var dropped = new List<string>();
            foreach (var (name, child) in obj)
            {
                var childPath = path.Length == 0 ? name : $"{path}.{name}";
                if (properties?[name] is { } propertySchema) UnknownFields(propertySchema, child, childPath, unknown, drop);
                else if (schema["additionalProperties"] is JsonObject additional) UnknownFields(additional, child, childPath, unknown, drop);
                else { unknown.Add(childPath); dropped.Add(name); }
            }
            if (drop) foreach (var name in dropped) obj.Remove(name);
        }
        else if (value is JsonArray array && schema["items"] is { } items)
        {
            for (var i = 0; i < array.Count; i++) UnknownFields(items, array[i], $"{path}[{i}]", unknown, drop);
        }
    }
}
