using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HarborOps.Lab;

/// <summary>What <see cref="LabContent"/> wrote: the exact manifest bytes and the digest computed over them.</summary>
public sealed record PushedImage(string Repository, string? Tag, string Digest, string MediaType, byte[] ManifestBytes, long Size,
    IReadOnlyList<string> BlobDigests)
{
    /// <summary>Index: the child images, in index order.</summary>
    public IReadOnlyList<PushedImage> Children { get; init; } = [];
    /// <summary>Image: its platform as os/arch[/variant].</summary>
    public string? Platform { get; init; }
    /// <summary>Referrer: its artifactType and the digest of its subject.</summary>
    public string? ArtifactType { get; init; }
    public string? SubjectDigest { get; init; }
    /// <summary>Cosign signature: the same signature pushed as an OCI 1.1 referrer of the signed image.</summary>
    public PushedImage? Referrer { get; init; }
    /// <summary>Referrer: the referrers tag-schema index (tag <c>sha256-&lt;hex&gt;</c>) after this referrer was added.</summary>
    public PushedImage? ReferrersIndex { get; init; }

    /// <summary>The tag when there is one, else the digest.</summary>
    public string Reference => Tag ?? Digest;

    public override string ToString() => $"{Repository}:{Tag ?? "<untagged>"}@{Digest} ({MediaType})";
}

/// <summary>Many tags pointing at one image.</summary>
public sealed record PushedTags(PushedImage Image, IReadOnlyList<string> Tags);

public sealed record LabImageOptions
{
    /// <summary>Docker v2 schema 2 media types instead of OCI.</summary>
    public bool Docker { get; init; }
    public int LayerCount { get; init; } = 1;
    /// <summary>Bytes of random file content in each layer (the layer is a real gzipped tar around it).</summary>
    public int LayerSize { get; init; } = 1024;
    /// <summary>os/arch[/variant]</summary>
    public string Platform { get; init; } = "linux/amd64";
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    /// <summary>The config's <c>created</c> time; null writes the time of the push.</summary>
    public DateTimeOffset? Created { get; init; }
}

