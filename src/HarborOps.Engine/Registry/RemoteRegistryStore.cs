using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Registry;

/// <summary>
/// An OCI Distribution registry reached over HTTP(S) through the engine's one pipeline. This part: names, manifests and
/// referrers; the listings and the blobs (reads, uploads, mounts) have a file each.
/// </summary>
internal sealed partial class RemoteRegistryStore : IImageStore, IBlobUploadUnlessPresent
{
    private readonly RegistryHttpPipeline _pipeline;
    private readonly RegistryEngineOptions _options;
    private readonly NetworkCredential? _credential;

    public RemoteRegistryStore(RegistryHttpPipeline pipeline, RegistryEngineOptions options, string registry, NetworkCredential? credential)
    {
        this._pipeline = pipeline;
        this._options = options;
        this._credential = credential;
        Registry = registry;
    }

    public string Registry { get; }

    /// <summary>Entries asked for per page of a listing (n=).</summary>
    internal int PageSize => _options.PageSize;

    private string Name(string repository) => $"{Registry}/{repository}";
    private string At(string repository, string reference) =>
        reference.Contains(':') ? $"{Registry}/{repository}@{reference}" : $"{Registry}/{repository}:{reference}";

    private static string Pull(string repository) => TokenScope.Repository(repository, "pull");
    private static string Push(string repository) => TokenScope.Repository(repository, "pull", "push");

    public async Task<OciDescriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        ValidateReference(repository, reference);
        var request = new RegistryRequest(HttpMethod.Head, Registry, $"/v2/{repository}/manifests/{reference}")
        {
            Scopes = [Pull(repository)],
            Credential = _credential,
            Accept = MediaTypes.AcceptedManifestTypes,
            Target = At(repository, reference),
            Description = $"the manifest of '{At(repository, reference)}'",
            AcceptStatus = status => status is 404 or 412,
            NotFoundErrorId = RegistryErrorIds.ManifestNotFound,
        };
        using var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == 404) return null;
        // Harbor's pull gates refuse a HEAD as they refuse a GET (src/server/registry/route.go mounts contenttrust and
        // vulnerable on both), but a HEAD's 412 has no body to say which gate and why: the GET the same gate refuses
        // does, and is no pull when it is refused. Should the gate have lifted in between, the bytes answer truthfully.
        if (response.StatusCode == 412) return (await GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false)).ToDescriptor();
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
            Credential = _credential,
            Accept = MediaTypes.AcceptedManifestTypes,
            Target = target,
            Description = $"the manifest of '{target}'",
            NotFoundErrorId = RegistryErrorIds.ManifestNotFound,
            MaxBodyBytes = 8 * 1024 * 1024,
        };
        using var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
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
            Credential = _credential,
            Content = () =>
            {
                var content = new ByteArrayContent(manifest.Bytes);
                content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
                return content;
            },
            Target = target,
            Description = $"pushing the manifest of '{target}'",
        };
        using var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var digest = response.Header("Docker-Content-Digest");
        if (!string.IsNullOrEmpty(digest) && digest != manifest.Digest)
            throw Mismatch(target, manifest.Digest, digest, "the digest of the pushed bytes (the registry stored something else)");
        return manifest.Digest;
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
                Credential = _credential,
                Accept = [MediaTypes.OciIndex],
                Target = $"{Name(repository)}@{digest}",
                Description = $"the referrers of '{Name(repository)}@{digest}'",
                // A registry without the API answers 404, or 400/405, or (Harbor < 2.8) 401 without a challenge.
                AcceptStatus = status => status is 400 or 401 or 404 or 405,
            };
            using var response = await _pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
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
}
