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
internal sealed class RemoteRegistryStore : IImageStore
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
        Uri? next = null;
        var first = true;
        var pages = 0;
        while (first || next is not null)
        {
            var request = new RegistryRequest(HttpMethod.Get, Registry, $"/v2/_catalog?n={pipeline.Options.PageSize}")
            {
                AbsoluteUri = next,
                Scopes = [TokenScope.Catalog],
                Credential = credential,
                Accept = ["application/json"],
                Target = Registry,
                Description = $"the repository catalog of '{Registry}'",
                AcceptStatus = status => status is 404 or 405,
            };
            using var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is 404 or 405)
                throw new RegistryException(RegistryErrorIds.CatalogUnsupported, FailureKind.NotSupported,
                    $"Registry '{Registry}' does not offer a repository catalog (/v2/_catalog answered HTTP {response.StatusCode}). Name the repositories explicitly, or use the registry's own API (Harbor projects, GitHub packages).",
                    Registry, statusCode: response.StatusCode);
            first = false;
            var names = ReadStringArray(response.Body, "repositories", request);
            next = NextPage(response, pages++);
            yield return names;
        }
    }

    public async IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? next = null;
        var first = true;
        var pages = 0;
        while (first || next is not null)
        {
            var request = new RegistryRequest(HttpMethod.Get, Registry, $"/v2/{repository}/tags/list?n={pipeline.Options.PageSize}")
            {
                AbsoluteUri = next,
                Scopes = [Pull(repository)],
                Credential = credential,
                Accept = ["application/json"],
                Target = Name(repository),
                Description = $"the tag list of '{Name(repository)}'",
                NotFoundErrorId = RegistryErrorIds.RepositoryNotFound,
            };
            List<string> tags;
            using (var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false))
            {
                tags = ReadStringArray(response.Body, "tags", request);
                next = NextPage(response, pages++);
            }
            first = false;
            yield return tags;
        }
    }

    /// <summary>Follows Link rel="next"; a registry that keeps linking is cut off rather than looped on forever.</summary>
    private Uri? NextPage(RegistryResponse response, int pagesSoFar)
    {
        var next = LinkHeader.FindNext(response.Headers("Link"), response.RequestUri);
        if (next is null) return null;
        if (pagesSoFar >= 100_000)
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                $"Registry '{Registry}' kept sending next-page links after {pagesSoFar} pages; stopping.", Registry);
        return next;
    }

    private static List<string> ReadStringArray(byte[]? body, string property, RegistryRequest request)
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

    public async Task PutBlobAsync(string repository, string digest, long size, Stream content, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var target = $"{Name(repository)}@{digest}";
        var start = new RegistryRequest(HttpMethod.Post, Registry, $"/v2/{repository}/blobs/uploads/")
        {
            Scopes = [Push(repository)],
            Credential = credential,
            Content = () => new ByteArrayContent([]),
            Target = target,
            Description = $"starting the upload of blob {digest} to '{Name(repository)}'",
        };
        Uri location;
        using (var response = await pipeline.SendAsync(start, cancellationToken).ConfigureAwait(false))
        {
            if (response.Message.Headers.Location is not { } loc)
                throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                    $"Registry '{Registry}' started an upload for {target} without a Location header.", target);
            location = new Uri(response.RequestUri, loc);
        }
        // Append digest= to whatever query the upload URL already carries (_state and friends are opaque).
        var builder = new UriBuilder(location);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : "") + "digest=" + Uri.EscapeDataString(digest);
        var startPosition = content.CanSeek ? content.Position : 0;
        var verifying = content.CanSeek ? null : new DigestVerifyingStream(content, digest, size, target, leaveOpen: true);
        var put = new RegistryRequest(HttpMethod.Put, Registry, "")
        {
            AbsoluteUri = builder.Uri,
            Scopes = [Push(repository)],
            Credential = credential,
            ContentReplayable = content.CanSeek,
            Content = () =>
            {
                if (content.CanSeek) content.Position = startPosition;
                var body = new StreamContent(verifying is null ? new NonDisposingStream(content) : verifying);
                body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                body.Headers.ContentLength = size;
                return body;
            },
            Target = target,
            Description = $"uploading blob {digest} to '{Name(repository)}'",
        };
        using var done = await pipeline.SendAsync(put, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<OciDescriptor>?> GetReferrersAsync(string repository, string digest, string? artifactType, CancellationToken cancellationToken)
    {
        Digests.Validate(digest, Name(repository));
        var path = $"/v2/{repository}/referrers/{digest}" + (artifactType is null ? "" : "?artifactType=" + Uri.EscapeDataString(artifactType));
        var result = new List<OciDescriptor>();
        Uri? next = null;
        var first = true;
        var pages = 0;
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
            }
            catch (JsonException)
            {
                return pages == 0 ? null : result;
            }
            var filtered = artifactType is not null && !response.Headers("OCI-Filters-Applied").Any(v => v.Contains("artifactType", StringComparison.OrdinalIgnoreCase));
            result.AddRange(filtered ? page.Where(d => d.ArtifactType == artifactType) : page);
            next = NextPage(response, pages++);
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
