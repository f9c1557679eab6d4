using System.Diagnostics;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Lab;

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
        var open = DistributionRegistry.StartAsync(RegistryAuthMode.None);
        var basic = DistributionRegistry.StartAsync(RegistryAuthMode.Basic);
        var token = DistributionRegistry.StartAsync(RegistryAuthMode.Token);
        try
        {
            await Task.WhenAll(open, basic, token);
        }
        catch
        {
            foreach (var started in new[] { open, basic, token }.Where(t => t.IsCompletedSuccessfully)) await started.Result.DisposeAsync();
            throw;
        }
        (Open, Basic, Token) = (open.Result, basic.Result, token.Result);
        StartAllTime = clock.Elapsed;
    }

    public async Task DisposeAsync()
    {
        foreach (var registry in new[] { Open, Basic, Token })
            if (registry is not null) await registry.DisposeAsync();
    }
}
