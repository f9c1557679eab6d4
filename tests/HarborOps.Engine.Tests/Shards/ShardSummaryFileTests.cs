using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Scope;
using HarborOps.Engine.Shards;
using HarborOps.Engine.Tests.Migration;
using Xunit;

namespace HarborOps.Engine.Tests.Shards;

/// <summary>
/// -ShardSummaryPath: a shard that stops on bad input still leaves its summary (all a Kubernetes Job keeps of a failed
/// pod), and a path that cannot be written stops the run before it does anything.
/// </summary>
public sealed class ShardSummaryFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("harborops-shard-summary-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ShardSummary Written(string path) => ShardSummary.Parse(File.ReadAllText(path), path);

    [Fact]
    public async Task A_copy_stopped_by_bad_input_leaves_a_summary_naming_the_error()
    {
        var path = Path.Combine(_directory, "copy.json");
        using var engine = CopyLabFixture.NewEngine();
        var request = new CopyRequest(["127.0.0.1:1/team/app"], "127.0.0.1:1/Not-Lowercase")
        {
            Shard = ShardPartition.Create(3, 2, ShardBy.Repository, null),
            ShardSummaryPath = path,
        };

        var error = await Assert.ThrowsAnyAsync<HarborOpsException>(() => new ImageCopier(engine).CopyAsync(request, null, null, default));

        var summary = Written(path);
        Assert.Equal((ShardSummaryKind.Copy, 2, 3), (summary.Kind, summary.ShardIndex, summary.ShardCount));
        Assert.Equal(error.ErrorId, summary.Failures[0].ErrorId);
        Assert.Equal("127.0.0.1:1/team/app", summary.Failures[0].Reference);
    }

    [Fact]
    public async Task A_comparison_stopped_by_bad_input_leaves_a_summary_naming_the_error()
    {
        var path = Path.Combine(_directory, "parity.json");
        using var engine = CopyLabFixture.NewEngine();
        var request = new ParityRequest(["127.0.0.1:1/team/app"], "127.0.0.1:1/Not-Lowercase") { ShardSummaryPath = path };

        var error = await Assert.ThrowsAnyAsync<HarborOpsException>(() => new ParityChecker(engine).CompareAsync(request, null, _ => { }, null, default));

        var summary = Written(path);
        Assert.Equal((ShardSummaryKind.Parity, 0, 1), (summary.Kind, summary.ShardIndex, summary.ShardCount));
        Assert.Equal(error.ErrorId, summary.Failures[0].ErrorId);
    }

    [Fact]
    public async Task A_summary_path_that_cannot_be_written_stops_the_run_before_it_reads_a_registry()
    {
        var path = Path.Combine(_directory, "no-such-directory", "summary.json");
        using var engine = CopyLabFixture.NewEngine();
        // An unreachable source: a run that started would fail on it instead.
        var request = new CopyRequest(["127.0.0.1:1/team/app"], "127.0.0.1:1/migrated") { ShardSummaryPath = path };

        var error = await Assert.ThrowsAsync<ShardException>(() => new ImageCopier(engine).CopyAsync(request, null, null, default));

        Assert.Equal(ShardErrorIds.SummaryWriteFailed, error.ErrorId);
        Assert.True(error.IsTerminating);
        Assert.Contains(path, error.Message);
        Assert.Contains("-ShardSummaryPath", error.Message);
        Assert.False(File.Exists(path));
    }
}
