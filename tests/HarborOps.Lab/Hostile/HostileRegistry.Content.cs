using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace HarborOps.Lab.Hostile;

/// <summary>The in-memory content and the Distribution API over it (pull, push, tag list, catalog).</summary>
public sealed partial class HostileRegistry
{
    private sealed class Repository
    {
        public ConcurrentDictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, (string MediaType, byte[] Bytes)> Manifests { get; } = new(StringComparer.Ordinal);
        public ConcurrentDictionary<string, byte[]> Blobs { get; } = new(StringComparer.Ordinal);
    }

    private readonly ConcurrentDictionary<string, Repository> _repositories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Repository, MemoryStream Data)> _uploads = new(StringComparer.Ordinal);

    private Repository RepositoryOf(string name) => _repositories.GetOrAdd(name, _ => new Repository());

    public static string DigestOf(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public string PutBlob(string repository, byte[] bytes)
    {
        var digest = DigestOf(bytes);
        RepositoryOf(repository).Blobs[digest] = bytes;
        return digest;
    }

    /// <summary>Plants bytes under a digest they do not hash to: a blob that lies about its content.</summary>
    public void PutLyingBlob(string repository, string digest, byte[] bytes) => RepositoryOf(repository).Blobs[digest] = bytes;

    /// <summary>Stores manifest bytes as they are (nothing is checked) under their digest and, when given, a tag, which
    /// may be any string at all: hostile tag names are planted this way.</summary>
    public string PutRawManifest(string repository, string? tag, byte[] bytes, string mediaType = LabContent.OciManifest)
    {
        var digest = DigestOf(bytes);
        var repo = RepositoryOf(repository);
        repo.Manifests[digest] = (mediaType, bytes);
        if (tag is not null) repo.Tags[tag] = digest;
        return digest;
    }

    /// <summary>A well-formed single-platform image (config and <paramref name="layerSize"/> random bytes of layer);
    /// <paramref name="edit"/> may change the manifest JSON before it is stored (lying sizes, bad digests).</summary>
    public (string Digest, string ConfigDigest, string LayerDigest, byte[] Manifest) PushImage(string repository, string? tag, int layerSize = 512,
        Action<System.Text.Json.Nodes.JsonObject>? edit = null)
    {
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[]}},\"nonce\":\"{Guid.NewGuid():N}\"}}");
        var layer = RandomNumberGenerator.GetBytes(layerSize);
        var configDigest = PutBlob(repository, config);
        var layerDigest = PutBlob(repository, layer);
        var manifest = new System.Text.Json.Nodes.JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = LabContent.OciManifest,
            ["config"] = new System.Text.Json.Nodes.JsonObject { ["mediaType"] = LabContent.OciConfig, ["digest"] = configDigest, ["size"] = config.Length },
            ["layers"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["mediaType"] = LabContent.OciLayer, ["digest"] = layerDigest, ["size"] = layer.Length }),
        };
        edit?.Invoke(manifest);
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        return (PutRawManifest(repository, tag, bytes), configDigest, layerDigest, bytes);
    }

    public IReadOnlyCollection<string> TagsOf(string repository) =>
        _repositories.TryGetValue(repository, out var repo) ? repo.Tags.Keys.ToArray() : [];

    public string? DigestOfTag(string repository, string tag) =>
        _repositories.TryGetValue(repository, out var repo) && repo.Tags.TryGetValue(tag, out var digest) ? digest : null;

    public bool HasBlob(string repository, string digest) =>
        _repositories.TryGetValue(repository, out var repo) && repo.Blobs.ContainsKey(digest);

    private async Task RegistryAsync(HttpContext context, string rest)
    {
        string name;
        if (rest == "_catalog")
        {
            if (!Authorized(context, null)) { await ChallengeAsync(context, null); return; }
            await Json(context, 200, new { repositories = _repositories.Keys.Order(StringComparer.Ordinal).ToArray() });
            return;
        }
        if (Split(rest, "/manifests/") is { } manifest)
        {
            name = manifest.Name;
            if (!Authorized(context, name)) { await ChallengeAsync(context, name); return; }
            await ManifestAsync(context, name, manifest.Reference);
            return;
        }
        if (Split(rest, "/blobs/uploads/") is { } upload)
        {
            name = upload.Name;
            if (!Authorized(context, name)) { await ChallengeAsync(context, name); return; }
            await UploadAsync(context, name, upload.Reference);
            return;
        }
        if (rest.EndsWith("/blobs/uploads", StringComparison.Ordinal))
        {
            name = rest[..^"/blobs/uploads".Length];
            if (!Authorized(context, name)) { await ChallengeAsync(context, name); return; }
            await UploadAsync(context, name, "");
            return;
        }
        if (Split(rest, "/blobs/") is { } blob)
        {
            name = blob.Name;
            if (!Authorized(context, name)) { await ChallengeAsync(context, name); return; }
            await BlobAsync(context, name, blob.Reference);
            return;
        }
        if (rest.EndsWith("/tags/list", StringComparison.Ordinal))
        {
            name = rest[..^"/tags/list".Length];
            if (!Authorized(context, name)) { await ChallengeAsync(context, name); return; }
            await TagListAsync(context, name);
            return;
        }
        // No referrers API: clients fall back to the tag schema, as against Distribution 2.8.
        await Error(context, 404, "NOT_FOUND", "not found");
    }

    private static (string Name, string Reference)? Split(string rest, string marker)
    {
        var at = rest.LastIndexOf(marker, StringComparison.Ordinal);
        return at > 0 ? (rest[..at], rest[(at + marker.Length)..]) : null;
    }

    private async Task ManifestAsync(HttpContext context, string name, string reference)
    {
        var repo = RepositoryOf(name);
        var method = context.Request.Method;
        if (method == "PUT")
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var digest = PutRawManifest(name, reference.StartsWith("sha256:", StringComparison.Ordinal) ? null : reference, buffer.ToArray(),
                context.Request.ContentType ?? LabContent.OciManifest);
            context.Response.Headers["Docker-Content-Digest"] = digest;
            context.Response.Headers.Location = $"/v2/{name}/manifests/{digest}";
            context.Response.StatusCode = 201;
            return;
        }
        if (IsOn(HostileMode.ManifestServerError) && ServerErrorTags.ContainsKey(reference))
        {
            await Error(context, 500, "UNKNOWN", "internal error");
            return;
        }
        var digestOf = repo.Tags.TryGetValue(reference, out var tagged) ? tagged : reference;
        if (!repo.Manifests.TryGetValue(digestOf, out var stored))
        {
            await Error(context, 404, "MANIFEST_UNKNOWN", "manifest unknown");
            return;
        }
        context.Response.ContentType = stored.MediaType;
        context.Response.ContentLength = stored.Bytes.Length;
        context.Response.Headers["Docker-Content-Digest"] = IsOn(HostileMode.LyingContentDigest)
            ? DigestOf(Encoding.UTF8.GetBytes("a lie about " + digestOf))
            : digestOf;
        if (method != "HEAD") await context.Response.Body.WriteAsync(stored.Bytes, context.RequestAborted);
    }

    private async Task BlobAsync(HttpContext context, string name, string digest)
    {
        var request = context.Request;
        if (IsOn(HostileMode.RedirectBlobToPlainHttp) && request.IsHttps && request.Method == "GET")
        {
            // Same host name, plain scheme: with the default ports the two URLs have the same Uri.Authority.
            var port = HttpPort == 80 ? "" : $":{HttpPort}";
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = $"http://{request.Host.Host}{port}/v2/{name}/blobs/{digest}";
            return;
        }
        if (!RepositoryOf(name).Blobs.TryGetValue(digest, out var bytes))
        {
            await Error(context, 404, "BLOB_UNKNOWN", "blob unknown to registry");
            return;
        }
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers["Docker-Content-Digest"] = digest;
        if (request.Method != "HEAD") await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private async Task UploadAsync(HttpContext context, string name, string id)
    {
        var request = context.Request;
        if (request.Method == "POST")
        {
            if (request.Query["mount"].FirstOrDefault() is { } mount && request.Query["from"].FirstOrDefault() is { } from
                && _repositories.TryGetValue(from, out var source) && source.Blobs.TryGetValue(mount, out var mounted))
            {
                RepositoryOf(name).Blobs[mount] = mounted;
                context.Response.Headers["Docker-Content-Digest"] = mount;
                context.Response.Headers.Location = $"/v2/{name}/blobs/{mount}";
                context.Response.StatusCode = 201;
                return;
            }
            var session = Guid.NewGuid().ToString("N");
            _uploads[session] = (name, new MemoryStream());
            context.Response.Headers.Location = IsOn(HostileMode.UploadLocationToPlainHttp) && request.IsHttps
                ? $"http://{request.Host.Host}{(HttpPort == 80 ? "" : $":{HttpPort}")}/v2/{name}/blobs/uploads/{session}"
                : $"/v2/{name}/blobs/uploads/{session}";
            context.Response.Headers["Range"] = "0-0";
            context.Response.StatusCode = 202;
            return;
        }
        if (!_uploads.TryGetValue(id, out var upload) || upload.Repository != name)
        {
            await Error(context, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
            return;
        }
        await request.Body.CopyToAsync(upload.Data, context.RequestAborted);
        if (request.Method == "PATCH")
        {
            context.Response.Headers.Location = $"/v2/{name}/blobs/uploads/{id}";
            context.Response.Headers["Range"] = $"0-{Math.Max(0, upload.Data.Length - 1)}";
            context.Response.StatusCode = 202;
            return;
        }
        var expected = request.Query["digest"].FirstOrDefault();
        var bytes = upload.Data.ToArray();
        if (request.Method != "PUT" || expected is null || DigestOf(bytes) != expected)
        {
            await Error(context, 400, "DIGEST_INVALID", "provided digest did not match uploaded content");
            return;
        }
        _uploads.TryRemove(id, out _);
        PutBlob(name, bytes);
        context.Response.Headers["Docker-Content-Digest"] = expected;
        context.Response.Headers.Location = $"/v2/{name}/blobs/{expected}";
        context.Response.StatusCode = 201;
    }

    private async Task TagListAsync(HttpContext context, string name)
    {
        var tags = RepositoryOf(name).Tags.Keys.Order(StringComparer.Ordinal).ToList();
        var size = int.TryParse(context.Request.Query["n"].FirstOrDefault(), out var n) && n > 0 ? Math.Min(n, Options.TagsPageSize) : Options.TagsPageSize;
        var last = context.Request.Query["last"].FirstOrDefault();
        var page = tags.Where(t => last is null || string.CompareOrdinal(t, last) > 0).Take(size).ToList();
        if (IsOn(HostileMode.TagListLinksToItself))
            context.Response.Headers.Link = $"<{context.Request.Path}{context.Request.QueryString}>; rel=\"next\"";
        else if (page.Count == size && tags.Count > 0 && page[^1] != tags[^1])
            context.Response.Headers.Link = $"</v2/{name}/tags/list?n={size}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
        await Json(context, 200, new { name, tags = page });
    }
}
