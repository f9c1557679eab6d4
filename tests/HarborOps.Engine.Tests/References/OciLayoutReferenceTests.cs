using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using Xunit;

namespace HarborOps.Engine.Tests.References;

/// <summary>
/// The one "oci:" grammar that the engine's parsers and the cmdlets' path resolution share: where the layout directory
/// ends and the tag or digest begins, and that making the directory absolute keeps the rest as written.
/// </summary>
public sealed class OciLayoutReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    // input, directory, tag, digest
    [InlineData("oci:./dir:tag", "./dir", "tag", null)]
    [InlineData("oci:dir", "dir", null, null)]
    [InlineData("oci:dir/", "dir/", null, null)]
    [InlineData("OCI:dir:1.0", "dir", "1.0", null)]
    [InlineData("  oci:dir:1.0  ", "dir", "1.0", null)]
    [InlineData("oci:../images/app:v2", "../images/app", "v2", null)]
    [InlineData("oci:/abs/dir@sha256:" + Hex, "/abs/dir", null, "sha256:" + Hex)]
    [InlineData("oci:/abs/dir:1.0@sha256:" + Hex, "/abs/dir:1.0", null, "sha256:" + Hex)]
    // '@' and ':' in folder names: only what follows the last separator can be a tag or a digest.
    [InlineData("oci:/srv/a@b:c/layout:1.0", "/srv/a@b:c/layout", "1.0", null)]
    [InlineData("oci:/srv/team@2024/layout", "/srv/team@2024/layout", null, null)]
    [InlineData("oci:/srv/layout@2024", "/srv/layout@2024", null, null)]
    [InlineData("oci:/srv/lay:out/dir", "/srv/lay:out/dir", null, null)]
    [InlineData(@"oci:C:\images\app:1.0", @"C:\images\app", "1.0", null)]
    [InlineData(@"oci:C:\images\app", @"C:\images\app", null, null)]
    [InlineData(@"oci:C:\images\app@sha256:" + Hex, @"C:\images\app", null, "sha256:" + Hex)]
    [InlineData("oci:", "", null, null)]
    [InlineData("oci::tag", "", "tag", null)]
    public void Splits_the_directory_from_the_tag_or_digest(string input, string directory, string? tag, string? digest)
    {
        foreach (var windows in new[] { false, true })
        {
            var parts = OciLayoutReference.Split(input, windows);
            Assert.Equal(new OciLayoutReference(directory, tag, digest), parts);
        }
    }

    [Fact]
    public void A_drive_letter_is_a_drive_on_windows_and_a_tag_elsewhere()
    {
        Assert.Equal(new OciLayoutReference("C:images", null, null), OciLayoutReference.Split("oci:C:images", windowsDrives: true));
        Assert.Equal(new OciLayoutReference("C", "images", null), OciLayoutReference.Split("oci:C:images", windowsDrives: false));
        // The tag after a drive-relative directory is a tag on both.
        Assert.Equal(new OciLayoutReference("C:images", "1.0", null), OciLayoutReference.Split("oci:C:images:1.0", windowsDrives: true));
    }

    [Theory]
    [InlineData("oci:./dir:tag", "oci:/work/./dir:tag")]
    [InlineData("oci:dir", "oci:/work/dir")]
    [InlineData("oci:dir@sha256:" + Hex, "oci:/work/dir@sha256:" + Hex)]
    [InlineData("oci:/srv/a@b:c/layout:1.0", "oci:/work//srv/a@b:c/layout:1.0")]
    [InlineData("oci:dir:bad tag", "oci:/work/dir:bad tag")]
    public void Resolving_an_image_changes_only_its_directory(string input, string expected) =>
        Assert.Equal(expected, OciLayoutReference.ResolveImage(input, dir => "/work/" + dir));

    [Theory]
    [InlineData("registry.example.com/team/app:1.0")]
    [InlineData("ubuntu@sha256:" + Hex)]
    [InlineData("oci:")]
    [InlineData("")]
    public void Resolving_leaves_what_names_no_layout_directory_to_the_parser(string input)
    {
        Assert.Equal(input, OciLayoutReference.ResolveImage(input, _ => throw new InvalidOperationException("not a directory")));
        Assert.Equal(input, OciLayoutReference.ResolveDirectory(input, _ => throw new InvalidOperationException("not a directory")));
        Assert.Equal("oci::tag", OciLayoutReference.ResolveImage("oci::tag", _ => throw new InvalidOperationException("not a directory")));
    }

    [Theory]
    // A layout named as a whole (a registry, a copy destination) is all directory, colons and all.
    [InlineData("oci:out", "oci:/work/out")]
    [InlineData("oci:out:v1", "oci:/work/out:v1")]
    [InlineData("oci:a@b", "oci:/work/a@b")]
    public void Resolving_a_layout_as_a_whole_resolves_all_of_it(string input, string expected) =>
        Assert.Equal(expected, OciLayoutReference.ResolveDirectory(input, dir => "/work/" + dir));

    [Fact]
    public void The_engine_parser_reads_what_the_cmdlet_resolved()
    {
        var root = Path.GetFullPath(Path.Combine(Path.GetTempPath(), "a@b:c", "layout"));
        var resolved = OciLayoutReference.ResolveImage("oci:a@b:c/layout:1.0", dir => Path.GetFullPath(Path.Combine(Path.GetTempPath(), dir)));
        var reference = ImageReference.Parse(resolved);
        Assert.Equal(root, reference.LayoutPath);
        Assert.Equal("1.0", reference.Tag);
        Assert.Null(reference.Digest);
    }

    [Theory]
    [InlineData("oci:/tmp/a@b:c/layout", "/tmp/a@b:c/layout")]
    [InlineData("oci:/tmp/layout@2024", "/tmp/layout@2024")]
    public void The_engine_parser_keeps_at_signs_and_colons_in_folder_names(string input, string path)
    {
        var reference = ImageReference.Parse(input);
        Assert.Equal(path, reference.LayoutPath);
        Assert.Null(reference.Tag);
        Assert.Null(reference.Digest);
    }

    [Theory]
    [InlineData("oci:/tmp/layout@sha256:abc", "a sha256 digest is")]
    [InlineData("oci:/tmp/layout:-bad", "the tag '-bad'")]
    [InlineData("oci:@sha256:" + Hex, "needs a layout directory before the tag or digest")]
    public void The_engine_parser_says_what_is_wrong_with_a_layout_reference(string input, string why)
    {
        var ex = Assert.Throws<RegistryException>(() => ImageReference.Parse(input));
        Assert.Equal(RegistryErrorIds.ReferenceInvalid, ex.ErrorId);
        Assert.Contains(why, ex.Message);
    }

    [Fact]
    public void Relative_directories_become_absolute_in_the_engine()
    {
        Assert.Equal(Path.GetFullPath("images/app"), ImageReference.Parse("oci:./images/app:1").LayoutPath);
        Assert.Equal("oci:" + Path.GetFullPath("images"), ImageReference.NormalizeRegistry("oci:images"));
    }
}
