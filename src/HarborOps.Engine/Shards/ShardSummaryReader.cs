using System.Globalization;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Shards;

/// <summary>
/// Reads a <see cref="ShardSummary"/> from a pod's termination message, which anything in the pod (or a person with
/// exec rights) may have written: size is bounded before parsing, depth is bounded while parsing, every field is
/// type- and range-checked, and every failure is a <see cref="ShardException"/>.
/// </summary>
internal static class ShardSummaryReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow };

    public static ShardSummary Read(string? text, string origin)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Invalid(origin, "it is empty (the shard ended before writing its summary, or ran without -ShardSummaryPath)");
        }
        // Cheap bound first: every UTF-16 unit is at least one UTF-8 byte.
        if (text.Length > ShardSummary.MaxBytes || Encoding.UTF8.GetByteCount(text) > ShardSummary.MaxBytes)
        {
            throw Invalid(origin, $"it is longer than the {ShardSummary.MaxBytes} bytes a shard writes");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            throw Invalid(origin, $"it is not JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(origin, "it is not a JSON object");
            }
            var version = Int(root, "version", origin);
            if (version != ShardSummary.CurrentVersion)
            {
                throw new ShardException(ShardErrorIds.SummaryVersionUnsupported, FailureKind.InvalidData,
                    $"The shard summary of {origin} has format version {version}; this HarborOps reads version {ShardSummary.CurrentVersion}. "
                    + "Read it with the HarborOps version the Job's container image runs, or run the Job with this version's image.", origin);
            }
            var kind = String(root, "kind", origin) switch
            {
                "copy" => ShardSummaryKind.Copy,
                "parity" => ShardSummaryKind.Parity,
                _ => throw Invalid(origin, "its kind is neither \"copy\" nor \"parity\""),
            };
            var shardCount = Int(root, "shardCount", origin);
            var shardIndex = Int(root, "shardIndex", origin);
            if (shardCount < 1 || shardIndex >= shardCount)
            {
                throw Invalid(origin, $"shard index {shardIndex} is not one of its {shardCount} shards");
            }
            return new ShardSummary
            {
                Version = version,
                Kind = kind,
                ShardIndex = shardIndex,
                ShardCount = shardCount,
                Repositories = Int(root, "repositories", origin),
                Tags = Int(root, "tags", origin),
                Copied = Int(root, "copied", origin),
                Updated = Int(root, "updated", origin),
                Skipped = Int(root, "skipped", origin),
                Failed = Int(root, "failed", origin),
                BytesMoved = Long(root, "bytesMoved", origin),
                Differences = Int(root, "differences", origin),
                Started = Time(root, "started", origin),
                Finished = Time(root, "finished", origin),
                Failures = Failures(root, origin),
                FailuresOmitted = Int(root, "failuresOmitted", origin),
            };
        }
    }

    private static List<ShardFailure> Failures(JsonElement root, string origin)
    {
        var array = Field(root, "failures", JsonValueKind.Array, origin);
        var failures = new List<ShardFailure>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(origin, "an entry of its failures is not an object");
            }
            failures.Add(new ShardFailure(String(item, "reference", origin), String(item, "errorId", origin), String(item, "message", origin)));
        }
        return failures;
    }

    private static JsonElement Field(JsonElement parent, string name, JsonValueKind kind, string origin)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            throw Invalid(origin, $"it has no \"{name}\"");
        }
        if (value.ValueKind != kind)
        {
            throw Invalid(origin, $"its \"{name}\" is {value.ValueKind}, not {kind}");
        }
        return value;
    }

    private static int Int(JsonElement parent, string name, string origin) =>
        Field(parent, name, JsonValueKind.Number, origin).TryGetInt32(out var value) && value >= 0
            ? value
            : throw Invalid(origin, $"its \"{name}\" is not a whole number from 0 to {int.MaxValue}");

    private static long Long(JsonElement parent, string name, string origin) =>
        Field(parent, name, JsonValueKind.Number, origin).TryGetInt64(out var value) && value >= 0
            ? value
            : throw Invalid(origin, $"its \"{name}\" is not a whole number from 0 to {long.MaxValue}");

    private static string String(JsonElement parent, string name, string origin)
    {
        var value = Field(parent, name, JsonValueKind.String, origin);
        try
        {
            return value.GetString() ?? "";
        }
        catch (InvalidOperationException e)
        {
            // An escaped lone surrogate ("\ud800") is valid JSON but not text.
            throw Invalid(origin, $"its \"{name}\" is not well-formed text", e);
        }
    }

    private static DateTimeOffset Time(JsonElement parent, string name, string origin) =>
        DateTimeOffset.TryParse(String(parent, name, origin), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw Invalid(origin, $"its \"{name}\" is not an ISO 8601 time");

    private static ShardException Invalid(string origin, string why, Exception? inner = null) =>
        new(ShardErrorIds.SummaryInvalid, FailureKind.InvalidData,
            $"The termination message of {origin} is not a HarborOps shard summary: {why}. "
            + "Look at the pod's log for why the shard stopped, and re-run that index.", origin, inner);
}
