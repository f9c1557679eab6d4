using System.Collections.Concurrent;

namespace HarborOps.Engine.Tests;

/// <summary>Keeps every progress report as it is made (Progress&lt;T&gt; would post them later, after a test looked).</summary>
internal sealed class QueuedProgress : IProgress<OperationProgress>
{
    public ConcurrentQueue<OperationProgress> Reports { get; } = new();

    public void Report(OperationProgress value) => Reports.Enqueue(value);
}
