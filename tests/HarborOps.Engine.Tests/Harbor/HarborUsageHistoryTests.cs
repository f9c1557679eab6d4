using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>Issue 19, item 9: the usage history file Get-HarborProjectUsage -HistoryPath keeps, and the growth read back from it.</summary>
public sealed class HarborUsageHistoryTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset Day0 = new(2026, 11, 1, 6, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Directory.CreateTempSubdirectory("harborops-usage-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static HarborProjectUsage Usage(string project, long used, long quota = -1) =>
        new() { Harbor = "https://harbor.example.com/", Project = project, ProjectId = project.Length, UsedBytes = used, QuotaBytes = quota };

    [Theory]
    [InlineData("usage.csv")]
    [InlineData("usage.json")]
    public async Task Snapshots_appended_over_ten_days_give_each_teams_growth_per_day_and_days_to_quota(string name)
    {
        var path = Path.Combine(_folder, name);
        await HarborUsageHistory.AppendAsync(path, [Usage("team-a", 1_000_000, 11_000_000), Usage("team-b", 500)], Day0, TimeSpan.FromSeconds(5), None);
        await HarborUsageHistory.AppendAsync(path, [Usage("team-a", 3_000_000, 11_000_000), Usage("team-b", 500)], Day0.AddDays(4), TimeSpan.FromSeconds(5), None);
        await HarborUsageHistory.AppendAsync(path, [Usage("team-a", 6_000_000, 11_000_000), Usage("team-b", 400)], Day0.AddDays(10), TimeSpan.FromSeconds(5), None);

        var growth = HarborUsageHistory.Growth(await HarborUsageHistory.ReadAsync(path, None));

        Assert.Equal(["team-a", "team-b"], growth.Select(g => g.Project));
        var a = growth[0];
        Assert.Equal((3, 5_000_000L, 500_000.0, 10.0), (a.Snapshots, a.GrowthBytes, a.BytesPerDay!.Value, a.DaysToQuota!.Value));
        Assert.Equal((Day0, Day0.AddDays(10)), (a.Since, a.Until));
        Assert.Equal((-100L, -10.0), (growth[1].GrowthBytes, growth[1].BytesPerDay!.Value));
        Assert.Null(growth[1].DaysToQuota);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Theory]
    [InlineData("notes.csv", "name,owner\nteam-a,alice\n")]
    [InlineData("config.json", "{\"format\":\"something-else\",\"snapshots\":[]}")]
    [InlineData("broken.json", "{ not json")]
    public async Task A_file_that_is_not_a_usage_history_is_refused_and_left_as_it_was(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        await File.WriteAllTextAsync(path, content);

        var failure = await Assert.ThrowsAsync<HarborOpsException>(() => HarborUsageHistory.AppendAsync(path, [Usage("team-a", 1)], Day0, TimeSpan.FromSeconds(5), None));

        Assert.Equal(HarborErrorIds.UsageHistoryInvalid, failure.ErrorId);
        Assert.Contains("left as it is", failure.Message, StringComparison.Ordinal);
        Assert.Equal(content, await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_symbolic_link_is_refused_so_a_planted_link_cannot_redirect_the_write()
    {
        var victim = Path.Combine(_folder, "victim.txt");
        await File.WriteAllTextAsync(victim, "precious");
        var link = Path.Combine(_folder, "usage.csv");
        File.CreateSymbolicLink(link, victim);

        var failure = await Assert.ThrowsAsync<HarborOpsException>(() => HarborUsageHistory.AppendAsync(link, [Usage("team-a", 1)], Day0, TimeSpan.FromSeconds(5), None));

        Assert.Equal(HarborErrorIds.UsageHistoryInvalid, failure.ErrorId);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim));
    }

    [Fact]
    public async Task A_name_without_csv_or_json_is_refused()
    {
        var failure = await Assert.ThrowsAsync<HarborOpsException>(() =>
            HarborUsageHistory.AppendAsync(Path.Combine(_folder, "usage.txt"), [Usage("team-a", 1)], Day0, TimeSpan.FromSeconds(5), None));
        Assert.Contains(".csv or .json", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_runs_lose_no_rows()
    {
        var path = Path.Combine(_folder, "usage.csv");

        // Eight writers, twelve snapshots each, started together: without the lock, two read the same file and one's rows vanish.
        using var start = new ManualResetEventSlim();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Factory.StartNew(async () =>
        {
            start.Wait();
            for (var n = 0; n < 12; n++)
                await HarborUsageHistory.AppendAsync(path, [Usage($"team-{w}-{n:00}", n)], Day0.AddMinutes(n), TimeSpan.FromSeconds(60), None);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();
        start.Set();
        await Task.WhenAll(writers);

        var rows = await HarborUsageHistory.ReadAsync(path, None);
        Assert.Equal(96, rows.Count);
        Assert.Equal(96, rows.Select(r => r.Project).Distinct().Count());
    }

    [Fact]
    public async Task A_Harbor_URL_with_a_comma_survives_the_CSV_round_trip()
    {
        var path = Path.Combine(_folder, "usage.csv");
        var odd = new HarborProjectUsage { Harbor = "https://harbor.example.com/a,\"b\"/", Project = "team-a", UsedBytes = 7, QuotaBytes = -1 };
        await HarborUsageHistory.AppendAsync(path, [odd], Day0, TimeSpan.FromSeconds(5), None);

        Assert.Equal(odd.Harbor, Assert.Single(await HarborUsageHistory.ReadAsync(path, None)).Harbor);
    }
}
