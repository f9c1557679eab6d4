using HarborOps.Lab.Harbor;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>A Harbor emulator and a real Distribution registry that stands in for Docker Hub behind its proxy-cache projects.</summary>
public sealed class HarborProxyCacheFixture : IAsyncLifetime
{
    private int _names;

    public HarborEmulator Harbor { get; private set; } = null!;
    public HarborExchangeAudit Audit { get; private set; } = null!;
    /// <summary>The lab's "Docker Hub": an open registry whose official images live under library/, as on Docker Hub.</summary>
    public DistributionRegistry Hub { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Hub = await DistributionRegistry.StartAsync();
        Harbor = await HarborEmulator.StartAsync(new HarborEmulatorOptions { ScanDuration = TimeSpan.FromMilliseconds(200) });
        Audit = new HarborExchangeAudit(Harbor);
    }

    public async Task DisposeAsync()
    {
        if (Harbor is not null) await Harbor.DisposeAsync();
        if (Hub is not null) await Hub.DisposeAsync();
    }

    /// <summary>A name no other test uses (lower case, Harbor's name rules).</summary>
    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";
}
