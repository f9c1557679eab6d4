using HarborOps.Engine.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

public sealed class HarborArtifactReferenceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("v1", "v1")]
    [InlineData(Digest, Digest)]
    [InlineData("harbor.example.com/team/app@" + Digest, Digest)]
    [InlineData("harbor.example.com:8443/team/sub/app@" + Digest, Digest)]
    public void Names_the_artifact_by_its_tag_or_the_digest_after_the_last_at(string given, string expected) =>
        Assert.Equal(expected, HarborArtifactReference.TagOrDigest(given));
}
