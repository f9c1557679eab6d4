namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// The Job status' index lists (completedIndexes, failedIndexes): "represented as a text format ... numbers are listed
/// in increasing order. Three or more consecutive numbers are compressed and represented by the first and last element
/// of the series, separated by a hyphen", e.g. "1,3-5,7" (batch/v1 JobStatus in the Kubernetes OpenAPI,
/// tests/contracts/kubernetes/apis__batch__v1_openapi.json). The text comes from the API server, so it is read as
/// hostile: only indexes inside 0..completions-1 count, a range is clipped to them (never expanded beyond), and a
/// malformed element is reported instead of thrown, so "0-2147483647" or "x" cannot exhaust memory or crash the report.
/// </summary>
public static class CompletionIndexes
{
    /// <summary>The indexes in <paramref name="text"/> below <paramref name="completions"/>, and whether any part was malformed.</summary>
    public static (SortedSet<int> Indexes, bool Malformed) Parse(string? text, int completions)
    {
        var indexes = new SortedSet<int>();
        var malformed = false;
        if (string.IsNullOrEmpty(text) || completions <= 0) return (indexes, false);
        // the list never holds more elements than there are indexes; a longer text is not the controller's
        if (text.Length > 12 * completions + 16) return (indexes, true);
        foreach (var part in text.Split(','))
        {
            var dash = part.IndexOf('-');
            int first, last;
            if (dash < 0)
            {
                if (!TryIndex(part, out first)) { malformed = true; continue; }
                last = first;
            }
            else if (!TryIndex(part[..dash], out first) || !TryIndex(part[(dash + 1)..], out last) || last < first)
            {
                malformed = true;
                continue;
            }
            if (first >= completions) { malformed = true; continue; }
            if (last >= completions) malformed = true;
            for (var i = first; i <= Math.Min(last, completions - 1); i++) indexes.Add(i);
        }
        return (indexes, malformed);
    }

    private static bool TryIndex(string text, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 9) return false;
        foreach (var c in text)
            if (c is < '0' or > '9') return false;
        value = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>The controller's own format: increasing, three or more consecutive numbers as "first-last".</summary>
    public static string Format(IEnumerable<int> indexes)
    {
        var sorted = indexes.Distinct().Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            if (j - i >= 2) parts.Add($"{sorted[i]}-{sorted[j]}");
            else for (var k = i; k <= j; k++) parts.Add(sorted[k].ToString(System.Globalization.CultureInfo.InvariantCulture));
            i = j + 1;
        }
        return string.Join(',', parts);
    }
}
