using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HarborOps.Engine.Shards;

/// <summary>Which cmdlet's shard wrote a summary.</summary>
public enum ShardSummaryKind
{
    Copy,
    Parity,
}

/// <summary>
/// What one shard of a sharded copy or comparison did, in the compact JSON it leaves in its pod's termination message
/// (-ShardSummaryPath /dev/termination-log). The kubelet keeps only the first 4096 bytes of that file
/// (k8s.io/kubernetes pkg/kubelet/kuberuntime/kuberuntime_container.go, maxMessageLength = 1024 * 4), so
/// <see cref="ToJson"/> always stays within <see cref="MaxBytes"/> UTF-8 bytes: it cuts long texts and lists as many
/// failures as fit, counting the rest in <see cref="FailuresOmitted"/>. <see cref="Parse"/> reads it back from text a
/// pod may have replaced with anything, and fails only with a <see cref="ShardException"/>.
/// </summary>
/// <remarks>
/// Format version 1, fields in camelCase: version, kind ("copy" | "parity"), shardIndex, shardCount, repositories,
/// tags, copied, updated, skipped (unchanged tags), failed, bytesMoved, differences (parity), started and finished
/// (ISO 8601 UTC), failures [{reference, errorId, message}], failuresOmitted. A failure of the whole run (bad
/// credentials, an unreachable registry) is listed as a failure whose reference is the source.
/// </remarks>
public sealed record ShardSummary
{
    public const int CurrentVersion = 1;
    /// <summary>The most a termination message keeps (the kubelet's 4 KiB).</summary>
    public const int MaxBytes = 4096;
    internal const int MaxReferenceChars = 256;
    internal const int MaxErrorIdChars = 64;
    internal const int MaxMessageChars = 320;

    public int Version { get; init; } = CurrentVersion;
    public ShardSummaryKind Kind { get; init; }
    public int ShardIndex { get; init; }
    public int ShardCount { get; init; } = 1;
    public int Repositories { get; init; }
    public int Tags { get; init; }
    public int Copied { get; init; }
    public int Updated { get; init; }
    /// <summary>Tags already at the destination as they are at the source.</summary>
    public int Skipped { get; init; }
    public int Failed { get; init; }
    public long BytesMoved { get; init; }
    /// <summary>Parity: tags that differ between source and destination.</summary>
    public int Differences { get; init; }
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Finished { get; init; }
    public IReadOnlyList<ShardFailure> Failures { get; init; } = [];
    /// <summary>Failures left out of <see cref="Failures"/> so the summary fits <see cref="MaxBytes"/>.</summary>
    public int FailuresOmitted { get; init; }

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The summary as UTF-8 JSON of at most <see cref="MaxBytes"/> bytes. Texts are cut (never inside a surrogate pair;
    /// a lone surrogate becomes U+FFFD) and failures listed in order until the next would not fit.
    /// </summary>
    public byte[] ToJson()
    {
        var failures = Failures.Select(Trim).ToList();
        var omittedBefore = FailuresOmitted;
        var listed = new List<ShardFailure>(failures.Count);
        var json = Write(listed, omittedBefore + failures.Count);
        foreach (var failure in failures)
        {
            listed.Add(failure);
            var candidate = Write(listed, omittedBefore + failures.Count - listed.Count);
            if (candidate.Length > MaxBytes)
            {
                listed.RemoveAt(listed.Count - 1);
                break;
            }
            json = candidate;
        }
        return json;
    }

    /// <summary>The JSON as text (for logs and tests).</summary>
    public string ToJsonString() => Encoding.UTF8.GetString(ToJson());

    private byte[] Write(IReadOnlyList<ShardFailure> failures, int omitted)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", Version);
            writer.WriteString("kind", Kind == ShardSummaryKind.Copy ? "copy" : "parity");
            writer.WriteNumber("shardIndex", ShardIndex);
            writer.WriteNumber("shardCount", ShardCount);
            writer.WriteNumber("repositories", Repositories);
            writer.WriteNumber("tags", Tags);
            writer.WriteNumber("copied", Copied);
            writer.WriteNumber("updated", Updated);
            writer.WriteNumber("skipped", Skipped);
            writer.WriteNumber("failed", Failed);
            writer.WriteNumber("bytesMoved", BytesMoved);
            writer.WriteNumber("differences", Differences);
            writer.WriteString("started", FormatTime(Started));
            writer.WriteString("finished", FormatTime(Finished));
            writer.WriteStartArray("failures");
            foreach (var failure in failures)
            {
                writer.WriteStartObject();
                writer.WriteString("reference", failure.Reference);
                writer.WriteString("errorId", failure.ErrorId);
                writer.WriteString("message", failure.Message);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteNumber("failuresOmitted", omitted);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string FormatTime(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static ShardFailure Trim(ShardFailure failure) => new(
        Cut(failure.Reference, MaxReferenceChars), Cut(failure.ErrorId, MaxErrorIdChars), Cut(failure.Message, MaxMessageChars));

    /// <summary>At most <paramref name="max"/> UTF-16 units of well-formed text, ending in "…" when cut.</summary>
    internal static string Cut(string? text, int max)
    {
        var clean = WellFormed(text ?? "");
        if (clean.Length <= max)
        {
            return clean;
        }
        var end = max - 1;
        if (char.IsHighSurrogate(clean[end - 1]))
        {
            end--;
        }
        return string.Concat(clean.AsSpan(0, end), "…");
    }

    private static string WellFormed(string text)
    {
        StringBuilder? fixedText = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var paired = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (paired)
            {
                fixedText?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                fixedText ??= new StringBuilder(text, 0, i, text.Length);
                fixedText.Append('\uFFFD');
                continue;
            }
            fixedText?.Append(c);
        }
        return fixedText?.ToString() ?? text;
    }

    /// <summary>
    /// Reads a summary back from a termination message. Anything that is not a version-1 summary of at most
    /// <see cref="MaxBytes"/> bytes fails with <see cref="ShardErrorIds.SummaryInvalid"/> or
    /// <see cref="ShardErrorIds.SummaryVersionUnsupported"/>, naming <paramref name="origin"/> (the pod).
    /// </summary>
    public static ShardSummary Parse(string? text, string origin) => ShardSummaryReader.Read(text, origin);
}
