namespace HarborOps.Lab;

/// <summary>
/// The network between a client and the registry, as the proxy shapes it: a latency added to every request (a round
/// trip to a registry in another region) and a bandwidth cap per connection and direction. Both are standing settings,
/// not faults: clearing faults keeps them. The request log counts the body bytes each request sent and received.
/// </summary>
public sealed partial class FaultProxy
{
    private const string RequestBodyItem = "lab.requestBody";
    private const string ResponseBodyItem = "lab.responseBody";

    /// <summary>Waited before each request (control API excluded) is forwarded; zero by default.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Bytes a second each request body and each response body may move (per connection and direction); null: no cap.</summary>
    public long? BandwidthPerConnection { get; set; }

    /// <summary>
    /// At least <see cref="Latency"/> by the clock: a timer may fire a millisecond or two early (its ticks are coarse),
    /// and a proxy that promises a latency must never answer sooner.
    /// </summary>
    private async Task WaitLatencyAsync(HttpContext context)
    {
        var latency = Latency;
        if (latency <= TimeSpan.Zero) return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var left = latency; left > TimeSpan.Zero; left = latency - clock.Elapsed)
            await Task.Delay(left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left, context.RequestAborted);
    }

    /// <summary>The request body as the upstream reads it: paced by the cap and counted for the log.</summary>
    private Stream ShapedRequestBody(HttpContext context)
    {
        var shaped = new ShapedStream(context.Request.Body, BandwidthPerConnection);
        context.Items[RequestBodyItem] = shaped;
        return shaped;
    }

    /// <summary>The upstream's response body as the client gets it: paced by the cap and counted for the log.</summary>
    private Stream ShapedResponseBody(HttpContext context, Stream upstream)
    {
        var shaped = new ShapedStream(upstream, BandwidthPerConnection);
        context.Items[ResponseBodyItem] = shaped;
        return shaped;
    }

    private static long BodyBytes(HttpContext context, string item) =>
        context.Items.TryGetValue(item, out var stream) && stream is ShapedStream shaped ? shaped.BytesRead : 0;

    private static ProxiedRequest WithBodyBytes(ProxiedRequest entry, HttpContext context) =>
        entry with { RequestBodyBytes = BodyBytes(context, RequestBodyItem), ResponseBodyBytes = BodyBytes(context, ResponseBodyItem) };
}
