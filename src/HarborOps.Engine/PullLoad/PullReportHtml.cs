using System.Globalization;
using System.Net;
using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.PullLoad;

/// <summary>
/// Measure-RegistryPull's report: one self-contained HTML file (no script, no external style, font or image) with the
/// summary table, the distribution of time to pulled per registry (cumulative, so registries compare on one chart) and
/// the pulls in flight over time, both as inline SVG. Every name in it is HTML-encoded: a registry or image name is
/// data, never markup. Written to a temporary file beside the target and moved over it, so a failed write leaves the
/// previous report whole.
/// </summary>
internal static class PullReportHtml
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
    private const int Width = 760, Height = 340, Left = 64, Right = 16, Top = 40, Bottom = 44;

    public static void Write(string path, string load, string platform, IReadOnlyList<RegistryPullRun> runs)
    {
        var html = Render(load, platform, runs);
        var full = Path.GetFullPath(path);
        var temp = full + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            File.WriteAllText(temp, html, new UTF8Encoding(false));
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // Best effort: the error below is what the user needs; a leftover temporary file must not replace it.
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new HarborOpsException(PullLoadErrorIds.ReportNotWritten, FailureKind.InvalidArgument,
                $"The pull report could not be written to '{full}': {ex.Message} Pass a -ReportPath in a folder you can write to.", full, ex);
        }
    }

    internal static string Render(string load, string platform, IReadOnlyList<RegistryPullRun> runs)
    {
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Registry pull measurement</title>\n<style>")
         .Append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:14px}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}")
         .Append("th:first-child,td:first-child{text-align:left}svg{background:#fafafa;border:1px solid #ddd;margin:8px 0}.axis{stroke:#888}.grid{stroke:#e4e4e4}text{font-size:12px;fill:#444}")
         .Append("</style></head><body>\n");
        b.Append("<h1>Registry pull measurement</h1>\n<p>Load: ").Append(E(load)).Append(", platform ").Append(E(platform))
         .Append(". Each pull downloads and verifies every layer, as a node without the image does; registries were measured one after the other under the same load.</p>\n");
        AppendTable(b, runs);
        b.Append("<h2>Time to pulled</h2>\n<p>Share of pulls done within a time, from arrival (pod scheduled) to every layer verified.</p>\n");
        AppendDistribution(b, runs);
        b.Append("<h2>Pulls in flight</h2>\n<p>Pulls downloading at each moment, from the start of each registry's run.</p>\n");
        AppendInFlight(b, runs);
        b.Append("</body></html>\n");
        return b.ToString();
    }

    private static void AppendTable(StringBuilder b, IReadOnlyList<RegistryPullRun> runs)
    {
        b.Append("<table id=\"summary\"><tr><th>Registry</th><th>Pulled</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>manifest p50</th><th>throughput</th><th>peak</th><th>429s</th><th>errors</th></tr>\n");
        foreach (var s in runs.Select(r => r.Summary))
        {
            b.Append("<tr><td>").Append(E(s.Registry)).Append("</td><td>").Append(s.Succeeded).Append('/').Append(s.Pulls)
             .Append("</td><td>").Append(Ms(s.P50)).Append("</td><td>").Append(Ms(s.P95)).Append("</td><td>").Append(Ms(s.P99))
             .Append("</td><td>").Append(Ms(s.Max)).Append("</td><td>").Append(Ms(s.ManifestP50))
             .Append("</td><td>").Append(E(ByteCount.Format((long)s.BytesPerSecond) + "/s")).Append("</td><td>").Append(s.PeakInFlight)
             .Append("</td><td>").Append(s.Throttled).Append("</td><td>")
             .Append(E(string.Join(", ", s.Errors.Select(e => $"{e.Key} {e.Value}")))).Append("</td></tr>\n");
        }
        b.Append("</table>\n");
    }

    private static void AppendDistribution(StringBuilder b, IReadOnlyList<RegistryPullRun> runs)
    {
        var (maxMs, msStep) = NiceScale(runs.SelectMany(r => r.Pulls).Where(p => p.Succeeded).Select(p => p.TimeToPulled.TotalMilliseconds).DefaultIfEmpty(1).Max(), integral: false);
        OpenChart(b, "latency-distribution", "Time to pulled, cumulative share of pulls");
        Axes(b, maxMs, msStep, "time to pulled (ms)", 100, 25, "% of pulls");
        for (var i = 0; i < runs.Count; i++)
        {
            var sorted = runs[i].Pulls.Where(p => p.Succeeded).Select(p => p.TimeToPulled.TotalMilliseconds).Order().ToList();
            if (sorted.Count == 0) continue;
            var points = new StringBuilder().Append(X(0, maxMs)).Append(',').Append(Y(0, 100));
            for (var k = 0; k < sorted.Count; k++)
            {
                points.Append(' ').Append(X(sorted[k], maxMs)).Append(',').Append(Y(100.0 * k / sorted.Count, 100));
                points.Append(' ').Append(X(sorted[k], maxMs)).Append(',').Append(Y(100.0 * (k + 1) / sorted.Count, 100));
            }
            Series(b, i, runs[i].Summary.Registry, points.ToString());
        }
        Legend(b, runs);
        b.Append("</svg>\n");
    }

    private static void AppendInFlight(StringBuilder b, IReadOnlyList<RegistryPullRun> runs)
    {
        // At millisecond resolution: a node ending one pull and starting the next is not a dip worth drawing.
        var steps = runs.Select(r => PullStatistics.InFlight(r.Pulls, TimeSpan.FromMilliseconds(1))).ToList();
        var (maxSeconds, secondsStep) = NiceScale(steps.SelectMany(s => s).Select(s => s.At.TotalSeconds).DefaultIfEmpty(0.001).Max(), integral: false);
        var (maxCount, countStep) = NiceScale(steps.SelectMany(s => s).Select(s => (double)s.Count).DefaultIfEmpty(1).Max(), integral: true);
        OpenChart(b, "pulls-in-flight", "Pulls in flight over time");
        Axes(b, maxSeconds, secondsStep, "since the run's start (s)", maxCount, countStep, "pulls in flight");
        for (var i = 0; i < runs.Count; i++)
        {
            if (steps[i].Count == 0) continue;
            var points = new StringBuilder().Append(X(0, maxSeconds)).Append(',').Append(Y(0, maxCount));
            var previous = 0;
            foreach (var (at, count) in steps[i])
            {
                points.Append(' ').Append(X(at.TotalSeconds, maxSeconds)).Append(',').Append(Y(previous, maxCount));
                points.Append(' ').Append(X(at.TotalSeconds, maxSeconds)).Append(',').Append(Y(count, maxCount));
                previous = count;
            }
            Series(b, i, runs[i].Summary.Registry, points.ToString());
        }
        Legend(b, runs);
        b.Append("</svg>\n");
    }

    private static void OpenChart(StringBuilder b, string id, string title) =>
        b.Append("<svg id=\"").Append(id).Append("\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(Width).Append("\" height=\"").Append(Height)
         .Append("\" viewBox=\"0 0 ").Append(Width).Append(' ').Append(Height).Append("\" role=\"img\"><title>").Append(E(title)).Append("</title>\n");

    private static void Axes(StringBuilder b, double maxX, double stepX, string xUnit, double maxY, double stepY, string yUnit)
    {
        for (var y = 0.0; y <= maxY + (stepY / 2); y += stepY)
        {
            var at = Y(y, maxY);
            b.Append("<line class=\"grid\" x1=\"").Append(Left).Append("\" x2=\"").Append(Width - Right).Append("\" y1=\"").Append(at).Append("\" y2=\"").Append(at).Append("\"/>")
             .Append("<text x=\"").Append(Left - 6).Append("\" y=\"").Append(N(double.Parse(at, CultureInfo.InvariantCulture) + 4, "0.#")).Append("\" text-anchor=\"end\">").Append(N(y, "0.###")).Append("</text>\n");
        }
        for (var x = 0.0; x <= maxX + (stepX / 2); x += stepX)
        {
            b.Append("<text x=\"").Append(X(x, maxX)).Append("\" y=\"").Append(Height - Bottom + 16).Append("\" text-anchor=\"middle\">").Append(N(x, "0.###")).Append("</text>\n");
        }
        b.Append("<line class=\"axis\" x1=\"").Append(Left).Append("\" y1=\"").Append(Height - Bottom).Append("\" x2=\"").Append(Width - Right).Append("\" y2=\"").Append(Height - Bottom).Append("\"/>")
         .Append("<line class=\"axis\" x1=\"").Append(Left).Append("\" y1=\"").Append(Top).Append("\" x2=\"").Append(Left).Append("\" y2=\"").Append(Height - Bottom).Append("\"/>")
         .Append("<text x=\"").Append((Left + Width - Right) / 2).Append("\" y=\"").Append(Height - 8).Append("\" text-anchor=\"middle\">").Append(E(xUnit)).Append("</text>")
         .Append("<text x=\"14\" y=\"").Append((Top + Height - Bottom) / 2).Append("\" transform=\"rotate(-90 14 ").Append((Top + Height - Bottom) / 2).Append(")\" text-anchor=\"middle\">").Append(E(yUnit)).Append("</text>\n");
    }

    /// <summary>An axis end and tick step people read at a glance: about four ticks of 1, 2 or 5 times a power of ten.</summary>
    internal static (double Max, double Step) NiceScale(double max, bool integral)
    {
        max = Math.Max(max, integral ? 1 : 1e-3);
        var raw = max / 4;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var normalized = raw / magnitude;
        var step = (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude;
        if (integral) step = Math.Max(1, Math.Ceiling(step));
        return (Math.Ceiling((max / step) - 1e-9) * step, step);
    }

    private static void Series(StringBuilder b, int index, string registry, string points) =>
        b.Append("<polyline class=\"series\" data-registry=\"").Append(E(registry)).Append("\" fill=\"none\" stroke-width=\"2\" stroke=\"")
         .Append(Colors[index % Colors.Length]).Append("\" points=\"").Append(points).Append("\"/>\n");

    private static void Legend(StringBuilder b, IReadOnlyList<RegistryPullRun> runs)
    {
        // Above the plot, one entry after another, so no line runs under it.
        var x = Left;
        for (var i = 0; i < runs.Count; i++)
        {
            b.Append("<rect x=\"").Append(x).Append("\" y=\"12\" width=\"10\" height=\"10\" fill=\"").Append(Colors[i % Colors.Length]).Append("\"/>")
             .Append("<text x=\"").Append(x + 16).Append("\" y=\"21\">").Append(E(runs[i].Summary.Registry)).Append("</text>\n");
            x += 40 + (7 * Math.Min(60, runs[i].Summary.Registry.Length));
        }
    }

    private static string X(double value, double max) => N(Left + ((Width - Left - Right) * Math.Clamp(value / max, 0, 1)), "0.#");
    private static string Y(double value, double max) => N(Height - Bottom - ((Height - Top - Bottom) * Math.Clamp(value / max, 0, 1)), "0.#");
    private static string Ms(TimeSpan t) => N(t.TotalMilliseconds, "0") + " ms";
    private static string N(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
    private static string E(string text) => WebUtility.HtmlEncode(text);
}
