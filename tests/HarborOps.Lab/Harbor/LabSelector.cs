using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Harbor;

/// <summary>
/// Harbor's doublestar selector (goharbor/harbor v2.15.2 src/lib/selector/selectors/doublestar/selector.go) over
/// bmatcuk/doublestar's Match: '*' any run of characters but '/', '**' across '/', '?' one character but '/', [class],
/// {alternatives}; an empty pattern matches everything. Decorations: matches / excludes on tags (an artifact is
/// selected by matches when any tag matches, by excludes when any tag does not; an untagged one by the extras'
/// "untagged", which defaults to true for matches and false for excludes, and excludes selects an untagged artifact
/// when untagged is false), repoMatches / repoExcludes on the repository name without its project.
/// </summary>
public static class LabSelector
{
    public static readonly string[] TagDecorations = ["matches", "excludes"];
    public static readonly string[] RepositoryDecorations = ["repoMatches", "repoExcludes"];

    public static bool Match(string pattern, string value) => pattern.Length == 0 || Compile(pattern).IsMatch(value);

    public static bool SelectsRepository(JsonNode? selector, string repository)
    {
        var decoration = selector?["decoration"]?.GetValue<string>() ?? "";
        var matched = Match(selector?["pattern"]?.GetValue<string>() ?? "", repository);
        return decoration == "repoExcludes" ? !matched : matched;
    }

    public static bool SelectsTags(JsonNode? selector, IReadOnlyList<string> tags, bool? untaggedOverride = null)
    {
        var decoration = selector?["decoration"]?.GetValue<string>() ?? "matches";
        var pattern = selector?["pattern"]?.GetValue<string>() ?? "";
        var untagged = untaggedOverride ?? decoration != "excludes";
        if (untaggedOverride is null && selector?["extras"]?.GetValue<string>() is { Length: > 0 } extras)
        {
            try
            {
                if (JsonNode.Parse(extras)?["untagged"] is JsonValue u && u.TryGetValue<bool>(out var given)) untagged = given;
            }
            catch (System.Text.Json.JsonException)
            {
                // Harbor ignores extras it cannot read and keeps the default.
            }
        }
        if (tags.Count == 0) return decoration == "excludes" ? !untagged : untagged;
        return decoration == "excludes" ? tags.Any(t => !Match(pattern, t)) : tags.Any(t => Match(pattern, t));
    }

    private static Regex Compile(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/') { i++; regex.Append("(?:.*/)?"); }
                    else regex.Append(".*");
                    break;
                case '*': regex.Append("[^/]*"); break;
                case '?': regex.Append("[^/]"); break;
                case '{': regex.Append("(?:"); break;
                case '}': regex.Append(')'); break;
                case ',' when regex.ToString().Count(ch => ch == '(') > regex.ToString().Count(ch => ch == ')'): regex.Append('|'); break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end < 0) { regex.Append("\\["); break; }
                    var body = pattern[(i + 1)..end];
                    regex.Append('[').Append(body.StartsWith('!') || body.StartsWith('^') ? "^" + Regex.Escape(body[1..]) : Regex.Escape(body)).Append(']');
                    i = end;
                    break;
                case '\\' when i + 1 < pattern.Length: regex.Append(Regex.Escape(pattern[++i].ToString())); break;
                default: regex.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
