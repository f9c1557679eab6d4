using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Layout;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>OCI image layouts as a registry: written and read by the engine, and cross-checked with skopeo both ways.</summary>
[Collection(RegistryLabCollection.Name)]
public sealed class OciLayoutStoreTests(RegistryLabFixture lab) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harborops-layout-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    [Fact]
    public async Task Images_and_indexes_copied_into_a_layout_read_back_byte_exact_and_skopeo_agrees()
    {
        using var engine = lab.NewEngine();
        var remote = engine.OpenStore(lab.Open.Host);
        var layoutDir = Path.Combine(_root, "app");
        var layout = new OciLayoutStore(layoutDir);

        await ImageStoreCopy.CopyAsync(remote, "lab/oci", layout, "", "v1");
        await ImageStoreCopy.CopyAsync(remote, "lab/ociindex", layout, "", "multi");
        await ImageStoreCopy.CopyAsync(remote, "lab/oci", layout, "", "v1"); // idempotent: same tag, same bytes

        Assert.True(File.Exists(Path.Combine(layoutDir, "oci-layout")));
        var tags = Assert.Single(await ToListAsync(layout.ListTagPagesAsync("", default)));
        Assert.Equal(["multi", "v1"], tags.Order(StringComparer.Ordinal));
        var index = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(layoutDir, "index.json")));
        Assert.Equal(2, index.RootElement.GetProperty("manifests").GetArrayLength());

        var v1 = await layout.GetManifestAsync("", "v1", default);
        Assert.Equal(lab.OciImage.ManifestBytes, v1.Bytes);
        var multi = await layout.GetManifestAsync("", "multi", default);
        Assert.Equal(lab.OciIndex.Digest, multi.Digest);
        foreach (var blob in v1.Blobs())
        {
            await using var stream = await layout.OpenBlobAsync("", blob.Digest, blob.Size, default);
            Assert.Equal(blob.Digest, "sha256:" + Convert.ToHexString(await SHA256.HashDataAsync(stream)).ToLowerInvariant());
        }

        var skopeo = await LabSkopeo.RunAsync(lab.Open.Endpoint, ["inspect", $"oci:{layoutDir}:v1"]);
        Assert.True(skopeo.ExitCode == 0, skopeo.StandardError);
        using var inspected = JsonDocument.Parse(skopeo.StandardOutput);
        Assert.Equal(lab.OciImage.Digest, inspected.RootElement.GetProperty("Digest").GetString());
        Assert.Equal("arm64", inspected.RootElement.GetProperty("Architecture").GetString());
        var raw = await LabSkopeo.RunAsync(lab.Open.Endpoint, ["inspect", "--raw", $"oci:{layoutDir}:multi"]);
        Assert.Equal(lab.OciIndex.Digest, Digests.Sha256(Encoding.UTF8.GetBytes(raw.StandardOutput)));

        // And back out of the layout into a registry, through the same interface.
        await ImageStoreCopy.CopyAsync(layout, "", remote, "lab/from-layout", "multi");
        Assert.Equal(lab.OciIndex.Digest, (await remote.HeadManifestAsync("lab/from-layout", "multi", default))!.Digest);
    }

    [Fact]
    public async Task A_layout_written_by_skopeo_is_listed_and_described_by_the_facade()
    {
        var layoutDir = Path.Combine(_root, "team", "skopeo");
        Directory.CreateDirectory(Path.Combine(_root, "team")); // skopeo creates the layout directory, not its parents
        var copy = await LabSkopeo.RunAsync(lab.Open.Endpoint, ["copy", "--src-tls-verify=false", $"docker://{lab.Open.Host}/lab/docker:v1", $"oci:{layoutDir}:v1"]);
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Directory.CreateDirectory(Path.Combine(_root, "not-a-layout"));
        await ImageStoreCopy.CopyAsync(lab.NewEngine().OpenStore(lab.Open.Host), "lab/oci", new OciLayoutStore(_root), "mine", "v1");

        using var engine = lab.NewEngine();
        var repos = await ToListAsync(engine.GetRepositoriesAsync(new GetRepositoriesRequest("oci:" + _root), null, default));
        Assert.Equal(["mine", "team/skopeo"], repos.Select(r => r.Repository));
        Assert.Equal($"oci:{_root}/team/skopeo", repos[1].Reference);

        var tag = Assert.Single(await ToListAsync(engine.GetTagsAsync(new GetTagsRequest(repos[1].Reference), null, default)));
        Assert.Equal("v1", tag.Tag);
        Assert.Equal(["linux/amd64"], tag.Platforms);
        Assert.Equal($"oci:{layoutDir}:v1", tag.Reference);
        // skopeo converts Docker v2 to OCI when writing a layout, so only the media type family differs.
        Assert.Equal(MediaTypes.OciManifest, tag.MediaType);
        Assert.True(tag.Size > 0);
    }

    [Fact]
    public async Task Retagging_keeps_other_entries_and_fields_of_index_json_verbatim()
    {
        using var engine = lab.NewEngine();
        var dir = Path.Combine(_root, "keep");
        var layout = new OciLayoutStore(dir);
        var manifest = await engine.OpenStore(lab.Open.Host).GetManifestAsync("lab/docker", "v1", default);
        await layout.PutManifestAsync("", "a", manifest, default);
        // Another tool's entry with fields this engine does not model, and a top-level annotation.
        var indexPath = Path.Combine(dir, "index.json");
        var foreign = "{\"mediaType\":\"" + manifest.MediaType + "\",\"digest\":\"" + manifest.Digest + "\",\"size\":" + manifest.Size
            + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"b\"},\"data\":\"e30=\",\"x-vendor\":{\"k\":1}}";
        var text = (await File.ReadAllTextAsync(indexPath)).Replace("\"manifests\":[", "\"manifests\":[" + foreign + ",");
        text = text[..^1] + ",\"annotations\":{\"made-by\":\"other-tool\"}}";
        await File.WriteAllTextAsync(indexPath, text);

        await layout.PutManifestAsync("", "a", manifest, default); // retag a: b must stay byte for byte
        var after = await File.ReadAllTextAsync(indexPath);
        Assert.Contains(foreign, after);
        Assert.Contains("\"made-by\":\"other-tool\"", after);
        Assert.Equal(["a", "b"], Assert.Single(await ToListAsync(layout.ListTagPagesAsync("", default))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Corrupt_content_is_refused_on_write_and_detected_on_read()
    {
        var layout = new OciLayoutStore(Path.Combine(_root, "x"));
        var content = Encoding.UTF8.GetBytes("layer bytes");
        var digest = Digests.Sha256(content);
        var wrong = await Assert.ThrowsAsync<RegistryException>(() => layout.PutBlobAsync("", digest, content.Length, new MemoryStream(Encoding.UTF8.GetBytes("other bytes")), default));
        Assert.Equal(RegistryErrorIds.DigestMismatch, wrong.ErrorId);
        Assert.Null(await layout.HeadBlobAsync("", digest, default));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "x", "blobs", "sha256")));

        await layout.PutBlobAsync("", digest, content.Length, new MemoryStream(content), default);
        await File.WriteAllBytesAsync(Path.Combine(_root, "x", "blobs", "sha256", digest[7..]), Encoding.UTF8.GetBytes("layer bytez"));
        await using var stream = await layout.OpenBlobAsync("", digest, null, default);
        var read = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal(RegistryErrorIds.DigestMismatch, read.ErrorId);
    }

    [Fact]
    public async Task Concurrent_tag_writes_all_land_in_index_json()
    {
        using var engine = lab.NewEngine();
        var layout = new OciLayoutStore(Path.Combine(_root, "many"));
        var manifest = await engine.OpenStore(lab.Open.Host).GetManifestAsync("lab/docker", "v1", default);
        await Parallel.ForEachAsync(Enumerable.Range(0, 20), async (i, ct) => await layout.PutManifestAsync("", $"t{i:00}", manifest, ct));
        var tags = Assert.Single(await ToListAsync(layout.ListTagPagesAsync("", default)));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"t{i:00}"), tags.Order(StringComparer.Ordinal));
        Assert.Equal(manifest.Digest, (await layout.HeadManifestAsync("", "t07", default))!.Digest);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "many"), "*.tmp-*"));
    }

    [Fact]
    public async Task Missing_layout_tag_and_escaping_paths_give_clear_errors()
    {
        using var engine = lab.NewEngine();
        var missing = await Assert.ThrowsAsync<RegistryException>(() => ToListAsync(engine.GetTagsAsync(new GetTagsRequest($"oci:{_root}/nothing"), null, default)));
        Assert.Equal(RegistryErrorIds.RepositoryNotFound, missing.ErrorId);
        Assert.Contains("is not an OCI image layout", missing.Message);

        var layout = new OciLayoutStore(_root);
        var escape = Assert.Throws<RegistryException>(() => layout.LayoutDirectory("../etc"));
        Assert.Equal(RegistryErrorIds.ReferenceInvalid, escape.ErrorId);
    }
}
