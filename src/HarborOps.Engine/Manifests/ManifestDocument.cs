using System.Text.Json;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Manifests;

/// <summary>os/architecture[/variant] of an image.</summary>
public sealed record OciPlatform(string Os, string Architecture, string? Variant = null, string? OsVersion = null)
{
    public override string ToString() => Variant is { Length: > 0 } ? $"{Os}/{Architecture}/{Variant}" : $"{Os}/{Architecture}";
}

/// <summary>An OCI content descriptor: what a manifest says about a blob or a child manifest.</summary>
public sealed record OciDescriptor(string MediaType, string Digest, long Size)
{
    public OciPlatform? Platform { get; init; }
    public string? ArtifactType { get; init; }
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Urls { get; init; } = [];
}

/// <summary>
/// A manifest exactly as a registry served it: the raw bytes (never re-serialized; the digest is over them), the media
/// type and the parts the engine reads from it. Parsing is defensive: missing fields are empty, not errors.
/// </summary>
public sealed class ManifestContent
{
    private ManifestContent(string mediaType, string digest, byte[] bytes) { MediaType = mediaType; Digest = digest; Bytes = bytes; }

    public string MediaType { get; }
    public string Digest { get; }
    public byte[] Bytes { get; }
    public long Size => Bytes.LongLength;
    public OciDescriptor? Config { get; private init; }
    public IReadOnlyList<OciDescriptor> Layers { get; private init; } = [];
    /// <summary>Children of an index / manifest list.</summary>
    public IReadOnlyList<OciDescriptor> Manifests { get; private init; } = [];
    public OciDescriptor? Subject { get; private init; }
    public string? ArtifactType { get; private init; }
    public IReadOnlyDictionary<string, string> Annotations { get; private init; } = new Dictionary<string, string>();

    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    /// <summary>The descriptor of this manifest, for an index or a referrers list.</summary>
    public OciDescriptor ToDescriptor() => new(MediaType, Digest, Size) { ArtifactType = ArtifactType ?? Config?.MediaType, Annotations = Annotations };

