using HarborOps.Models;

namespace HarborOps.Engine.PullLoad;

/// <summary>Percentiles, throughput and pulls in flight of one registry's pulls.</summary>
internal static class PullStatistics
{
    public static RegistryPullSummary Summarize(string registry, string load, IReadOnlyList<RegistryPullResult> pulls, string? reportPath)
    {
        var succeeded = pulls.Where(p => p.Succeeded).ToList();
        var toPulled = succeeded.Select(p => p.TimeToPulled).Order().ToList();
        var toManifest = succeeded.Select(p => p.TimeToManifest).Order().ToList();
        return new RegistryPullSummary
        {
            Registry = registry, Load = load, Pulls = pulls.Count, Succeeded = succeeded.Count, Failed = pulls.Count - succeeded.Count,
            P50 = Percentile(toPulled, 50), P95 = Percentile(toPulled, 95), P99 = Percentile(toPulled, 99), Max = toPulled.LastOrDefault(),
            ManifestP50 = Percentile(toManifest, 50), ManifestP95 = Percentile(toManifest, 95),
            Bytes = pulls.Sum(p => p.Bytes),
            Elapsed = pulls.Count == 0 ? TimeSpan.Zero : pulls.Max(p => p.Ended) - pulls.Min(p => p.ArrivedAt),
            PeakInFlight = InFlight(pulls).Select(step => step.Count).DefaultIfEmpty(0).Max(),
            Throttled = pulls.Sum(p => p.Throttled),
            Errors = pulls.Where(p => !p.Succeeded).GroupBy(p => p.ErrorKind ?? "Unknown", StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            ReportPath = reportPath,
        };
    }

    /// <summary>The nearest-rank percentile of sorted values (zero for none): the value below which p % of them lie.</summary>
    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> sorted, double p)
    {
        if (sorted.Count == 0) return TimeSpan.Zero;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>
    /// Pulls downloading at each moment something changed, as (time, count) steps from the first start to the last end.
    /// A pull counts from its node's start of it (not its arrival) to its end.
    /// </summary>
    public static IReadOnlyList<(TimeSpan At, int Count)> InFlight(IReadOnlyList<RegistryPullResult> pulls, TimeSpan? resolution = null)
    {
        var ticks = Math.Max(1, resolution?.Ticks ?? 1);
        TimeSpan Round(TimeSpan t) => TimeSpan.FromTicks(t.Ticks / ticks * ticks);
        var events = pulls.SelectMany(p => new[] { (At: Round(p.Started), Delta: 1), (At: Round(p.Ended), Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta).ToList();
        var steps = new List<(TimeSpan, int)>();
        var count = 0;
        foreach (var e in events)
        {
            count += e.Delta;
            if (steps.Count > 0 && steps[^1].Item1 == e.At) steps[^1] = (e.At, count);
            else steps.Add((e.At, count));
        }
        return steps;
    }
}
