using System.Text.RegularExpressions;

namespace HarborOps.Engine;

/// <summary>
/// PowerShell-style wildcards (<c>*</c> any run, <c>?</c> one character, case-insensitive) as one regex, for every
/// name filter of the engine: tags, namespaces, workloads, file globs. A neutral helper, so Kube, Rotation and CutOver
/// need not reach into the registry engine for it.
/// </summary>
internal static class Wildcard
{
    /// <remarks>Anchored with <c>\z</c>, not <c>$</c>, which would also match before a final newline.</remarks>
    public static Regex ToRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "\\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
}
