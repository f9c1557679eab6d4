using HarborOps.Lab.Acr;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>One ACR emulator (with its Entra tenant) for the lab's own ACR tests; each test pushes into repositories of its own.</summary>
public sealed class AcrEmulatorFixture : IAsyncLifetime
{
    private int _names;

    public AcrEmulator Acr { get; private set; } = null!;
    public string AcrHost => Acr.Host;

    public async Task InitializeAsync() => Acr = await AcrEmulator.StartAsync();

    public async Task DisposeAsync()
    {
        if (Acr is not null) await Acr.DisposeAsync();
    }

    /// <summary>A repository path no other test uses.</summary>
    public string Unique(string name) => $"{name}-{Interlocked.Increment(ref _names)}";

    public Task ResetAsync() => Acr.ResetAsync();
}
