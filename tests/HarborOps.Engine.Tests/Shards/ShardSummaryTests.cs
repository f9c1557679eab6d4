using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Shards;
using Xunit;

namespace HarborOps.Engine.Tests.Shards;

/// <summary>A shard's termination message always fits the kubelet's 4 KiB, and reading one back fails only in our hierarchy.</summary>
public sealed class ShardSummaryTests
{
    private static readonly DateTimeOffset Started = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    private static ShardSummary Summary(IEnumerable<ShardFailure>? failures = null) => new()
    {
        Kind = ShardSummaryKind.Copy,
        ShardIndex = 2,
        ShardCount = 4,
        Repositories = 12,
        Tags = 340,
        Copied = 300,
        Updated = 3,
        Skipped = 30,
        Failed = 7,
        BytesMoved = 123_456_789_012,
        Started = Started,
        Finished = Started.AddMinutes(42),
        Failures = (failures ?? []).ToList(),
    };

    private static string Long(string unit, int count) => string.Concat(Enumerable.Repeat(unit, count));

    [Fact]
    public void A_summary_reads_back_as_it_was_written()
    {
        var summary = Summary([new ShardFailure("acr.example.io/team/app:1.0", "RegistryManifestInvalid", "the manifest is not JSON")]);

        var read = ShardSummary.Parse(summary.ToJsonString(), "pod migrate-2");

        Assert.Equal(summary with { Failures = read.Failures }, read);
        Assert.Equal(summary.Failures, read.Failures);
        Assert.Equal(0, read.FailuresOmitted);
    }

    [Fact]
    public void A_parity_summary_keeps_its_kind_and_differences()
    {
        var summary = Summary() with { Kind = ShardSummaryKind.Parity, Differences = 5 };

        var read = ShardSummary.Parse(summary.ToJsonString(), "pod parity-2");

        Assert.Equal(ShardSummaryKind.Parity, read.Kind);
        Assert.Equal(5, read.Differences);
        Assert.Contains("\"kind\":\"parity\"", summary.ToJsonString());
    }

    [Theory]
    [InlineData("x")]
    [InlineData("é")]
    [InlineData("界")]
    [InlineData("😀")]
    [InlineData("\u0001")]
    [InlineData("\"\\")]
    public void Hundreds_of_long_failures_fit_4096_bytes_and_the_rest_are_counted(string unit)
    {
        var failures = Enumerable.Range(0, 500)
            .Select(i => new ShardFailure($"acr.example.io/{Long(unit, 2000)}:{i}", Long(unit, 100), $"{i} {Long(unit, 5000)}"))
            .ToList();
        var summary = Summary(failures);

        var json = summary.ToJson();
        var read = ShardSummary.Parse(Encoding.UTF8.GetString(json), "pod migrate-2");

        Assert.InRange(json.Length, 1, ShardSummary.MaxBytes);
        Assert.NotEmpty(read.Failures);
        Assert.Equal(500, read.Failures.Count + read.FailuresOmitted);
        Assert.All(read.Failures, f => Assert.InRange(f.Message.Length, 1, ShardSummary.MaxMessageChars));
        Assert.StartsWith("0 ", read.Failures[0].Message);
        Assert.EndsWith("…", read.Failures[0].Message);
    }

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair_and_a_lone_surrogate_becomes_a_replacement_character()
    {
        var failure = new ShardFailure("\uD800team/app:1", "Id\uDC00", "a" + Long("😀", 400));

        var read = ShardSummary.Parse(Summary([failure]).ToJsonString(), "pod");

        Assert.Equal("\uFFFDteam/app:1", read.Failures[0].Reference);
        Assert.Equal("Id\uFFFD", read.Failures[0].ErrorId);
        var message = read.Failures[0].Message;
        Assert.False(char.IsHighSurrogate(message[^2]));
        Assert.EndsWith("😀…", message);
    }

    [Fact]
    public void Failures_omitted_before_are_added_to_the_ones_that_do_not_fit()
    {
        var summary = Summary(Enumerable.Range(0, 100).Select(i => new ShardFailure($"r{i}", "E", Long("m", 300)))) with { FailuresOmitted = 1000 };

        var read = ShardSummary.Parse(summary.ToJsonString(), "pod");

        Assert.Equal(1100, read.Failures.Count + read.FailuresOmitted);
    }

    [Fact]
    public void The_largest_numbers_still_fit()
    {
        var summary = Summary(Enumerable.Range(0, 50).Select(i => new ShardFailure(Long("r", 300), Long("e", 70), Long("\u0002", 400)))) with
        {
            ShardIndex = int.MaxValue - 1,
            ShardCount = int.MaxValue,
            Repositories = int.MaxValue,
            Tags = int.MaxValue,
            Copied = int.MaxValue,
            Updated = int.MaxValue,
            Skipped = int.MaxValue,
            Failed = int.MaxValue,
            Differences = int.MaxValue,
            BytesMoved = long.MaxValue,
            FailuresOmitted = int.MaxValue - 100,
        };

        Assert.InRange(summary.ToJson().Length, 1, ShardSummary.MaxBytes);
    }

