using System.Net.Http.Headers;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry;

/// <summary>The blobs of a remote registry: HEAD, resumable reads, uploads (monolithic or chunked) and cross-repository mounts.</summary>
internal sealed partial class RemoteRegistryStore
{
    public async Task<long?> HeadBlobAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var request = new RegistryRequest(HttpMethod.Head, Registry, $"/v2/{repository}/blobs/{digest}")
        {
            Scopes = [Pull(repository)],
            Credential = _credential,
            Target = $"{Name(repository)}@{digest}",
            Description = $"blob {digest} of '{Name(repository)}'",
            AcceptStatus = status => status == 404,
            NotFoundErrorId = RegistryErrorIds.BlobNotFound,
        };
        using var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == 404) return null;
        return response.ContentLength ?? 0;
    }

    public async Task<Stream> OpenBlobAsync(string repository, string digest, long? expectedSize, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var target = $"{Name(repository)}@{digest}";
        var resuming = new ResumingBlobStream(
            (offset, ct) => OpenBlobRangeAsync(repository, digest, target, offset, ct),
            _pipeline.Options.MaxRetries, target, _pipeline.Options.RequestTimeout);
        await resuming.OpenAsync(cancellationToken).ConfigureAwait(false);
        return new DigestVerifyingStream(resuming, digest, expectedSize ?? resuming.DeclaredLength, target);
    }

    private async Task<(Stream Stream, long? Length, bool Ranged, IDisposable Owner)> OpenBlobRangeAsync(string repository, string digest, string target, long offset, CancellationToken cancellationToken)
    {
        var request = new RegistryRequest(HttpMethod.Get, Registry, $"/v2/{repository}/blobs/{digest}")
        {
            Scopes = [Pull(repository)],
            Credential = _credential,
            Target = target,
            Description = $"blob {digest} of '{Name(repository)}'",
            NotFoundErrorId = RegistryErrorIds.BlobNotFound,
            BufferBody = false,
            Range = offset > 0 ? new RangeHeaderValue(offset, null) : null,
        };
        var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            var stream = await response.Message.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return (stream, response.ContentLength, response.StatusCode == 206, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Chunk size of the chunked upload used once a registry refused a blob in one piece (HTTP 413).</summary>
    internal const int UploadChunkSize = 8 * 1024 * 1024;

    /// <summary>Set after a 413 on a monolithic PUT: from then on this store uploads in PATCH chunks.</summary>
    private volatile bool _monolithicUploadRefused;

    internal bool UsesChunkedUploads => _monolithicUploadRefused;

    public async Task PutBlobAsync(string repository, string digest, long size, Stream content, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var target = $"{Name(repository)}@{digest}";
        var (location, chunkMinimum) = await StartUploadAsync(repository, digest, target, null, cancellationToken).ConfigureAwait(false);
        if (ReferenceEquals(location, MountedMarker)) return; // the registry already had it and said so with 201
        await UploadAsync(repository, digest, size, target, location, chunkMinimum, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Set when this registry refused a mount request naming the repository itself: it gets plain upload starts.</summary>
    private volatile bool _selfMountRefused;

    public async Task<bool> PutBlobUnlessPresentAsync(string repository, string digest, long size, Func<Task<Stream>> openContent, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var target = $"{Name(repository)}@{digest}";
        Uri location;
        int chunkMinimum;
        if (_selfMountRefused)
        {
            (location, chunkMinimum) = await StartUploadAsync(repository, digest, target, null, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            try
            {
                // A mount from the repository itself: 201 when the blob is already there (a HEAD folded into the upload
                // start), 202 and an upload session when it is not (OCI distribution spec, "mounting a blob").
                (location, chunkMinimum) = await StartUploadAsync(repository, digest, target, repository, cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException ex) when (ex.Kind is FailureKind.NotFound or FailureKind.PermissionDenied or FailureKind.InvalidData or FailureKind.AuthenticationFailed)
            {
                // A registry that refuses the "from" instead of answering 202 (harbor#17097) gets plain upload starts
                // from now on; if the plain start is refused as well, it was the push that was refused, not the mount.
                (location, chunkMinimum) = await StartUploadAsync(repository, digest, target, null, cancellationToken).ConfigureAwait(false);
                _selfMountRefused = true;
            }
        }
        if (ReferenceEquals(location, MountedMarker)) return false;
        Stream content;
        try
        {
            content = await openContent().ConfigureAwait(false);
        }
        catch
        {
            await CancelUploadAsync(repository, location).ConfigureAwait(false);
            throw;
        }
        await UploadAsync(repository, digest, size, target, location, chunkMinimum, content, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task UploadAsync(string repository, string digest, long size, string target, Uri location, int chunkMinimum, Stream content, CancellationToken cancellationToken)
    {
        var finished = false;
        try
        {
            // A stream that already verifies this digest (a source blob being copied) is not hashed a second time.
            var verifying = content.CanSeek || content is DigestVerifyingStream { ExpectedDigest: var expected } && expected == digest
                ? null
                : new DigestVerifyingStream(content, digest, size, target, leaveOpen: true);
            if (_monolithicUploadRefused)
                await UploadChunkedAsync(repository, digest, target, location, verifying ?? content, chunkMinimum, cancellationToken).ConfigureAwait(false);
            else
                await UploadMonolithicAsync(repository, digest, size, target, location, content, verifying, cancellationToken).ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            if (!finished) await CancelUploadAsync(repository, location).ConfigureAwait(false);
        }
    }

    /// <summary>POST that opens an upload session (or, with <paramref name="mountFrom"/>, asks for a mount); returns its Location.</summary>
    private async Task<(Uri Location, int ChunkMinimum)> StartUploadAsync(string repository, string digest, string target, string? mountFrom, CancellationToken cancellationToken)
    {
        var path = $"/v2/{repository}/blobs/uploads/";
        if (mountFrom is not null) path += $"?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(mountFrom)}";
        var start = new RegistryRequest(HttpMethod.Post, Registry, path)
        {
            Scopes = mountFrom is null || mountFrom == repository ? [Push(repository)] : [Push(repository), Pull(mountFrom)],
            Credential = _credential,
            Content = () => new ByteArrayContent([]),
            Target = target,
            Description = mountFrom is null || mountFrom == repository
                ? $"starting the upload of blob {digest} to '{Name(repository)}'"
                : $"mounting blob {digest} from '{Name(mountFrom)}' into '{Name(repository)}'",
        };
        using var response = await _pipeline.SendAsync(start, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == 201) return (MountedMarker, 0);
        if (response.Message.Headers.Location is not { } loc)
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                $"Registry '{Registry}' answered {start.Description} without a Location header.", target);
        var minimum = int.TryParse(response.Header("OCI-Chunk-Min-Length"), out var min) && min > 0 ? min : 0;
        return (new Uri(response.RequestUri, loc), minimum);
    }

    /// <summary>Stands for "the registry answered 201: mounted, no session to continue".</summary>
    private static readonly Uri MountedMarker = new("urn:harborops:mounted");

    private async Task UploadMonolithicAsync(string repository, string digest, long size, string target, Uri location, Stream content,
        DigestVerifyingStream? verifying, CancellationToken cancellationToken)
    {
        var startPosition = content.CanSeek ? content.Position : 0;
        var put = new RegistryRequest(HttpMethod.Put, Registry, "")
        {
            AbsoluteUri = WithDigestQuery(location, digest),
            Scopes = [Push(repository)],
            Credential = _credential,
            ContentReplayable = content.CanSeek,
            Content = () =>
            {
                if (content.CanSeek) content.Position = startPosition;
                var body = new StreamContent(verifying ?? (Stream)new NonDisposingStream(content), 128 * 1024);
                body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                body.Headers.ContentLength = size;
                return body;
            },
            Target = target,
            Description = $"uploading blob {digest} to '{Name(repository)}'",
            AcceptStatus = status => status == 413,
        };
        using var done = await _pipeline.SendAsync(put, cancellationToken).ConfigureAwait(false);
        if (done.StatusCode != 413) return;
        // Too large for one request (a proxy's body limit): remember it, and finish now if the content can be re-read.
        _monolithicUploadRefused = true;
        if (!content.CanSeek)
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                $"Registry '{Registry}' refused blob {digest} ({size} bytes) in one request (HTTP 413); the next attempt uploads it in chunks.",
                target, statusCode: 413);
        content.Position = startPosition;
        await CancelUploadAsync(repository, location).ConfigureAwait(false);
        var (fresh, minimum) = await StartUploadAsync(repository, digest, target, null, cancellationToken).ConfigureAwait(false);
        await UploadChunkedAsync(repository, digest, target, fresh, new DigestVerifyingStream(content, digest, size, target, leaveOpen: true), minimum, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PATCH chunks with Content-Range (each one replayable, so the pipeline can retry it), then PUT ?digest=.</summary>
    private async Task UploadChunkedAsync(string repository, string digest, string target, Uri location, Stream content, int chunkMinimum, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Max(UploadChunkSize, chunkMinimum)];
        long offset = 0;
        while (true)
        {
            var filled = 0;
            while (filled < buffer.Length)
            {
                var n = await content.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                filled += n;
            }
            if (filled == 0) break;
            var chunkStart = offset;
            var length = filled;
            var patch = new RegistryRequest(HttpMethod.Patch, Registry, "")
            {
                AbsoluteUri = location,
                Scopes = [Push(repository)],
                Credential = _credential,
                Content = () =>
                {
                    var body = new ByteArrayContent(buffer, 0, length);
                    body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    body.Headers.TryAddWithoutValidation("Content-Range", $"{chunkStart}-{chunkStart + length - 1}");
                    return body;
                },
                Target = target,
                Description = $"uploading bytes {chunkStart}-{chunkStart + length - 1} of blob {digest} to '{Name(repository)}'",
            };
            using (var response = await _pipeline.SendAsync(patch, cancellationToken).ConfigureAwait(false))
                if (response.Message.Headers.Location is { } next) location = new Uri(response.RequestUri, next);
            offset += length;
            if (filled < buffer.Length)
            {
                // Reading to the end lets a verifying stream check the digest before the upload is committed.
                if (await content.ReadAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
                    throw new InvalidOperationException("The blob stream returned data after its end.");
                break;
            }
        }
        var put = new RegistryRequest(HttpMethod.Put, Registry, "")
        {
            AbsoluteUri = WithDigestQuery(location, digest),
            Scopes = [Push(repository)],
            Credential = _credential,
            Content = () => new ByteArrayContent([]),
            Target = target,
            Description = $"completing the upload of blob {digest} to '{Name(repository)}'",
        };
        using var done = await _pipeline.SendAsync(put, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Appends digest= to whatever query the upload URL already carries (_state and friends are opaque).</summary>
    private static Uri WithDigestQuery(Uri location, string digest)
    {
        var builder = new UriBuilder(location);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : "") + "digest=" + Uri.EscapeDataString(digest);
        return builder.Uri;
    }

    /// <summary>DELETE of an unfinished upload session so the registry frees it now rather than at its timeout; failures are ignored.</summary>
    private async Task CancelUploadAsync(string repository, Uri location)
    {
        if (ReferenceEquals(location, MountedMarker)) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            var cancel = new RegistryRequest(HttpMethod.Delete, Registry, "")
            {
                AbsoluteUri = location,
                Scopes = [Push(repository)],
                Credential = _credential,
                Target = Name(repository),
                Description = $"cancelling an unfinished upload to '{Name(repository)}'",
                AcceptStatus = _ => true,
            };
            using var response = await _pipeline.SendAsync(cancel, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HarborOpsException or OperationCanceledException or HttpRequestException)
        {
            // The session expires on the registry by itself.
        }
    }

    public async Task<bool> TryMountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        if (fromRepository == repository) return false;
        var target = $"{Name(repository)}@{digest}";
        Uri location;
        try
        {
            (location, _) = await StartUploadAsync(repository, digest, target, fromRepository, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.Kind is not FailureKind.Canceled)
        {
            // Harbor answers a "from" it does not like with 401/404 instead of 202 (harbor#17097): treat as not mounted.
            return false;
        }
        if (ReferenceEquals(location, MountedMarker)) return true;
        // 202: the registry did not mount and opened a session instead; this caller uploads through its own.
        await CancelUploadAsync(repository, location).ConfigureAwait(false);
        return false;
    }

    /// <summary>Lets HttpClient dispose request content without closing the caller's stream.</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
