using HarborOps.Lab.Acr;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>One ACR emulator (with its Entra tenant) for the lab's own ACR tests; each test pushes into repositories of its own.</summary>
public sealed class AcrEmulatorFixture : IAsyncLifetime
{
    private int _names;

    public AcrEmulator Acr { get; private set; } = null!;
    public string AcrHost => Acr.Host;
    /// <summary>Holds the emulator's /acr/v1 and /oauth2 answers to ACR's swagger; the test classes call it after each test.</summary>
    public AcrExchangeAudit Audit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Acr = await AcrEmulator.StartAsync();
        Audit = new AcrExchangeAudit(Acr);
    }

    public async Task DisposeAsync()
    {
        if (Acr is not null) await Acr.DisposeAsync();
    }

    /// <summary>A repository path no other test uses.</summary>
    public string Unique(string name) => $"{name}-{Interlocked.Increment(ref _names)}";

    public Task ResetAsync() => Acr.ResetAsync();
}
