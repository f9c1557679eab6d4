using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Shards;

/// <summary>
/// A shard that cannot be told apart from the others (-ShardCount/-ShardIndex/JOB_COMPLETION_INDEX out of range), or a
/// shard summary (a pod's termination message) that is not one this version writes. The <see cref="HarborOpsException.Target"/>
/// is the parameter, variable or pod the value came from.
/// </summary>
public sealed class ShardException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null)
    : HarborOpsException(errorId, kind, message, target, inner);

/// <summary>Stable error ids of shards and shard summaries. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class ShardErrorIds
{
    /// <summary>-ShardCount, -ShardIndex or JOB_COMPLETION_INDEX is not a shard of the run (terminating bad input).</summary>
    public const string ShardInvalid = "ShardInvalid";
    /// <summary>A shard summary that is not JSON, too large, or missing or mistyping a field.</summary>
    public const string SummaryInvalid = "ShardSummaryInvalid";
    /// <summary>A shard summary written by a HarborOps with another summary format version.</summary>
    public const string SummaryVersionUnsupported = "ShardSummaryVersionUnsupported";
    /// <summary>-ShardSummaryPath could not be written (the run itself is not undone).</summary>
    public const string SummaryWriteFailed = "ShardSummaryWriteFailed";
}
