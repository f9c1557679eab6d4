using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Shards;

namespace HarborOps.Engine.Scope;

/// <summary>What a sharded run splits: whole repositories (the default), or the tags of every repository.</summary>
public enum ShardBy
{
    /// <summary>Each source repository belongs to one shard, with all its tags: blobs shared by a repository's tags move once.</summary>
    Repository,
    /// <summary>
    /// Each tag belongs to one shard, whatever its repository: for a repository too large for one shard. Every shard
    /// lists every repository's tags; a layer that tags of different shards share is still uploaded once (see ShardedBlobOwners).
    /// </summary>
    Tag,
}

/// <summary>
/// Which part of a copy's scope one shard of a sharded run owns (Kubernetes Indexed Job: shard = JOB_COMPLETION_INDEX).
/// Ownership is a pure function of names, the same between runs, processes and machines: the first 8 bytes of the
/// SHA-256 of the UTF-8 key, read as an unsigned big-endian integer, modulo <see cref="Count"/>. The key is the source
/// repository path (without its registry) for <see cref="ShardBy.Repository"/>; with <see cref="ShardBy.Tag"/> it is
/// "repository:tag", and for a referrer tag (sha256-&lt;hex&gt;[.sig|.att|.sbom]) "repository@subject-digest", so all the
/// referrer tags of one image belong to one shard. A retried shard therefore does exactly the work it did before, and
/// a copy and a comparison with the same shard agree on what it owns.
/// </summary>
public sealed record ShardPartition
{
    /// <summary>The environment variable a Kubernetes Indexed Job sets in each pod to its completion index.</summary>
    public const string JobCompletionIndexVariable = "JOB_COMPLETION_INDEX";

    private ShardPartition(int index, int count, ShardBy by)
    {
        Index = index;
        Count = count;
        By = by;
    }

    /// <summary>An unsharded run: one shard owning everything.</summary>
    public static ShardPartition Whole { get; } = new(0, 1, ShardBy.Repository);

    public int Index { get; }
    public int Count { get; }
    public ShardBy By { get; }
    public bool IsSharded => Count > 1;

    /// <summary>
    /// Whether other shards write into this shard's destination repositories (a split by tag): a repository that did
    /// not exist when this shard listed it may hold another shard's blobs and manifests by the time it writes.
    /// </summary>
    public bool SharesRepositories => IsSharded && By == ShardBy.Tag;

    /// <summary>
    /// The shard a run's parameters name. Without <paramref name="count"/> the run is whole (and
    /// <paramref name="jobCompletionIndex"/>, the environment's JOB_COMPLETION_INDEX, is ignored: the pod may belong to
    /// an Indexed Job that does not shard HarborOps). With it, the index is <paramref name="index"/>, else
    /// JOB_COMPLETION_INDEX, else 0 for a count of 1. Anything else is a terminating <see cref="ShardErrorIds.ShardInvalid"/>.
    /// </summary>
    public static ShardPartition Create(int? count, int? index, ShardBy by, string? jobCompletionIndex)
    {
        if (count is null)
        {
            if (index is not null)
                throw Invalid($"-ShardIndex {index} was given without -ShardCount. Give -ShardCount too (the number of shards the run is split into, the Job's completions).", "ShardIndex");
            return by == ShardBy.Repository ? Whole : throw Invalid("-ShardBy was given without -ShardCount. Give -ShardCount (the number of shards) or leave -ShardBy out.", "ShardBy");
        }
        if (count < 1)
            throw Invalid($"-ShardCount is {count}; it must be 1 or more (the number of shards, the Job's completions).", "ShardCount");
        var resolved = index ?? FromEnvironment(jobCompletionIndex, count.Value);
        if (resolved < 0 || resolved >= count)
            throw Invalid(index is null
                ? $"{JobCompletionIndexVariable} is {resolved}, which is not a shard of -ShardCount {count} (0 to {count - 1}). Make -ShardCount the Job's completions."
                : $"-ShardIndex is {resolved}; with -ShardCount {count} it must be 0 to {count - 1}.", index is null ? JobCompletionIndexVariable : "ShardIndex");
        return new ShardPartition(resolved, count.Value, by);
    }

    private static int FromEnvironment(string? value, int count)
    {
        if (value is null)
        {
            if (count == 1) return 0;
            throw Invalid($"-ShardCount {count} needs the shard's index: give -ShardIndex (0 to {count - 1}), or run in a Kubernetes Indexed Job, which sets {JobCompletionIndexVariable}.", "ShardIndex");
        }
        if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            throw Invalid($"{JobCompletionIndexVariable} is '{Shown(value)}', not a whole number. Kubernetes sets it in the pods of an Indexed Job (completionMode: Indexed); unset it, or give -ShardIndex.", JobCompletionIndexVariable);
        return parsed;
    }

    private static string Shown(string value) =>
        new(value.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static ShardException Invalid(string message, string target) =>
        new(ShardErrorIds.ShardInvalid, FailureKind.InvalidArgument, message, target);

    /// <summary>The shard (0 to <paramref name="count"/> - 1) that owns <paramref name="key"/>.</summary>
    public static int ShardOf(string key, int count)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % (ulong)count);
    }

    /// <summary>Shard <paramref name="index"/> of the same split (to name where another shard's work lies).</summary>
    public ShardPartition Of(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return index == Index ? this : new ShardPartition(index, Count, By);
    }

    /// <summary>The shard that owns <paramref name="tag"/> of <paramref name="repository"/> (what <see cref="OwnsTag"/> asks of this one).</summary>
    public int ShardOfTag(string repository, string tag)
    {
        if (!IsSharded) return 0;
        if (By == ShardBy.Repository) return ShardOf(repository, Count);
        var subject = TagSelection.SubjectOfReferrerTag(tag);
        return ShardOf(subject is null ? $"{repository}:{tag}" : $"{repository}@{subject}", Count);
    }

    /// <summary>Whether this shard takes any of <paramref name="repository"/> (with <see cref="ShardBy.Tag"/> every shard does).</summary>
    public bool OwnsRepository(string repository) =>
        !IsSharded || By == ShardBy.Tag || ShardOf(repository, Count) == Index;

    /// <summary>Whether this shard owns <paramref name="tag"/> of <paramref name="repository"/> (a referrer tag goes with its subject's digest).</summary>
    public bool OwnsTag(string repository, string tag) => ShardOfTag(repository, tag) == Index;

    /// <summary>Whether this shard owns the image <paramref name="repository"/>@<paramref name="digest"/> named without a tag.</summary>
    public bool OwnsDigest(string repository, string digest) =>
        !IsSharded || ShardOf(By == ShardBy.Repository ? repository : $"{repository}@{digest}", Count) == Index;

    /// <summary>"shard 2 of 4" for messages; empty for a whole run.</summary>
    public override string ToString() => IsSharded ? $"shard {Index} of {Count}" : "";
}
