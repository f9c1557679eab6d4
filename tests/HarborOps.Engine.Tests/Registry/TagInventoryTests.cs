using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Layout;
using HarborOps.Engine.Registry.Store;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>The per-store inventory (tags with the manifest each points at) that parity and copy planning diff by digest.</summary>
[Collection(RegistryLabCollection.Name)]
public sealed class TagInventoryTests(RegistryLabFixture lab) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harborops-inventory-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<List<TaggedManifest>> InventoryAsync(IImageStore store, string repository)
    {
        var all = new List<TaggedManifest>();
        await foreach (var page in store.ListTaggedManifestPagesAsync(repository, default)) all.AddRange(page);
        return all;
    }

    [Fact]
    public async Task A_registry_inventory_gives_every_tag_with_the_digest_its_HEAD_gives()
    {
        using var engine = lab.NewEngine();
        var remote = engine.OpenStore(lab.Open.Host);

        var inventory = await InventoryAsync(remote, "lab/ociindex");

        Assert.NotEmpty(inventory);
        foreach (var item in inventory)
        {
            var head = await remote.HeadManifestAsync("lab/ociindex", item.Tag, default);
            Assert.Equal(head!.Digest, item.Manifest.Digest);
            Assert.Equal(head.MediaType, item.Manifest.MediaType);
            Assert.Null(item.CreatedOn); // Distribution records no times
            Assert.True(item.ReadEnabled);
        }
        Assert.Contains(inventory, i => i.Manifest.Digest == lab.OciIndex.Digest);
    }

    [Fact]
    public async Task A_layout_inventory_comes_from_its_index_and_keeps_the_last_entry_of_a_retagged_tag()
    {
        using var engine = lab.NewEngine();
        var remote = engine.OpenStore(lab.Open.Host);
        var layout = new OciLayoutStore(Path.Combine(_root, "app"));
        await ImageStoreCopy.CopyAsync(remote, "lab/oci", layout, "", "v1");
        await ImageStoreCopy.CopyAsync(remote, "lab/ociindex", layout, "", "multi");
        var index = await layout.GetManifestAsync("", "multi", default);
        await layout.PutManifestAsync("", "v1", index, default); // v1 moves to the index

        var inventory = await InventoryAsync(layout, "");

        Assert.Equal(["multi", "v1"], inventory.Select(i => i.Tag).Order(StringComparer.Ordinal));
        Assert.All(inventory, i => Assert.Equal(lab.OciIndex.Digest, i.Manifest.Digest));
    }

    [Fact]
    public async Task A_missing_repository_fails_its_inventory_as_not_found()
    {
        using var engine = lab.NewEngine();
        var failure = await Assert.ThrowsAsync<RegistryException>(() => InventoryAsync(engine.OpenStore(lab.Open.Host), "lab/no-such-repository"));
        Assert.Equal(RegistryErrorIds.RepositoryNotFound, failure.ErrorId);
    }
}
