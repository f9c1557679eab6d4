using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>The once-per-run answer to "does this registry have the referrers API?", under concurrent callers.</summary>
public sealed class ReferrersApiProbeTests
{
    private static readonly OciDescriptor Referrer = new("application/vnd.oci.image.manifest.v1+json", "sha256:" + new string('a', 64), 100);

    [Fact]
    public async Task Callers_arriving_together_at_a_registry_without_the_api_cost_one_query()
    {
        var probe = new ReferrersApiProbe();
        var gate = new TaskCompletionSource();
        var queries = 0;
        async Task<IReadOnlyList<OciDescriptor>?> NoApi()
        {
            Interlocked.Increment(ref queries);
            await gate.Task;
            return null;
        }

        var callers = Enumerable.Range(0, 16).Select(_ => probe.QueryAsync(NoApi, CancellationToken.None)).ToList();
        callers.Add(probe.HasApiAsync(NoApi, CancellationToken.None).ContinueWith(t => t.Result ? (IReadOnlyList<OciDescriptor>?)[] : null));
        gate.SetResult();
        var answers = await Task.WhenAll(callers);

        Assert.All(answers, Assert.Null);
        Assert.Equal(1, queries);
        Assert.Equal(-1, probe.Known);
        Assert.Null(await probe.QueryAsync(NoApi, CancellationToken.None));
        Assert.False(await probe.HasApiAsync(NoApi, CancellationToken.None));
        Assert.Equal(1, queries);
    }

    [Fact]
    public async Task With_the_api_every_digest_is_still_queried_but_the_yes_needs_no_query_of_its_own()
    {
        var probe = new ReferrersApiProbe();
        var queries = 0;
        Task<IReadOnlyList<OciDescriptor>?> Api()
        {
            Interlocked.Increment(ref queries);
            return Task.FromResult<IReadOnlyList<OciDescriptor>?>([Referrer]);
        }

        Assert.Equal([Referrer], await probe.QueryAsync(Api, CancellationToken.None));
        Assert.Equal([Referrer], await probe.QueryAsync(Api, CancellationToken.None));
        Assert.True(await probe.HasApiAsync(Api, CancellationToken.None));
        Assert.Equal(2, queries);
        Assert.Equal(1, probe.Known);
    }

    [Fact]
    public async Task A_query_that_fails_settles_nothing_and_the_next_caller_asks_again()
    {
        var probe = new ReferrersApiProbe();
        var gate = new TaskCompletionSource();
        var queries = 0;
        async Task<IReadOnlyList<OciDescriptor>?> ThrottledOnce()
        {
            if (Interlocked.Increment(ref queries) == 1)
            {
                await gate.Task;
                throw new RegistryException(RegistryErrorIds.Throttled, FailureKind.Throttled, "429 from the registry", "registry.example");
            }
            return [Referrer];
        }

        var first = probe.QueryAsync(ThrottledOnce, CancellationToken.None);
        var waiting = probe.QueryAsync(ThrottledOnce, CancellationToken.None);
        gate.SetResult();

        await Assert.ThrowsAsync<RegistryException>(() => first);
        Assert.Equal([Referrer], await waiting);
        Assert.Equal(1, probe.Known);
        Assert.Equal(2, queries);
    }
}
