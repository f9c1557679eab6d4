using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>-Platform, -Since and foreign layers: what the opt-in filters keep, and what they never drop silently.</summary>
[Collection(CopyLabCollection.Name)]
public sealed class CopyFilterTests(CopyLabFixture lab)
{
    [Fact]
    public async Task Platform_filter_writes_a_new_index_with_only_the_kept_child_and_skips_an_image_of_another_platform()
    {
        lab.Reset();
        var repository = lab.Unique("platform/app");
        var index = await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "multi", ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]);
        var indexSignature = await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, index);
        var keptChildSignature = await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, index.Children[0]);
        await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, index.Children[1]);
        var arm = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "arm-only", new LabImageOptions { Platform = "linux/arm64" });
        var target = lab.Unique("filtered");
        var request = new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/{target}") { Platforms = ["linux/amd64"] };

        var (summary, results) = await lab.CopyAsync(request);

        Assert.Equal(0, summary.Failed);
        var multi = Assert.Single(results, r => r.Tag == "multi");
        Assert.Equal(CopyAction.Copied, multi.Action);
        Assert.Equal(index.Digest, multi.SourceDigest);
        Assert.NotEqual(index.Digest, multi.Digest);
        Assert.Contains("kept linux/amd64 of linux/amd64, linux/arm64/v8, linux/arm/v7", multi.Reason);
        var destination = $"{target}/{repository}";
        var raw = await LabSkopeo.RawManifestAsync(lab.DestinationEndpoint, destination, "multi");
        Assert.Equal(multi.Digest, LabContent.DigestOf(raw));
        using (var written = JsonDocument.Parse(raw))
        {
            var child = Assert.Single(written.RootElement.GetProperty("manifests").EnumerateArray());
            Assert.Equal(index.Children[0].Digest, child.GetProperty("digest").GetString());
            Assert.Equal(LabContent.OciIndex, written.RootElement.GetProperty("mediaType").GetString());
        }
        await AssertPullableAsync(lab.DestinationEndpoint, destination, "multi");
        await AssertDigestAsync(lab.DestinationEndpoint, destination, index.Children[0].Digest, index.Children[0].Digest);

        var skipped = Assert.Single(results, r => r.Tag == "arm-only");
        Assert.Equal((CopyAction.Skipped, arm.Digest), (skipped.Action, skipped.Digest));
        Assert.Contains("linux/arm64 is not one of -Platform linux/amd64", skipped.Reason);
        // The kept child's signature comes along byte for byte. The source index's signature signs a digest the
        // destination does not have: it stays behind, and so do the dropped child's signature and the arm image, which
        // no tag or orphan walk may bring along.
        var destinationTags = await LabSkopeo.ListTagsAsync(lab.DestinationEndpoint, destination);
        Assert.Equal(new[] { "multi", LabContent.ReferrersTagFor(index.Children[0].Digest), keptChildSignature.Tag! }.Order(StringComparer.Ordinal),
            destinationTags.Order(StringComparer.Ordinal));
        await AssertDigestAsync(lab.DestinationEndpoint, destination, keptChildSignature.Tag!, keptChildSignature.Digest);
        Assert.DoesNotContain(results, r => r.Tag == indexSignature.Tag);

        // The filtered index is what the destination is compared with: a re-run changes nothing.
        var (again, againResults) = await lab.CopyAsync(request);
        Assert.Equal((0, 0, 0), (again.Copied, again.Updated, again.Failed));
        Assert.Equal("unchanged", againResults.Single(r => r.Tag == "multi").Reason.Split(';')[0]);
    }

    [Fact]
    public async Task Platform_filter_with_a_variant_and_an_index_it_fully_keeps_copies_digests_unchanged()
    {
        lab.Reset();
        var repository = lab.Unique("platform/variant");
        var both = await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "both", ["linux/amd64", "linux/arm64"], docker: true);
        var riscv = await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "riscv", ["linux/riscv64"]);
        var target = lab.Unique("variant");

        var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/{target}")
        { Platforms = ["linux/arm64/v8", "LINUX/AMD64"] });

        Assert.Equal(0, summary.Failed);
        var kept = Assert.Single(results, r => r.Tag == "both");
        Assert.Equal((CopyAction.Copied, both.Digest, (string?)null), (kept.Action, kept.Digest, kept.SourceDigest));
        await AssertDigestAsync(lab.DestinationEndpoint, $"{target}/{repository}", "both", both.Digest);
        var none = Assert.Single(results, r => r.Tag == "riscv");
        Assert.Equal((CopyAction.Skipped, riscv.Digest), (none.Action, none.Digest));
        Assert.Contains("the index has linux/riscv64", none.Reason);
    }

    [Fact]
    public async Task Invalid_platform_is_refused_with_the_expected_form()
    {
        var error = await Assert.ThrowsAsync<HarborOpsException>(() =>
            lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/any"], lab.DestinationHost) { Platforms = ["amd64"] }));
        Assert.Equal(CopyErrorIds.MappingInvalid, error.ErrorId);
        Assert.Contains("linux/arm64/v8", error.Message);
    }

    [Fact]
    public async Task Since_keeps_images_created_at_or_after_it_and_copies_those_without_a_time_with_the_reason_from_a_registry_and_a_layout()
    {
        lab.Reset();
        var repository = lab.Unique("since/app");
        var since = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var old = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "old", new LabImageOptions { Created = since.AddYears(-1) });
        // A signature follows its subject: it must not bring the skipped image along as an orphan.
        await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, old);
        var exact = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "exact", new LabImageOptions { Created = since });
        var fresh = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "fresh", new LabImageOptions { Created = since.AddDays(30), Docker = true });
        // An index is as new as its newest child.
        var mixed = await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "mixed", ["linux/amd64", "linux/arm64"], false, [since.AddYears(-3), since.AddDays(1)]);
        await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "stale-index", ["linux/amd64", "linux/arm64"], false, [since.AddYears(-3), since.AddDays(-1)]);
        var timeless = await PushImageWithoutCreatedAsync(repository, "timeless");

        var target = lab.Unique("since");
        var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/{target}") { Since = since });
        AssertSinceOutcome(summary, results);
        foreach (var (tag, digest) in new[] { ("exact", exact.Digest), ("fresh", fresh.Digest), ("mixed", mixed.Digest), ("timeless", timeless) })
            await AssertDigestAsync(lab.DestinationEndpoint, $"{target}/{repository}", tag, digest);
        Assert.Equal(["exact", "fresh", "mixed", "timeless"], (await LabSkopeo.ListTagsAsync(lab.DestinationEndpoint, $"{target}/{repository}")).Order(StringComparer.Ordinal));

        // An OCI layout records the same config times: the same tags pass.
        var layout = Path.Combine(Path.GetTempPath(), $"harborops-since-{Guid.NewGuid():N}");
        try
        {
            var (toLayout, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"oci:{layout}"));
            Assert.Equal(8, toLayout.Copied); // six tags, the signature and its referrers index
            var fromLayoutTarget = lab.Unique("since-layout");
            var (fromLayout, layoutResults) = await lab.CopyAsync(new CopyRequest([$"oci:{Path.Combine(layout, repository)}"], $"{lab.DestinationHost}/{fromLayoutTarget}") { Since = since });
            AssertSinceOutcome(fromLayout, layoutResults);
        }
        finally
        {
            if (Directory.Exists(layout)) Directory.Delete(layout, recursive: true);
        }
    }

    private static void AssertSinceOutcome(CopySummary summary, IReadOnlyList<CopyResult> results)
    {
        Assert.Equal((4, 2, 0), (summary.Copied, summary.Skipped, summary.Failed));
        var byTag = results.ToDictionary(r => r.Tag);
        Assert.Equal(CopyAction.Skipped, byTag["old"].Action);
        Assert.Contains("created 2024-01-01T00:00:00+00:00, before -Since 2025-01-01T00:00:00+00:00", byTag["old"].Reason);
        Assert.Equal(CopyAction.Skipped, byTag["stale-index"].Action);
        Assert.Equal("new", byTag["exact"].Reason);
        Assert.Equal("new", byTag["mixed"].Reason);
        Assert.Equal(CopyAction.Copied, byTag["timeless"].Action);
        Assert.Contains("creation time unknown", byTag["timeless"].Reason);
    }

    [Fact]
    public async Task Foreign_layers_are_left_to_their_urls_unless_requested()
    {
        lab.Reset();
        var repository = lab.Unique("foreign/windows");
        var layer = RandomBytes(900);
        var layerDigest = await LabContent.PushBlobAsync(lab.SourceEndpoint, repository, layer);
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"windows","created":"2026-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":[]},"config":{}}""");
        var configDigest = await LabContent.PushBlobAsync(lab.SourceEndpoint, repository, config);
        // The base layer lives only at its URL (as Windows base images do): the source registry never had its bytes.
        var foreignDigest = LabContent.DigestOf(RandomBytes(64));
        const string ForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
        var manifest = Encoding.UTF8.GetBytes($$$"""
            {"schemaVersion":2,"mediaType":"{{{LabContent.DockerManifest}}}","config":{"mediaType":"{{{LabContent.DockerConfig}}}","digest":"{{{configDigest}}}","size":{{{config.Length}}}},"layers":[{"mediaType":"{{{ForeignLayer}}}","digest":"{{{foreignDigest}}}","size":1048576,"urls":["https://foreign.example.invalid/base.tar.gz"]},{"mediaType":"{{{LabContent.DockerLayer}}}","digest":"{{{layerDigest}}}","size":{{{layer.Length}}}}]}
            """);
        var image = await LabContent.PutManifestAsync(lab.SourceEndpoint, repository, "ltsc", LabContent.DockerManifest, manifest);
        var target = lab.Unique("foreign");

        var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}:ltsc"], $"{lab.DestinationHost}/{target}"));

        Assert.Equal((1, 0), (summary.Copied, summary.Failed));
        Assert.Equal(2, Assert.Single(results).BlobsCopied); // config and the real layer
        await AssertDigestAsync(lab.DestinationEndpoint, $"{target}/{repository}", "ltsc", image.Digest);
        Assert.Equal(0, Count(lab.SourceProxy, "GET", "/blobs/" + foreignDigest));
        Assert.Equal(0, Count(lab.DestinationProxy, "HEAD", "/blobs/" + foreignDigest));

        // Asked for, the foreign layer is fetched from the source like any blob; this source does not have it.
        var (included, includedResults) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}:ltsc"], $"{lab.DestinationHost}/{lab.Unique("foreign-included")}")
        { IncludeForeignLayers = true });
        Assert.Equal(1, included.Failed);
        Assert.Equal(RegistryErrorIds.BlobNotFound, Assert.Single(includedResults).ErrorId);
    }

    /// <summary>An image whose config has platform fields but no <c>created</c> (as some builders write it).</summary>
    private async Task<string> PushImageWithoutCreatedAsync(string repository, string tag)
    {
        var layer = RandomBytes(700);
        var layerDigest = await LabContent.PushBlobAsync(lab.SourceEndpoint, repository, layer);
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["{{{layerDigest}}}"]},"config":{}}""");
        var configDigest = await LabContent.PushBlobAsync(lab.SourceEndpoint, repository, config);
        var manifest = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{LabContent.OciManifest}}}","config":{"mediaType":"{{{LabContent.OciConfig}}}","digest":"{{{configDigest}}}","size":{{{config.Length}}}},"layers":[{"mediaType":"{{{LabContent.OciLayer}}}","digest":"{{{layerDigest}}}","size":{{{layer.Length}}}}]}""");
        return (await LabContent.PutManifestAsync(lab.SourceEndpoint, repository, tag, LabContent.OciManifest, manifest)).Digest;
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
