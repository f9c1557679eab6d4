namespace HarborOps.Engine.Registry.Http;

/// <summary>Reading what a registry sends back: a success body bounded in size and time, an error body quietly.</summary>
internal static class RegistryBodies
{
    public static async Task<byte[]> ReadAsync(HttpResponseMessage response, RegistryRequest request, TimeSpan timeoutBetweenReads, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is { } declared && declared > request.MaxBodyBytes)
            throw RegistryFailures.TooLarge(request, declared);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeoutBetweenReads);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            var n = await stream.ReadAsync(chunk, timeout.Token).ConfigureAwait(false);
            if (n == 0) break;
            buffer.Write(chunk, 0, n);
            if (buffer.Length > request.MaxBodyBytes) throw RegistryFailures.TooLarge(request, buffer.Length);
        }
        return buffer.ToArray();
    }

    /// <summary>Error bodies are diagnostics only: read at most 64 KiB and never fail on them.</summary>
    public static async Task<byte[]?> ReadQuietlyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var buffer = new byte[64 * 1024];
            var total = 0;
            while (total < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(total), timeout.Token).ConfigureAwait(false);
                if (n == 0) break;
                total += n;
            }
            return buffer[..total];
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public static bool IsTransientFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException;
}
