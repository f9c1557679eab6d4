using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// A blob download that survives dropped connections: when a read fails mid-body it reopens the blob with
/// Range: bytes=&lt;offset&gt;- (or, if the server ignores ranges, re-reads and skips what it already delivered) up to
/// a bounded number of times. Digest verification happens in the <see cref="Manifests.DigestVerifyingStream"/> around it.
/// </summary>
internal sealed class ResumingBlobStream : Stream
{
    internal delegate Task<(Stream Stream, long? Length, bool Ranged, IDisposable Owner)> Opener(long offset, CancellationToken cancellationToken);

    private readonly Opener _open;
    private readonly int _maxResumes;
    private readonly object _target;
    private Stream? _current;
    private IDisposable? _owner;
    private long _position;
    private int _resumes;

    private readonly TimeSpan _idleTimeout;

    public ResumingBlobStream(Opener open, int maxResumes, object target, TimeSpan idleTimeout)
    {
        this._open = open;
        this._maxResumes = maxResumes;
        this._target = target;
        this._idleTimeout = idleTimeout;
    }

    /// <summary>Content-Length of the first response, when the server sent one.</summary>
    public long? DeclaredLength { get; private set; }
    public int Resumes => _resumes;

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        var (stream, length, _, disposable) = await _open(0, cancellationToken).ConfigureAwait(false);
        _current = stream;
        _owner = disposable;
        DeclaredLength = length;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            // A body that stops flowing is as broken as one that is cut off: give each read a deadline.
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(_idleTimeout);
            try
            {
                var n = await _current!.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                _position += n;
                return n;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException)
            {
                if (_resumes >= _maxResumes)
                    throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ConnectionFailed,
                        $"The download of {_target} kept breaking off (after {_position} bytes, {_resumes} resumes): {ex.Message} Check the network and the registry's health, then retry.",
                        _target, ex);
                _resumes++;
                await ReopenAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ReopenAsync(CancellationToken cancellationToken)
    {
        Release();
        var (stream, _, ranged, disposable) = await _open(_position, cancellationToken).ConfigureAwait(false);
        _current = stream;
        _owner = disposable;
        if (ranged || _position == 0) return;
        // The server ignored Range and sent the whole blob again: skip what was already delivered.
        var skip = new byte[81920];
        var remaining = _position;
        while (remaining > 0)
        {
            var n = await stream.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, remaining)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                    $"While resuming {_target} the registry sent fewer bytes than before ({_position - remaining} of {_position}).", _target);
            remaining -= n;
        }
    }

    /// <summary>Synchronous reads work but do not resume; the engine itself always reads asynchronously.</summary>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            var n = _current!.Read(buffer);
            _position += n;
            return n;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ConnectionFailed,
                $"The download of {_target} broke off after {_position} bytes: {ex.Message} Retry.", _target, ex);
        }
    }
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => DeclaredLength ?? throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Release()
    {
        _current?.Dispose();
        _owner?.Dispose();
        _current = null;
        _owner = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Release();
        base.Dispose(disposing);
    }
}