/// <summary>
/// Pushes synthetic content with raw HTTP (independent of the engine under test) and returns what it wrote.
/// Digests are SHA-256 over the exact bytes sent.
/// </summary>
public static class LabContent
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string CosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string CosignSignatureArtifact = "application/vnd.dev.cosign.artifact.sig.v1+json";
    public const string CosignSignatureAnnotation = "dev.cosignproject.cosign/signature";
    public const string DefaultReferrerArtifactType = "application/vnd.harborops.lab.sbom.v1+json";
    public const int DefaultManyTagsConcurrency = 16;

    private static readonly byte[] EmptyJson = "{}"u8.ToArray();
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> ReferrersIndexLocks = new();

    public static string DigestOf(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    /// <summary>The referrers tag-schema tag for a digest: <c>sha256-&lt;hex&gt;</c>.</summary>
    public static string ReferrersTagFor(string digest) => digest.Replace(':', '-');

    // ---- images ----

    public static Task<PushedImage> PushImageAsync(DistributionRegistry reg, string repository, string? tag, LabImageOptions? options = null, CancellationToken ct = default) =>
        PushImageAsync(reg.Endpoint, repository, tag, options, ct);

    /// <summary>Pushes an image with random layers; <paramref name="tag"/> null pushes by digest only.</summary>
    public static async Task<PushedImage> PushImageAsync(LabEndpoint endpoint, string repository, string? tag, LabImageOptions? options = null, CancellationToken ct = default)
    {
        options ??= new LabImageOptions();
        var client = LabRegistryClient.For(endpoint);
        var (os, architecture, variant) = ParsePlatform(options.Platform);

        var layers = new List<(string Digest, long Size)>();
        var diffIds = new List<string>();
        for (var i = 0; i < options.LayerCount; i++)
        {
            var (compressed, tar) = RandomLayer(options.LayerSize, i);
            diffIds.Add(DigestOf(tar));
            layers.Add((await PushBlobAsync(client, repository, compressed, ct), compressed.Length));
        }

        var config = Json(w =>
        {
            w.WriteString("architecture", architecture);
            w.WriteString("os", os);
            if (variant is not null) w.WriteString("variant", variant);
            w.WriteString("created", (options.Created ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartObject("config");
            w.WriteStartArray("Cmd");
            w.WriteStringValue("/bin/true");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            foreach (var diffId in diffIds) w.WriteStringValue(diffId);
            w.WriteEndArray();
            w.WriteEndObject();
        });
        var configDigest = await PushBlobAsync(client, repository, config, ct);

        var mediaType = options.Docker ? DockerManifest : OciManifest;
        var manifest = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", mediaType);
            WriteDescriptor(w, "config", options.Docker ? DockerConfig : OciConfig, configDigest, config.Length);
            w.WriteStartArray("layers");
            foreach (var (digest, size) in layers) WriteDescriptor(w, null, options.Docker ? DockerLayer : OciLayer, digest, size);
            w.WriteEndArray();
            WriteAnnotations(w, options.Annotations);
        });
        var pushed = await PutManifestAsync(client, repository, tag, mediaType, manifest, ct);
        return pushed with { BlobDigests = [configDigest, .. layers.Select(l => l.Digest)], Platform = options.Platform };
    }

    // ---- indexes ----

    public static Task<PushedImage> PushIndexAsync(DistributionRegistry reg, string repository, string? tag, string[] platforms, bool docker = false, CancellationToken ct = default) =>
        PushIndexAsync(reg.Endpoint, repository, tag, platforms, docker, ct);

    /// <summary>A multi-platform OCI index (or Docker manifest list) over child images pushed by digest.</summary>
    public static Task<PushedImage> PushIndexAsync(LabEndpoint endpoint, string repository, string? tag, string[] platforms, bool docker = false, CancellationToken ct = default) =>
        PushIndexAsync(endpoint, repository, tag, platforms, docker, created: null, ct);

    /// <summary>As above, with each child's config <c>created</c> time (one per platform, in order; null entries mean now).</summary>
    public static async Task<PushedImage> PushIndexAsync(LabEndpoint endpoint, string repository, string? tag, string[] platforms, bool docker,
        IReadOnlyList<DateTimeOffset?>? created, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(platforms);
        if (platforms.Length == 0) throw new ArgumentException("an index needs at least one platform", nameof(platforms));
        var client = LabRegistryClient.For(endpoint);
        var children = new List<PushedImage>();
        for (var i = 0; i < platforms.Length; i++)
            children.Add(await PushImageAsync(endpoint, repository, null,
                new LabImageOptions { Docker = docker, Platform = platforms[i], LayerSize = 512, Created = created is not null && i < created.Count ? created[i] : null }, ct));

        var mediaType = docker ? DockerManifestList : OciIndex;
        var index = IndexManifest(mediaType, children);
        var pushed = await PutManifestAsync(client, repository, tag, mediaType, index, ct);
        return pushed with { Children = children, BlobDigests = children.SelectMany(c => c.BlobDigests).Distinct().ToList() };
    }

    /// <summary>The bytes of an OCI index or Docker manifest list over already pushed children, with their platforms.</summary>
    internal static byte[] IndexManifest(string mediaType, IReadOnlyList<PushedImage> children) => Json(w =>
    {
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", mediaType);
        w.WriteStartArray("manifests");
        foreach (var child in children)
        {
            w.WriteStartObject();
            w.WriteString("mediaType", child.MediaType);
            w.WriteString("digest", child.Digest);
            w.WriteNumber("size", child.Size);
            var (os, architecture, variant) = ParsePlatform(child.Platform!);
            w.WriteStartObject("platform");
            w.WriteString("architecture", architecture);
            w.WriteString("os", os);
            if (variant is not null) w.WriteString("variant", variant);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    // ---- signatures and referrers ----

    public static Task<PushedImage> PushCosignSignatureAsync(DistributionRegistry reg, PushedImage signed, CancellationToken ct = default) =>
        PushCosignSignatureAsync(reg.Endpoint, signed, ct);

    /// <summary>
    /// A cosign-style signature of <paramref name="signed"/>, both ways cosign writes it: the legacy tag
    /// <c>sha256-&lt;hex&gt;.sig</c> (returned) and an OCI 1.1 referrer with <c>subject</c> pushed by digest and
    /// listed in the referrers tag-schema index <c>sha256-&lt;hex&gt;</c> (in <see cref="PushedImage.Referrer"/>).
    /// </summary>
    public static async Task<PushedImage> PushCosignSignatureAsync(LabEndpoint endpoint, PushedImage signed, CancellationToken ct = default)
    {
        var client = LabRegistryClient.For(endpoint);
        var repository = signed.Repository;
        var payload = Json(w =>
        {
            w.WriteStartObject("critical");
            w.WriteStartObject("identity");
            w.WriteString("docker-reference", $"{endpoint.Host}/{repository}");
            w.WriteEndObject();
            w.WriteStartObject("image");
            w.WriteString("docker-manifest-digest", signed.Digest);
            w.WriteEndObject();
            w.WriteString("type", "cosign container image signature");
            w.WriteEndObject();
            w.WriteNull("optional");
        }, indented: false);
        // A real ECDSA P-256 signature over the payload (with a throwaway key), so the layer looks like cosign's.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = Convert.ToBase64String(key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        var annotations = new Dictionary<string, string> { [CosignSignatureAnnotation] = signature };
        var payloadDigest = await PushBlobAsync(client, repository, payload, ct);

        var config = Json(w =>
        {
            w.WriteString("architecture", "");
            w.WriteString("created", "0001-01-01T00:00:00Z");
            w.WriteString("os", "");
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            w.WriteStringValue(payloadDigest);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("config");
            w.WriteEndObject();
        }, indented: false);
        var configDigest = await PushBlobAsync(client, repository, config, ct);
        var legacy = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", OciManifest);
            WriteDescriptor(w, "config", OciConfig, configDigest, config.Length);
            w.WriteStartArray("layers");
            WriteDescriptor(w, null, CosignSimpleSigning, payloadDigest, payload.Length, annotations);
            w.WriteEndArray();
        }, indented: false);
        var signatureTag = ReferrersTagFor(signed.Digest) + ".sig";
        var pushedLegacy = await PutManifestAsync(client, repository, signatureTag, OciManifest, legacy, ct);

        var referrer = await PushReferrerCoreAsync(client, signed, CosignSignatureArtifact, [(CosignSimpleSigning, payloadDigest, payload.Length, annotations)], null, true, ct);
        return pushedLegacy with { BlobDigests = [configDigest, payloadDigest], SubjectDigest = signed.Digest, Referrer = referrer };
    }

    public static Task<PushedImage> PushReferrerAsync(DistributionRegistry reg, PushedImage subject, string artifactType = DefaultReferrerArtifactType,
        IReadOnlyDictionary<string, string>? annotations = null, bool updateReferrersTag = true, CancellationToken ct = default) =>
        PushReferrerAsync(reg.Endpoint, subject, artifactType, annotations, updateReferrersTag, ct);

    /// <summary>
    /// An OCI 1.1 artifact manifest with <c>subject</c> = <paramref name="subject"/>, pushed by digest, and (unless
    /// <paramref name="updateReferrersTag"/> is false) added to the referrers tag-schema index <c>sha256-&lt;hex&gt;</c>,
    /// which is what a client falls back to on a registry without the referrers API (Distribution 2.8).
    /// </summary>
    public static Task<PushedImage> PushReferrerAsync(LabEndpoint endpoint, PushedImage subject, string artifactType = DefaultReferrerArtifactType,
        IReadOnlyDictionary<string, string>? annotations = null, bool updateReferrersTag = true, CancellationToken ct = default)
    {
        var client = LabRegistryClient.For(endpoint);
        var content = Encoding.UTF8.GetBytes($$"""{"generator":"harborops-lab","subject":"{{subject.Digest}}","nonce":"{{Guid.NewGuid():N}}"}""");
        return PushReferrerWithBlobAsync(client, subject, artifactType, content, annotations, updateReferrersTag, ct);
    }

    private static async Task<PushedImage> PushReferrerWithBlobAsync(LabRegistryClient client, PushedImage subject, string artifactType, byte[] content,
        IReadOnlyDictionary<string, string>? annotations, bool updateReferrersTag, CancellationToken ct)
    {
        var digest = await PushBlobAsync(client, subject.Repository, content, ct);
        return await PushReferrerCoreAsync(client, subject, artifactType, [("application/json", digest, content.Length, null)], annotations, updateReferrersTag, ct);
    }

    private static async Task<PushedImage> PushReferrerCoreAsync(LabRegistryClient client, PushedImage subject, string artifactType,
        IReadOnlyList<(string MediaType, string Digest, long Size, IReadOnlyDictionary<string, string>? Annotations)> layers,
        IReadOnlyDictionary<string, string>? annotations, bool updateReferrersTag, CancellationToken ct)
    {
        var repository = subject.Repository;
        var emptyDigest = await PushBlobAsync(client, repository, EmptyJson, ct);
        var manifest = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", OciManifest);
            w.WriteString("artifactType", artifactType);
            WriteDescriptor(w, "config", OciEmpty, emptyDigest, EmptyJson.Length);
            w.WriteStartArray("layers");
            foreach (var layer in layers) WriteDescriptor(w, null, layer.MediaType, layer.Digest, layer.Size, layer.Annotations);
            w.WriteEndArray();
            WriteDescriptor(w, "subject", subject.MediaType, subject.Digest, subject.Size);
            WriteAnnotations(w, annotations);
        });
        var pushed = await PutManifestAsync(client, repository, null, OciManifest, manifest, ct);
        pushed = pushed with
        {
            BlobDigests = [emptyDigest, .. layers.Select(l => l.Digest)],
            ArtifactType = artifactType,
            SubjectDigest = subject.Digest,
        };
        if (!updateReferrersTag) return pushed;
        var index = await AddToReferrersTagAsync(client, repository, subject.Digest, pushed, annotations, ct);
        return pushed with { ReferrersIndex = index };
    }

    /// <summary>Read-modify-write of the tag-schema index, serialized per repository and subject within this process.</summary>
    private static async Task<PushedImage> AddToReferrersTagAsync(LabRegistryClient client, string repository, string subjectDigest, PushedImage referrer,
        IReadOnlyDictionary<string, string>? annotations, CancellationToken ct)
    {
        var tag = ReferrersTagFor(subjectDigest);
        var gate = ReferrersIndexLocks.GetOrAdd($"{client.BaseUri}|{repository}|{tag}", _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var existing = new List<JsonElement>();
            using (var response = await client.SendAsync(repository, () =>
                   {
                       var request = new HttpRequestMessage(HttpMethod.Get, ManifestUri(client, repository, tag));
                       request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciIndex));
                       return request;
                   }, ct))
            {
                if (response.StatusCode != HttpStatusCode.NotFound)
                {
                    await LabRegistryClient.EnsureSuccessAsync(response, $"GET referrers tag {repository}:{tag}", ct);
                    using var current = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct));
                    existing.AddRange(current.RootElement.GetProperty("manifests").EnumerateArray()
                        .Where(m => m.GetProperty("digest").GetString() != referrer.Digest)
                        .Select(m => m.Clone()));
                }
            }
            var index = Json(w =>
            {
                w.WriteNumber("schemaVersion", 2);
                w.WriteString("mediaType", OciIndex);
                w.WriteStartArray("manifests");
                foreach (var entry in existing) entry.WriteTo(w);
                w.WriteStartObject();
                w.WriteString("mediaType", referrer.MediaType);
                w.WriteString("digest", referrer.Digest);
                w.WriteNumber("size", referrer.Size);
                w.WriteString("artifactType", referrer.ArtifactType);
                WriteAnnotations(w, annotations);
                w.WriteEndObject();
                w.WriteEndArray();
            });
            return await PutManifestAsync(client, repository, tag, OciIndex, index, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    // ---- many tags ----

    public static Task<PushedTags> PushManyTagsAsync(DistributionRegistry reg, string repository, int count, CancellationToken ct = default) =>
        PushManyTagsAsync(reg.Endpoint, repository, count, "v", DefaultManyTagsConcurrency, ct);

    /// <summary>
    /// <paramref name="count"/> tags (<c>{prefix}0000</c>, <c>{prefix}0001</c>, ...; zero-padded so the registry's
    /// lexical order is the numeric order) all pointing at one small image: the manifest is pushed once, then its exact
    /// bytes are PUT under the other tags with bounded concurrency.
    /// </summary>
    public static async Task<PushedTags> PushManyTagsAsync(LabEndpoint endpoint, string repository, int count, string tagPrefix = "v",
        int concurrency = DefaultManyTagsConcurrency, CancellationToken ct = default)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "at least one tag");
        var width = Math.Max(4, (count - 1).ToString().Length);
        var tags = Enumerable.Range(0, count).Select(i => tagPrefix + i.ToString().PadLeft(width, '0')).ToList();
        var image = await PushImageAsync(endpoint, repository, tags[0], new LabImageOptions { LayerSize = 256 }, ct);
        var client = LabRegistryClient.For(endpoint);
        await Parallel.ForEachAsync(tags.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (tag, token) => await PutManifestAsync(client, repository, tag, image.MediaType, image.ManifestBytes, token));
        return new PushedTags(image, tags);
    }

    // ---- blobs and manifests ----

    public static Task<string> PushBlobAsync(LabEndpoint endpoint, string repository, byte[] content, CancellationToken ct = default) =>
        PushBlobAsync(LabRegistryClient.For(endpoint), repository, content, ct);

    /// <summary>Pushes exact bytes as a blob (POST then a single PUT with the digest) and returns the digest.</summary>
    private static async Task<string> PushBlobAsync(LabRegistryClient client, string repository, byte[] content, CancellationToken ct)
    {
        var digest = DigestOf(content);
        Uri location;
        using (var start = await client.SendAsync(repository, () => new HttpRequestMessage(HttpMethod.Post, new Uri(client.BaseUri, $"v2/{repository}/blobs/uploads/")), ct))
        {
            await LabRegistryClient.EnsureSuccessAsync(start, $"starting a blob upload to {repository}", ct);
            location = new Uri(start.RequestMessage!.RequestUri!, start.Headers.Location ?? throw new InvalidOperationException("blob upload started without a Location"));
        }
        var separator = location.Query.Length > 0 ? "&" : "?";
        var finish = new Uri(location + separator + "digest=" + Uri.EscapeDataString(digest));
        using var put = await client.SendAsync(repository, () => new HttpRequestMessage(HttpMethod.Put, finish)
        {
            Content = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        }, ct);
        await LabRegistryClient.EnsureSuccessAsync(put, $"uploading blob {digest} to {repository}", ct);
        return digest;
    }

    public static Task<PushedImage> PutManifestAsync(LabEndpoint endpoint, string repository, string? tag, string mediaType, byte[] manifest, CancellationToken ct = default) =>
        PutManifestAsync(LabRegistryClient.For(endpoint), repository, tag, mediaType, manifest, ct);

    /// <summary>PUTs exact manifest bytes by tag (or by digest when <paramref name="tag"/> is null) and checks that
    /// the registry computed the same digest.</summary>
    private static async Task<PushedImage> PutManifestAsync(LabRegistryClient client, string repository, string? tag, string mediaType, byte[] manifest, CancellationToken ct)
    {
        var digest = DigestOf(manifest);
        using var response = await client.SendAsync(repository, () => new HttpRequestMessage(HttpMethod.Put, ManifestUri(client, repository, tag ?? digest))
        {
            Content = new ByteArrayContent(manifest) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } },
        }, ct);
        await LabRegistryClient.EnsureSuccessAsync(response, $"PUT manifest {repository}:{tag ?? digest}", ct);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.First() != digest)
            throw new InvalidOperationException($"registry computed {values.First()} for a manifest whose bytes hash to {digest}");
        return new PushedImage(repository, tag, digest, mediaType, manifest, manifest.Length, []);
    }

    public static Task DeleteManifestAsync(DistributionRegistry reg, string repository, string digest, CancellationToken ct = default) =>
        DeleteManifestAsync(reg.Endpoint, repository, digest, ct);

    public static async Task DeleteManifestAsync(LabEndpoint endpoint, string repository, string digest, CancellationToken ct = default)
    {
        var client = LabRegistryClient.For(endpoint);
        using var response = await client.SendAsync(repository, () => new HttpRequestMessage(HttpMethod.Delete, ManifestUri(client, repository, digest)), ct);
        await LabRegistryClient.EnsureSuccessAsync(response, $"DELETE manifest {repository}@{digest}", ct);
    }

    private static Uri ManifestUri(LabRegistryClient client, string repository, string reference) =>
        new(client.BaseUri, $"v2/{repository}/manifests/{reference}");

    // ---- helpers ----

    private static (string Os, string Architecture, string? Variant) ParsePlatform(string platform)
    {
        var parts = platform.Split('/');
        if (parts.Length is < 2 or > 3) throw new ArgumentException($"platform '{platform}' is not os/arch[/variant]", nameof(platform));
        return (parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    private static (byte[] Compressed, byte[] Tar) RandomLayer(int size, int index)
    {
        var payload = RandomNumberGenerator.GetBytes(size);
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, $"lab/layer-{index}-{Guid.NewGuid():N}.bin")
            {
                DataStream = new MemoryStream(payload),
                ModificationTime = DateTimeOffset.UnixEpoch,
            };
            writer.WriteEntry(entry);
        }
        var tarBytes = tar.ToArray();
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(tarBytes);
        return (gz.ToArray(), tarBytes);
    }

    /// <summary>Indented on purpose: a client that re-serializes instead of keeping the exact bytes gets a different
    /// digest, which the tests should notice.</summary>
    private static byte[] Json(Action<Utf8JsonWriter> body, bool indented = true)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteDescriptor(Utf8JsonWriter w, string? property, string mediaType, string digest, long size,
        IReadOnlyDictionary<string, string>? annotations = null)
    {
        if (property is null) w.WriteStartObject(); else w.WriteStartObject(property);
        w.WriteString("mediaType", mediaType);
        w.WriteString("digest", digest);
        w.WriteNumber("size", size);
        WriteAnnotations(w, annotations);
        w.WriteEndObject();
    }

    private static void WriteAnnotations(Utf8JsonWriter w, IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null || annotations.Count == 0) return;
        w.WriteStartObject("annotations");
        foreach (var (key, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal)) w.WriteString(key, value);
        w.WriteEndObject();
    }
}
