using System.Security.Cryptography;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Manifests;

/// <summary>
/// Passes a blob through while hashing it; at end of stream it throws DigestMismatch when the bytes do not hash to the
/// expected digest or their count differs from the expected size. Reading past a verified end keeps returning 0.
/// </summary>
public sealed class DigestVerifyingStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash;
    private readonly string _expectedDigest;
    private readonly long? _expectedSize;
    private readonly object? _target;
    private readonly bool _leaveOpen;
    private long _bytesRead;
    private bool _verified;

    public DigestVerifyingStream(Stream inner, string expectedDigest, long? expectedSize, object? target = null, bool leaveOpen = false)
    {
        this._inner = inner;
        this._expectedDigest = expectedDigest;
        this._expectedSize = expectedSize;
        this._target = target;
        this._leaveOpen = leaveOpen;
        _hash = Digests.CreateHash(expectedDigest);
    }

    public string ExpectedDigest => _expectedDigest;
    public long BytesRead => _bytesRead;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _expectedSize ?? throw new NotSupportedException();
    public override long Position { get => _bytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n]);
    }

    private int Account(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length == 0)
        {
            Verify();
            return 0;
        }
        _bytesRead += chunk.Length;
        if (_expectedSize is { } size && _bytesRead > size)
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"Blob {_expectedDigest} is longer than the {size} bytes its descriptor declares; the registry served different content. Retry; if it persists the registry's copy is corrupt.", _target ?? _expectedDigest);
        _hash.AppendData(chunk);
        return chunk.Length;
    }

    private void Verify()
    {
        if (_verified) return;
        _verified = true;
        if (_expectedSize is { } size && _bytesRead != size)
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"Blob {_expectedDigest} ended after {_bytesRead} of {size} bytes; the content is incomplete. Retry; if it persists the registry's copy is corrupt.", _target ?? _expectedDigest);
        var actual = Digests.AlgorithmOf(_expectedDigest) + ":" + Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();
        if (!string.Equals(actual, _expectedDigest, StringComparison.Ordinal))
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"Blob content hashes to {actual}, not to the expected {_expectedDigest}; it was corrupted in transit or in storage. Retry; if it persists the registry's copy is corrupt.", _target ?? _expectedDigest);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen) _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (!_leaveOpen) await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
