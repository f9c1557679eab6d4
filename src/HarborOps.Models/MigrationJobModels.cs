namespace HarborOps.Models;

/// <summary>
/// What New-RegistryMigrationJob made: the Kubernetes objects of one sharded migration (an Indexed Job, or a CronJob
/// of Indexed Jobs, with its ServiceAccount), as YAML and, with -Apply, created. Get-RegistryMigrationJob binds
/// Name and Namespace by property name.
/// </summary>
public sealed class RegistryMigrationJob
{
    /// <summary>Job or CronJob.</summary>
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    public string Namespace { get; init; } = "";
    public string ServiceAccount { get; init; } = "";
    public int ShardCount { get; init; }
    /// <summary>The shards this Job runs: all of 0..ShardCount-1, or, for a re-run, only the ones that failed.</summary>
    public int[] Shards { get; init; } = [];
    /// <summary>The CronJob's schedule; null for a Job.</summary>
    public string? Schedule { get; init; }
    public string Image { get; init; } = "";
    /// <summary>True when the objects were created in the cluster (-Apply, or a re-run); false when only written as YAML.</summary>
    public bool Applied { get; init; }
    /// <summary>The objects as one multi-document YAML stream (no secret value is ever in it).</summary>
    public string Yaml { get; init; } = "";

    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

/// <summary>The state of one index (shard) of a migration Job.</summary>
public enum MigrationIndexState
{
    /// <summary>No pod has run it yet (parallelism lower than the shard count, or pods not yet created).</summary>
    Pending,
    Running,
    /// <summary>The index is in the Job's completedIndexes.</summary>
    Succeeded,
    /// <summary>The index is in the Job's failedIndexes, or the Job failed while it was not complete.</summary>
    Failed,
    /// <summary>A pod of the index failed and the Job controller is retrying it (backoffLimitPerIndex).</summary>
    Retrying,
}

/// <summary>One index of a migration Job: its state and the summary its last pod left in the termination message.</summary>
public sealed class RegistryMigrationJobIndex
{
    /// <summary>The Job's completion index (JOB_COMPLETION_INDEX).</summary>
    public int Index { get; init; }
    /// <summary>The shard it copies (the same as Index, except in a re-run Job that runs only failed shards).</summary>
    public int Shard { get; init; }
    public MigrationIndexState State { get; init; }
    /// <summary>The index's latest pod.</summary>
    public string? Pod { get; init; }
    /// <summary>How many pods of the index failed (the controller's failure count annotation, or the pods seen).</summary>
    public int Failures { get; init; }
    public int? ExitCode { get; init; }
    /// <summary>What the exit code means (see about_HarborOps: the entrypoint's exit codes).</summary>
    public string? ExitMeaning { get; init; }
    /// <summary>True when the pod left a shard summary that could be read.</summary>
    public bool HasSummary { get; init; }
    public int TagsCopied { get; init; }
    public int TagsSkipped { get; init; }
    public int TagsFailed { get; init; }
    public long BytesMoved { get; init; }
    /// <summary>Why the index failed or its summary was unreadable, from the summary, the exit code or the pod's state.</summary>
    public string? Error { get; init; }
}

/// <summary>A running or finished migration Job, aggregated over its indexes, as Get-RegistryMigrationJob reports it.</summary>
public sealed class RegistryMigrationJobStatus
{
    public string Name { get; init; } = "";
    public string Namespace { get; init; } = "";
    /// <summary>The CronJob that started this run (New-RegistryMigrationJob -Schedule); null for a Job made directly.</summary>
    public string? CronJob { get; init; }
    /// <summary>Running, Complete, Failed or Suspended, from the Job's conditions.</summary>
    public string Phase { get; init; } = "";
    public int ShardCount { get; init; }
    public int Total { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int Running { get; init; }
    public int Pending { get; init; }
    /// <summary>Percent of indexes finished (succeeded or failed).</summary>
    public int PercentDone { get; init; }
    public int TagsCopied { get; init; }
    public int TagsSkipped { get; init; }
    public int TagsFailed { get; init; }
    public long BytesMoved { get; init; }
    /// <summary>The shards (not indexes) that failed: what a re-run with -RerunFailed copies again.</summary>
    public int[] FailedShards { get; init; } = [];
    /// <summary>Indexes whose pods left no readable summary (garbage, cut off, or none).</summary>
    public int[] UnreadableSummaries { get; init; } = [];
    /// <summary>The Job's Failed condition reason and message, when it failed.</summary>
    public string? FailureReason { get; init; }
    public DateTime? StartTime { get; init; }
    public DateTime? CompletionTime { get; init; }
    public RegistryMigrationJobIndex[] Indexes { get; init; } = [];

    public override string ToString() => $"{Namespace}/{Name}: {Phase} {Succeeded + Failed}/{Total}";
}
