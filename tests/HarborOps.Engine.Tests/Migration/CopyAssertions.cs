using System.Text.RegularExpressions;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>Checks of a copy's destination with skopeo, the independent reader.</summary>
internal static partial class CopyAssertions
{
    /// <summary>skopeo inspect --raw at the destination hashes to the source digest (byte-exact manifest).</summary>
    public static async Task AssertDigestAsync(LabEndpoint destination, string repository, string tag, string expectedDigest)
    {
        var raw = await LabSkopeo.RawManifestAsync(destination, repository, tag);
        Assert.True(expectedDigest == LabContent.DigestOf(raw), $"{destination.Host}/{repository}:{tag} has digest {LabContent.DigestOf(raw)}, expected {expectedDigest}");
    }

    /// <summary>skopeo copies the image (every platform, every blob, digests verified) out of the destination.</summary>
    public static async Task AssertPullableAsync(LabEndpoint destination, string repository, string reference)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"harborops-pull-{Guid.NewGuid():N}");
        try
        {
            var image = $"docker://{destination.Host}/{repository}" + (reference.Contains(':') ? "@" + reference : ":" + reference);
            var result = await LabSkopeo.RunAsync(destination, ["copy", "--all", "--preserve-digests", "--src-tls-verify=false", image, "dir:" + directory]);
            Assert.True(result.ExitCode == 0, $"skopeo could not pull {image}: {result.StandardError}");
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Everything under a destination tag is there. skopeo 1.9 cannot copy a referrers tag-schema index (its children
    /// are artifacts, not platform images), so for those each child is checked by digest instead: Distribution takes a
    /// manifest only once its blobs are there.
    /// </summary>
    public static async Task AssertCompleteAsync(LabEndpoint destination, string repository, LabCorpusTag tag)
    {
        if (!tag.IsReferrerTag || tag.MediaType != LabContent.OciIndex)
        {
            await AssertPullableAsync(destination, repository, tag.Tag);
            return;
        }
        using var index = System.Text.Json.JsonDocument.Parse(await LabSkopeo.RawManifestAsync(destination, repository, tag.Tag));
        foreach (var child in index.RootElement.GetProperty("manifests").EnumerateArray())
        {
            var digest = child.GetProperty("digest").GetString()!;
            await AssertDigestAsync(destination, repository, digest, digest);
        }
    }

    public static int Count(FaultProxy proxy, string method, string pathPattern) =>
        proxy.Requests.Count(r => r.Method == method && Regex.IsMatch(r.PathAndQuery, pathPattern));

    /// <summary>Digests of blobs whose upload was committed (PUT ...?digest= answered 201).</summary>
    public static IReadOnlyList<string> CommittedUploads(FaultProxy proxy, string repositoryPattern = ".+") =>
        proxy.Requests.Where(r => r.Method == "PUT" && r.StatusCode == 201)
            .Select(r => UploadDigest().Match(r.PathAndQuery))
            .Where(m => m.Success && Regex.IsMatch(m.Groups["repo"].Value, "^" + repositoryPattern + "$"))
            .Select(m => Uri.UnescapeDataString(m.Groups["digest"].Value))
            .ToList();

    /// <summary>"repository@digest" of every committed upload: what a resumed run must not commit again.</summary>
    public static IReadOnlyList<string> CommittedUploadsByRepository(FaultProxy proxy) =>
        proxy.Requests.Where(r => r.Method == "PUT" && r.StatusCode == 201)
            .Select(r => UploadDigest().Match(r.PathAndQuery))
            .Where(m => m.Success)
            .Select(m => m.Groups["repo"].Value + "@" + Uri.UnescapeDataString(m.Groups["digest"].Value))
            .ToList();

    [GeneratedRegex("^/v2/(?<repo>.+)/blobs/uploads/[^?]*\\?.*digest=(?<digest>sha256(:|%3[aA])[0-9a-f]{64})")]
    private static partial Regex UploadDigest();
}
