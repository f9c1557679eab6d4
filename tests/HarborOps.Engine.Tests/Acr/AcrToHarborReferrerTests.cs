using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;
using HarborOps.Engine.Tests.Harbor;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>
/// Copy-RegistryImage's engine from the ACR emulator to the Harbor emulator with signatures and SBOMs pushed in OCI 1.1
/// mode (manifests with a subject, no tag): ACR lists them only through its referrers API, and they must arrive in Harbor
/// with their image. A referrers answer that lies (a size, a digest, a subject) must not make the copy write a bad referrer.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class AcrToHarborReferrerTests(HarborLabFixture harbor, AcrLabFixture acr) : IClassFixture<AcrLabFixture>, IAsyncLifetime
{
    private const string Sbom = "application/spdx+json";
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => acr.ResetAsync();

    public Task DisposeAsync()
    {
        harbor.AssertExchangesMatchContract();
        acr.Audit.AssertExchangesMatchContract();
        return Task.CompletedTask;
    }

    /// <summary>An image in ACR with a notation-style signature and an SBOM, both untagged referrers, and a signature of the SBOM.</summary>
    private async Task<(PushedImage Image, PushedImage Signature, PushedImage Sbom, PushedImage SbomSignature)> SeedAsync(string repository)
    {
        var image = await LabContent.PushImageAsync(acr.Acr.AdminEndpoint, repository, "1.0", new LabImageOptions { LayerCount = 2 });
        var signature = await LabContent.PushReferrerAsync(acr.Acr.AdminEndpoint, image, MediaTypes.NotationSignature,
            new Dictionary<string, string> { ["io.cncf.notary.x509chain.thumbprint#S256"] = "[\"ab12\"]" }, updateReferrersTag: false);
        var sbom = await LabContent.PushReferrerAsync(acr.Acr.AdminEndpoint, image, Sbom,
            new Dictionary<string, string> { ["org.opencontainers.image.created"] = "2026-12-01T10:00:00Z" }, updateReferrersTag: false);
        var sbomSignature = await LabContent.PushReferrerAsync(acr.Acr.AdminEndpoint, sbom, MediaTypes.NotationSignature, updateReferrersTag: false);
        return (image, signature, sbom, sbomSignature);
    }

    private async Task<string> ProjectAsync()
    {
        var project = harbor.Unique("fromacr");
        await harbor.Admin().CreateProjectAsync(project, new HarborProjectSettings(), None);
        return project;
    }

    private async Task<(CopySummary Summary, List<CopyResult> Results)> CopyAsync(string repository)
    {
        using var engine = acr.NewEngine();
        var results = new ConcurrentQueue<CopyResult>();
        var request = new CopyRequest([$"{acr.AcrHost}/{repository}"], harbor.Harbor.Host)
        {
            SourceCredential = new NetworkCredential(acr.Acr.AdminUser, acr.Acr.AdminPassword),
            DestinationCredential = harbor.AdminCredential,
            Harbor = new HarborDestination(harbor.AdminConnection) { ClientOptions = harbor.FastOptions },
        };
        var summary = await new ImageCopier(engine).CopyAsync(request, null, (r, _) => results.Enqueue(r), None);
        return (summary, results.ToList());
    }

    /// <summary>What a client of the destination finds as the referrers of <paramref name="subject"/> (the API, else the tag schema).</summary>
    private static async Task<IReadOnlyList<RegistryReferrerInfo>> DestinationReferrersAsync(IImageStore store, string repository, string subject) =>
        await ReferrerDiscovery.DiscoverAsync(store, repository, subject, null, None);

    /// <summary>The descriptors of the destination's referrers of <paramref name="subject"/>: its API's, else its tag-schema index's.</summary>
    private static async Task<List<(string Digest, long Size)>> DestinationDescriptorsAsync(IImageStore store, string repository, string subject)
    {
        var api = await store.GetReferrersAsync(repository, subject, null, None);
        var descriptors = api ?? (await store.GetManifestAsync(repository, Digests.ToTagSchemaTag(subject), None)).Manifests;
        return descriptors.Select(d => (d.Digest, d.Size)).ToList();
    }

    [Fact]
    public async Task Untagged_OCI_1_1_signatures_and_an_sbom_in_ACR_arrive_in_Harbor_with_their_image_byte_for_byte()
    {
        var project = await ProjectAsync();
        var repository = $"{project}/api";
        var (image, signature, sbom, sbomSignature) = await SeedAsync(repository);
        await acr.ResetAsync();

        var (summary, results) = await CopyAsync(repository);

        Assert.True(summary.Failed == 0, string.Join("\n", summary.Failures));
        Assert.Equal(image.Digest, Assert.Single(results, r => r.Tag == "1.0" && r.Action == CopyAction.Copied).Digest);
        Assert.Equal(3, summary.ReferrersCopied);
        // ACR was asked through its referrers API (the untagged referrers have no tag to be found by).
        Assert.Contains(acr.Acr.Front.Requests, r => r.Method == "GET" && r.PathAndQuery == $"/v2/{repository}/referrers/{image.Digest}" && r.StatusCode == 200);

        using var engine = HarborLabFixture.NewRegistryEngine();
        var destination = engine.OpenStore(harbor.Harbor.Host, harbor.AdminCredential);
        foreach (var pushed in new[] { signature, sbom, sbomSignature })
        {
            var copied = await destination.GetManifestAsync(repository, pushed.Digest, None);
            Assert.Equal(pushed.ManifestBytes, copied.Bytes.ToArray());
        }
        var ofImage = await DestinationReferrersAsync(destination, repository, image.Digest);
        Assert.Equal(new[] { signature.Digest, sbom.Digest }.Order(StringComparer.Ordinal), ofImage.Select(r => r.Digest).Order(StringComparer.Ordinal));
        Assert.Equal(Sbom, Assert.Single(ofImage, r => r.Digest == sbom.Digest).ArtifactType);
        Assert.Equal(MediaTypes.NotationSignature, Assert.Single(ofImage, r => r.Digest == signature.Digest).ArtifactType);
        Assert.Equal([sbomSignature.Digest], (await DestinationReferrersAsync(destination, repository, sbom.Digest)).Select(r => r.Digest));
        // Harbor lists the image as its one artifact; the referrers are not artifacts of their own there.
        var artifacts = await harbor.Admin().ListArtifactsAsync(project, null, None).ToListAsync();
        Assert.Equal([image.Digest], artifacts.Select(a => a.Digest));

        // A second run finds everything there.
        await acr.ResetAsync();
        var (again, _) = await CopyAsync(repository);
        Assert.Equal(0, again.Failed);
        Assert.Equal(0, again.Copied);
        Assert.Equal(0, again.ReferrersCopied);
    }

    [Fact]
    public async Task A_referrers_answer_that_lies_about_a_size_a_digest_or_a_subject_writes_no_bad_referrer_at_the_destination()
    {
        var project = await ProjectAsync();
        var repository = $"{project}/web";
        var (image, signature, sbom, _) = await SeedAsync(repository);
        var unrelated = await LabContent.PushImageAsync(acr.Acr.AdminEndpoint, repository, "other");
        // The registry's answer about the image gains three lies beside the true descriptors.
        var lyingSize = new JsonObject { ["mediaType"] = LabContent.OciManifest, ["digest"] = signature.Digest, ["size"] = signature.Size + 100, ["artifactType"] = MediaTypes.NotationSignature };
        var absent = new JsonObject { ["mediaType"] = LabContent.OciManifest, ["digest"] = "sha256:" + new string('e', 64), ["size"] = 321, ["artifactType"] = Sbom };
        var notAReferrer = new JsonObject { ["mediaType"] = unrelated.MediaType, ["digest"] = unrelated.Digest, ["size"] = unrelated.Size, ["artifactType"] = Sbom };
        foreach (var lie in new[] { lyingSize, absent, notAReferrer }) acr.Acr.ListReferrer(repository, image.Digest, lie);
        await acr.ResetAsync();

        var (summary, _) = await CopyAsync(repository);

        // Each lie is reported as a failure of its own; the image and the true referrers are copied.
        Assert.Equal(3, summary.Failed);
        Assert.Contains(summary.Failures, f => f.Contains(absent["digest"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Contains(summary.Failures, f => f.Contains(unrelated.Digest, StringComparison.Ordinal) && f.Contains("subject", StringComparison.Ordinal));
        Assert.Contains(summary.Failures, f => f.Contains(signature.Digest, StringComparison.Ordinal) && f.Contains("bytes", StringComparison.Ordinal));
        using var engine = HarborLabFixture.NewRegistryEngine();
        var destination = engine.OpenStore(harbor.Harbor.Host, harbor.AdminCredential);
        var listed = await DestinationDescriptorsAsync(destination, repository, image.Digest);
        // Only true descriptors are listed at the destination: the SBOM, and the signature with its real size if at all.
        Assert.Contains((sbom.Digest, sbom.Size), listed);
        Assert.All(listed, d => Assert.Contains(d, new[] { (signature.Digest, signature.Size), (sbom.Digest, sbom.Size) }));
    }
}
