using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace HarborOps.Lab.Harbor;

/// <summary>A manifest as the emulator reads it from the registry.</summary>
internal sealed record LabManifest(string Digest, string MediaType, long Size, IReadOnlyList<(string Digest, long Size)> Blobs,
    IReadOnlyList<(string Digest, string? Os, string? Architecture)> Children, string? ConfigMediaType, string? ArtifactType,
    bool IsCosignSignature);

/// <summary>
/// The emulator's own view of the real Distribution registry behind it ("harbor-core"): catalog, tags and manifests,
/// read with tokens the emulator signs for itself, exactly as the registry checks any other token.
/// </summary>
internal sealed class HarborBackingRegistry
{
    private static readonly string[] ManifestTypes =
        [LabContent.OciManifest, LabContent.OciIndex, LabContent.DockerManifest, LabContent.DockerManifestList];

    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly ConcurrentDictionary<string, LabManifest> _manifests = new(StringComparer.Ordinal);
    private readonly Func<IReadOnlyList<LabAccess>, string> _mintToken;

    public HarborBackingRegistry(DistributionRegistry registry, Func<IReadOnlyList<LabAccess>, string> mintToken)
    {
        Registry = registry;
        _mintToken = mintToken;
    }

    public DistributionRegistry Registry { get; }
    public HttpClient Http => _http;

    private HttpRequestMessage Request(HttpMethod method, string path, params LabAccess[] access)
    {
        var request = new HttpRequestMessage(method, new Uri(Registry.BaseUri, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor(access));
        return request;
    }

    // A token lives 5 minutes; reusing it for 4 spares the RSA signature (and the registry's check of a new one) that a
    // listing deriving thousands of artifacts would otherwise pay per manifest read.
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Until)> _tokens = new(StringComparer.Ordinal);

    private string TokenFor(LabAccess[] access)
    {
        var key = string.Join(' ', access.Select(a => $"{a.Type}:{a.Name}:{string.Join(',', a.Actions)}"));
        var now = DateTimeOffset.UtcNow;
        if (_tokens.TryGetValue(key, out var cached) && cached.Until > now) return cached.Token;
        var token = _mintToken(access);
        _tokens[key] = (token, now.AddMinutes(4));
        return token;
    }

    public async Task<IReadOnlyList<string>> CatalogAsync(CancellationToken ct) =>
        await LabRegistryClient.ReadCatalogAsync(_http, path => Request(HttpMethod.Get, path, new LabAccess("registry", "catalog", ["*"])), ct);

    public async Task<IReadOnlyList<string>> TagsAsync(string repository, CancellationToken ct)
    {
        using var response = await _http.SendAsync(Request(HttpMethod.Get, $"v2/{repository}/tags/list", Pull(repository)), ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return [];
        await LabRegistryClient.EnsureSuccessAsync(response, $"listing tags of {repository}", ct);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().Select(e => e.GetString()!).ToList()
            : [];
    }

    /// <summary>The manifest a tag or digest names, or null when there is none. Manifests are cached by digest (immutable).</summary>
    public async Task<LabManifest?> ManifestAsync(string repository, string reference, CancellationToken ct)
    {
        if (reference.StartsWith("sha256:", StringComparison.Ordinal) && _manifests.TryGetValue(reference, out var cached)) return cached;
        var request = Request(HttpMethod.Get, $"v2/{repository}/manifests/{reference}", Pull(repository));
        foreach (var type in ManifestTypes) request.Headers.Accept.ParseAdd(type);
        using var response = await _http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await LabRegistryClient.EnsureSuccessAsync(response, $"reading manifest {repository}:{reference}", ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var digest = LabContent.DigestOf(bytes);
        if (_manifests.TryGetValue(digest, out cached)) return cached;
        using var json = JsonDocument.Parse(bytes);
        var root = json.RootElement;
        var mediaType = response.Content.Headers.ContentType?.MediaType
            ?? (root.TryGetProperty("mediaType", out var mt) ? mt.GetString() : null) ?? LabContent.OciManifest;
        var blobs = new List<(string, long)> { (digest, bytes.Length) };
        var children = new List<(string, string?, string?)>();
        long size = bytes.Length;
        string? configType = null;
        var signature = false;
        if (root.TryGetProperty("config", out var config))
        {
            blobs.Add((config.GetProperty("digest").GetString()!, config.GetProperty("size").GetInt64()));
            size += config.GetProperty("size").GetInt64();
            configType = config.TryGetProperty("mediaType", out var ct2) ? ct2.GetString() : null;
        }
        if (root.TryGetProperty("layers", out var layers))
            foreach (var layer in layers.EnumerateArray())
            {
                blobs.Add((layer.GetProperty("digest").GetString()!, layer.GetProperty("size").GetInt64()));
                if (layer.TryGetProperty("mediaType", out var layerType) && layerType.GetString() == LabContent.CosignSimpleSigning) signature = true;
                size += layer.GetProperty("size").GetInt64();
            }
        if (root.TryGetProperty("manifests", out var manifests))
            foreach (var child in manifests.EnumerateArray())
            {
                var childDigest = child.GetProperty("digest").GetString()!;
                string? os = null, arch = null;
                if (child.TryGetProperty("platform", out var platform))
                {
                    os = platform.TryGetProperty("os", out var o) ? o.GetString() : null;
                    arch = platform.TryGetProperty("architecture", out var a) ? a.GetString() : null;
                }
                children.Add((childDigest, os, arch));
                var childManifest = await ManifestAsync(repository, childDigest, ct);
                if (childManifest is not null)
                {
                    size += childManifest.Size;
                    blobs.AddRange(childManifest.Blobs);
                }
            }
        var artifactType = root.TryGetProperty("artifactType", out var at) ? at.GetString() : null;
        var manifest = new LabManifest(digest, mediaType, size, blobs, children, configType, artifactType, signature);
        _manifests[digest] = manifest;
        return manifest;
    }

    public async Task DeleteManifestAsync(string repository, string digest, CancellationToken ct)
    {
        using var response = await _http.SendAsync(Request(HttpMethod.Delete, $"v2/{repository}/manifests/{digest}",
            new LabAccess("repository", repository, ["pull", "push", "delete"])), ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return;
        await LabRegistryClient.EnsureSuccessAsync(response, $"deleting {repository}@{digest}", ct);
    }

    private static LabAccess Pull(string repository) => new("repository", repository, ["pull"]);
}
