using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HarborOps.Lab;

/// <summary>The shape of a migration corpus: how many repositories and tags, how big, what fraction is signed.</summary>
public sealed record LabCorpusOptions
{
    public int Repositories { get; init; } = 6;
    public int TagsPerRepository { get; init; } = 4;
    /// <summary>Distinct base images; every repository builds on one of them, so their layers are shared across repositories.</summary>
    public int BaseImages { get; init; } = 2;
    public int BaseLayersPerImage { get; init; } = 2;
    public int BaseLayerSize { get; init; } = 16 * 1024;
    /// <summary>The one layer each image adds on top of its base (unique per tag and platform).</summary>
    public int AppLayerSize { get; init; } = 4 * 1024;
    /// <summary>Every n-th tag is a two-platform index (OCI index or, alternating, a Docker manifest list); 0 for none.</summary>
    public int MultiArchEvery { get; init; } = 3;
    /// <summary>Every n-th tag gets a cosign signature; 0 for none.</summary>
    public int SignEvery { get; init; } = 2;
    /// <summary>Every n-th tag gets an SBOM; 0 for none.</summary>
    public int SbomEvery { get; init; } = 4;
    /// <summary>
    /// True: signatures and SBOMs are OCI 1.1 referrers (subject, pushed by digest, listed in the sha256-&lt;hex&gt;
    /// tag-schema index) besides cosign's .sig tag. False: only cosign's legacy .sig/.sbom tags, which skopeo 1.9 can copy.
    /// </summary>
    public bool ReferrerArtifacts { get; init; } = true;
    /// <summary>Path prefixes the repositories are spread over (nested paths).</summary>
    public IReadOnlyList<string> PathPrefixes { get; init; } = ["team-a", "team-b/services", "platform/base-images"];
    /// <summary>Prepended to every repository path (keeps tests that share a registry apart).</summary>
    public string RootPrefix { get; init; } = "";
    public int Concurrency { get; init; } = 16;
}

/// <summary>One tag the corpus wrote, with the digest it must have at any copy's destination.</summary>
public sealed record LabCorpusTag(string Repository, string Tag, string Digest, string MediaType, bool IsReferrerTag);

/// <summary>What <see cref="LabCorpus.PushAsync"/> wrote. The blob counts cover the images and cosign legacy tags; the small
/// blobs of OCI referrer artifacts are not counted.</summary>
public sealed record LabCorpusContent(IReadOnlyList<LabCorpusTag> Tags, IReadOnlyList<string> Repositories, long UniqueBlobBytes, int UniqueBlobs,
    IReadOnlyList<PushedImage> Referrers)
{
    public int ImageTags => Tags.Count(t => !t.IsReferrerTag);
}

/// <summary>
/// A realistic migration corpus pushed with raw HTTP (independent of the engine under test): repositories under nested
/// paths that share base layers, several tags each, multi-arch indexes and Docker manifest lists, cosign signatures and
/// SBOM referrers. Used by the copy tests, the benchmark and the demo.
/// </summary>
public static class LabCorpus
{
    public const string SbomArtifactType = "application/spdx+json";

