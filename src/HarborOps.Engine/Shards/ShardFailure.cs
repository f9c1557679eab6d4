namespace HarborOps.Engine.Shards;

/// <summary>
/// One failure a shard reports in its summary: the image reference (or, for a failure of the whole run, the source),
/// the stable error id and the message, each cut to what a 4 KiB termination message can hold.
/// </summary>
public sealed record ShardFailure(string Reference, string ErrorId, string Message);
