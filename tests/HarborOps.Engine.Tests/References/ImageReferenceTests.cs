using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using Xunit;

namespace HarborOps.Engine.Tests.References;

public sealed class ImageReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    // input, registry, repository, tag, digest, api host
    [InlineData("ubuntu", "docker.io", "library/ubuntu", null, null, "registry-1.docker.io")]
    [InlineData("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", null, "registry-1.docker.io")]
    [InlineData("docker.io/ubuntu", "docker.io", "library/ubuntu", null, null, "registry-1.docker.io")]
    [InlineData("index.docker.io/bitnami/redis:7", "docker.io", "bitnami/redis", "7", null, "registry-1.docker.io")]
    [InlineData("registry-1.docker.io/library/alpine", "docker.io", "library/alpine", null, null, "registry-1.docker.io")]
    [InlineData("bitnami/redis", "docker.io", "bitnami/redis", null, null, "registry-1.docker.io")]
    [InlineData("localhost/app", "localhost", "app", null, null, "localhost")]
    [InlineData("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", null, "localhost:5000")]
    [InlineData("127.0.0.1:5000/a/b/c/d:latest", "127.0.0.1:5000", "a/b/c/d", "latest", null, "127.0.0.1:5000")]
    [InlineData("myacr.azurecr.io/team/app@sha256:" + Hex, "myacr.azurecr.io", "team/app", null, "sha256:" + Hex, "myacr.azurecr.io")]
    [InlineData("MyAcr.AzureCR.io/team/app:1.0@sha256:" + Hex, "myacr.azurecr.io", "team/app", "1.0", "sha256:" + Hex, "myacr.azurecr.io")]
    [InlineData("ghcr.io/owner/repo_name.x-y__z:Tag_1.2-rc", "ghcr.io", "owner/repo_name.x-y__z", "Tag_1.2-rc", null, "ghcr.io")]
    [InlineData("harbor.example.com:8443/proj/app:sha256-" + Hex + ".sig", "harbor.example.com:8443", "proj/app", "sha256-" + Hex + ".sig", null, "harbor.example.com:8443")]
    [InlineData("[::1]:5000/app", "[::1]:5000", "app", null, null, "[::1]:5000")]
    [InlineData("  ubuntu  ", "docker.io", "library/ubuntu", null, null, "registry-1.docker.io")]
    public void Parses_valid_references(string input, string registry, string repository, string? tag, string? digest, string apiHost)
    {
        var reference = ImageReference.Parse(input);
        Assert.Equal(ImageReferenceKind.Registry, reference.Kind);
        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest);
        Assert.Equal(apiHost, reference.ApiHost);
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("   ", "it is empty")]
    [InlineData("Ubuntu", "must be lowercase ('library/ubuntu')")]
    [InlineData("registry.example.com/Team/App:1", "must be lowercase ('team/app')")]
    [InlineData("https://registry.example.com/team/app", "no URL scheme; drop the \"https://\" prefix")]
    [InlineData("team/app:", "the tag after ':' is empty")]
    [InlineData("team/app:.hidden", "the tag '.hidden' may only contain")]
    [InlineData("team/app:bad/tag!", "path component")]
    [InlineData("team/app:-x", "must not start with '.' or '-'")]
    [InlineData("team/app@", "the digest after '@' is empty")]
    [InlineData("team/app@sha256:abc", "64 lowercase hex digits")]
    [InlineData("team/app@md5:0123456789abcdef0123456789abcdef", "algorithm of 'md5:0123456789abcdef0123456789abcdef' is not supported")]
    [InlineData("team/app@latest", "is not a digest")]
    [InlineData("team//app", "empty path component")]
    [InlineData("team/app/", "empty path component")]
    [InlineData("team/-app", "path component '-app'")]
    [InlineData("team/a..b", "path component 'a..b'")]
    [InlineData("host.example.com:port/app", "'host.example.com:port' is not a valid registry host")]
    [InlineData("-bad.example.com/app", "'-bad.example.com' is not a valid registry host")]
    [InlineData("registry.example.com/", "the repository name is missing after the registry host")]
    [InlineData("team/app name", "white space")]
    [InlineData("oci:", "'oci:' needs a layout directory after it")]
    [InlineData("oci:/tmp/layout:bad tag", "the tag 'bad tag'")]
    public void Rejects_invalid_references_saying_why_with_an_example(string input, string expectedReason)
    {
        var ex = Assert.Throws<RegistryException>(() => ImageReference.Parse(input));
        Assert.Equal(RegistryErrorIds.ReferenceInvalid, ex.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, ex.Kind);
        Assert.Contains(expectedReason, ex.Message);
        Assert.Contains("Example: registry.example.com:5000/team/app:1.0", ex.Message);
        Assert.Equal(input, ex.Target);
    }

    [Fact]
    public void Tag_longer_than_128_characters_is_rejected_with_its_length()
    {
        var ex = Assert.Throws<RegistryException>(() => ImageReference.Parse("team/app:" + new string('a', 129)));
        Assert.Contains("129 characters long; at most 128", ex.Message);
        Assert.Equal("team/app", ImageReference.Parse("team/app:" + new string('a', 128)).Repository);
    }

    [Fact]
    public void Name_longer_than_255_characters_is_rejected()
    {
        var longPath = string.Join('/', Enumerable.Repeat(new string('a', 50), 5)); // 254 chars
        var ex = Assert.Throws<RegistryException>(() => ImageReference.Parse("registry.example.com/" + longPath));
        Assert.Contains("at most 255", ex.Message);
    }

    [Theory]
    [InlineData("oci:/tmp/layout", "/tmp/layout", null, null)]
    [InlineData("oci:/tmp/layout:v1.2", "/tmp/layout", "v1.2", null)]
    [InlineData("oci:/tmp/lay:out/dir:tag", "/tmp/lay:out/dir", "tag", null)]
    [InlineData("oci:/tmp/layout@sha256:" + Hex, "/tmp/layout", null, "sha256:" + Hex)]
    public void Parses_oci_layout_references(string input, string path, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(input);
        Assert.Equal(ImageReferenceKind.OciLayout, reference.Kind);
        Assert.Equal(path, reference.LayoutPath);
        Assert.Equal("oci:" + path, reference.Registry);
        Assert.Equal("", reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest);
        Assert.Equal(input, reference.ToString());
    }

    [Fact]
    public void Relative_layout_paths_become_absolute()
    {
        var reference = ImageReference.Parse("oci:images/app:1");
        Assert.Equal(Path.GetFullPath("images/app"), reference.LayoutPath);
    }

    [Theory]
    [InlineData("127.0.0.1:5000", "127.0.0.1:5000")]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("http://Registry.Example.com:5000/", "registry.example.com:5000")]
    [InlineData("registry-1.docker.io", "docker.io")]
    public void Normalizes_registries(string input, string expected) => Assert.Equal(expected, ImageReference.NormalizeRegistry(input));

    [Fact]
    public void Normalizing_a_bad_registry_names_the_input()
    {
        var ex = Assert.Throws<RegistryException>(() => ImageReference.NormalizeRegistry("bad host!"));
        Assert.Contains("'bad host!' is not a valid registry host", ex.Message);
    }

    [Fact]
    public void Round_trips_to_canonical_text()
    {
        Assert.Equal("docker.io/library/ubuntu:22.04", ImageReference.Parse("ubuntu:22.04").ToString());
        Assert.Equal("127.0.0.1:5000/a/b@sha256:" + Hex, ImageReference.Parse("127.0.0.1:5000/a/b@sha256:" + Hex).ToString());
        Assert.Equal("latest", ImageReference.Parse("127.0.0.1:5000/a/b").ManifestReference);
    }
}
