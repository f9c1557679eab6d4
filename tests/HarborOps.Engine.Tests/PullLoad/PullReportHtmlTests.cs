using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;
using HarborOps.Engine.PullLoad;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.PullLoad;

/// <summary>The HTML report as a file a browser opens: self-contained, its names data and never markup, written whole or not at all.</summary>
public sealed class PullReportHtmlTests
{
    private static RegistryPullRun Run(string registry, params int[] milliseconds)
    {
        var pulls = milliseconds.Select((ms, i) => new RegistryPullResult
        {
            Registry = registry, Image = $"{registry}/team/app:1", Sequence = i, Node = i % 2, ArrivedAt = TimeSpan.FromMilliseconds(i * 100),
            Started = TimeSpan.FromMilliseconds(i * 100), Ended = TimeSpan.FromMilliseconds((i * 100) + ms), TimeToPulled = TimeSpan.FromMilliseconds(ms),
            Bytes = 1000, Succeeded = ms > 0, ErrorKind = ms > 0 ? null : "RegistryThrottled",
        }).ToList();
        return new RegistryPullRun(PullStatistics.Summarize(registry, "4 pulls over 0.4 s on 2 node(s)", pulls, null), pulls);
    }

    [Fact]
    public void The_report_has_both_charts_with_one_series_per_registry_and_nothing_it_would_fetch()
    {
        var html = PullReportHtml.Render("4 pulls over 0.4 s on 2 node(s)", "linux/amd64", [Run("acr.example", 120, 140, 160, 0), Run("harbor.example", 300, 320, 500, 700)]);
        foreach (var id in new[] { "summary", "latency-distribution", "pulls-in-flight" })
            Assert.Contains($"id=\"{id}\"", html, StringComparison.Ordinal);
        Assert.Equal(4, Regex.Matches(html, "<polyline class=\"series\"").Count);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("RegistryThrottled 1", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hostile_name_in_the_report_is_text_not_markup()
    {
        var html = PullReportHtml.Render("<b>load</b>", "linux/amd64", [Run("evil\"><script>alert(1)</script>", 100)]);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>load", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-registry=\"evil\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_report_that_cannot_be_written_is_a_clear_error_and_the_previous_report_stays_whole()
    {
        var folder = Directory.CreateTempSubdirectory("harborops-report-");
        try
        {
            var path = Path.Combine(folder.FullName, "pulls.html");
            File.WriteAllText(path, "previous report");
            // A directory where the temporary file would go makes the write fail after the report was rendered.
            var blocked = Path.Combine(folder.FullName, "missing", "pulls.html");
            var failure = Assert.Throws<HarborOpsException>(() => PullReportHtml.Write(blocked, "load", "linux/amd64", [Run("a.example", 100)]));
            Assert.Equal(PullLoadErrorIds.ReportNotWritten, failure.ErrorId);
            Assert.Contains(blocked, failure.Message, StringComparison.Ordinal);
            Assert.Equal("previous report", File.ReadAllText(path));

            PullReportHtml.Write(path, "load", "linux/amd64", [Run("a.example", 100)]);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(path), StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(folder.FullName));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(394, false, 400, 100)]
    [InlineData(0.894, false, 1, 0.2)]
    [InlineData(3, true, 3, 1)]
    [InlineData(37, true, 40, 10)]
    public void Chart_axes_end_on_round_numbers_with_about_four_ticks(double max, bool integral, double niceMax, double step)
    {
        var (actualMax, actualStep) = PullReportHtml.NiceScale(max, integral);
        Assert.Equal(niceMax, actualMax, 6);
        Assert.Equal(step, actualStep, 6);
    }
}
