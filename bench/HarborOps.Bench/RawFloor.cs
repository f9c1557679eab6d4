using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using HarborOps.Lab;

namespace HarborOps.Bench;

/// <summary>
/// The floor a copy cannot beat on this machine: only the unique blobs, each streamed GET -> POST/PUT once with a plain
/// HttpClient at the same concurrency, no manifests, no verification, no HEADs. Also pushes the 1 GiB layer.
/// </summary>
internal static class RawFloor
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(30) };
    private static readonly string[] ManifestTypes = [LabContent.OciIndex, LabContent.DockerManifestList, LabContent.OciManifest, LabContent.DockerManifest];

    public sealed record Blob(string Repository, string Digest, long Size);

    /// <summary>The unique blobs under the tags (walking indexes), with a repository to read each from. Not timed.</summary>
    public static async Task<List<Blob>> InventoryAsync(string sourceHost, IReadOnlyList<LabCorpusTag> tags)
    {
        var blobs = new Dictionary<string, Blob>(StringComparer.Ordinal);
        var gate = new object();
        await Parallel.ForEachAsync(tags, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (tag, ct) =>
        {
            var pending = new Queue<string>([tag.Tag]);
            while (pending.Count > 0)
            {
                var reference = pending.Dequeue();
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{sourceHost}/v2/{tag.Repository}/manifests/{reference}");
                foreach (var type in ManifestTypes) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
                using var response = await Http.SendAsync(request, ct);
                response.EnsureSuccessStatusCode();
                using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct));
                if (doc.RootElement.TryGetProperty("manifests", out var children))
                {
                    foreach (var child in children.EnumerateArray()) pending.Enqueue(child.GetProperty("digest").GetString()!);
                    continue;
                }
                var descriptors = new List<JsonElement>();
                if (doc.RootElement.TryGetProperty("config", out var config)) descriptors.Add(config);
                if (doc.RootElement.TryGetProperty("layers", out var layers)) descriptors.AddRange(layers.EnumerateArray());
                lock (gate)
                    foreach (var d in descriptors)
                        blobs.TryAdd(d.GetProperty("digest").GetString()!, new Blob(tag.Repository, d.GetProperty("digest").GetString()!, d.GetProperty("size").GetInt64()));
            }
        });
        return blobs.Values.ToList();
    }

    /// <summary>
    /// The floor as a process of its own, measured the way the copy engine and skopeo are (from launch to exit, JIT and
    /// connection set-up included): copies the blobs of a list written by <see cref="WriteListAsync"/>. With
    /// <c>--prefix</c> instead of <c>--blobs</c> it writes that list (not timed) to <c>--out</c>, for profiling by hand.
    /// </summary>
    public static async Task<int> RunAloneAsync(Arguments arguments)
    {
        var source = arguments.Value("--source") ?? throw new ArgumentException("--source host:port is required");
        if (arguments.Value("--prefix") is { } prefix)
        {
            var output = arguments.Value("--out") ?? throw new ArgumentException("--out file is required with --prefix");
            var tags = await ListTagsAsync(source, prefix.TrimEnd('/') + "/");
            await WriteListAsync(output, await InventoryAsync(source, tags));
            return 0;
        }
        var destination = arguments.Value("--destination") ?? throw new ArgumentException("--destination host:port is required");
        var list = arguments.Value("--blobs") ?? throw new ArgumentException("--blobs file (or --prefix and --out) is required");
        var blobs = JsonSerializer.Deserialize<List<Blob>>(await File.ReadAllBytesAsync(list)) ?? [];
        var wall = await CopyAsync(source, destination, blobs, arguments.Int("--throttle", 8));
        Console.WriteLine(JsonSerializer.Serialize(new { seconds = wall.TotalSeconds, blobs = blobs.Count, bytes = blobs.Sum(b => b.Size), cpuSeconds = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds }));
        return 0;
    }

    public static Task WriteListAsync(string path, IReadOnlyList<Blob> blobs) => File.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(blobs));

    private static async Task<List<LabCorpusTag>> ListTagsAsync(string host, string prefix)
    {
        using var catalog = JsonDocument.Parse(await Http.GetStringAsync($"http://{host}/v2/_catalog?n=1000"));
        var tags = new List<LabCorpusTag>();
        foreach (var repository in catalog.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!).Where(r => r.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var list = JsonDocument.Parse(await Http.GetStringAsync($"http://{host}/v2/{repository}/tags/list?n=1000"));
            tags.AddRange(list.RootElement.GetProperty("tags").EnumerateArray().Select(t => new LabCorpusTag(repository, t.GetString()!, "", "", false)));
        }
        return tags;
    }

    public static async Task<TimeSpan> CopyAsync(string sourceHost, string destinationHost, IReadOnlyList<Blob> blobs, int concurrency)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(blobs, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (blob, ct) =>
        {
            using var get = await Http.GetAsync($"http://{sourceHost}/v2/{blob.Repository}/blobs/{blob.Digest}", HttpCompletionOption.ResponseHeadersRead, ct);
            get.EnsureSuccessStatusCode();
            await using var body = await get.Content.ReadAsStreamAsync(ct);
            var location = await StartUploadAsync(destinationHost, "floor/" + blob.Repository, ct);
            using var put = new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest)) { Content = new StreamContent(body, 128 * 1024) };
            put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            put.Content.Headers.ContentLength = blob.Size;
            using var done = await Http.SendAsync(put, ct);
            done.EnsureSuccessStatusCode();
        });
        return clock.Elapsed;
    }

    private static async Task<Uri> StartUploadAsync(string host, string repository, CancellationToken ct)
    {
        using var post = await Http.PostAsync($"http://{host}/v2/{repository}/blobs/uploads/", new ByteArrayContent([]), ct);
        post.EnsureSuccessStatusCode();
        return new Uri(post.RequestMessage!.RequestUri!, post.Headers.Location!);
    }

    private static Uri WithDigest(Uri location, string digest) =>
        new(location + (location.Query.Length > 0 ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest));

    /// <summary>Streams <paramref name="size"/> random bytes into a blob (one PATCH, then PUT ?digest=) without holding them in memory.</summary>
    public static async Task<string> PushRandomBlobAsync(string host, string repository, long size)
    {
        var location = await StartUploadAsync(host, repository, default);
        var random = new RandomHashingStream(size);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new StreamContent(random, 1 << 20) };
        patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        patch.Content.Headers.ContentLength = size;
        using var patched = await Http.SendAsync(patch);
        patched.EnsureSuccessStatusCode();
        var digest = random.Digest();
        using var put = new HttpRequestMessage(HttpMethod.Put, WithDigest(new Uri(location, patched.Headers.Location!), digest)) { Content = new ByteArrayContent([]) };
        using var done = await Http.SendAsync(put);
        done.EnsureSuccessStatusCode();
        return digest;
    }

    public static async Task<string> PushSingleLayerImageAsync(string host, string repository, string tag, string layerDigest, long layerSize)
    {
        var endpoint = new LabEndpoint(new Uri($"http://{host}/"), null, null);
        var config = JsonSerializer.SerializeToUtf8Bytes(new { architecture = "amd64", os = "linux", rootfs = new { type = "layers", diff_ids = new[] { layerDigest } } });
        var configDigest = await LabContent.PushBlobAsync(endpoint, repository, config);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = LabContent.OciManifest,
            ["config"] = new { mediaType = LabContent.OciConfig, digest = configDigest, size = config.Length },
            ["layers"] = new[] { new { mediaType = LabContent.OciLayer, digest = layerDigest, size = layerSize } },
        });
        return (await LabContent.PutManifestAsync(endpoint, repository, tag, LabContent.OciManifest, manifest)).Digest;
    }

    /// <summary>Random bytes of a fixed length, hashed as they are read.</summary>
    private sealed class RandomHashingStream(long length) : Stream
    {
        private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long position;
        public string Digest() => "sha256:" + Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - position);
            if (n <= 0) return 0;
            Random.Shared.NextBytes(buffer.AsSpan(offset, n));
            hash.AppendData(buffer, offset, n);
            position += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
