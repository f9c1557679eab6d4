using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Lab.Tests.Registries;

/// <summary>What LabContent writes is what an independent client (skopeo) reads, digest for digest.</summary>
public sealed class LabContentTests(LabRegistriesFixture lab, ITestOutputHelper output) : IClassFixture<LabRegistriesFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pushed_image_is_read_back_by_skopeo_with_our_digest_and_bytes(bool docker)
    {
        var image = await LabContent.PushImageAsync(lab.Open, "content/image", docker ? "docker" : "oci",
            new LabImageOptions { Docker = docker, LayerCount = 2, Platform = "linux/arm64/v8" });

        using var inspected = await LabSkopeo.InspectAsync(lab.Open.Endpoint, "content/image", image.Tag!);
        Assert.Equal(image.Digest, inspected.RootElement.GetProperty("Digest").GetString());
        Assert.Equal("arm64", inspected.RootElement.GetProperty("Architecture").GetString());
        Assert.Equal(2, inspected.RootElement.GetProperty("Layers").GetArrayLength());
        Assert.Equal(image.BlobDigests.Skip(1), inspected.RootElement.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(docker ? LabContent.DockerManifest : LabContent.OciManifest, image.MediaType);

        var raw = await LabSkopeo.RawManifestAsync(lab.Open.Endpoint, "content/image", image.Digest);
        Assert.Equal(image.ManifestBytes, raw);
        Assert.Equal(image.Digest, LabContent.DigestOf(raw));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pushed_index_lists_every_platform_and_its_children_resolve(bool docker)
    {
        var index = await LabContent.PushIndexAsync(lab.Open, "content/multi", docker ? "docker" : "oci", ["linux/amd64", "linux/arm64/v8", "windows/amd64"], docker);

        var raw = await LabSkopeo.RawManifestAsync(lab.Open.Endpoint, "content/multi", index.Tag!);
        Assert.Equal(index.Digest, LabContent.DigestOf(raw));
        using var parsed = JsonDocument.Parse(raw);
        Assert.Equal(docker ? LabContent.DockerManifestList : LabContent.OciIndex, parsed.RootElement.GetProperty("mediaType").GetString());
        var platforms = parsed.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("platform").GetProperty("os").GetString() + "/" + m.GetProperty("platform").GetProperty("architecture").GetString())
            .ToList();
        Assert.Equal(["linux/amd64", "linux/arm64", "windows/amd64"], platforms);
        foreach (var child in index.Children)
        {
            using var inspected = await LabSkopeo.InspectAsync(lab.Open.Endpoint, "content/multi", child.Digest);
            Assert.Equal(child.Digest, inspected.RootElement.GetProperty("Digest").GetString());
        }
    }

    [Fact]
    public async Task Cosign_signature_is_a_sig_tag_and_a_referrer_listed_in_the_tag_schema_index()
    {
        var image = await LabContent.PushImageAsync(lab.Open, "content/signed", "1.0");
        var signature = await LabContent.PushCosignSignatureAsync(lab.Open, image);
        var sbom = await LabContent.PushReferrerAsync(lab.Open, image);

        var hex = image.Digest["sha256:".Length..];
        Assert.Equal($"sha256-{hex}.sig", signature.Tag);
        var tags = await LabSkopeo.ListTagsAsync(lab.Open.Endpoint, "content/signed");
        Assert.Equal(["1.0", $"sha256-{hex}", $"sha256-{hex}.sig"], tags.Order(StringComparer.Ordinal));

        var sigManifest = await LabSkopeo.RawManifestAsync(lab.Open.Endpoint, "content/signed", signature.Tag!);
        Assert.Equal(signature.Digest, LabContent.DigestOf(sigManifest));
        using (var sig = JsonDocument.Parse(sigManifest))
        {
            var layer = sig.RootElement.GetProperty("layers")[0];
            Assert.Equal(LabContent.CosignSimpleSigning, layer.GetProperty("mediaType").GetString());
            Assert.True(layer.GetProperty("annotations").TryGetProperty(LabContent.CosignSignatureAnnotation, out _));
        }

        // The referrer was pushed by digest and carries the subject.
        var referrer = signature.Referrer!;
        Assert.Null(referrer.Tag);
        using (var pushed = JsonDocument.Parse(await LabSkopeo.RawManifestAsync(lab.Open.Endpoint, "content/signed", referrer.Digest)))
        {
            Assert.Equal(image.Digest, pushed.RootElement.GetProperty("subject").GetProperty("digest").GetString());
            Assert.Equal(LabContent.CosignSignatureArtifact, pushed.RootElement.GetProperty("artifactType").GetString());
        }

        // The tag-schema index lists both referrers, the second push having extended the first.
        var indexBytes = await LabSkopeo.RawManifestAsync(lab.Open.Endpoint, "content/signed", $"sha256-{hex}");
        Assert.Equal(sbom.ReferrersIndex!.Digest, LabContent.DigestOf(indexBytes));
        using var index = JsonDocument.Parse(indexBytes);
        var listed = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => (m.GetProperty("digest").GetString(), m.GetProperty("artifactType").GetString())).ToList();
        Assert.Equal([(referrer.Digest, LabContent.CosignSignatureArtifact), (sbom.Digest, LabContent.DefaultReferrerArtifactType)], listed);
    }

    [Fact]
    public async Task Many_tags_are_pushed_quickly_and_skopeo_lists_them_all()
    {
        var clock = Stopwatch.StartNew();
        var pushed = await LabContent.PushManyTagsAsync(lab.Open, "content/many-tags", 1500);
        output.WriteLine($"1,500 tags pushed in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(1500, pushed.Tags.Count);
        Assert.Equal("v0000", pushed.Tags[0]);
        Assert.Equal("v1499", pushed.Tags[^1]);

        var listed = await LabSkopeo.ListTagsAsync(lab.Open.Endpoint, "content/many-tags");
        Assert.Equal(pushed.Tags, listed.Order(StringComparer.Ordinal));
        using var inspected = await LabSkopeo.InspectAsync(lab.Open.Endpoint, "content/many-tags", "v0777");
        Assert.Equal(pushed.Image.Digest, inspected.RootElement.GetProperty("Digest").GetString());
    }

    [Theory]
    [InlineData(RegistryAuthMode.Basic)]
    [InlineData(RegistryAuthMode.Token)]
    public async Task Content_is_pushed_through_auth_and_skopeo_reads_it_with_the_lab_user(RegistryAuthMode mode)
    {
        var registry = mode == RegistryAuthMode.Basic ? lab.Basic : lab.Token;
        var image = await LabContent.PushImageAsync(registry, "content/private", "1.0");
        using var inspected = await LabSkopeo.InspectAsync(registry.Endpoint, "content/private", "1.0");
        Assert.Equal(image.Digest, inspected.RootElement.GetProperty("Digest").GetString());

        var anonymous = await LabSkopeo.RunAsync(registry.Endpoint with { UserName = null, Password = null },
            ["inspect", "--tls-verify=false", $"docker://{registry.Host}/content/private:1.0"]);
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("unauthorized", anonymous.StandardError, StringComparison.OrdinalIgnoreCase);
    }
}
