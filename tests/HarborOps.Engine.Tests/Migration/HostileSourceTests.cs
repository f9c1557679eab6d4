using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Hostile;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// A source registry that lies (the lab's hostile registry) copied into a real Distribution registry, and listed: what a
/// server sends is the failure of the item it concerns, never of the run, and the destination keeps its good tags.
/// </summary>
[Collection(CopyLabCollection.Name)]
public sealed class HostileSourceTests(CopyLabFixture lab, ITestOutputHelper output)
{
    private const string Repository = "team/app";

    private static Task<HostileRegistry> StartHostileAsync() => HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.None });

    /// <summary>The image's manifest with its layer's size changed: the same blobs, a descriptor that lies about one.</summary>
    private static byte[] WithLayerSize(byte[] manifest, Func<long, long> size)
    {
        var json = JsonNode.Parse(manifest)!.AsObject();
        var layer = json["layers"]![0]!.AsObject();
        layer["size"] = size(long.Parse(layer["size"]!.ToJsonString()));
        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    private void Log(CopySummary summary, IEnumerable<CopyResult> results)
    {
        output.WriteLine(summary.ToString());
        foreach (var r in results.OrderBy(r => r.Source, StringComparer.Ordinal))
            output.WriteLine($"{r.Action,-8} {r.Source} {r.ErrorId} {r.Error}");
    }

    /// <summary>Tags 1.0 and 2.0 copied, honestly, into a destination repository of their own: the good state a lie attacks.</summary>
    private async Task<(HostileRegistry Hostile, byte[] Manifest, string Digest, string Destination, CopyRequest Request)> CopiedTwoTagsAsync(string name)
    {
        lab.Reset();
        var hostile = await StartHostileAsync();
        var good = hostile.PushImage(Repository, "1.0");
        hostile.PushImage(Repository, "2.0");
        var destination = lab.Unique(name);
        var request = new CopyRequest([$"{hostile.PlainHost}/{Repository}"], $"{lab.DestinationHost}/{destination}");
        var (first, _) = await lab.CopyAsync(request);
        Assert.Equal((2, 0), (first.Copied, first.Failed));
        return (hostile, good.Manifest, good.Digest, destination, request);
    }

    [Fact]
    public async Task A_descriptor_size_that_lies_about_a_blob_the_destination_has_fails_that_tag_and_the_tag_keeps_its_good_manifest()
    {
        var (hostile, manifest, digest, destination, request) = await CopiedTwoTagsAsync("hostile-sizes");
        await using var registry = hostile;

        // 1.0 now names its layer, which the destination has, with a size one byte short; 3.0 is a new tag doing the
        // same; 4.0 names a new layer (it must be transferred) with a size one byte too long.
        hostile.PutRawManifest(Repository, "1.0", WithLayerSize(manifest, s => s - 1));
        hostile.PutRawManifest(Repository, "3.0", WithLayerSize(manifest, s => s + 7));
        hostile.PushImage(Repository, "4.0", edit: m => m["layers"]![0]!["size"] = long.Parse(m["layers"]![0]!["size"]!.ToJsonString()) + 1);
        lab.Reset();
        var (summary, results) = await lab.CopyAsync(request);
        Log(summary, results);

        Assert.Equal(3, summary.Failed);
        Assert.Equal(1, summary.Skipped);
        foreach (var tag in new[] { "1.0", "3.0", "4.0" })
        {
            var failed = Assert.Single(results, r => r.Tag == tag);
            Assert.Equal(CopyAction.Failed, failed.Action);
            Assert.Equal(RegistryErrorIds.DigestMismatch, failed.ErrorId);
        }
        Assert.Contains("size", Assert.Single(results, r => r.Tag == "1.0").Error, StringComparison.OrdinalIgnoreCase);
        await AssertDigestAsync(lab.DestinationEndpoint, $"{destination}/{Repository}", "1.0", digest);
        Assert.DoesNotContain("3.0", await LabSkopeo.ListTagsAsync(lab.DestinationEndpoint, $"{destination}/{Repository}"));
        Assert.DoesNotContain("4.0", await LabSkopeo.ListTagsAsync(lab.DestinationEndpoint, $"{destination}/{Repository}"));
        Assert.Equal(0, Count(lab.DestinationProxy, "PUT", "/manifests/"));
    }

    /// <summary>Every malformed thing a registry can send in place of a digest, a tag or a schema version.</summary>
    private static (List<string> Good, Dictionary<string, string> BadTags, List<string> BadManifests) PlantHostileContent(HostileRegistry hostile)
    {
        var good = new List<string>();
        for (var i = 1; i <= 3; i++) good.Add(hostile.PushImage(Repository, $"good-{i}").Digest);
        var sample = hostile.PushImage(Repository, null).Manifest;
        var badDigests = new[]
        {
            "md5:" + new string('a', 32),
            "sha256:abc",
            "sha256:" + new string('A', 64),
            "../../etc/passwd",
            new string('b', 64),
            "sha256:" + new string('c', 64) + "\n",
        };
        var badManifests = new List<string>();
        for (var i = 0; i < badDigests.Length; i++)
        {
            var value = badDigests[i];
            hostile.PushImage(Repository, $"bad-digest-{i}", edit: m => m["layers"]![0]!["digest"] = value);
            badManifests.Add($"bad-digest-{i}");
        }
        hostile.PushImage(Repository, "bad-config-digest", edit: m => m["config"]!["digest"] = "sha256:../../../../etc/passwd");
        badManifests.Add("bad-config-digest");
        foreach (var (tag, version) in new[] { ("schema-huge", "99999999999"), ("schema-3", "3"), ("schema-negative", "-2"), ("schema-fraction", "2.5") })
        {
            var text = Encoding.UTF8.GetString(sample).Replace("\"schemaVersion\":2", $"\"schemaVersion\":{version}", StringComparison.Ordinal);
            hostile.PutRawManifest(Repository, tag, Encoding.UTF8.GetBytes(text));
            badManifests.Add(tag);
        }
        var badTags = new Dictionary<string, string>
        {
            ["dots"] = "..",
            ["newline"] = "x\ny",
            ["trailing newline"] = "good-1\n",
            ["300 characters"] = new string('t', 300),
            ["slash"] = "a/b",
            ["escape"] = "../../../v2/other/manifests/latest",
        };
        foreach (var tag in badTags.Values) hostile.PutRawManifest(Repository, tag, sample);
        return (good, badTags, badManifests);
    }

    [Fact]
    public async Task A_whole_registry_copy_of_malformed_digests_hostile_tag_names_and_bad_schema_versions_fails_each_bad_item_alone_and_copies_every_good_tag()
    {
        lab.Reset();
        await using var hostile = await StartHostileAsync();
        var (good, badTags, badManifests) = PlantHostileContent(hostile);

        for (var run = 0; run < 2; run++)
        {
            var destination = lab.Unique("hostile-items");
            var (summary, results) = await lab.CopyAsync(new CopyRequest([hostile.PlainHost], $"{lab.DestinationHost}/{destination}"));
            Log(summary, results);

            Assert.Equal(3, summary.Copied);
            Assert.Equal(badTags.Count + badManifests.Count, summary.Failed);
            Assert.Equal(summary.Failed, summary.Failures.Count);
            for (var i = 1; i <= 3; i++)
                await AssertDigestAsync(lab.DestinationEndpoint, $"{destination}/{Repository}", $"good-{i}", good[i - 1]);
            foreach (var tag in badManifests)
                Assert.Equal(RegistryErrorIds.ManifestInvalid, Assert.Single(results, r => r.Tag == tag).ErrorId);
            var tagFailures = results.Where(r => r.ErrorId == RegistryErrorIds.TagNameInvalid).ToList();
            Assert.Equal(badTags.Count, tagFailures.Count);
            Assert.All(tagFailures, r => Assert.DoesNotContain('\n', r.Source + r.Destination + r.Error));
        }
        // No hostile name or digest went into a URL: every request stayed in the repository's own paths.
        Assert.All(hostile.Requests, r => Assert.Matches("^/v2/(_catalog|team/app/(tags/list|manifests/(good-[123]|bad-digest-[0-9]|bad-config-digest|schema-[a-z0-9]+|sha256:[0-9a-f]{64})|(blobs|referrers)/sha256:[0-9a-f]{64}))?([?].*)?$", r.PathAndQuery));
        Assert.All(lab.DestinationProxy.Requests, r => Assert.DoesNotContain("..", r.PathAndQuery));
    }

    [Fact]
    public async Task A_copy_of_hostile_tag_names_into_an_OCI_layout_writes_nothing_outside_the_layout()
    {
        await using var hostile = await StartHostileAsync();
        var (_, badTags, badManifests) = PlantHostileContent(hostile);
        var parent = Directory.CreateTempSubdirectory("harborops-hostile-layout-");
        try
        {
            var layout = Path.Combine(parent.FullName, "layout");
            var (summary, results) = await lab.CopyAsync(new CopyRequest([$"{hostile.PlainHost}/{Repository}"], $"oci:{layout}"));
            Log(summary, results);

            Assert.Equal(3, summary.Copied);
            Assert.Equal(badTags.Count + badManifests.Count, summary.Failed);
            Assert.Equal(["layout"], parent.EnumerateFileSystemInfos().Select(i => i.Name));
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(parent.FullName)!, "etc*"));
        }
        finally
        {
            parent.Delete(recursive: true);
        }
    }

    private static async Task<(List<RegistryTagInfo> Tags, List<HarborOpsException> Failures)> GetTagsAsync(RegistryEngine engine, string reference)
    {
        var failures = new ConcurrentQueue<HarborOpsException>();
        var tags = new List<RegistryTagInfo>();
        await foreach (var tag in engine.GetTagsAsync(new GetTagsRequest(reference), null, failures.Enqueue, CancellationToken.None))
            tags.Add(tag);
        return (tags, failures.ToList());
    }

    [Fact]
    public async Task Listing_a_hostile_repository_lists_every_good_tag_and_reports_each_bad_one_and_each_server_error_as_its_own()
    {
        await using var hostile = await StartHostileAsync();
        var (good, badTags, badManifests) = PlantHostileContent(hostile);
        hostile.PushImage(Repository, "flaky");
        hostile.TurnOn(HostileMode.ManifestServerError);
        hostile.ServerErrorTags["flaky"] = true;
        using var engine = CopyLabFixture.NewEngine();

        var (tags, failures) = await GetTagsAsync(engine, $"{hostile.PlainHost}/{Repository}");
        foreach (var failure in failures) output.WriteLine($"{failure.ErrorId} {failure.Target} {failure.Message}");

        Assert.Equal(["good-1", "good-2", "good-3"], tags.Select(t => t.Tag));
        Assert.Equal(good, tags.Select(t => t.Digest));
        Assert.Equal(badTags.Count, failures.Count(f => f.ErrorId == RegistryErrorIds.TagNameInvalid));
        Assert.Equal(badManifests.Count, failures.Count(f => f.ErrorId == RegistryErrorIds.ManifestInvalid));
        Assert.Single(failures, f => f.ErrorId == RegistryErrorIds.ServerError);
        Assert.Equal(badTags.Count + badManifests.Count + 1, failures.Count);
        Assert.All(failures, f => Assert.False(f.IsTerminating));
        Assert.All(hostile.Requests, r => Assert.DoesNotContain("..", r.PathAndQuery));
    }

    [Fact]
    public async Task A_lying_Docker_Content_Digest_is_that_tags_digest_mismatch_in_a_listing_and_in_a_copy()
    {
        var (hostile, _, digest, destination, request) = await CopiedTwoTagsAsync("hostile-lying-digest");
        await using var registry = hostile;
        hostile.PushImage(Repository, "3.0");

        hostile.TurnOn(HostileMode.LyingContentDigest);
        using var engine = CopyLabFixture.NewEngine();
        var (tags, failures) = await GetTagsAsync(engine, $"{hostile.PlainHost}/{Repository}");
        foreach (var failure in failures) output.WriteLine($"{failure.ErrorId} {failure.Target} {failure.Message}");
        Assert.Empty(tags);
        Assert.Equal(3, failures.Count);
        Assert.All(failures, f => Assert.Equal(RegistryErrorIds.DigestMismatch, f.ErrorId));

        var (summary, results) = await lab.CopyAsync(request);
        Log(summary, results);
        Assert.Equal(3, summary.Failed);
        Assert.All(results, r => Assert.Equal(RegistryErrorIds.DigestMismatch, r.ErrorId));
        await AssertDigestAsync(lab.DestinationEndpoint, $"{destination}/{Repository}", "1.0", digest);
    }
}