    public static TheoryData<string> NotSummaries() => new()
    {
        "{",
        "[]",
        "\"copy\"",
        "null",
        "{}",
        "{\"version\":\"1\"}",
        "{\"version\":1}",
        "{\"version\":1.5}",
        Long("[", 2000) + Long("]", 2000),
        "{\"a\":" + Long("{\"a\":", 100) + "1" + Long("}", 101),
    };

    [Theory]
    [MemberData(nameof(NotSummaries))]
    public void Text_that_is_not_a_summary_is_a_typed_error(string text)
    {
        var error = Assert.Throws<ShardException>(() => ShardSummary.Parse(text, "pod migrate-0"));

        Assert.Equal(ShardErrorIds.SummaryInvalid, error.ErrorId);
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains("pod migrate-0", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void An_empty_termination_message_is_a_typed_error(string? text)
    {
        var error = Assert.Throws<ShardException>(() => ShardSummary.Parse(text, "pod migrate-0"));

        Assert.Equal(ShardErrorIds.SummaryInvalid, error.ErrorId);
    }

    [Fact]
    public void A_huge_input_is_refused_before_it_is_parsed()
    {
        var valid = Summary().ToJsonString();
        var huge = valid[..^1] + ",\"padding\":\"" + Long("x", 50_000_000) + "\"}";

        var error = Assert.Throws<ShardException>(() => ShardSummary.Parse(huge, "pod"));

        Assert.Equal(ShardErrorIds.SummaryInvalid, error.ErrorId);
        Assert.Contains("4096", error.Message);
    }

    [Fact]
    public void Multi_byte_text_over_4096_bytes_is_refused_though_it_has_fewer_characters()
    {
        var valid = Summary().ToJsonString();
        var text = valid[..^1] + ",\"padding\":\"" + Long("界", 1500) + "\"}";

        Assert.True(text.Length < ShardSummary.MaxBytes);
        Assert.Equal(ShardErrorIds.SummaryInvalid, Assert.Throws<ShardException>(() => ShardSummary.Parse(text, "pod")).ErrorId);
    }

    [Fact]
    public void Another_format_version_is_its_own_error()
    {
        var json = Summary().ToJsonString().Replace("\"version\":1", "\"version\":2");

        var error = Assert.Throws<ShardException>(() => ShardSummary.Parse(json, "pod migrate-1"));

        Assert.Equal(ShardErrorIds.SummaryVersionUnsupported, error.ErrorId);
        Assert.Contains("version 2", error.Message);
    }

    public static TheoryData<string, string> HostileFields() => new()
    {
        { "\"kind\":\"copy\"", "\"kind\":\"delete\"" },
        { "\"shardIndex\":2", "\"shardIndex\":4" },
        { "\"shardIndex\":2", "\"shardIndex\":-1" },
        { "\"shardCount\":4", "\"shardCount\":0" },
        { "\"copied\":300", "\"copied\":-3" },
        { "\"copied\":300", "\"copied\":99999999999" },
        { "\"copied\":300", "\"copied\":\"300\"" },
        { "\"bytesMoved\":123456789012", "\"bytesMoved\":1e400" },
        { "\"bytesMoved\":123456789012", "\"bytesMoved\":-1" },
        { "\"started\":\"2026-12-07T09:00:00.000Z\"", "\"started\":\"yesterday\"" },
        { "\"failures\":[]", "\"failures\":{}" },
        { "\"failures\":[]", "\"failures\":[1]" },
        { "\"failures\":[]", "\"failures\":[{\"reference\":\"r\",\"errorId\":\"e\"}]" },
        { "\"failures\":[]", "\"failures\":[{\"reference\":\"\\ud800\",\"errorId\":\"e\",\"message\":\"m\"}]" },
        { "\"failuresOmitted\":0", "\"failuresOmitted\":null" },
    };

    [Theory]
    [MemberData(nameof(HostileFields))]
    public void A_field_of_the_wrong_type_or_range_is_a_typed_error(string field, string replacement)
    {
        var json = Summary().ToJsonString();
        Assert.Contains(field, json);

        var error = Assert.Throws<ShardException>(() => ShardSummary.Parse(json.Replace(field, replacement), "pod"));

        Assert.Equal(ShardErrorIds.SummaryInvalid, error.ErrorId);
    }

    [Fact]
    public void Unknown_fields_of_the_same_version_are_ignored()
    {
        var json = Summary().ToJsonString()[..^1] + ",\"later\":{\"x\":[1]}}";

        Assert.Equal(300, ShardSummary.Parse(json, "pod").Copied);
    }

    [Fact]
    public void The_json_uses_the_documented_field_names()
    {
        using var document = JsonDocument.Parse(Summary([new ShardFailure("r", "e", "m")]).ToJson());

        var names = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();

        Assert.Equal(["version", "kind", "shardIndex", "shardCount", "repositories", "tags", "copied", "updated", "skipped", "failed",
            "bytesMoved", "differences", "started", "finished", "failures", "failuresOmitted"], names);
        Assert.Equal(["reference", "errorId", "message"], document.RootElement.GetProperty("failures")[0].EnumerateObject().Select(p => p.Name));
    }
}
