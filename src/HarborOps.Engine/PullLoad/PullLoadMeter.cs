using System.Diagnostics;
using System.Threading.Channels;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;
using HarborOps.Models;

namespace HarborOps.Engine.PullLoad;

/// <summary>
/// Measure-RegistryPull's engine: runs a pull load against each registry in turn (the same load for each, so their
/// numbers compare) and summarizes it. Every simulated node is an engine of its own (its own connections, tokens and
/// backoff, as each node's kubelet has) that pulls one image at a time; pulls arrive on the schedule of
/// <see cref="PullArrivals"/> and are dealt to the nodes in turn, so a busy node's queue shows in time to pulled.
/// </summary>
public sealed class PullLoadMeter(RegistryEngine engine)
{
    /// <summary>Every registry's summary and pulls, in the order measured; the HTML report is written when the request names one.</summary>
    public async Task<PullLoadRun> MeasureAsync(PullLoadRequest request, IProgress<OperationProgress>? progress,
        Action<RegistryPullResult>? onPull, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var targets = request.Targets();
        var platform = PlatformFilter.Parse(request.Platform);
        var load = $"{request.Arrivals.Description} on {request.Nodes} node(s)";
        var measured = new List<RegistryPullRun>();
        foreach (var (registry, images) in targets)
        {
            var pulls = await RunRegistryAsync(request, registry, images, platform, targets.Count, measured.Count, progress, onPull, cancellationToken).ConfigureAwait(false);
            measured.Add(new RegistryPullRun(PullStatistics.Summarize(registry, load, pulls, request.ReportPath), pulls));
        }
        progress?.Report(new OperationProgress("Measuring registry pulls", "Done", IsComplete: true));
        if (request.ReportPath is { } path) PullReportHtml.Write(path, load, request.Platform, measured);
        return new PullLoadRun(measured);
    }

    private async Task<IReadOnlyList<RegistryPullResult>> RunRegistryAsync(PullLoadRequest request, string registry, IReadOnlyList<ImageReference> images,
        PlatformFilter platform, int registryCount, int registryIndex, IProgress<OperationProgress>? progress, Action<RegistryPullResult>? onPull,
        CancellationToken cancellationToken)
    {
        var nodes = Enumerable.Range(0, request.Nodes).Select(_ => engine.ForAnotherMachine()).ToArray();
        // Each node's queue, worked in arrival order by the node alone: a kubelet pulls one image at a time, first come first served.
        var queues = nodes.Select(_ => Channel.CreateUnbounded<(int Sequence, TimeSpan Arrival)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true })).ToArray();
        var results = new RegistryPullResult[request.Arrivals.Count];
        var done = 0;
        var activity = $"Measuring pulls from {registry} ({registryIndex + 1} of {registryCount})";
        var clock = Stopwatch.StartNew();
        try
        {
            var workers = nodes.Select((node, index) => Task.Run(async () =>
            {
                await foreach (var (sequence, arrival) in queues[index].Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    var result = await PullOnNodeAsync(node, index, sequence, images[sequence % images.Count], platform, request, clock, arrival, registry,
                        cancellationToken).ConfigureAwait(false);
                    results[sequence] = result;
                    var finished = Interlocked.Increment(ref done);
                    onPull?.Invoke(result);
                    progress?.Report(new OperationProgress(activity, $"{finished} of {request.Arrivals.Count} pulled", result.Image, finished, request.Arrivals.Count));
                }
            }, cancellationToken)).ToArray();
            try
            {
                for (var i = 0; i < request.Arrivals.Count; i++)
                {
                    var arrival = request.Arrivals.ArrivalOf(i);
                    var wait = arrival - clock.Elapsed;
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                    queues[i % nodes.Length].Writer.TryWrite((i, arrival));
                }
            }
            finally
            {
                foreach (var queue in queues) queue.Writer.TryComplete();
            }
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        finally
        {
            foreach (var node in nodes) node.Dispose();
        }
        return results;
    }

    private static async Task<RegistryPullResult> PullOnNodeAsync(RegistryEngine node, int nodeIndex, int sequence, ImageReference image,
        PlatformFilter platform, PullLoadRequest request, Stopwatch clock, TimeSpan arrival, string registry, CancellationToken cancellationToken)
    {
        var started = clock.Elapsed;
        var throttledBefore = node.ThrottledAnswers;
        KubeletPull.Outcome? outcome = null;
        HarborOpsException? failure = null;
        try
        {
            outcome = await KubeletPull.RunAsync(node, image, platform, request.LayerParallelism, request.Credential, cancellationToken).ConfigureAwait(false);
        }
        // A failed pull is a measurement (throttled, unreachable, a lying digest); bad input or credentials end the run.
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            failure = ex;
        }
        var ended = clock.Elapsed;
        return new RegistryPullResult
        {
            Registry = registry, Image = image.ToString(), Sequence = sequence, Node = nodeIndex, ArrivedAt = arrival,
            Started = started, Ended = ended, Queued = started - arrival, TimeToManifest = outcome?.TimeToManifest ?? TimeSpan.Zero,
            TimeToPulled = ended - arrival, Bytes = outcome?.Bytes ?? 0, Succeeded = failure is null,
            ErrorKind = failure?.ErrorId, Error = failure?.Message, Throttled = (int)(node.ThrottledAnswers - throttledBefore),
        };
    }
}

/// <summary>One registry's measurement: its summary and every pull.</summary>
public sealed record RegistryPullRun(RegistryPullSummary Summary, IReadOnlyList<RegistryPullResult> Pulls);

/// <summary>A whole Measure-RegistryPull run: each registry measured, in order.</summary>
public sealed record PullLoadRun(IReadOnlyList<RegistryPullRun> Registries);
