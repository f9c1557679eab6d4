using HarborOps.Lab.Harbor;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>One Harbor emulator for the lab's own Harbor tests, its exchanges audited against the swagger contract.</summary>
public sealed class HarborEmulatorFixture : IAsyncLifetime
{
    private int _names;

    public HarborEmulator Harbor { get; private set; } = null!;
    public HarborExchangeAudit Audit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Harbor = await HarborEmulator.StartAsync(new HarborEmulatorOptions { ScanDuration = TimeSpan.FromMilliseconds(250) });
        Audit = new HarborExchangeAudit(Harbor);
    }

    public async Task DisposeAsync()
    {
        if (Harbor is not null) await Harbor.DisposeAsync();
    }

    /// <summary>A name no other test uses (lower case, Harbor's name rules).</summary>
    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";
}
