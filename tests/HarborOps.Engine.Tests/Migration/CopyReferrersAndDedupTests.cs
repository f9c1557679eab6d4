using System.Text.Json;
using HarborOps.Engine.Migration;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>Signatures and referrers come along after their subject; shared blobs move once and are mounted elsewhere.</summary>
[Collection(CopyLabCollection.Name)]
public sealed class CopyReferrersAndDedupTests(CopyLabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task Single_tag_copy_brings_cosign_sig_tag_schema_index_and_referrers_after_the_subject()
    {
        lab.Reset();
        var repository = lab.Unique("signed/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        var signature = await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, image);
        var sbom = await LabContent.PushReferrerAsync(lab.SourceEndpoint, image, LabCorpus.SbomArtifactType);
        // A signature of the SBOM: referrers of referrers come along too.
        var sbomSignature = await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, sbom);

        var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}:1.0"], $"{lab.DestinationHost}/migrated"));

        Assert.Equal(0, summary.Failed);
        var destination = $"migrated/{repository}";
        var schemaTag = LabContent.ReferrersTagFor(image.Digest);
        Assert.Equal(["1.0", schemaTag, signature.Tag!], results.Where(r => r.SubjectDigest is null || r.SubjectDigest == image.Digest).Select(r => r.Tag).Order(StringComparer.Ordinal));
        await AssertDigestAsync(lab.DestinationEndpoint, destination, signature.Tag!, signature.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, schemaTag, sbom.ReferrersIndex!.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, sbom.Digest, sbom.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, signature.Referrer!.Digest, signature.Referrer.Digest);
        await AssertDigestAsync(lab.DestinationEndpoint, destination, sbomSignature.Tag!, sbomSignature.Digest);
        // Referrer tags count as referrers in the summary even though the source has no referrers API.
        var referrerTags = results.Where(r => r.SubjectDigest is not null && r.Action == CopyAction.Copied).Select(r => r.Tag).ToList();
        Assert.Contains(schemaTag, referrerTags);
        Assert.Contains(signature.Tag!, referrerTags);
        Assert.Contains(sbomSignature.Tag!, referrerTags);
        Assert.Equal(referrerTags.Count, summary.ReferrersCopied);

        // Order: the subject's tag is written before anything that refers to it.
        var puts = lab.DestinationProxy.Requests.Where(r => r.Method == "PUT" && r.PathAndQuery.StartsWith($"/v2/{destination}/manifests/", StringComparison.Ordinal)).ToList();
        var subjectPut = puts.FindIndex(r => r.PathAndQuery.EndsWith("/manifests/1.0", StringComparison.Ordinal));
        var firstReferrerPut = puts.FindIndex(r => r.PathAndQuery.Contains("/manifests/sha256"));
        Assert.True(subjectPut >= 0 && subjectPut < firstReferrerPut, string.Join("\n", puts));
    }

    [Fact]
    public async Task Referrer_tags_move_their_blobs_while_their_subject_copies_and_are_tagged_after_it()
    {
        lab.Reset();
        var repository = lab.Unique("overlap/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        var signature = await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, image);
        var destination = $"migrated/{repository}";
        // Slow uploads into the destination: the subject's own blobs take a while, which the referrer tags can use.
        lab.DestinationProxy.Inject(FaultRule.Slow($"^/v2/{destination}/blobs/uploads/.+", TimeSpan.FromMilliseconds(150), "PUT", times: int.MaxValue));

        var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/migrated"));

        Assert.Equal(0, summary.Failed);
        var log = lab.DestinationProxy.Requests;
        var subjectTagPut = log.Single(r => r.Method == "PUT" && r.PathAndQuery == $"/v2/{destination}/manifests/1.0");
        var signatureTagPut = log.Single(r => r.Method == "PUT" && r.PathAndQuery == $"/v2/{destination}/manifests/{signature.Tag}");
        var signatureLayer = signature.BlobDigests[1]; // the signed payload (after the config)
        var signatureLayerCommit = log.Single(r => r.Method == "PUT" && r.StatusCode == 201 && Uri.UnescapeDataString(r.PathAndQuery).Contains("digest=" + signatureLayer));
        // Guarantee: the signature's tag is written after its subject's. Overlap: its blob was already there by then.
        Assert.True(subjectTagPut.StartedAt + subjectTagPut.Duration <= signatureTagPut.StartedAt, $"{subjectTagPut} must finish before {signatureTagPut}");
        Assert.True(signatureLayerCommit.StartedAt < subjectTagPut.StartedAt, $"{signatureLayerCommit} should start before {subjectTagPut}");
        Assert.Equal(signature.Digest, results.Single(r => r.Tag == signature.Tag).Digest);
        Assert.True(results.Single(r => r.Tag == signature.Tag).BlobsCopied >= 1); // the blobs it moved early still count with it
    }

    [Fact]
    public async Task Referrers_api_only_artifacts_are_copied_and_listed_in_the_destination_tag_schema_index()
    {
        lab.Reset();
        lab.SourceProxy.EnableReferrersApi = true;
        var repository = lab.Unique("api/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        // Pushed by digest with subject only: visible through the referrers API, not through any tag.
        var sbom = await LabContent.PushReferrerAsync(lab.SourceEndpoint, image, LabCorpus.SbomArtifactType, updateReferrersTag: false);

        var (summary, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/migrated"));

        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.ReferrersCopied);
        var destination = $"migrated/{repository}";
        await AssertDigestAsync(lab.DestinationEndpoint, destination, sbom.Digest, sbom.Digest);
        // Distribution has no referrers API, so the copy maintains the tag-schema index there.
        using var index = JsonDocument.Parse(await LabSkopeo.RawManifestAsync(lab.DestinationEndpoint, destination, LabContent.ReferrersTagFor(image.Digest)));
        var entry = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(sbom.Digest, entry.GetProperty("digest").GetString());
        Assert.Equal(LabCorpus.SbomArtifactType, entry.GetProperty("artifactType").GetString());
    }

    [Fact]
    public async Task Include_referrers_false_leaves_signatures_behind()
    {
        lab.Reset();
        var repository = lab.Unique("nosig/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, image);

        var (_, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"{lab.DestinationHost}/migrated") { IncludeReferrers = false });

        Assert.Equal("1.0", Assert.Single(results).Tag);
        Assert.Equal(["1.0"], await LabSkopeo.ListTagsAsync(lab.DestinationEndpoint, $"migrated/{repository}"));
    }

    [Fact]
    public async Task Shared_base_layers_are_transferred_once_and_mounted_into_the_other_repositories()
    {
        lab.Reset();
        var root = lab.Unique("dedup");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions
        {
            RootPrefix = root, Repositories = 4, TagsPerRepository = 3, BaseImages = 1, SignEvery = 0, SbomEvery = 0, MultiArchEvery = 0,
        });

        var (summary, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/migrated"));

        Assert.Equal(12, summary.Copied);
        var uploads = CommittedUploads(lab.DestinationProxy);
        Assert.Equal(uploads.Count, uploads.Distinct().Count()); // no digest uploaded twice in the whole run
        Assert.Equal(corpus.UniqueBlobs, uploads.Count);
        Assert.Equal(corpus.UniqueBlobBytes, summary.BytesMoved);
        var mounts = lab.DestinationProxy.Requests.Where(r => r.Method == "POST" && r.PathAndQuery.Contains("mount=") && r.StatusCode == 201).ToList();
        // Two base layers, present in four repositories: uploaded to one, mounted into three.
        Assert.Equal(2 * 3, mounts.Count);
        Assert.Equal(6, summary.BlobsMounted);
        foreach (var tag in corpus.Tags)
            await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{tag.Repository}", tag.Tag, tag.Digest);
    }

    [Fact]
    public async Task Full_corpus_copy_has_every_tag_signature_and_referrer_at_the_destination()
    {
        lab.Reset();
        var root = lab.Unique("corpus");
        var corpus = await LabCorpus.PushAsync(lab.SourceEndpoint, new LabCorpusOptions { RootPrefix = root, Repositories = 3, TagsPerRepository = 6 });

        var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{root}/*"], $"{lab.DestinationHost}/migrated"));

        output.WriteLine(summary.ToString());
        Assert.Equal(0, summary.Failed);
        Assert.Equal(corpus.Tags.Count, summary.Copied);
        foreach (var tag in corpus.Tags)
            await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{tag.Repository}", tag.Tag, tag.Digest);
        foreach (var referrer in corpus.Referrers)
            await AssertDigestAsync(lab.DestinationEndpoint, $"migrated/{referrer.Repository}", referrer.Digest, referrer.Digest);
        var index = corpus.Tags.First(t => t.MediaType == LabContent.DockerManifestList);
        await AssertPullableAsync(lab.DestinationEndpoint, $"migrated/{index.Repository}", index.Tag);
        // Every referrer tag was reported with the subject it belongs to.
        Assert.All(results.Where(r => r.Tag.StartsWith("sha256-", StringComparison.Ordinal)), r => Assert.NotNull(r.SubjectDigest));
    }
}
