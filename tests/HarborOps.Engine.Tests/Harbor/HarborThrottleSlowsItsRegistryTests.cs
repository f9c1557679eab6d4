using System.Net;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Harbor serves its API (/api) and its registry (/v2) on one host, behind one rate limit: when the API says "slow
/// down", the session's registry client slows down on that host too. The test goes through the objects the cmdlets use
/// (the process-wide registry engine, a Harbor client made per command), so it checks the session's wiring as well.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborThrottleSlowsItsRegistryTests(HarborLabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    private FaultProxy _proxy = null!;

    public async Task InitializeAsync() => _proxy = await FaultProxy.StartAsync(lab.Harbor.BaseUri);

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    [Fact]
    public async Task A_429_with_Retry_After_from_the_API_delays_the_next_registry_request_to_that_host()
    {
        var credential = new NetworkCredential(lab.Harbor.AdminUser, lab.Harbor.AdminPassword);
        var harbor = new HarborClient(new HarborConnection(_proxy.BaseUri, credential), null, lab.FastOptions);
        _proxy.Inject(FaultRule.TooManyRequests("^/api/", TimeSpan.FromSeconds(1), method: "GET"));

        var connecting = harbor.ConnectAsync(CancellationToken.None);
        var log = await FaultProxy.LoggedAsync(() => _proxy.Requests, r => r.StatusCode == 429, 1);
        var answered = log.First(r => r.StatusCode == 429);
        var throttledAt = answered.StartedAt + answered.Duration;

        // The registry side of the same host, asked while the API's wait window is open: a pull of some tag.
        var tags = new GetTagsRequest($"{_proxy.Host}/no-such-project/app") { Credential = credential };
        await Record.ExceptionAsync(async () => { await foreach (var _ in RegistryEngine.Shared.GetTagsAsync(tags, null, CancellationToken.None)) { } });
        await connecting;

        foreach (var request in _proxy.Requests) output.WriteLine(request.ToString());
        var registrySent = (await FaultProxy.LoggedAsync(() => _proxy.Requests, r => r.PathAndQuery.StartsWith("/v2/", StringComparison.Ordinal), 1))
            .First(r => r.PathAndQuery.StartsWith("/v2/", StringComparison.Ordinal));
        Assert.True(registrySent.StartedAt >= throttledAt.AddMilliseconds(850),
            $"the registry request went {(registrySent.StartedAt - throttledAt).TotalMilliseconds:0} ms after the API's 429 (Retry-After: 1)");
        lab.SkipExchanges(); // the proxy answered the 429 itself; what reached the emulator is ordinary traffic
    }
}
