namespace HarborOps.Models;

/// <summary>
/// One simulated image pull of Measure-RegistryPull: what a kubelet on a node without the image does (manifest for the
/// node's platform, config, every layer, digests verified), timed from the moment the pull arrived (a pod scheduled)
/// to the moment the image was there.
/// </summary>
public sealed class RegistryPullResult
{
    public string Registry { get; init; } = "";
    /// <summary>The image pulled, as registry/repository:tag (or @digest).</summary>
    public string Image { get; init; } = "";
    /// <summary>The pull's place in the run's arrival order (0-based).</summary>
    public int Sequence { get; init; }
    /// <summary>The simulated node that pulled it (each node pulls one image at a time, as kubelets do by default).</summary>
    public int Node { get; init; }
    /// <summary>When the pull arrived, from the start of this registry's run.</summary>
    public TimeSpan ArrivedAt { get; init; }
    /// <summary>When the pull's node started it and when it ended, from the start of this registry's run.</summary>
    public TimeSpan Started { get; init; }
    public TimeSpan Ended { get; init; }
    /// <summary>How long the pull waited for its node to finish earlier pulls.</summary>
    public TimeSpan Queued { get; init; }
    /// <summary>From the pull's start until its (first) manifest had arrived: token round trips and the registry's time to answer.</summary>
    public TimeSpan TimeToManifest { get; init; }
    /// <summary>From arrival until every layer was there and verified: what a new pod waits for (queue included).</summary>
    public TimeSpan TimeToPulled { get; init; }
    public long Bytes { get; init; }
    public bool Succeeded { get; init; }
    /// <summary>The error id of a failed pull (RegistryThrottled, RegistryUnreachable, RegistryDigestMismatch, ...).</summary>
    public string? ErrorKind { get; init; }
    public string? Error { get; init; }
    /// <summary>429 answers (or TOOMANYREQUESTS) the registry gave this pull; each was waited out and retried.</summary>
    public int Throttled { get; init; }

    public override string ToString() => Succeeded
        ? $"{Image} on node {Node}: {TimeToPulled.TotalMilliseconds:0} ms, {ByteCount.Format(Bytes)}"
        : $"{Image} on node {Node}: failed ({ErrorKind})";
}

/// <summary>
/// What one registry did under one load in Measure-RegistryPull: percentiles of time to pulled and to the manifest,
/// throughput, errors by kind and throttling. Several registries measured in one call are measured under the same load.
/// </summary>
public sealed class RegistryPullSummary
{
    public string Registry { get; init; } = "";
    /// <summary>The load: e.g. "50 pulls over 10 s on 10 nodes" or "2/s for 60 s on 10 nodes".</summary>
    public string Load { get; init; } = "";
    public int Pulls { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    /// <summary>Time to pulled (arrival to every layer verified) of the successful pulls, nearest-rank percentiles.</summary>
    public TimeSpan P50 { get; init; }
    public TimeSpan P95 { get; init; }
    public TimeSpan P99 { get; init; }
    public TimeSpan Max { get; init; }
    /// <summary>Time to the manifest, median and 95th percentile.</summary>
    public TimeSpan ManifestP50 { get; init; }
    public TimeSpan ManifestP95 { get; init; }
    public long Bytes { get; init; }
    /// <summary>From the first arrival to the last pull's end.</summary>
    public TimeSpan Elapsed { get; init; }
    public double BytesPerSecond => Elapsed.TotalSeconds > 0 ? Bytes / Elapsed.TotalSeconds : 0;
    /// <summary>Most pulls downloading at the same moment.</summary>
    public int PeakInFlight { get; init; }
    /// <summary>429 answers of the registry during the run.</summary>
    public int Throttled { get; init; }
    /// <summary>Failed pulls by error id.</summary>
    public IReadOnlyDictionary<string, int> Errors { get; init; } = new Dictionary<string, int>();
    /// <summary>The HTML report this run wrote (-ReportPath), or null.</summary>
    public string? ReportPath { get; init; }

    public override string ToString() =>
        $"{Registry}: {Succeeded}/{Pulls} pulled, p50 {P50.TotalMilliseconds:0} ms, p95 {P95.TotalMilliseconds:0} ms, p99 {P99.TotalMilliseconds:0} ms, max {Max.TotalMilliseconds:0} ms";
}
