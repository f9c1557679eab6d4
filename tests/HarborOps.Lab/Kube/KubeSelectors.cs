using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Kube;

/// <summary>
/// Label selectors as the API server parses them: equality (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>), set-based
/// (<c>a in (x,y)</c>, <c>a notin (x)</c>), existence (<c>a</c>, <c>!a</c>), comma meaning AND. Bad syntax is a 400.
/// </summary>
public sealed partial class KubeLabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _requirements = [];

    public static KubeLabelSelector Parse(string? text)
    {
        var selector = new KubeLabelSelector();
        if (string.IsNullOrWhiteSpace(text)) return selector;
        foreach (var part in SplitTopLevel(text))
        {
            var requirement = part.Trim();
            Match m;
            if ((m = SetRequirement().Match(requirement)).Success)
            {
                var key = ValidKey(m.Groups["key"].Value, text);
                var values = m.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries).Where(v => v.Length > 0).ToHashSet(StringComparer.Ordinal);
                if (values.Count == 0) throw KubeApiError.BadRequest($"unable to parse requirement: values: Invalid value: \"{requirement}\": for 'in', 'notin' operators, values set can't be empty");
                var negate = m.Groups["op"].Value == "notin";
                selector._requirements.Add(labels => labels.TryGetValue(key, out var v) ? values.Contains(v) != negate : negate);
            }
            else if ((m = EqualityRequirement().Match(requirement)).Success)
            {
                var key = ValidKey(m.Groups["key"].Value, text);
                var value = m.Groups["value"].Value.Trim();
                var negate = m.Groups["op"].Value == "!=";
                selector._requirements.Add(labels => labels.TryGetValue(key, out var v) ? (v == value) != negate : negate);
            }
            else if ((m = ExistsRequirement().Match(requirement)).Success)
            {
                var key = ValidKey(m.Groups["key"].Value, text);
                var negate = m.Groups["not"].Success;
                selector._requirements.Add(labels => labels.ContainsKey(key) != negate);
            }
            else
            {
                throw KubeApiError.BadRequest($"unable to parse requirement: found '{requirement}', expected: in, notin, =, ==, !=, gt, lt");
            }
        }
        return selector;
    }

    /// <summary>A LabelSelector object (matchLabels, matchExpressions) as workloads carry it.</summary>
    public static KubeLabelSelector FromObject(JsonObject? selectorObject)
    {
        var selector = new KubeLabelSelector();
        if (selectorObject is null) return selector;
        if (selectorObject["matchLabels"] is JsonObject matchLabels)
            foreach (var (key, value) in matchLabels)
            {
                var expected = value?.GetValue<string>();
                selector._requirements.Add(labels => labels.TryGetValue(key, out var v) && v == expected);
            }
        if (selectorObject["matchExpressions"] is JsonArray expressions)
            foreach (var expression in expressions.OfType<JsonObject>())
            {
                var key = expression["key"]!.GetValue<string>();
                var values = (expression["values"] as JsonArray ?? []).Select(v => v!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                Func<IReadOnlyDictionary<string, string>, bool> test = expression["operator"]?.GetValue<string>() switch
                {
                    "In" => labels => labels.TryGetValue(key, out var v) && values.Contains(v),
                    "NotIn" => labels => !labels.TryGetValue(key, out var v) || !values.Contains(v),
                    "Exists" => labels => labels.ContainsKey(key),
                    "DoesNotExist" => labels => !labels.ContainsKey(key),
                    var op => throw KubeApiError.BadRequest($"\"{op}\" is not a valid label selector operator"),
                };
                selector._requirements.Add(test);
            }
        return selector;
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _requirements.All(r => r(labels));

    public bool Matches(JsonObject item) => Matches(LabelsOf(item));

    public static IReadOnlyDictionary<string, string> LabelsOf(JsonObject item) =>
        (item["metadata"]?["labels"] as JsonObject)?.ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? "", StringComparer.Ordinal)
        ?? new Dictionary<string, string>();

    private static string ValidKey(string key, string whole)
    {
        if (!LabelKey().IsMatch(key)) throw KubeApiError.BadRequest($"unable to parse requirement: <nil>: Invalid value: \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
        return key;
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    [GeneratedRegex(@"^(?<key>[^\s!=(),]+)\s+(?<op>in|notin)\s*\((?<values>[^)]*)\)$")]
    private static partial Regex SetRequirement();

    [GeneratedRegex(@"^(?<key>[^\s!=(),]+)\s*(?<op>==|=|!=)\s*(?<value>[A-Za-z0-9_.\-]*)$")]
    private static partial Regex EqualityRequirement();

    [GeneratedRegex(@"^(?<not>!)?\s*(?<key>[^\s!=(),]+)$")]
    private static partial Regex ExistsRequirement();

    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex LabelKey();
}

/// <summary>Field selectors: <c>field=value</c>, <c>field==value</c>, <c>field!=value</c>, only on the fields each
/// resource supports (anything else is the API server's 400 "field label not supported").</summary>
public sealed class KubeFieldSelector
{
    private readonly List<(string Field, string Value, bool Negate)> _terms = [];

    public static KubeFieldSelector Parse(string? text, KubeResourceType type)
    {
        var selector = new KubeFieldSelector();
        if (string.IsNullOrWhiteSpace(text)) return selector;
        foreach (var raw in text.Split(','))
        {
            var term = raw.Trim();
            var negate = term.Contains("!=", StringComparison.Ordinal);
            var parts = term.Split(negate ? "!=" : term.Contains("==", StringComparison.Ordinal) ? "==" : "=", 2);
            if (parts.Length != 2) throw KubeApiError.BadRequest($"invalid selector: '{text}'; can't understand '{term}'");
            var field = parts[0].Trim();
            if (!type.FieldLabels.Contains(field)) throw KubeApiError.BadRequest($"field label not supported: {field}");
            selector._terms.Add((field, parts[1].Trim(), negate));
        }
        return selector;
    }

    public bool Matches(JsonObject item) => _terms.All(t => (ValueOf(item, t.Field) == t.Value) != t.Negate);

    private static string ValueOf(JsonObject item, string path)
    {
        JsonNode? node = item;
        foreach (var segment in path.Split('.')) node = node?[segment];
        return node switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => node.ToJsonString(),
        };
    }
}
