using System.Diagnostics;

namespace HarborOps.Lab;

/// <summary>
/// A read-only view of a stream that counts what is read through it and, with a rate, paces reading so that no more
/// than <c>rate</c> bytes a second pass (each read waits until the bytes read so far are due): a bandwidth cap for
/// one direction of one request. HTTP/1.1 carries one request at a time per connection, so this is the connection's cap.
/// </summary>
public sealed class ShapedStream(Stream inner, long? bytesPerSecond) : Stream
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _read;

    /// <summary>Bytes read through this stream so far.</summary>
    public long BytesRead => Interlocked.Read(ref _read);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // At most a tenth of a second's worth at once, so the pacing is smooth rather than one long wait per buffer.
        if (bytesPerSecond is long rate && buffer.Length > Math.Max(1, rate / 10)) buffer = buffer[..(int)Math.Max(1, rate / 10)];
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        var total = Interlocked.Add(ref _read, read);
        if (bytesPerSecond is long perSecond && read > 0)
        {
            var due = TimeSpan.FromSeconds(total / (double)perSecond);
            var early = due - _clock.Elapsed;
            if (early > TimeSpan.Zero) await Task.Delay(early, cancellationToken).ConfigureAwait(false);
        }
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
