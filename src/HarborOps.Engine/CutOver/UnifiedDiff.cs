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
        // Line starts and spans, not line strings: a file of a million lines would otherwise be copied twice over.
        var oldStarts = LineStarts(oldText);
        var newStarts = LineStarts(newText);
        if (oldStarts.Count != newStarts.Count)
            throw new InvalidOperationException("A rewrite changed the number of lines; replacements must stay within their lines.");
        var count = oldStarts.Count;
        ReadOnlySpan<char> Old(int line) => Line(oldText, oldStarts, line);
        ReadOnlySpan<char> New(int line) => Line(newText, newStarts, line);
        var changed = new List<int>();
        for (var line = 0; line < count; line++)
            if (!Old(line).SequenceEqual(New(line))) changed.Add(line);
        if (changed.Count == 0) return "";
        var diff = new StringBuilder();
        var display = path.Replace('\\', '/');
        diff.Append("--- a/").Append(display.TrimStart('/')).Append('\n');
        diff.Append("+++ b/").Append(display.TrimStart('/')).Append('\n');
        var index = 0;
        while (index < changed.Count)
        {
            var first = Math.Max(0, changed[index] - Context);
            var last = Math.Min(count - 1, changed[index] + Context);
            var end = index;
            while (end + 1 < changed.Count && changed[end + 1] - Context <= last + 1)
            {
                end++;
                last = Math.Min(count - 1, changed[end] + Context);
            }
            var lines = last - first + 1;
            diff.Append($"@@ -{first + 1},{lines} +{first + 1},{lines} @@\n");
            for (var line = first; line <= last; line++)
            {
                if (Old(line).SequenceEqual(New(line)))
                    diff.Append(' ').Append(Old(line)).Append('\n');
                else
                {
                    diff.Append('-').Append(Old(line)).Append('\n');
                    diff.Append('+').Append(New(line)).Append('\n');
                }
            }
            index = end + 1;
        }
        return diff.ToString();
    }

    /// <summary>Where each line starts; a final line break does not start another line.</summary>
    private static List<int> LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = text.IndexOf('\n'); i >= 0 && i + 1 < text.Length; i = text.IndexOf('\n', i + 1))
            starts.Add(i + 1);
        if (text.Length == 0) starts.Clear();
        return starts;
    }

    /// <summary>A line without its break (a CRLF file diffs like an LF one; the bytes written keep the CRs).</summary>
    private static ReadOnlySpan<char> Line(string text, List<int> starts, int line)
    {
        var start = starts[line];
        var end = line + 1 < starts.Count ? starts[line + 1] - 1 : text.Length;
        if (end > start && text[end - 1] == '\n') end--;
        return text.AsSpan(start, end - start).TrimEnd('\r');
    }
}