    public static async Task<LabCorpusContent> PushAsync(LabEndpoint endpoint, LabCorpusOptions options, CancellationToken ct = default)
    {
        var client = LabRegistryClient.For(endpoint);
        var platforms = new[] { "linux/amd64", "linux/arm64" };
        // Base layers per (base image, platform): the bytes are random once, then pushed into every repository that uses them.
        var bases = Enumerable.Range(0, options.BaseImages).Select(_ =>
            platforms.ToDictionary(p => p, _ => Enumerable.Range(0, options.BaseLayersPerImage).Select(_ => RandomNumberGenerator.GetBytes(options.BaseLayerSize)).ToArray())).ToArray();
        var repositories = Enumerable.Range(0, options.Repositories)
            .Select(i => Join(options.RootPrefix, options.PathPrefixes.Count == 0 ? "" : options.PathPrefixes[i % options.PathPrefixes.Count], $"app{i:D3}"))
            .ToList();

        var tags = new List<LabCorpusTag>();
        var referrers = new List<PushedImage>();
        var uniqueBlobs = new Dictionary<string, long>(StringComparer.Ordinal);
        var gate = new object();
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Repositories), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency / 4), CancellationToken = ct }, async (r, token) =>
        {
            var repository = repositories[r];
            var baseImage = bases[r % bases.Length];
            var pushedBlobs = new HashSet<string>(StringComparer.Ordinal);
            var repositoryLock = new SemaphoreSlim(1, 1);

            async Task<(string Digest, long Size)> BlobAsync(byte[] content)
            {
                var digest = LabContent.DigestOf(content);
                await repositoryLock.WaitAsync(token);
                try
                {
                    if (pushedBlobs.Add(digest)) await LabContent.PushBlobAsync(endpoint, repository, content, token);
                }
                finally { repositoryLock.Release(); }
                lock (gate) uniqueBlobs[digest] = content.Length;
                return (digest, content.Length);
            }

            async Task<PushedImage> ImageAsync(string? tag, string platform, bool docker, int tagIndex)
            {
                var layers = new List<(string Digest, long Size)>();
                foreach (var layer in baseImage[platform]) layers.Add(await BlobAsync(layer));
                layers.Add(await BlobAsync(RandomNumberGenerator.GetBytes(options.AppLayerSize)));
                var (os, arch) = (platform.Split('/')[0], platform.Split('/')[1]);
                var config = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
                {
                    architecture = arch,
                    os,
                    created = DateTimeOffset.UnixEpoch.AddDays(tagIndex).ToString("yyyy-MM-ddTHH:mm:ssZ"),
                    config = new { Labels = new Dictionary<string, string> { ["org.opencontainers.image.source"] = repository, ["nonce"] = Guid.NewGuid().ToString("N") } },
                    rootfs = new { type = "layers", diff_ids = layers.Select(l => l.Digest).ToArray() },
                }));
                var configBlob = await BlobAsync(config);
                var mediaType = docker ? LabContent.DockerManifest : LabContent.OciManifest;
                var manifest = Json(w =>
                {
                    w.WriteNumber("schemaVersion", 2);
                    w.WriteString("mediaType", mediaType);
                    Descriptor(w, "config", docker ? LabContent.DockerConfig : LabContent.OciConfig, configBlob.Digest, configBlob.Size);
                    w.WriteStartArray("layers");
                    foreach (var (digest, size) in layers) Descriptor(w, null, docker ? LabContent.DockerLayer : LabContent.OciLayer, digest, size);
                    w.WriteEndArray();
                });
                var pushed = await LabContent.PutManifestAsync(endpoint, repository, tag, mediaType, manifest, token);
                return pushed with { Platform = platform, BlobDigests = [configBlob.Digest, .. layers.Select(l => l.Digest)] };
            }

            var local = new List<LabCorpusTag>();
            var localReferrers = new List<PushedImage>();
            for (var t = 0; t < options.TagsPerRepository; t++)
            {
                var tag = $"1.{t}.0";
                var globalIndex = r * options.TagsPerRepository + t;
                var docker = globalIndex % 2 == 1;
                PushedImage subject;
                if (options.MultiArchEvery > 0 && t % options.MultiArchEvery == options.MultiArchEvery - 1)
                {
                    var children = new List<PushedImage>();
                    foreach (var platform in platforms) children.Add(await ImageAsync(null, platform, docker, t));
                    var indexType = docker ? LabContent.DockerManifestList : LabContent.OciIndex;
                    var index = LabContent.IndexManifest(indexType, children);
                    subject = await LabContent.PutManifestAsync(endpoint, repository, tag, indexType, index, token);
                }
                else
                {
                    subject = await ImageAsync(tag, platforms[0], docker, t);
                }
                local.Add(new LabCorpusTag(repository, tag, subject.Digest, subject.MediaType, false));

                var signed = options.SignEvery > 0 && t % options.SignEvery == 0;
                var sbom = options.SbomEvery > 0 && t % options.SbomEvery == 0;
                if (options.ReferrerArtifacts)
                {
                    if (signed)
                    {
                        var signature = await LabContent.PushCosignSignatureAsync(endpoint, subject, token);
                        local.Add(new LabCorpusTag(repository, signature.Tag!, signature.Digest, signature.MediaType, true));
                        localReferrers.Add(signature.Referrer!);
                    }
                    if (sbom)
                        localReferrers.Add(await LabContent.PushReferrerAsync(endpoint, subject, SbomArtifactType, ct: token));
                    var last = localReferrers.LastOrDefault(x => x.SubjectDigest == subject.Digest)?.ReferrersIndex;
                    if (last is not null) local.Add(new LabCorpusTag(repository, last.Tag!, last.Digest, last.MediaType, true));
                }
                else
                {
                    if (signed) local.Add(await LegacyTagAsync(subject, ".sig", LabContent.CosignSimpleSigning));
                    if (sbom) local.Add(await LegacyTagAsync(subject, ".sbom", SbomArtifactType));
                }
            }
            lock (gate)
            {
                tags.AddRange(local);
                referrers.AddRange(localReferrers);
            }

            // cosign's pre-OCI-1.1 convention: an ordinary image manifest under sha256-<hex>.sig/.sbom.
            async Task<LabCorpusTag> LegacyTagAsync(PushedImage subject, string suffix, string layerType)
            {
                var payload = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
                {
                    critical = new { identity = new { docker_reference = repository }, image = new { docker_manifest_digest = subject.Digest }, type = "cosign container image signature" },
                    nonce = Guid.NewGuid().ToString("N"),
                }));
                var payloadBlob = await BlobAsync(payload);
                var config = Encoding.UTF8.GetBytes("""{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}""");
                var configBlob = await BlobAsync(config);
                var manifest = Json(w =>
                {
                    w.WriteNumber("schemaVersion", 2);
                    w.WriteString("mediaType", LabContent.OciManifest);
                    Descriptor(w, "config", LabContent.OciConfig, configBlob.Digest, configBlob.Size);
                    w.WriteStartArray("layers");
                    Descriptor(w, null, layerType, payloadBlob.Digest, payloadBlob.Size);
                    w.WriteEndArray();
                });
                var tag = LabContent.ReferrersTagFor(subject.Digest) + suffix;
                var pushed = await LabContent.PutManifestAsync(endpoint, repository, tag, LabContent.OciManifest, manifest, token);
                return new LabCorpusTag(repository, tag, pushed.Digest, pushed.MediaType, true);
            }
        });
        return new LabCorpusContent(tags.OrderBy(t => t.Repository, StringComparer.Ordinal).ThenBy(t => t.Tag, StringComparer.Ordinal).ToList(),
            repositories, uniqueBlobs.Values.Sum(), uniqueBlobs.Count, referrers);
    }

    private static string Join(params string[] parts) => string.Join('/', parts.Where(p => p.Length > 0).Select(p => p.Trim('/')));

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void Descriptor(Utf8JsonWriter w, string? property, string mediaType, string digest, long size)
    {
        if (property is null) w.WriteStartObject(); else w.WriteStartObject(property);
        w.WriteString("mediaType", mediaType);
        w.WriteString("digest", digest);
        w.WriteNumber("size", size);
        w.WriteEndObject();
    }
}
