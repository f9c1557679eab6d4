using System.Diagnostics;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>One registry per auth mode, started in parallel once for a test class.</summary>
public sealed class LabRegistriesFixture : IAsyncLifetime
{
    public DistributionRegistry Open { get; private set; } = null!;
    public DistributionRegistry Basic { get; private set; } = null!;
    public DistributionRegistry Token { get; private set; } = null!;
    public TimeSpan StartAllTime { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var registries = await DistributionRegistry.StartAllAsync(RegistryAuthMode.None, RegistryAuthMode.Basic, RegistryAuthMode.Token);
        (Open, Basic, Token) = (registries[0], registries[1], registries[2]);
        StartAllTime = clock.Elapsed;
    }

    public async Task DisposeAsync()
    {
        foreach (var registry in new[] { Open, Basic, Token })
            if (registry is not null) await registry.DisposeAsync();
    }
}
