using System.Globalization;
using HarborOps.Engine.Shards;
using HarborOps.Models;
using k8s.Models;
using static HarborOps.Engine.MigrationJobs.MigrationJobContract;

namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// One migration's state from what the API server holds: the Job's completedIndexes and failedIndexes and conditions,
/// and per index its latest pod (labelled batch.kubernetes.io/job-completion-index by the Job controller) with the
/// shard summary its container left as termination message. Everything read is treated as untrusted: an index
/// label, an annotation or a message that is not what HarborOps or the controller writes is reported, never thrown.
/// </summary>
public static class MigrationJobStatusBuilder
{
    private const int MaxErrorChars = 400;

    public static RegistryMigrationJobStatus Build(V1Job job, IReadOnlyList<V1Pod> pods)
    {
        var ns = job.Metadata.NamespaceProperty ?? "";
        var name = job.Metadata.Name ?? "";
        var completions = Math.Clamp(job.Spec?.Completions ?? 1, 0, MigrationJobValidation.MaxShards * 100);
        var status = job.Status ?? new V1JobStatus();
        var (completed, _) = CompletionIndexes.Parse(status.CompletedIndexes, completions);
        var (failed, _) = CompletionIndexes.Parse(status.FailedIndexes, completions);
        failed.ExceptWith(completed);
        var conditions = status.Conditions ?? [];
        bool Has(string type) => conditions.Any(c => c.Type == type && c.Status == "True");
        var phase = Has("Complete") ? "Complete" : Has("Failed") ? "Failed" : Has("Suspended") ? "Suspended" : "Running";
        var finished = phase is "Complete" or "Failed";
        var failedCondition = conditions.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True");
        var shards = ShardMap(job, completions);
        var byIndex = pods.Select(p => (Pod: p, Index: IndexOf(p, completions))).Where(p => p.Index >= 0)
            .GroupBy(p => p.Index).ToDictionary(g => g.Key, g => g.Select(p => p.Pod).OrderBy(p => p, Chronological).ToList());

        var indexes = new List<RegistryMigrationJobIndex>(completions);
        for (var i = 0; i < completions; i++)
        {
            var indexPods = byIndex.GetValueOrDefault(i) ?? [];
            var state = completed.Contains(i) ? MigrationIndexState.Succeeded
                : failed.Contains(i) || finished ? MigrationIndexState.Failed
                : StateOfRunning(indexPods);
            indexes.Add(DescribeIndex(i, shards[i], state, indexPods, ns));
        }
        var summaries = indexes.Where(x => x.HasSummary).ToList();
        int Count(MigrationIndexState s) => indexes.Count(x => x.State == s);
        var done = Count(MigrationIndexState.Succeeded) + Count(MigrationIndexState.Failed);
        return new RegistryMigrationJobStatus
        {
            Name = name, Namespace = ns, Phase = phase,
            CronJob = (job.Metadata.OwnerReferences ?? []).FirstOrDefault(o => o.Kind == "CronJob" && o.Controller == true)?.Name,
            ShardCount = ShardCount(job, shards),
            Total = completions,
            Succeeded = Count(MigrationIndexState.Succeeded),
            Failed = Count(MigrationIndexState.Failed),
            Running = Count(MigrationIndexState.Running) + Count(MigrationIndexState.Retrying),
            Pending = Count(MigrationIndexState.Pending),
            PercentDone = completions == 0 ? 100 : done * 100 / completions,
            TagsCopied = summaries.Sum(x => x.TagsCopied),
            TagsSkipped = summaries.Sum(x => x.TagsSkipped),
            TagsFailed = summaries.Sum(x => x.TagsFailed),
            BytesMoved = summaries.Sum(x => x.BytesMoved),
            FailedShards = indexes.Where(x => x.State == MigrationIndexState.Failed).Select(x => x.Shard).Order().ToArray(),
            UnreadableSummaries = indexes.Where(x => !x.HasSummary && x.ExitCode is not null).Select(x => x.Index).ToArray(),
            FailureReason = failedCondition is null ? null : Clean($"{failedCondition.Reason}: {failedCondition.Message}"),
            StartTime = status.StartTime,
            CompletionTime = status.CompletionTime,
            Indexes = indexes.ToArray(),
        };
    }

