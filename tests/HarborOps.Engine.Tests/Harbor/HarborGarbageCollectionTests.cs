using System.Text.Json.Nodes;
using HarborOps.Engine.Harbor;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>Issue 19, item 7: garbage collection schedule, dry run, run, history with freed bytes and waiting, against the emulator and the swagger.</summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborGarbageCollectionTests(HarborLabFixture lab) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await lab.Admin().SetGarbageCollectionScheduleAsync("None", null, false, null, false, None);
        lab.AssertExchangesMatchContract();
    }

    /// <summary>The bytes Harbor's GC frees for a deleted image no one else references: its manifest, config and layers.</summary>
    private static long BytesOf(PushedImage image)
    {
        var manifest = JsonNode.Parse(image.ManifestBytes)!;
        return image.ManifestBytes.Length + manifest["config"]!["size"]!.GetValue<long>() + manifest["layers"]!.AsArray().Sum(l => l!["size"]!.GetValue<long>());
    }

    private async Task<long> DeletedImageBytesAsync()
    {
        var admin = lab.Admin();
        var project = lab.Unique("gc");
        await admin.CreateProjectAsync(project, new HarborProjectSettings(), None);
        var image = await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, project + "/app", "1.0", new LabImageOptions { LayerSize = 4096 });
        await admin.DeleteProjectAsync(project, deleteRepositories: true, None);
        return BytesOf(image);
    }

    [Fact]
    public async Task A_dry_run_reports_the_bytes_a_deleted_image_would_free_and_a_real_run_then_frees_them_once()
    {
        var admin = lab.Admin();
        // Other tests of the collection delete artifacts too: a real run first empties Harbor's trash of theirs.
        await admin.WaitForGarbageCollectionAsync((await admin.StartGarbageCollectionAsync(false, false, null, None)).Id, TimeSpan.FromSeconds(20), null, None);
        var expected = await DeletedImageBytesAsync();
        var progress = new List<OperationProgress>();

        var dry = await admin.StartGarbageCollectionAsync(dryRun: true, deleteUntagged: false, workers: 2, None);
        Assert.Equal("Running", dry.Status);
        Assert.Null(dry.FreedBytes);
        dry = await admin.WaitForGarbageCollectionAsync(dry.Id, TimeSpan.FromSeconds(20), new SyncProgress(progress.Add), None);

        Assert.Equal("Success", dry.Status);
        Assert.True(dry.DryRun);
        Assert.Equal(2, dry.Workers);
        Assert.Equal("Manual", dry.Trigger);
        Assert.Equal(expected, dry.FreedBytes);
        Assert.Contains(progress, p => p.Status.StartsWith("Running", StringComparison.Ordinal));
        Assert.True(progress[^1].IsComplete);

        var real = await admin.WaitForGarbageCollectionAsync((await admin.StartGarbageCollectionAsync(false, true, null, None)).Id, TimeSpan.FromSeconds(20), null, None);
        Assert.Equal(expected, real.FreedBytes);
        Assert.True(real.DeleteUntagged);
        Assert.False(real.DryRun);
        var again = await admin.WaitForGarbageCollectionAsync((await admin.StartGarbageCollectionAsync(false, false, null, None)).Id, TimeSpan.FromSeconds(20), null, None);
        Assert.Equal(0, again.FreedBytes);

        var history = await admin.ListGarbageCollectionsAsync(None);
        Assert.Equal([again.Id, real.Id, dry.Id], history.Take(3).Select(r => r.Id));
        Assert.Equal(expected, history[1].FreedBytes);
        Assert.Contains("actual frees up", await admin.GetGarbageCollectionLogAsync(real.Id, None), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_that_fails_ends_in_Error_and_its_failure_carries_the_last_line_of_its_log()
    {
        var admin = lab.Admin();
        lab.Harbor.FailNextGarbageCollection("failed to delete blob sha256:abc: storage driver timeout");

        var run = await admin.WaitForGarbageCollectionAsync((await admin.StartGarbageCollectionAsync(false, false, null, None)).Id, TimeSpan.FromSeconds(20), null, None);
        var failure = await admin.GarbageCollectionFailureAsync(run, None);

        Assert.Equal("Error", run.Status);
        Assert.Equal(HarborErrorIds.GarbageCollectionFailed, failure.ErrorId);
        Assert.Contains("storage driver timeout", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"-Id {run.Id}", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_gives_up_at_the_timeout_and_says_the_run_goes_on()
    {
        var admin = lab.Admin();
        lab.Harbor.GcDuration = TimeSpan.FromSeconds(5);
        try
        {
            var run = await admin.StartGarbageCollectionAsync(true, false, null, None);
            var timeout = await Assert.ThrowsAsync<HarborException>(() => admin.WaitForGarbageCollectionAsync(run.Id, TimeSpan.FromMilliseconds(200), null, None));
            Assert.Equal(HarborErrorIds.GarbageCollectionTimeout, timeout.ErrorId);
            Assert.Contains("goes on in Harbor", timeout.Message, StringComparison.Ordinal);
        }
        finally
        {
            lab.Harbor.GcDuration = TimeSpan.FromMilliseconds(400);
        }
    }

    [Fact]
    public async Task A_schedule_is_set_read_back_with_its_parameters_and_removed()
    {
        var admin = lab.Admin();

        var weekly = await admin.SetGarbageCollectionScheduleAsync("weekly", null, deleteUntagged: true, workers: 3, dryRun: false, None);
        Assert.Equal("Weekly", weekly.Schedule);
        Assert.Equal("0 0 0 * * 0", weekly.Cron);
        Assert.True(weekly.DeleteUntagged);
        Assert.Equal(3, weekly.Workers);
        Assert.Equal(DayOfWeek.Sunday, weekly.NextRun!.Value.UtcDateTime.DayOfWeek);

        var custom = await admin.SetGarbageCollectionScheduleAsync("Custom", "0 30 2 * * 6", false, null, true, None);
        Assert.Equal(("Custom", "0 30 2 * * 6", true), (custom.Schedule, custom.Cron, custom.DryRun));
        Assert.Equal((DayOfWeek.Saturday, 2, 30), (custom.NextRun!.Value.UtcDateTime.DayOfWeek, custom.NextRun.Value.UtcDateTime.Hour, custom.NextRun.Value.Minute));

        var none = await admin.SetGarbageCollectionScheduleAsync("None", null, false, null, false, None);
        Assert.Equal("None", none.Schedule);
        Assert.Null(none.Cron);
    }

    [Theory]
    [InlineData("Custom", null, "needs -Cron")]
    [InlineData("Custom", "0 2 * * 6", "six fields")]
    [InlineData("Custom", "5 0 2 * * 6", "six fields")]
    [InlineData("Monthly", null, "not a garbage collection schedule")]
    public async Task A_schedule_Harbor_would_refuse_is_refused_before_anything_is_sent(string schedule, string? cron, string said)
    {
        lab.Harbor.ClearExchanges();
        var failure = await Assert.ThrowsAsync<HarborException>(() => lab.Admin().SetGarbageCollectionScheduleAsync(schedule, cron, false, null, false, None));

        Assert.Equal(HarborErrorIds.RequestInvalid, failure.ErrorId);
        Assert.Contains(said, failure.Message, StringComparison.Ordinal);
        Assert.Empty(lab.Harbor.Exchanges);
    }

    [Fact]
    public async Task The_emulator_refuses_a_bad_cron_and_too_many_workers_as_Harbor_does()
    {
        var admin = lab.Admin();
        var cron = await Assert.ThrowsAsync<HarborException>(() => admin.SetGarbageCollectionScheduleAsync("Daily", "0 0 25 * * *", false, null, false, None));
        Assert.Equal(400, cron.StatusCode);
        var workers = await Assert.ThrowsAsync<HarborException>(() => admin.StartGarbageCollectionAsync(false, false, 11, None));
        Assert.Equal(HarborErrorIds.RequestInvalid, workers.ErrorId);
    }

    [Fact]
    public async Task Someone_who_is_not_a_system_admin_may_not_read_or_run_garbage_collection()
    {
        var user = lab.Unique("gc-user");
        lab.Harbor.AddUser(user, "GcUser12345");
        var client = lab.As(user, "GcUser12345");

        var list = await Assert.ThrowsAsync<HarborException>(() => client.ListGarbageCollectionsAsync(None));
        var start = await Assert.ThrowsAsync<HarborException>(() => client.StartGarbageCollectionAsync(true, false, null, None));
        var missing = await Assert.ThrowsAsync<HarborException>(() => lab.Admin().GetGarbageCollectionAsync(987654, None));

        Assert.Equal(HarborErrorIds.PermissionDenied, list.ErrorId);
        Assert.Equal(HarborErrorIds.PermissionDenied, start.ErrorId);
        Assert.Equal(HarborErrorIds.GarbageCollectionNotFound, missing.ErrorId);
    }

    private sealed class SyncProgress(Action<OperationProgress> report) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value) => report(value);
    }
}
