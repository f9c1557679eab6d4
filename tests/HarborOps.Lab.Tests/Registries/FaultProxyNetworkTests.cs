using System.Diagnostics;
using System.Net;
using Xunit;

namespace HarborOps.Lab.Tests.Registries;

/// <summary>
/// The proxy's network shaping, which the sharded benchmark relies on to make the network its bottleneck. Only lower
/// bounds are asserted: a loaded machine may make anything slower, never faster than the shaping allows.
/// </summary>
public sealed class FaultProxyNetworkTests(LabRegistriesFixture lab) : IClassFixture<LabRegistriesFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    private static byte[] RandomBytes(int size)
    {
        var content = new byte[size];
        Random.Shared.NextBytes(content);
        return content;
    }

    [Fact]
    public async Task A_request_through_a_100_ms_proxy_takes_at_least_100_ms_and_one_without_latency_is_answered_the_same()
    {
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        proxy.Latency = TimeSpan.FromMilliseconds(100);

        var clock = Stopwatch.StartNew();
        using var response = await Http.GetAsync(new Uri(proxy.BaseUri, "v2/"));
        var elapsed = clock.Elapsed;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(100), $"answered after {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_1_MiB_blob_through_a_1_MiB_per_second_cap_takes_about_a_second_each_way_and_is_counted_in_the_log()
    {
        var content = RandomBytes(1 << 20);
        await using var proxy = await FaultProxy.StartAsync(lab.Open);
        proxy.BandwidthPerConnection = 1 << 20;

        var upload = Stopwatch.StartNew();
        var digest = await LabContent.PushBlobAsync(proxy.EndpointFor(lab.Open), "proxy/shaped", content);
        var uploaded = upload.Elapsed;
        var download = Stopwatch.StartNew();
        var read = await Http.GetByteArrayAsync(new Uri(proxy.BaseUri, $"v2/proxy/shaped/blobs/{digest}"));
        var downloaded = download.Elapsed;

        Assert.Equal(content, read);
        // The pacer lets the last byte through once its second is due; 50 ms of slack for timer granularity.
        Assert.True(uploaded >= TimeSpan.FromMilliseconds(950), $"uploaded in {uploaded.TotalMilliseconds:0} ms");
        Assert.True(downloaded >= TimeSpan.FromMilliseconds(950), $"downloaded in {downloaded.TotalMilliseconds:0} ms");
        var log = await FaultProxy.LoggedAsync(() => proxy.Requests, r => r.Method == "GET" && r.PathAndQuery.EndsWith(digest, StringComparison.Ordinal), 1);
        Assert.Equal(content.Length, log.Where(r => r.PathAndQuery.Contains("/blobs/uploads/", StringComparison.Ordinal)).Sum(r => r.RequestBodyBytes));
        Assert.Equal(content.Length, log.Single(r => r.Method == "GET" && r.PathAndQuery.EndsWith(digest, StringComparison.Ordinal)).ResponseBodyBytes);
    }
}
