namespace HarborOps.Engine.Registry.Auth;

/// <summary>
/// A token scope "type:name:action[,action]" (distribution scope.md). The name may contain a colon (host:port), so the
/// type ends at the first colon and the actions start after the last.
/// </summary>
internal sealed record TokenScope(string Type, string Name, IReadOnlySet<string> Actions)
{
    public static string Repository(string repository, params string[] actions) => $"repository:{repository}:{string.Join(',', actions)}";
    public const string Catalog = "registry:catalog:*";

    public static TokenScope? Parse(string text)
    {
        var first = text.IndexOf(':');
        var last = text.LastIndexOf(':');
        if (first <= 0 || last <= first) return null;
        var actions = text[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new TokenScope(text[..first], text[(first + 1)..last], new SortedSet<string>(actions, StringComparer.Ordinal));
    }

    public string Resource => Type + ":" + Name;

    public bool Covers(TokenScope other) =>
        Resource == other.Resource && (Actions.Contains("*") || other.Actions.All(Actions.Contains));

    public override string ToString() => $"{Type}:{Name}:{string.Join(',', Actions)}";

    /// <summary>
    /// Merges scopes per resource (actions unioned), keeping the order of first appearance: the caller lists the scope
    /// it needs now first, because some token servers only honour the first scope parameter.
    /// </summary>
    public static IReadOnlyList<string> Union(IEnumerable<string> scopes)
    {
        var order = new List<string>();
        var merged = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var opaque = new List<string>();
        foreach (var text in scopes)
        {
            var scope = Parse(text);
            if (scope is null) { if (!opaque.Contains(text)) opaque.Add(text); continue; }
            if (!merged.TryGetValue(scope.Resource, out var actions))
            {
                merged[scope.Resource] = actions = new SortedSet<string>(StringComparer.Ordinal);
                order.Add(scope.Resource);
            }
            actions.UnionWith(scope.Actions);
        }
        return order.Select(r => $"{r}:{string.Join(',', merged[r])}").Concat(opaque).ToArray();
    }

    /// <summary>True when the granted set covers every needed scope.</summary>
    public static bool AllCovered(IEnumerable<string> granted, IEnumerable<string> needed)
    {
        var have = granted.Select(Parse).Where(s => s is not null).ToList();
        var grantedText = granted.ToHashSet(StringComparer.Ordinal);
        foreach (var text in needed)
        {
            var want = Parse(text);
            if (want is null) { if (!grantedText.Contains(text)) return false; continue; }
            if (!have.Any(h => h!.Covers(want))) return false;
        }
        return true;
    }
}