    /// <summary>
    /// The pods of one index, oldest first. creationTimestamp has whole seconds, so a retry made in the same second is
    /// told apart by the controller's failure count (each retry carries one more), then by still running.
    /// </summary>
    private static readonly Comparer<V1Pod> Chronological = Comparer<V1Pod>.Create((a, b) =>
    {
        var byTime = Nullable.Compare(a.Metadata.CreationTimestamp, b.Metadata.CreationTimestamp);
        if (byTime != 0) return byTime;
        var byRetry = FailureCount(a).CompareTo(FailureCount(b));
        if (byRetry != 0) return byRetry;
        var byActive = IsActive(a).CompareTo(IsActive(b));
        return byActive != 0 ? byActive : string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name);
    });

    private static int FailureCount(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue(IndexFailureCountAnnotation, out var text) == true
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;

    private static bool IsActive(V1Pod pod) => pod.Status?.Phase is not ("Succeeded" or "Failed");

    private static MigrationIndexState StateOfRunning(List<V1Pod> pods)
    {
        if (pods.Count == 0) return MigrationIndexState.Pending;
        return pods[^1].Status?.Phase switch
        {
            "Failed" => MigrationIndexState.Retrying,
            "Succeeded" => MigrationIndexState.Succeeded,
            "Running" => pods.Take(pods.Count - 1).Any(p => p.Status?.Phase == "Failed") ? MigrationIndexState.Retrying : MigrationIndexState.Running,
            _ => pods.Count > 1 ? MigrationIndexState.Retrying : MigrationIndexState.Pending,
        };
    }

    private static RegistryMigrationJobIndex DescribeIndex(int index, int shard, MigrationIndexState state, List<V1Pod> pods, string ns)
    {
        var latest = pods.Count == 0 ? null : pods[^1];
        // the summary of the most recent pod that ended: a retry still running shows what the failed attempt left
        var (ended, terminated) = pods.AsEnumerable().Reverse().Select(p => (Pod: p, State: Terminated(p))).FirstOrDefault(x => x.State is not null);
        // the controller's annotation counts the failures before that pod; a failed latest pod is one more
        var failures = latest is null ? 0 : latest.Metadata.Annotations?.ContainsKey(IndexFailureCountAnnotation) == true
            ? FailureCount(latest) + (latest.Status?.Phase == "Failed" ? 1 : 0) : pods.Count(p => p.Status?.Phase == "Failed");
        if (terminated is null)
            return new RegistryMigrationJobIndex { Index = index, Shard = shard, State = state, Pod = latest?.Metadata.Name, Failures = failures };
        ShardSummary? summary = null;
        string? unreadable = null;
        try
        {
            summary = ShardSummary.Parse(terminated.Message, $"pod {ns}/{ended!.Metadata.Name}");
        }
        catch (ShardException e)
        {
            unreadable = e.Message;
        }
        var exitCode = terminated.ExitCode;
        string? error = null;
        if (summary is { Failures.Count: > 0 } || summary?.Failed > 0)
            error = Clean(string.Join("; ", summary.Failures.Take(3).Select(f => $"{f.Reference}: {f.ErrorId}: {f.Message}"))
                + (summary.Failures.Count + summary.FailuresOmitted > 3 ? $"; and {summary.Failures.Count + summary.FailuresOmitted - 3} more" : ""));
        else if (exitCode != 0)
            error = Clean($"{MigrationJobExitCodes.Describe(exitCode)}{(terminated.Reason is { Length: > 0 } r ? $" ({r})" : "")}"
                + (string.IsNullOrWhiteSpace(terminated.Message) ? "" : $": {terminated.Message}"));
        else if (unreadable is not null)
            error = Clean(unreadable);
        return new RegistryMigrationJobIndex
        {
            Index = index, Shard = shard, State = state, Pod = latest?.Metadata.Name, Failures = failures,
            ExitCode = exitCode, ExitMeaning = MigrationJobExitCodes.Describe(exitCode), HasSummary = summary is not null,
            TagsCopied = summary is null ? 0 : summary.Copied + summary.Updated,
            TagsSkipped = summary?.Skipped ?? 0, TagsFailed = summary?.Failed ?? 0, BytesMoved = summary?.BytesMoved ?? 0,
            Error = error,
        };
    }

    private static V1ContainerStateTerminated? Terminated(V1Pod pod)
    {
        var container = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == ContainerName) ?? pod.Status?.ContainerStatuses?.FirstOrDefault();
        return container?.State?.Terminated ?? container?.LastState?.Terminated;
    }

    /// <summary>The pod's completion index from the controller's label, -1 when absent or not an index of this Job.</summary>
    private static int IndexOf(V1Pod pod, int completions)
    {
        var labels = pod.Metadata?.Labels;
        if (labels is null || !labels.TryGetValue(CompletionIndexLabel, out var text)) return -1;
        var (indexes, malformed) = CompletionIndexes.Parse(text, completions);
        return !malformed && indexes.Count == 1 && !text.Contains('-') && !text.Contains(',') ? indexes.Min : -1;
    }

    /// <summary>Which shard each completion index copies: the Job's harborops.io/shards annotation, else index = shard.</summary>
    private static int[] ShardMap(V1Job job, int completions)
    {
        var identity = Enumerable.Range(0, completions).ToArray();
        string? text = null;
        if (job.Metadata.Annotations?.TryGetValue(ShardsAnnotation, out text) != true || text is null || text.Length > 12 * completions + 16) return identity;
        var parts = text.Split(',');
        if (parts.Length != completions) return identity;
        var shards = new int[completions];
        for (var i = 0; i < completions; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shards[i])) return identity;
        return shards;
    }

    private static int ShardCount(V1Job job, int[] shards) =>
        job.Metadata.Annotations?.TryGetValue(ShardCountAnnotation, out var text) == true
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1
            ? count : shards.Length == 0 ? 0 : shards.Max() + 1;

    /// <summary>Text from a pod or the API server, as it may appear in a report: one line, no control characters, cut.</summary>
    internal static string Clean(string text)
    {
        var chars = text.Select(c => char.IsControl(c) ? ' ' : c).ToArray();
        var line = string.Join(' ', new string(chars).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= MaxErrorChars ? line : string.Concat(line.AsSpan(0, MaxErrorChars - 1), "…");
    }
}
