using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace HarborOps.Completion;

/// <summary>
/// What the completers share: names filtered by what the user typed so far (a prefix, case-insensitive), quoted when
/// they hold a space, and the path arguments of the line resolved the way the cmdlet would resolve them.
/// </summary>
internal static class CompletionList
{
    public static IEnumerable<CompletionResult> Matching(IEnumerable<string> names, string? wordToComplete)
    {
        var typed = (wordToComplete ?? "").Trim('\'', '"');
        return names.Where(n => n.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal)
            .Select(n => new CompletionResult(NeedsQuotes(n) ? $"'{n.Replace("'", "''")}'" : n, n, CompletionResultType.ParameterValue, n))
            .ToList();
    }

    // Harbor's robot names hold '$' (robot$team+ci), which PowerShell would expand unquoted.
    private static bool NeedsQuotes(string name) => name.Any(c => !(char.IsLetterOrDigit(c) || c is '.' or '-' or '_' or ':' or '/' or '@' or '+'));

    /// <summary>A string argument already on the line, or null (absent, or not a plain value such as a variable).</summary>
    /// <summary>
    /// The engine's completion lists are asynchronous and bounded by their own deadlines; PowerShell asks a completer
    /// synchronously, so this is the one place that waits for them (off the pipeline thread's context).
    /// </summary>
    public static IReadOnlyList<string> Await(Task<IReadOnlyList<string>> names) => Task.Run(() => names).GetAwaiter().GetResult();

    public static string? Bound(IDictionary fakeBoundParameters, string name) =>
        fakeBoundParameters.Contains(name) && fakeBoundParameters[name] is string value && value.Length > 0 ? value : null;

    /// <summary>A path on the line, resolved against PowerShell's location (not the process's), as the cmdlet does.</summary>
    public static string? BoundPath(IDictionary fakeBoundParameters, string name)
    {
        var path = Bound(fakeBoundParameters, name);
        if (path is null || Path.IsPathRooted(path)) return path;
        try
        {
            return Runspace.DefaultRunspace?.SessionStateProxy.Path.GetUnresolvedProviderPathFromPSPath(path) ?? Path.GetFullPath(path);
        }
        catch (Exception)
        {
            return Path.GetFullPath(path);
        }
    }

    public static bool IsInCluster(IDictionary fakeBoundParameters) =>
        fakeBoundParameters.Contains("InCluster") && LanguagePrimitives.IsTrue(fakeBoundParameters["InCluster"]);
}
