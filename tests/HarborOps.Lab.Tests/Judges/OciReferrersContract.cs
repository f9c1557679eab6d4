using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HarborOps.Lab.Contracts;

namespace HarborOps.Lab.Tests.Judges;

/// <summary>
/// Holds an answer of <c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;</c> to the OCI specs (tests/contracts/oci/README.md):
/// image-spec v1.1.1's image-index schema for the body, distribution-spec v1.1.1's "Listing Referrers" for what a schema
/// cannot say (status, Content-Type, artifactType on each descriptor, the artifactType filter and its header).
/// </summary>
public static class OciReferrersContract
{
    public const string IndexMediaType = "application/vnd.oci.image.index.v1+json";

    private static readonly Lazy<(JsonSchemaCheck Check, JsonObject Index, Regex Digest, Regex MediaType)> Loaded = new(Load);

    /// <summary>What in one answer breaks the specs; <paramref name="query"/> is the request's query string ("?artifactType=...").</summary>
    public static List<string> Problems(int status, string? contentType, string body, string query, string? filtersApplied)
    {
        var problems = new List<string>();
        // 400 (a malformed digest), 401/403 (access) and 405 carry Distribution's error body; a registry with the API never
        // answers 404 ("MUST NOT return a 404 Not Found to a referrers API request"): clients read it as "no referrers API".
        if (status != 200)
        {
            if (status == 404) problems.Add("status 404: a registry with the referrers API must not answer 404 (clients then fall back to the tag schema)");
            else if (status is not (400 or 401 or 403 or 405)) problems.Add($"status {status} is none the spec names for the referrers API");
            return problems;
        }
        if (contentType?.Split(';')[0].Trim() != IndexMediaType) problems.Add($"Content-Type is '{contentType}', the spec says {IndexMediaType}");
        JsonNode? root;
        try { root = JsonNode.Parse(body); }
        catch (JsonException ex) { problems.Add($"the body is not JSON: {ex.Message}"); return problems; }
        var (check, index, digest, mediaType) = Loaded.Value;
        check.Validate(index, root, "$", problems);
        if (root?["mediaType"]?.GetValue<string>() != IndexMediaType) problems.Add($"$.mediaType is not {IndexMediaType}");
        var filter = QueryValue(query, "artifactType");
        if (filter is not null && !(filtersApplied ?? "").Split(',').Any(f => f.Trim() == "artifactType"))
            problems.Add("an artifactType filter was asked for and the answer has no 'OCI-Filters-Applied: artifactType' (then every referrer must be listed)");
        var descriptors = root?["manifests"] as JsonArray ?? [];
        for (var i = 0; i < descriptors.Count; i++)
        {
            if (descriptors[i] is not JsonObject descriptor) continue;
            var where = $"$.manifests[{i}]";
            if (descriptor["digest"]?.GetValue<string>() is { } d && !digest.IsMatch(d)) problems.Add($"{where}.digest '{d}' is not a digest");
            foreach (var field in new[] { "mediaType", "artifactType" })
                if (descriptor[field]?.GetValue<string>() is { } type && !mediaType.IsMatch(type)) problems.Add($"{where}.{field} '{type}' is not a media type");
            var isIndex = descriptor["mediaType"]?.GetValue<string>() == IndexMediaType;
            // A manifest's descriptor always has one (its artifactType, else its config's media type); an index's may not.
            if (!isIndex && descriptor["artifactType"] is null) problems.Add($"{where}: a manifest's descriptor without artifactType");
            if (filtersApplied is not null && filter is not null && descriptor["artifactType"]?.GetValue<string>() != filter)
                problems.Add($"{where}: artifactType '{descriptor["artifactType"]}' in an answer filtered to '{filter}'");
        }
        return problems;
    }

    private static string? QueryValue(string query, string name) =>
        query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => Uri.UnescapeDataString(p[0]) == name)
            .Select(p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))
            .FirstOrDefault();

    private static (JsonSchemaCheck, JsonObject, Regex, Regex) Load()
    {
        var definitions = new JsonObject();
        foreach (var file in new[] { "image-index-schema.json", "content-descriptor.json", "defs-descriptor.json", "defs.json" })
        {
            var schema = JsonNode.Parse(File.ReadAllText(SwaggerContract.ContractPath("oci", file)))!;
            Adapt(schema, file);
            definitions[file] = schema;
        }
        // image-spec descriptor.md defines artifactType on every descriptor and distribution-spec requires it in a referrers
        // answer; image-index-schema.json v1.1.1 leaves it out of manifests[] items (README: the in-memory additions).
        definitions["image-index-schema.json"]!["properties"]!["manifests"]!["items"]!["properties"]!["artifactType"] =
            new JsonObject { ["$ref"] = "#/definitions/defs-descriptor.json/definitions/mediaType" };
        var root = new JsonObject { ["definitions"] = definitions };
        var patterns = definitions["defs-descriptor.json"]!["definitions"]!;
        return (new JsonSchemaCheck(root, JsonSchemaDialect.Swagger2 with { CheckRequired = true }),
            definitions["image-index-schema.json"]!.AsObject(),
            new Regex(patterns["digest"]!["pattern"]!.GetValue<string>()),
            new Regex(patterns["mediaType"]!["pattern"]!.GetValue<string>()));
    }

    /// <summary>File references become references inside the one document; the any-key patternProperties becomes additionalProperties.</summary>
    private static void Adapt(JsonNode node, string file)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue reference)
                {
                    var text = reference.GetValue<string>();
                    var hash = text.IndexOf('#');
                    var (target, pointer) = hash < 0 ? (text, "") : (hash == 0 ? file : text[..hash], text[(hash + 1)..]);
                    obj["$ref"] = $"#/definitions/{target}{pointer}";
                }
                if (obj["patternProperties"] is JsonObject patterns && patterns.Count == 1 && patterns.First().Key == ".{1,}")
                {
                    var value = patterns.First().Value!.DeepClone();
                    obj.Remove("patternProperties");
                    obj["additionalProperties"] = value;
                }
                foreach (var (_, child) in obj.ToList())
                    if (child is not null) Adapt(child, file);
                break;
            case JsonArray array:
                foreach (var child in array)
                    if (child is not null) Adapt(child, file);
                break;
        }
    }
}
