using System.Security.Cryptography;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry;

/// <summary>Content digests ("sha256:&lt;hex&gt;") as the OCI spec defines them.</summary>
public static class Digests
{
    public static string Sha256(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();

    /// <summary>Computes a digest with the algorithm the expected digest names (sha256 or sha512).</summary>
    public static string Compute(string algorithmOf, ReadOnlySpan<byte> content) =>
        AlgorithmOf(algorithmOf) == "sha512"
            ? "sha512:" + Convert.ToHexString(SHA512.HashData(content)).ToLowerInvariant()
            : Sha256(content);

    public static string AlgorithmOf(string digest)
    {
        var colon = digest.IndexOf(':');
        return colon > 0 ? digest[..colon].ToLowerInvariant() : "sha256";
    }

    public static string EncodedOf(string digest) => digest[(digest.IndexOf(':') + 1)..];

    public static IncrementalHash CreateHash(string digest) =>
        AlgorithmOf(digest) switch
        {
            "sha256" => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
            "sha512" => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
            var other => throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.NotSupported,
                $"Digest algorithm '{other}' of {digest} is not supported; only sha256 and sha512 are.", digest),
        };

    /// <summary>Throws unless <paramref name="digest"/> is a well-formed sha256/sha512 digest (it ends up in URLs and file paths).</summary>
    public static void Validate(string digest, object? target = null)
    {
        if (!ImageReference.IsValidDigest(digest))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{digest}' is not a valid digest: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>.", target ?? digest);
    }

    /// <summary>The referrers tag-schema tag of a digest: "sha256-&lt;hex&gt;" (OCI distribution spec 1.1).</summary>
    public static string ToTagSchemaTag(string digest)
    {
        var alg = AlgorithmOf(digest);
        var enc = EncodedOf(digest);
        if (alg.Length > 32) alg = alg[..32];
        if (enc.Length > 64) enc = enc[..64];
        return alg + "-" + enc;
    }
}

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
