using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// A file of project usage snapshots the user names (CSV or JSON by its extension), so that repeated runs of
/// Get-HarborProjectUsage -HistoryPath answer "how fast does each team's storage grow". Each append reads the file,
/// adds a timestamped row per project and replaces the file by renaming a temporary file written beside it, under an
/// exclusive lock file: a crash leaves the old file whole, and concurrent runs queue instead of losing rows. A file
/// that exists and is not such a history (another CSV header, another JSON document, a symbolic link) is refused,
/// never overwritten.
/// </summary>
public static class HarborUsageHistory
{
    public const string CsvHeader = "Timestamp,Harbor,Project,ProjectId,UsedBytes,QuotaBytes";
    public const string JsonFormat = "harborops.project-usage-history/1";

    public sealed record Row(DateTimeOffset Timestamp, string Harbor, string Project, int ProjectId, long UsedBytes, long QuotaBytes);

    public static async Task AppendAsync(string path, IReadOnlyList<HarborProjectUsage> usage, DateTimeOffset at, TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var full = Checked(path);
        using var gate = await LockAsync(full, lockTimeout, cancellationToken).ConfigureAwait(false);
        var rows = File.Exists(full) ? Parse(full, await File.ReadAllTextAsync(full, cancellationToken).ConfigureAwait(false)) : [];
        rows.AddRange(usage.Select(u => new Row(at, u.Harbor, u.Project, u.ProjectId, u.UsedBytes, u.QuotaBytes)));
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await File.WriteAllTextAsync(temporary, Format(full, rows), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static async Task<IReadOnlyList<Row>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var full = Checked(path);
        if (!File.Exists(full))
            throw Invalid(full, $"There is no usage history at {full} yet; Get-HarborProjectUsage -HistoryPath {path} writes one snapshot per run.");
        return Parse(full, await File.ReadAllTextAsync(full, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Per Harbor and project: the first and last snapshot and the growth per day between them.</summary>
    public static IReadOnlyList<HarborProjectUsageGrowth> Growth(IEnumerable<Row> rows) =>
        rows.GroupBy(r => (r.Harbor, r.Project)).Select(g =>
        {
            var ordered = g.OrderBy(r => r.Timestamp).ToList();
            var (first, last) = (ordered[0], ordered[^1]);
            var days = (last.Timestamp - first.Timestamp).TotalDays;
            return new HarborProjectUsageGrowth
            {
                Harbor = g.Key.Harbor, Project = g.Key.Project, Since = first.Timestamp, Until = last.Timestamp, Snapshots = ordered.Count,
                FirstUsedBytes = first.UsedBytes, LastUsedBytes = last.UsedBytes, QuotaBytes = last.QuotaBytes,
                BytesPerDay = days > 0 ? Math.Round((last.UsedBytes - first.UsedBytes) / days, 1) : null,
            };
        }).OrderByDescending(g => g.BytesPerDay ?? double.MinValue).ThenBy(g => g.Project, StringComparer.Ordinal).ToList();

    private static string Checked(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw Invalid(path, "-HistoryPath needs a file name ending in .csv or .json.");
        var full = Path.GetFullPath(path);
        var extension = Path.GetExtension(full).ToLowerInvariant();
        if (extension is not (".csv" or ".json"))
            throw Invalid(full, $"The usage history {full} must end in .csv or .json; that decides its format.");
        if (new FileInfo(full).LinkTarget is not null)
            throw Invalid(full, $"{full} is a symbolic link; HarborOps writes its usage history only to a plain file, so that a link cannot make it overwrite something else.");
        if (!Directory.Exists(Path.GetDirectoryName(full)))
            throw Invalid(full, $"The folder of {full} does not exist; create it first.");
        return full;
    }

    private static async Task<FileStream> LockAsync(string full, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new HarborOpsException(HarborErrorIds.UsageHistoryBusy, FailureKind.Timeout,
                    $"Another run kept {full}.lock for {timeout.TotalSeconds:0} s; the snapshot was not written. Try again, or remove the lock file if no run is going on.", full, ex);
            }
        }
    }

    private static List<Row> Parse(string full, string text)
    {
        if (text.Length == 0) return [];
        return full.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ParseJson(full, text) : ParseCsv(full, text);
    }

    private static List<Row> ParseCsv(string full, string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0) return [];
        if (lines[0] != CsvHeader) throw Foreign(full, $"its first line is not {CsvHeader}");
        var rows = new List<Row>();
        foreach (var (line, number) in lines.Skip(1).Select((l, i) => (l, i + 2)))
        {
            var cells = SplitCsv(line);
            if (cells.Count != 6 || !DateTimeOffset.TryParse(cells[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
                || !int.TryParse(cells[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
                || !long.TryParse(cells[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var used)
                || !long.TryParse(cells[5], NumberStyles.Integer, CultureInfo.InvariantCulture, out var quota))
                throw Foreign(full, $"line {number} is not a snapshot row");
            rows.Add(new Row(at, cells[1], cells[2], id, used, quota));
        }
        return rows;
    }

    private static List<Row> ParseJson(string full, string text)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(text); }
        catch (JsonException) { throw Foreign(full, "it is not JSON"); }
        if (root?["format"]?.GetValueKind() != JsonValueKind.String || root["format"]!.GetValue<string>() != JsonFormat || root["snapshots"] is not JsonArray snapshots)
            throw Foreign(full, $"it is not a {JsonFormat} document");
        try
        {
            return snapshots.Select(s => new Row(DateTimeOffset.Parse(s!["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                s["harbor"]!.GetValue<string>(), s["project"]!.GetValue<string>(), s["projectId"]!.GetValue<int>(), s["usedBytes"]!.GetValue<long>(),
                s["quotaBytes"]!.GetValue<long>())).ToList();
        }
        catch (Exception ex) when (ex is NullReferenceException or InvalidOperationException or FormatException or JsonException)
        {
            throw Foreign(full, "a snapshot in it lacks a field");
        }
    }

    private static string Format(string full, List<Row> rows)
    {
        static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        if (full.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            var snapshots = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
            {
                ["timestamp"] = Time(r.Timestamp), ["harbor"] = r.Harbor, ["project"] = r.Project, ["projectId"] = r.ProjectId,
                ["usedBytes"] = r.UsedBytes, ["quotaBytes"] = r.QuotaBytes,
            }).ToArray());
            return new JsonObject { ["format"] = JsonFormat, ["snapshots"] = snapshots }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        }
        var csv = new StringBuilder(CsvHeader).Append('\n');
        foreach (var r in rows)
            csv.Append(Time(r.Timestamp)).Append(',').Append(Quote(r.Harbor)).Append(',').Append(Quote(r.Project)).Append(',')
                .Append(r.ProjectId.ToString(CultureInfo.InvariantCulture)).Append(',').Append(r.UsedBytes.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(r.QuotaBytes.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return csv.ToString();
    }

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static List<string> SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }

    private static HarborOpsException Foreign(string full, string why) =>
        Invalid(full, $"{full} exists and is not a HarborOps usage history ({why}); it was left as it is. Name a new file, or one an earlier -HistoryPath run wrote.");

    private static HarborOpsException Invalid(string target, string message) =>
        new(HarborErrorIds.UsageHistoryInvalid, FailureKind.InvalidArgument, message, target);
}
