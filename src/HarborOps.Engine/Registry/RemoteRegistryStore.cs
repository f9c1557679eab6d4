using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry;

/// <summary>An OCI Distribution registry reached over HTTP(S) through the engine's one pipeline.</summary>
internal sealed class RemoteRegistryStore : IImageStore, IBlobUploadUnlessPresent
{
    private readonly RegistryHttpPipeline pipeline;
    private readonly NetworkCredential? credential;

    public RemoteRegistryStore(RegistryHttpPipeline pipeline, string registry, NetworkCredential? credential)
    {
        this.pipeline = pipeline;
        this.credential = credential;
        Registry = registry;
    }

    public string Registry { get; }

    private string Name(string repository) => $"{Registry}/{repository}";
    private string At(string repository, string reference) =>
        reference.Contains(':') ? $"{Registry}/{repository}@{reference}" : $"{Registry}/{repository}:{reference}";

    private static string Pull(string repository) => TokenScope.Repository(repository, "pull");
    private static string Push(string repository) => TokenScope.Repository(repository, "pull", "push");

    public async IAsyncEnumerable<IReadOnlyList<string>> ListRepositoryPagesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (IsAcr)
        {
            await foreach (var page in Acr.ListRepositoryPagesAsync(cancellationToken).ConfigureAwait(false)) yield return page;
            yield break;
        }
        await foreach (var page in ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, $"/v2/_catalog?n={pipeline.Options.PageSize}")
        {
            AbsoluteUri = next,
            Scopes = [TokenScope.Catalog],
            Credential = credential,
            Accept = ["application/json"],
            Target = Registry,
            Description = $"the repository catalog of '{Registry}'",
            AcceptStatus = status => status is 404 or 405,
        }, (response, request) => response.StatusCode is 404 or 405
            ? throw new RegistryException(RegistryErrorIds.CatalogUnsupported, FailureKind.NotSupported,
                $"Registry '{Registry}' does not offer a repository catalog (/v2/_catalog answered HTTP {response.StatusCode}). Name the repositories explicitly, or use the registry's own API (Harbor projects, GitHub packages).",
                Registry, statusCode: response.StatusCode)
            : ReadStringArray(response.Body, "repositories", request), cancellationToken).ConfigureAwait(false))
            yield return page;
    }

    public IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, CancellationToken cancellationToken) =>
        ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, $"/v2/{repository}/tags/list?n={pipeline.Options.PageSize}")
        {
            AbsoluteUri = next,
            // ACR wants metadata_read for listings; asking for it up front saves a 401 and a second token per repository.
            Scopes = [IsAcr ? AcrListing.MetadataRead(repository) : Pull(repository)],
            Credential = credential,
            Accept = ["application/json"],
            Target = Name(repository),
            Description = $"the tag list of '{Name(repository)}'",
            NotFoundErrorId = RegistryErrorIds.RepositoryNotFound,
        }, (response, request) => (IReadOnlyList<string>)ReadStringArray(response.Body, "tags", request), cancellationToken);

    /// <summary>
    /// A paged listing: the first request (next is null), then one per Link rel="next" until the registry stops
    /// linking (see <see cref="PageWalk"/> for the cut-off). Each page is read while its response is open and handed out before
    /// the next is asked for, so a caller that stops early sends no further request.
    /// </summary>
    internal async IAsyncEnumerable<TPage> ReadPagesAsync<TPage>(Func<Uri?, RegistryRequest> requestFor, Func<RegistryResponse, RegistryRequest, TPage> readPage,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? next = null;
        var walk = new PageWalk(Registry);
        do
        {
            var request = requestFor(next);
            TPage page;
            using (var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false))
            {
                page = readPage(response, request);
                next = walk.Next(response, request);
            }
            yield return page;
        }
        while (next is not null);
    }

    public IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListTaggedManifestPagesAsync(string repository, CancellationToken cancellationToken) =>
        IsAcr
            ? Acr.ListManifestPagesAsync(repository, cancellationToken)
            : TagInventory.HeadEachTagAsync(this, repository, pipeline.Options.TagDetailParallelism, cancellationToken);

    public bool HasBulkInventory => IsAcr;

    /// <summary>Azure Container Registry (by its suffix or the engine's AcrHosts): listed with its own /acr/v1 API.</summary>
    public bool IsAcr => pipeline.IsAcr(Registry);

    private AcrListing Acr => new(pipeline, this, credential);

    internal static List<string> ReadStringArray(byte[]? body, string property, RegistryRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(body ?? []);
            var result = new List<string>();
            // Registries send "tags": null for a repository whose tags were all deleted.
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var array) && array.ValueKind == JsonValueKind.Array)
                foreach (var item in array.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.String) result.Add(item.GetString()!);
            return result;
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.InvalidData,
                $"Registry '{request.Registry}' answered {request.Description} with something that is not JSON.", request.Target, ex);
        }
    }

    public async Task<OciDescriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        ValidateReference(repository, reference);
        var request = new RegistryRequest(HttpMethod.Head, Registry, $"/v2/{repository}/manifests/{reference}")
        {
            Scopes = [Pull(repository)],
            Credential = credential,
            Accept = MediaTypes.AcceptedManifestTypes,
            Target = At(repository, reference),
            Description = $"the manifest of '{At(repository, reference)}'",
            AcceptStatus = status => status == 404,
            NotFoundErrorId = RegistryErrorIds.ManifestNotFound,
        };
        using var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == 404) return null;
        var digest = response.Header("Docker-Content-Digest");
        var mediaType = MediaTypes.Normalize(response.ContentType);
        if (string.IsNullOrEmpty(digest) || !ImageReference.IsValidDigest(digest) || MediaTypes.IsGeneric(mediaType))
        {
            // Without a digest header (allowed by spec 1.1) the only truthful answer comes from the bytes.
            var manifest = await GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false);
            return manifest.ToDescriptor();
        }
        if (reference.Contains(':') && digest != reference)
            throw Mismatch(At(repository, reference), reference, digest, "the registry's Docker-Content-Digest header");
        return new OciDescriptor(mediaType, digest, response.ContentLength ?? 0);
    }

    public async Task<ManifestContent> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        ValidateReference(repository, reference);
        var target = At(repository, reference);
        var request = new RegistryRequest(HttpMethod.Get, Registry, $"/v2/{repository}/manifests/{reference}")
        {
            Scopes = [Pull(repository)],
            Credential = credential,
            Accept = MediaTypes.AcceptedManifestTypes,
            Target = target,
            Description = $"the manifest of '{target}'",
            NotFoundErrorId = RegistryErrorIds.ManifestNotFound,
            MaxBodyBytes = 8 * 1024 * 1024,
        };
        using var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var requestedDigest = reference.Contains(':') ? reference : null;
        var manifest = ManifestContent.Parse(response.Body ?? [], response.ContentType, target, requestedDigest);
        if (requestedDigest is not null && manifest.Digest != requestedDigest)
            throw Mismatch(target, requestedDigest, manifest.Digest, "the requested digest");
        var header = response.Header("Docker-Content-Digest");
        if (!string.IsNullOrEmpty(header) && ImageReference.IsValidDigest(header))
        {
            var actual = Digests.AlgorithmOf(header) == Digests.AlgorithmOf(manifest.Digest) ? manifest.Digest : Digests.Compute(header, manifest.Bytes);
            if (actual != header)
                throw Mismatch(target, header, actual, "the registry's Docker-Content-Digest header");
        }
        return manifest;
    }

    private static RegistryException Mismatch(string target, string expected, string actual, string expectedFrom) =>
        new(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
            $"The manifest bytes of '{target}' hash to {actual}, but {expectedFrom} says {expected}; the content was changed in transit or the registry is inconsistent. Retry; if it persists, do not trust this registry's copy.",
            target);

    public async Task<string> PutManifestAsync(string repository, string reference, ManifestContent manifest, CancellationToken cancellationToken)
    {
        ValidateReference(repository, reference);
        if (reference.Contains(':') && reference != manifest.Digest)
            throw Mismatch(At(repository, reference), reference, manifest.Digest, "the digest it is pushed under");
        var target = At(repository, reference);
        var request = new RegistryRequest(HttpMethod.Put, Registry, $"/v2/{repository}/manifests/{reference}")
        {
            Scopes = [Push(repository)],
            Credential = credential,
            Content = () =>
            {
                var content = new ByteArrayContent(manifest.Bytes);
                content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
                return content;
            },
            Target = target,
            Description = $"pushing the manifest of '{target}'",
        };
        using var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var digest = response.Header("Docker-Content-Digest");
        if (!string.IsNullOrEmpty(digest) && digest != manifest.Digest)
            throw Mismatch(target, manifest.Digest, digest, "the digest of the pushed bytes (the registry stored something else)");
        return manifest.Digest;
    }

    public async Task<long?> HeadBlobAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var request = new RegistryRequest(HttpMethod.Head, Registry, $"/v2/{repository}/blobs/{digest}")
        {
            Scopes = [Pull(repository)],
            Credential = credential,
            Target = $"{Name(repository)}@{digest}",
            Description = $"blob {digest} of '{Name(repository)}'",
            AcceptStatus = status => status == 404,
            NotFoundErrorId = RegistryErrorIds.BlobNotFound,
        };
        using var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == 404) return null;
        return response.ContentLength ?? 0;
    }

    public async Task<Stream> OpenBlobAsync(string repository, string digest, long? expectedSize, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var target = $"{Name(repository)}@{digest}";
        var resuming = new ResumingBlobStream(
            (offset, ct) => OpenBlobRangeAsync(repository, digest, target, offset, ct),
            pipeline.Options.MaxRetries, target, pipeline.Options.RequestTimeout);
        await resuming.OpenAsync(cancellationToken).ConfigureAwait(false);
        return new DigestVerifyingStream(resuming, digest, expectedSize ?? resuming.DeclaredLength, target);
    }

    private async Task<(Stream Stream, long? Length, bool Ranged, IDisposable Owner)> OpenBlobRangeAsync(string repository, string digest, string target, long offset, CancellationToken cancellationToken)
    {
        var request = new RegistryRequest(HttpMethod.Get, Registry, $"/v2/{repository}/blobs/{digest}")
        {
            Scopes = [Pull(repository)],
            Credential = credential,
            Target = target,
            Description = $"blob {digest} of '{Name(repository)}'",
            NotFoundErrorId = RegistryErrorIds.BlobNotFound,
            BufferBody = false,
            Range = offset > 0 ? new RangeHeaderValue(offset, null) : null,
        };
        var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
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
    private volatile bool monolithicUploadRefused;

    internal bool UsesChunkedUploads => monolithicUploadRefused;

    public async Task PutBlobAsync(string repository, string digest, long size, Stream content, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var target = $"{Name(repository)}@{digest}";
        var (location, chunkMinimum) = await StartUploadAsync(repository, digest, target, null, cancellationToken).ConfigureAwait(false);
        if (ReferenceEquals(location, MountedMarker)) return; // the registry already had it and said so with 201
        await UploadAsync(repository, digest, size, target, location, chunkMinimum, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Set when this registry refused a mount request naming the repository itself: it gets plain upload starts.</summary>
    private volatile bool selfMountRefused;

    public async Task<bool> PutBlobUnlessPresentAsync(string repository, string digest, long size, Func<Task<Stream>> openContent, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var target = $"{Name(repository)}@{digest}";
        Uri location;
        int chunkMinimum;
        if (selfMountRefused)
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
                selfMountRefused = true;
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
            if (monolithicUploadRefused)
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
            Credential = credential,
            Content = () => new ByteArrayContent([]),
            Target = target,
            Description = mountFrom is null || mountFrom == repository
                ? $"starting the upload of blob {digest} to '{Name(repository)}'"
                : $"mounting blob {digest} from '{Name(mountFrom)}' into '{Name(repository)}'",
        };
        using var response = await pipeline.SendAsync(start, cancellationToken).ConfigureAwait(false);
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
            Credential = credential,
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
        using var done = await pipeline.SendAsync(put, cancellationToken).ConfigureAwait(false);
        if (done.StatusCode != 413) return;
        // Too large for one request (a proxy's body limit): remember it, and finish now if the content can be re-read.
        monolithicUploadRefused = true;
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
                Credential = credential,
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
            using (var response = await pipeline.SendAsync(patch, cancellationToken).ConfigureAwait(false))
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
            Credential = credential,
            Content = () => new ByteArrayContent([]),
            Target = target,
            Description = $"completing the upload of blob {digest} to '{Name(repository)}'",
        };
        using var done = await pipeline.SendAsync(put, cancellationToken).ConfigureAwait(false);
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
                Credential = credential,
                Target = Name(repository),
                Description = $"cancelling an unfinished upload to '{Name(repository)}'",
                AcceptStatus = _ => true,
            };
            using var response = await pipeline.SendAsync(cancel, timeout.Token).ConfigureAwait(false);
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

    public async Task<IReadOnlyList<OciDescriptor>?> GetReferrersAsync(string repository, string digest, string? artifactType, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var path = $"/v2/{repository}/referrers/{digest}" + (artifactType is null ? "" : "?artifactType=" + Uri.EscapeDataString(artifactType));
        var result = new List<OciDescriptor>();
        Uri? next = null;
        var first = true;
        var pages = 0;
        var walk = new PageWalk(Registry);
        while (first || next is not null)
        {
            var request = new RegistryRequest(HttpMethod.Get, Registry, path)
            {
                AbsoluteUri = next,
                Scopes = [Pull(repository)],
                Credential = credential,
                Accept = [MediaTypes.OciIndex],
                Target = $"{Name(repository)}@{digest}",
                Description = $"the referrers of '{Name(repository)}@{digest}'",
                // A registry without the API answers 404, or 400/405, or (Harbor < 2.8) 401 without a challenge.
                AcceptStatus = status => status is 400 or 401 or 404 or 405,
            };
            using var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccess) return first ? null : result;
            if (MediaTypes.Normalize(response.ContentType) is var type && type != MediaTypes.OciIndex && !MediaTypes.IsGeneric(type))
                return first ? null : result;
            first = false;
            IReadOnlyList<OciDescriptor> page;
            try
            {
                using var doc = JsonDocument.Parse(response.Body ?? []);
                page = ManifestContent.ReadDescriptors(doc.RootElement, "manifests");
                ManifestChecks.RequireValidDigests(page, $"{Name(repository)}@{digest}");
            }
            catch (JsonException)
            {
                return pages == 0 ? null : result;
            }
            var filtered = artifactType is not null && !response.Headers("OCI-Filters-Applied").Any(v => v.Contains("artifactType", StringComparison.OrdinalIgnoreCase));
            result.AddRange(filtered ? page.Where(d => d.ArtifactType == artifactType) : page);
            next = walk.Next(response, request);
            pages++;
        }
        return result;
    }

    private void ValidateReference(string repository, string reference)
    {
        if (reference.Contains(':')) Digests.Validate(reference, Name(repository));
        else if (!ImageReference.IsValidTag(reference))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{reference}' is not a valid tag of '{Name(repository)}': tags are letters, digits, '_', '.' and '-' (at most 128), not starting with '.' or '-'.",
                Name(repository));
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
