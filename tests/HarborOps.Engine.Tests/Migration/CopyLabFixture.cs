using System.Collections.Concurrent;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// A source and a destination Distribution registry, each behind a fault proxy (request log, injected faults, referrers
/// API emulation), shared by the copy tests; every test works in repositories of its own.
/// </summary>
public sealed class CopyLabFixture : IAsyncLifetime
{
    private int _counter;

    public DistributionRegistry Source { get; private set; } = null!;
    public DistributionRegistry Destination { get; private set; } = null!;
    public FaultProxy SourceProxy { get; private set; } = null!;
    public FaultProxy DestinationProxy { get; private set; } = null!;

    /// <summary>The source as clients reach it (through its proxy).</summary>
    public string SourceHost => SourceProxy.Host;
    public string DestinationHost => DestinationProxy.Host;
    public LabEndpoint SourceEndpoint => SourceProxy.EndpointFor(Source);
    public LabEndpoint DestinationEndpoint => DestinationProxy.EndpointFor(Destination);

    public async Task InitializeAsync()
    {
        var source = DistributionRegistry.StartAsync();
        var destination = DistributionRegistry.StartAsync();
        await Task.WhenAll(source, destination);
        (Source, Destination) = (source.Result, destination.Result);
        SourceProxy = await FaultProxy.StartAsync(Source);
        DestinationProxy = await FaultProxy.StartAsync(Destination);
    }

    public async Task DisposeAsync()
    {
        if (SourceProxy is not null) await SourceProxy.DisposeAsync();
        if (DestinationProxy is not null) await DestinationProxy.DisposeAsync();
        if (Source is not null) await Source.DisposeAsync();
        if (Destination is not null) await Destination.DisposeAsync();
    }

    /// <summary>A repository path no other test uses.</summary>
    public string Unique(string name) => $"{name}-{Interlocked.Increment(ref _counter)}";

    /// <summary>Clean slate for a test: no faults, empty logs, referrers API emulation off.</summary>
    public void Reset()
    {
        foreach (var proxy in new[] { SourceProxy, DestinationProxy })
        {
            proxy.ClearFaults();
            proxy.ClearRequests();
            proxy.EnableReferrersApi = false;
            proxy.TagsPageSize = null;
        }
    }

    /// <summary>An engine with short retry delays so fault tests stay quick; no docker config from the machine.</summary>
    public static RegistryEngine NewEngine() => new(new RegistryEngineOptions
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(300),
        DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-tests-no-docker-config.json"),
    });

    /// <summary>
    /// Runs a copy and collects its per-tag results; the proxies' logs are complete when it returns. Every copy also
    /// checks that a Failed result, and only a Failed one, comes with its typed failure, which its Reason, Error and
    /// ErrorId repeat (the cmdlet's error records are built from the failure, never parsed back from the result).
    /// </summary>
    public async Task<(CopySummary Summary, IReadOnlyList<CopyResult> Results)> CopyAsync(CopyRequest request, RegistryEngine? engine = null,
        CancellationToken cancellationToken = default, Action<CopyResult>? onResult = null, IProgress<OperationProgress>? progress = null)
    {
        var results = new ConcurrentQueue<CopyResult>();
        var untyped = new ConcurrentQueue<string>();
        using var owned = engine is null ? NewEngine() : null;
        var copier = new ImageCopier(engine ?? owned!);
        try
        {
            var summary = await copier.CopyAsync(request, progress, (r, failure) =>
            {
                var typed = r.Action == CopyAction.Failed
                    ? failure is not null && r.Reason == failure.Kind.ToString() && r.Error == failure.Message && r.ErrorId == failure.ErrorId
                    : failure is null;
                if (!typed) untyped.Enqueue($"{r.Action} {r.Source}: {failure?.ErrorId ?? "no failure"}");
                results.Enqueue(r);
                onResult?.Invoke(r);
            }, cancellationToken);
            Assert.True(untyped.IsEmpty, "Results whose typed failure does not match: " + string.Join("; ", untyped));
            return (summary, results.ToArray());
        }
        finally
        {
            await SettleLogsAsync();
        }
    }

    /// <summary>
    /// A proxy logs a request once it has finished answering, which can be just after the client has everything: wait
    /// (bounded) until neither log has grown for a moment before a test reads them.
    /// </summary>
    public async Task SettleLogsAsync()
    {
        var last = -1;
        for (var i = 0; i < 100; i++)
        {
            var count = SourceProxy.Requests.Count + DestinationProxy.Requests.Count;
            if (count == last) return;
            last = count;
            await Task.Delay(30);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class CopyLabCollection : ICollectionFixture<CopyLabFixture>
{
    public const string Name = "copy lab";
}
