using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Tests.Child;
using Xunit;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>-JournalPath against what users point it at by mistake: a file that is no journal, a journal another run holds.</summary>
public sealed class CopyJournalSafetyTests : IDisposable
{
    private const string Registry = "dest.example:5000";
    private readonly string _folder = Directory.CreateTempSubdirectory("harborops-journal-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> ForeignFiles => ["text", "binary"];

    [Theory]
    [MemberData(nameof(ForeignFiles))]
    public async Task A_file_that_is_not_a_journal_is_refused_by_name_and_keeps_every_byte_and_its_time(string kind)
    {
        var path = Path.Combine(_folder, kind == "text" ? "notes.txt" : "backup.tar");
        byte[] content;
        if (kind == "text")
            content = "first line\nsecond line\nthe last line, without a newline"u8.ToArray();
        else
        {
            content = new byte[35_664];
            new Random(13).NextBytes(content);
        }
        File.WriteAllBytes(path, content);
        var time = new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, time);

        var error = await Assert.ThrowsAsync<HarborOpsException>(() => CopyJournal.OpenAsync(path, Registry, default));

        Assert.Equal(CopyErrorIds.JournalNotAJournal, error.ErrorId);
        Assert.True(error.IsTerminating);
        Assert.Equal(path, error.Target);
        Assert.Contains(path, error.Message);
        Assert.Contains("-JournalPath", error.Message);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(time, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public async Task An_empty_file_and_a_header_cut_short_by_a_crash_become_a_journal()
    {
        var empty = Path.Combine(_folder, "empty.journal");
        File.WriteAllBytes(empty, []);
        var torn = Path.Combine(_folder, "torn.journal");
        File.WriteAllText(torn, "# HarborOps copy jo");

        foreach (var path in new[] { empty, torn })
        {
            await using (var journal = await CopyJournal.OpenAsync(path, Registry, default))
                await journal.RecordRepositoryStartedAsync("migrated/a", default);
            Assert.Equal($"# HarborOps copy journal v1\nrepository\t{Registry}\tmigrated/a\t-\n", File.ReadAllText(path));
        }
    }

    [Fact]
    public async Task A_journal_another_run_of_this_process_holds_is_refused_and_the_holder_loses_no_line()
    {
        var path = Path.Combine(_folder, "copy.journal");
        var digest = "sha256:" + new string('d', 64);
        await using (var first = await CopyJournal.OpenAsync(path, Registry, default))
        {
            await first.RecordBlobAsync("migrated/a", digest, default);

            var error = await Assert.ThrowsAsync<HarborOpsException>(() => CopyJournal.OpenAsync(path, Registry, default));

            AssertInUse(error, path);
            await first.RecordBlobAsync("migrated/b", digest, default);
        }
        Assert.Equal($"# HarborOps copy journal v1\nblob\t{Registry}\tmigrated/a\t{digest}\nblob\t{Registry}\tmigrated/b\t{digest}\n", File.ReadAllText(path));
    }

    [Fact]
    public async Task A_journal_another_process_holds_is_refused_until_that_process_lets_it_go()
    {
        var path = Path.Combine(_folder, "copy.journal");
        using var child = ChildProcess.Start("hold-journal", path, Registry);
        try
        {
            // The child writes a marker beside the journal once it holds it (the journal itself is locked from reads then).
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(path + ".held"))
            {
                Assert.False(child.HasExited, $"the child exited with {(child.HasExited ? child.ExitCode : 0)} before it held the journal");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the child did not take the journal within 60 s");
                await Task.Delay(50);
            }

            var error = await Assert.ThrowsAsync<HarborOpsException>(() => CopyJournal.OpenAsync(path, Registry, default));
            AssertInUse(error, path);
        }
        finally
        {
            child.StandardInput.Close();
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(0, child.ExitCode);

        await using (var reopened = await CopyJournal.OpenAsync(path, Registry, default))
            Assert.Equal(2, reopened.LoadedEntries); // both of the child's lines, the one written after our attempt too
    }

    private static void AssertInUse(HarborOpsException error, string path)
    {
        Assert.Equal(CopyErrorIds.JournalInUse, error.ErrorId);
        Assert.True(error.IsTerminating);
        Assert.Contains(path, error.Message);
        Assert.Contains("another", error.Message);
    }
}
