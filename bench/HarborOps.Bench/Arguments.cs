namespace HarborOps.Bench;

/// <summary>The bench's command line: the command, then --name value pairs and --flags in any order.</summary>
internal sealed class Arguments
{
    private readonly List<string> items;
    public Arguments(string[] args) { items = args.ToList(); }
    public string Command => items.Count > 0 ? items[0] : "";
    public string? Value(string name)
    {
        var i = items.IndexOf(name);
        return i >= 0 && i + 1 < items.Count ? items[i + 1] : null;
    }
    public IEnumerable<string> Values(string name)
    {
        for (var i = 0; i < items.Count - 1; i++) if (items[i] == name) yield return items[i + 1];
    }
    public bool Flag(string name) => items.Contains(name);
    public int Int(string name, int fallback) => int.TryParse(Value(name), out var v) ? v : fallback;
}
