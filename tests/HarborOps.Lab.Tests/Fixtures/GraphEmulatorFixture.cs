using HarborOps.Lab.Graph;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>One Graph emulator (Entra authority and Graph over TLS with the lab CA) for the lab's own Graph tests.</summary>
public sealed class GraphEmulatorFixture : IAsyncLifetime
{
    private int _names;

    public GraphEmulator Graph { get; private set; } = null!;

    /// <summary>Holds each test's Graph responses to Graph's published OpenAPI (call it when the test ends).</summary>
    public HarborOps.Lab.Tests.Judges.GraphExchangeAudit Audit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Graph = await GraphEmulator.StartAsync();
        Audit = new HarborOps.Lab.Tests.Judges.GraphExchangeAudit(Graph);
    }

    public async Task DisposeAsync()
    {
        if (Graph is not null) await Graph.DisposeAsync();
    }

    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";
}
