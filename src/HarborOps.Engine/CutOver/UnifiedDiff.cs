using System.Text;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// A unified diff of a rewrite. Replacements never add or remove a line break, so old and new have the same lines and
/// the diff pairs them by number: hunks of changed lines with three lines of context, as diff -u prints them.
/// </summary>
internal static class UnifiedDiff
{
    private const int Context = 3;

    public static string Create(string path, string oldText, string newText)
    {
        var oldLines = Lines(oldText);
        var newLines = Lines(newText);
        if (oldLines.Length != newLines.Length)
            throw new InvalidOperationException("A rewrite changed the number of lines; replacements must stay within their lines.");
        var changed = Enumerable.Range(0, oldLines.Length).Where(i => oldLines[i] != newLines[i]).ToList();
        if (changed.Count == 0) return "";
        var diff = new StringBuilder();
        var display = path.Replace('\\', '/');
        diff.Append("--- a/").Append(display.TrimStart('/')).Append('\n');
        diff.Append("+++ b/").Append(display.TrimStart('/')).Append('\n');
        var index = 0;
        while (index < changed.Count)
        {
            var first = Math.Max(0, changed[index] - Context);
            var last = Math.Min(oldLines.Length - 1, changed[index] + Context);
            var end = index;
            while (end + 1 < changed.Count && changed[end + 1] - Context <= last + 1)
            {
                end++;
                last = Math.Min(oldLines.Length - 1, changed[end] + Context);
            }
            var count = last - first + 1;
            diff.Append($"@@ -{first + 1},{count} +{first + 1},{count} @@\n");
            for (var line = first; line <= last; line++)
            {
                if (oldLines[line] == newLines[line])
                    diff.Append(' ').Append(oldLines[line]).Append('\n');
                else
                {
                    diff.Append('-').Append(oldLines[line]).Append('\n');
                    diff.Append('+').Append(newLines[line]).Append('\n');
                }
            }
            index = end + 1;
        }
        return diff.ToString();
    }

    /// <summary>Lines without their breaks (a CRLF file diffs like an LF one; the bytes written keep the CRs).</summary>
    private static string[] Lines(string text)
    {
        var lines = text.Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
        return lines.Select(l => l.TrimEnd('\r')).ToArray();
    }
}
