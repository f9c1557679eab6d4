using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Lab;
using HarborOps.Lab.Hostile;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// An image index whose child descriptors lie about their manifests' sizes: every pull of such an index fails on the
/// size, so the tag fails (DigestMismatch) before the index is written, whether the child was fetched or was already there.
/// </summary>
[Collection(CopyLabCollection.Name)]
public sealed class HostileIndexTests(CopyLabFixture lab, ITestOutputHelper output)
{
    private const string Repository = "team/multi";

    /// <summary>An index of the given children (manifest bytes, with the size its descriptor claims), one platform each.</summary>
    private static byte[] Index(params (byte[] Manifest, long ClaimedSize)[] children)
    {
        var manifests = new JsonArray();
        var architectures = new[] { "amd64", "arm64", "s390x", "ppc64le" };
        for (var i = 0; i < children.Length; i++)
            manifests.Add(new JsonObject
            {
                ["mediaType"] = LabContent.OciManifest,
                ["digest"] = HostileRegistry.DigestOf(children[i].Manifest),
                ["size"] = children[i].ClaimedSize,
                ["platform"] = new JsonObject { ["architecture"] = architectures[i], ["os"] = "linux" },
            });
        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = LabContent.OciIndex, ["manifests"] = manifests };
        return Encoding.UTF8.GetBytes(index.ToJsonString());
    }

    [Fact]
    public async Task An_index_whose_child_descriptor_lies_about_its_size_fails_that_tag_before_the_index_is_written()
    {
        lab.Reset();
        await using var hostile = await HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.None });
        var a = hostile.PushImage(Repository, null).Manifest;
        var b = hostile.PushImage(Repository, null).Manifest;
        var honest = hostile.PutRawManifest(Repository, "1.0", Index((a, a.Length), (b, b.Length)), LabContent.OciIndex);
        var destination = lab.Unique("hostile-index");
        var request = new CopyRequest([$"{hostile.PlainHost}/{Repository}"], $"{lab.DestinationHost}/{destination}");
        var (first, _) = await lab.CopyAsync(request);
        Assert.Equal((1, 0), (first.Copied, first.Failed));

        // 2.0 lies about a child the destination already has, 3.0 about one that must be fetched; 4.0 is honest.
        var c = hostile.PushImage(Repository, null).Manifest;
        var d = hostile.PushImage(Repository, null).Manifest;
        var lyingPresent = hostile.PutRawManifest(Repository, "2.0", Index((a, a.Length + 1), (b, b.Length)), LabContent.OciIndex);
        var lyingFetched = hostile.PutRawManifest(Repository, "3.0", Index((c, c.Length - 1)), LabContent.OciIndex);
        var good = hostile.PutRawManifest(Repository, "4.0", Index((d, d.Length), (a, a.Length)), LabContent.OciIndex);

        // Into the repository the first copy filled (children HEADed there), and into a new one (nothing HEADed).
        foreach (var (into, copied) in new[] { (request, 1), (request with { Destination = $"{lab.DestinationHost}/{lab.Unique("hostile-index-new")}" }, 2) })
        {
            lab.Reset();
            var (summary, results) = await lab.CopyAsync(into);
            output.WriteLine(summary.ToString());
            foreach (var r in results) output.WriteLine($"{r.Action} {r.Source} {r.ErrorId} {r.Error}");

            Assert.Equal((copied, 2), (summary.Copied, summary.Failed));
            foreach (var tag in new[] { "2.0", "3.0" })
            {
                var failed = Assert.Single(results, r => r.Tag == tag);
                Assert.Equal((CopyAction.Failed, RegistryErrorIds.DigestMismatch), (failed.Action, failed.ErrorId));
                Assert.Contains("size", failed.Error, StringComparison.OrdinalIgnoreCase);
            }
            Assert.Equal(0, Count(lab.DestinationProxy, "PUT", $"/manifests/(2\\.0|3\\.0|{lyingPresent}|{lyingFetched})$"));
            var target = into.Destination[(lab.DestinationHost.Length + 1)..];
            await AssertDigestAsync(lab.DestinationEndpoint, $"{target}/{Repository}", "4.0", good);
            await AssertDigestAsync(lab.DestinationEndpoint, $"{target}/{Repository}", "1.0", honest);
        }
    }
}