    /// <summary>Every blob an image manifest references (config first), no duplicates.</summary>
    public IEnumerable<OciDescriptor> Blobs()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (Config is not null && seen.Add(Config.Digest)) yield return Config;
        foreach (var layer in Layers)
            if (seen.Add(layer.Digest)) yield return layer;
    }

    /// <summary>
    /// Checks and parses raw manifest bytes. <paramref name="contentType"/> is what the server said (may be generic or empty);
    /// the body's mediaType must agree with it when both are specific. Schema 1 is rejected.
    /// </summary>
    public static ManifestContent Parse(byte[] bytes, string? contentType, object? target, string? knownDigest = null)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
                $"The manifest of {target} is not valid JSON ({ex.Message}); the registry served something that is not a manifest.", target, ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
                    $"The manifest of {target} is not a JSON object.", target);
            var header = MediaTypes.Normalize(contentType);
            var bodyType = MediaTypes.Normalize(GetString(root, "mediaType"));
            var schemaVersion = SchemaVersionOf(root, target);

            if (MediaTypes.IsSchema1(header) || MediaTypes.IsSchema1(bodyType) || schemaVersion == 1)
                throw new RegistryException(RegistryErrorIds.UnsupportedMediaType, FailureKind.NotSupported,
                    $"{target} is a Docker schema 1 manifest, which is deprecated and not supported; re-push the image with a current docker, buildah or crane so it is stored as schema 2 or OCI.", target);

            string mediaType;
            if (!MediaTypes.IsGeneric(header))
            {
                if (bodyType.Length > 0 && bodyType != header)
                    throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
                        $"The registry served {target} as '{header}' but the manifest says it is '{bodyType}'; refusing content whose type is ambiguous.", target);
                mediaType = header;
            }
            else if (bodyType.Length > 0) mediaType = bodyType;
            else if (root.TryGetProperty("manifests", out _)) mediaType = MediaTypes.OciIndex;
            else if (root.TryGetProperty("config", out _)) mediaType = MediaTypes.OciManifest;
            else if (root.TryGetProperty("blobs", out _)) mediaType = MediaTypes.OciArtifactManifest;
            else
                throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
                    $"The manifest of {target} has no mediaType, config or manifests; it is not an image manifest or index.", target);

            if (!MediaTypes.IsManifest(mediaType))
                throw new RegistryException(RegistryErrorIds.UnsupportedMediaType, FailureKind.NotSupported,
                    $"{target} has media type '{mediaType}', which is not an image manifest or index this engine understands.", target);

            var digest = knownDigest is not null ? Digests.Compute(knownDigest, bytes) : Digests.Sha256(bytes);
            var content = new ManifestContent(mediaType, digest, bytes)
            {
                Config = root.TryGetProperty("config", out var c) ? ReadDescriptor(c) : null,
                Layers = ReadDescriptors(root, mediaType == MediaTypes.OciArtifactManifest ? "blobs" : "layers"),
                Manifests = ReadDescriptors(root, "manifests"),
                Subject = root.TryGetProperty("subject", out var s) ? ReadDescriptor(s) : null,
                ArtifactType = GetString(root, "artifactType"),
                Annotations = ReadAnnotations(root),
            };
            ManifestChecks.RequireValidDigests(content, target);
            return content;
        }
    }

    /// <summary>0 when absent (older writers leave it out); any value but 1 or 2 is a manifest no spec describes.</summary>
    private static int SchemaVersionOf(JsonElement root, object? target)
    {
        if (!root.TryGetProperty("schemaVersion", out var sv)) return 0;
        if (sv.ValueKind == JsonValueKind.Number && sv.TryGetInt32(out var version) && version is 1 or 2) return version;
        throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
            $"The manifest of {target} has schemaVersion {ManifestChecks.Shown(sv.GetRawText())}; image manifests and indexes have schemaVersion 2. The registry served something that is not a manifest this engine can copy faithfully.", target);
    }

    /// <summary>Reads the platform out of an image config blob (os, architecture, variant).</summary>
    public static OciPlatform? ReadConfigPlatform(byte[] configBytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(configBytes);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var os = GetString(root, "os");
            var arch = GetString(root, "architecture");
            if (string.IsNullOrEmpty(os) || string.IsNullOrEmpty(arch)) return null;
            return new OciPlatform(os, arch, GetString(root, "variant"), GetString(root, "os.version"));
        }
        catch (JsonException) { return null; }
    }

    internal static IReadOnlyList<OciDescriptor> ReadDescriptors(JsonElement root, string property)
    {
        if (!root.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array) return [];
        var list = new List<OciDescriptor>();
        foreach (var item in array.EnumerateArray())
            if (ReadDescriptor(item) is { } d) list.Add(d);
        return list;
    }

    internal static OciDescriptor? ReadDescriptor(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        var digest = GetString(e, "digest");
        if (string.IsNullOrEmpty(digest)) return null;
        OciPlatform? platform = null;
        if (e.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
            platform = new OciPlatform(GetString(p, "os") ?? "", GetString(p, "architecture") ?? "", GetString(p, "variant"), GetString(p, "os.version"));
        var urls = e.TryGetProperty("urls", out var u) && u.ValueKind == JsonValueKind.Array
            ? u.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToArray()
            : [];
        return new OciDescriptor(GetString(e, "mediaType") ?? "", digest,
            e.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number && size.TryGetInt64(out var n) ? n : 0)
        {
            Platform = platform,
            ArtifactType = GetString(e, "artifactType"),
            Annotations = ReadAnnotations(e),
            Urls = urls,
        };
    }

    internal static IReadOnlyDictionary<string, string> ReadAnnotations(JsonElement e)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
            foreach (var p in a.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String) result[p.Name] = p.Value.GetString()!;
        return result;
    }

    internal static string? GetString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
