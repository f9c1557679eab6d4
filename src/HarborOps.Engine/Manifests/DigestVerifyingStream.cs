using System.Security.Cryptography;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Manifests;

/// <summary>
/// Passes a blob through while hashing it; at end of stream it throws DigestMismatch when the bytes do not hash to the
/// expected digest or their count differs from the expected size. Reading past a verified end keeps returning 0.
/// </summary>
public sealed class DigestVerifyingStream : Stream
{
    private readonly Stream inner;
    private readonly IncrementalHash hash;
    private readonly string expectedDigest;
    private readonly long? expectedSize;
    private readonly object? target;
    private readonly bool leaveOpen;
    private long bytesRead;
    private bool verified;

    public DigestVerifyingStream(Stream inner, string expectedDigest, long? expectedSize, object? target = null, bool leaveOpen = false)
    {
        this.inner = inner;
        this.expectedDigest = expectedDigest;
        this.expectedSize = expectedSize;
        this.target = target;
        this.leaveOpen = leaveOpen;
        hash = Digests.CreateHash(expectedDigest);
    }

    public string ExpectedDigest => expectedDigest;
    public long BytesRead => bytesRead;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expectedSize ?? throw new NotSupportedException();
    public override long Position { get => bytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n]);
    }

    private int Account(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length == 0)
        {
            Verify();
            return 0;
        }
        bytesRead += chunk.Length;
        if (expectedSize is { } size && bytesRead > size)
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"Blob {expectedDigest} is longer than the {size} bytes its descriptor declares; the registry served different content. Retry; if it persists the registry's copy is corrupt.", target ?? expectedDigest);
        hash.AppendData(chunk);
        return chunk.Length;
    }

    private void Verify()
    {
        if (verified) return;
        verified = true;
        if (expectedSize is { } size && bytesRead != size)
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"Blob {expectedDigest} ended after {bytesRead} of {size} bytes; the content is incomplete. Retry; if it persists the registry's copy is corrupt.", target ?? expectedDigest);
        var actual = Digests.AlgorithmOf(expectedDigest) + ":" + Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
        if (!string.Equals(actual, expectedDigest, StringComparison.Ordinal))
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"Blob content hashes to {actual}, not to the expected {expectedDigest}; it was corrupted in transit or in storage. Retry; if it persists the registry's copy is corrupt.", target ?? expectedDigest);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
            if (!leaveOpen) inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        hash.Dispose();
        if (!leaveOpen) await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
