using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Scope;
using HarborOps.Lab;
using Xunit;
using static HarborOps.Engine.Tests.Migration.CopyAssertions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>Whole registries and OCI layouts as sources and destinations.</summary>
[Collection(CopyLabCollection.Name)]
public sealed class CopyScopeTests(CopyLabFixture lab)
{
    [Fact]
    public async Task Whole_registry_is_copied_through_its_catalog()
    {
        // A registry of its own, so that its catalog holds exactly this corpus.
        await using var source = await DistributionRegistry.StartAsync();
        var corpus = await LabCorpus.PushAsync(source.Endpoint, new LabCorpusOptions { Repositories = 3, TagsPerRepository = 2 });
        lab.Reset();
        var prefix = lab.Unique("everything");

        var (summary, results) = await lab.CopyAsync(new CopyRequest([source.Host], $"{lab.DestinationHost}/{prefix}"));

        Assert.Equal(0, summary.Failed);
        Assert.Equal(corpus.Tags.Count, summary.Copied);
        Assert.Equal(corpus.Repositories.Select(r => $"{prefix}/{r}").Order(StringComparer.Ordinal), results.Select(r => r.DestinationRepository).Distinct().Order(StringComparer.Ordinal));
        foreach (var tag in corpus.Tags)
            await AssertDigestAsync(lab.DestinationEndpoint, $"{prefix}/{tag.Repository}", tag.Tag, tag.Digest);
    }

    [Fact]
    public async Task Registry_to_oci_layout_and_back_keeps_every_digest_and_signature()
    {
        lab.Reset();
        var repository = lab.Unique("layout/app");
        var index = await LabContent.PushIndexAsync(lab.SourceEndpoint, repository, "multi", ["linux/amd64", "linux/arm64"]);
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "docker", new LabImageOptions { Docker = true });
        var signature = await LabContent.PushCosignSignatureAsync(lab.SourceEndpoint, image);
        var layout = Path.Combine(Path.GetTempPath(), $"harborops-layout-{Guid.NewGuid():N}");
        try
        {
            var (toLayout, _) = await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}"], $"oci:{layout}"));
            Assert.Equal(0, toLayout.Failed);
            Assert.Equal(4, toLayout.Copied); // two images, the .sig tag, the referrers index
            var layoutRepository = Path.Combine(layout, repository);
            Assert.True(File.Exists(Path.Combine(layoutRepository, "oci-layout")));
            // skopeo reads the layout we wrote: same manifest bytes (skopeo 1.9 only finds OCI media types in a layout,
            // so the Docker image is checked on the way back below).
            var inspected = await LabSkopeo.RunAsync(lab.SourceEndpoint, ["inspect", "--raw", $"oci:{layoutRepository}:multi"]);
            Assert.True(inspected.ExitCode == 0, inspected.StandardError);
            Assert.Equal(index.Digest, LabContent.DigestOf(System.Text.Encoding.UTF8.GetBytes(inspected.StandardOutput)));

            var back = lab.Unique("from-layout");
            var (fromLayout, results) = await lab.CopyAsync(new CopyRequest([$"oci:{layout}"], $"{lab.DestinationHost}/{back}"));

            Assert.Equal(0, fromLayout.Failed);
            Assert.Equal(4, fromLayout.Copied);
            await AssertDigestAsync(lab.DestinationEndpoint, $"{back}/{repository}", "multi", index.Digest);
            await AssertDigestAsync(lab.DestinationEndpoint, $"{back}/{repository}", "docker", image.Digest);
            await AssertDigestAsync(lab.DestinationEndpoint, $"{back}/{repository}", signature.Tag!, signature.Digest);
            await AssertPullableAsync(lab.DestinationEndpoint, $"{back}/{repository}", "multi");
            Assert.Equal(results.Where(r => r.Tag == signature.Tag).Single().SubjectDigest, image.Digest);
        }
        finally
        {
            if (Directory.Exists(layout)) Directory.Delete(layout, recursive: true);
        }
    }

    [Fact]
    public async Task Single_layout_tag_needs_a_destination_repository_path()
    {
        var layout = Path.Combine(Path.GetTempPath(), $"harborops-layout-{Guid.NewGuid():N}");
        lab.Reset();
        var repository = lab.Unique("layout-one/app");
        var image = await LabContent.PushImageAsync(lab.SourceEndpoint, repository, "1.0");
        try
        {
            await lab.CopyAsync(new CopyRequest([$"{lab.SourceHost}/{repository}:1.0"], $"oci:{layout}"));
            var layoutDirectory = Path.Combine(layout, repository);

            var (bare, bareResults) = await lab.CopyAsync(new CopyRequest([$"oci:{layoutDirectory}:1.0"], lab.DestinationHost));
            Assert.Equal(1, bare.Failed);
            Assert.Equal(CopyErrorIds.MappingInvalid, Assert.Single(bareResults).ErrorId);

            var target = lab.Unique("one");
            var (named, _) = await lab.CopyAsync(new CopyRequest([$"oci:{layoutDirectory}:1.0"], $"{lab.DestinationHost}/{target}"));
            Assert.Equal(1, named.Copied);
            await AssertDigestAsync(lab.DestinationEndpoint, target, "1.0", image.Digest);
        }
        finally
        {
            if (Directory.Exists(layout)) Directory.Delete(layout, recursive: true);
        }
    }
}

/// <summary>Parsing and mapping rules, no registry needed.</summary>
public sealed class CopyRequestParsingTests
{
    [Theory]
    [InlineData("registry.example.com", CopySourceKind.Registry, "registry.example.com", "", null)]
    [InlineData("127.0.0.1:5000", CopySourceKind.Registry, "127.0.0.1:5000", "", null)]
    [InlineData("localhost:5000/", CopySourceKind.Registry, "localhost:5000", "", null)]
    [InlineData("127.0.0.1:5000/team/*", CopySourceKind.Prefix, "127.0.0.1:5000", "team", null)]
    [InlineData("127.0.0.1:5000/team/sub/", CopySourceKind.Prefix, "127.0.0.1:5000", "team/sub", null)]
    [InlineData("127.0.0.1:5000/team/app", CopySourceKind.Repository, "127.0.0.1:5000", "team/app", null)]
    [InlineData("127.0.0.1:5000/team/app:1.0", CopySourceKind.Image, "127.0.0.1:5000", "team/app", "1.0")]
    [InlineData("redis:7", CopySourceKind.Image, "docker.io", "library/redis", "7")]
    [InlineData("ubuntu", CopySourceKind.Repository, "docker.io", "library/ubuntu", null)]
    public void Source_strings_name_what_they_copy(string text, CopySourceKind kind, string registry, string repository, string? tag)
    {
        var source = CopySource.Parse(text);
        Assert.Equal((kind, registry, repository, tag), (source.Kind, source.Registry, source.Repository, source.Tag));
    }

    [Fact]
    public void Digest_and_layout_sources_are_images_or_layout_roots()
    {
        var digest = "sha256:" + new string('a', 64);
        var byDigest = CopySource.Parse($"127.0.0.1:5000/app@{digest}");
        Assert.Equal((CopySourceKind.Image, (string?)null, digest), (byDigest.Kind, byDigest.Tag, byDigest.Digest));
        var root = CopySource.Parse("oci:/srv/images");
        Assert.Equal((CopySourceKind.Registry, "oci:/srv/images"), (root.Kind, root.Registry));
        var layoutTag = CopySource.Parse("oci:/srv/images/app:2.0");
        Assert.Equal((CopySourceKind.Image, "oci:/srv/images/app", "2.0"), (layoutTag.Kind, layoutTag.Registry, layoutTag.Tag));
    }

    [Theory]
    [InlineData("harbor.example.com", "harbor.example.com", "")]
    [InlineData("harbor.example.com/migrated", "harbor.example.com", "migrated")]
    [InlineData("https://harbor.example.com/migrated/acr/", "harbor.example.com", "migrated/acr")]
    public void Destination_is_a_registry_and_a_prefix(string text, string registry, string prefix)
    {
        var destination = CopyDestination.Parse(text);
        Assert.Equal((registry, prefix), (destination.Registry, destination.Prefix));
    }

    [Fact]
    public void Destination_prefix_with_upper_case_or_a_tag_is_refused_with_the_rule()
    {
        var upper = Assert.Throws<RegistryException>(() => CopyDestination.Parse("harbor.example.com/Migrated"));
        Assert.Equal(RegistryErrorIds.ReferenceInvalid, upper.ErrorId);
        Assert.Contains("lowercase", upper.Message);
        Assert.Throws<RegistryException>(() => CopyDestination.Parse("harbor.example.com/migrated:1.0"));
    }

    [Theory]
    [InlineData(0, "team/app", "migrated/team/app")]
    [InlineData(1, "team/app", "migrated/app")]
    [InlineData(1, "old-team/sub/app", "migrated/new-team/app")]
    [InlineData(0, "legacy", "migrated/modern")]
    [InlineData(0, "legacy/x", "migrated/modern/x")]
    [InlineData(0, "legacy-other", "migrated/legacy-other")]
    public void Mapper_strips_then_renames_then_prefixes(int strip, string source, string expected)
    {
        var mapping = new RepositoryMapping("registry.example.com/migrated", stripPrefixSegments: strip, renames: new Dictionary<string, string> { ["sub"] = "new-team", ["legacy"] = "modern" });
        Assert.Equal(expected, mapping.MapRepository(source));
    }

    [Fact]
    public void Stripping_everything_is_an_error_naming_the_repository()
    {
        var mapping = new RepositoryMapping("registry.example.com/x", stripPrefixSegments: 2);
        var error = Assert.Throws<HarborOpsException>(() => mapping.MapRepository("team/app"));
        Assert.Equal(CopyErrorIds.MappingInvalid, error.ErrorId);
        Assert.Contains("team/app", error.Message);
    }

    [Fact]
    public void Referrer_tags_name_their_subject()
    {
        var hex = new string('b', 64);
        Assert.Equal("sha256:" + hex, TagSelection.SubjectOfReferrerTag($"sha256-{hex}"));
        Assert.Equal("sha256:" + hex, TagSelection.SubjectOfReferrerTag($"sha256-{hex}.sig"));
        Assert.Equal("sha256:" + hex, TagSelection.SubjectOfReferrerTag($"sha256-{hex}.att"));
        Assert.Null(TagSelection.SubjectOfReferrerTag($"sha256-{hex}.other"));
        Assert.Null(TagSelection.SubjectOfReferrerTag("sha256-abc"));
        Assert.Null(TagSelection.SubjectOfReferrerTag("1.0"));
    }
}

/// <summary>The resume journal on disk: what it keeps, what it ignores after a crash.</summary>
public sealed class CopyJournalTests
{
    [Fact]
    public async Task Reopened_journal_knows_finished_blobs_of_its_destination_and_drops_a_torn_last_line()
    {
        var path = Path.Combine(Path.GetTempPath(), $"harborops-journal-{Guid.NewGuid():N}.log");
        var digest = "sha256:" + new string('c', 64);
        try
        {
            await using (var journal = await CopyJournal.OpenAsync(path, "dest.example:5000", default))
            {
                await journal.RecordRepositoryStartedAsync("migrated/new", default);
                await journal.RecordBlobAsync("migrated/a", digest, default);
                await journal.RecordManifestAsync("migrated/b", digest, default);
            }
            // Another destination's line, and a line a crash cut short.
            await File.AppendAllTextAsync(path, $"blob\tother.example\tmigrated/x\t{digest}\nblob\tdest.example:5000\tmigrated/torn\tsha256:cc");

            await using var reopened = await CopyJournal.OpenAsync(path, "dest.example:5000", default);

            Assert.Equal(3, reopened.LoadedEntries);
            Assert.Equal(["migrated/a"], reopened.RepositoriesWithBlob(digest));
            Assert.True(reopened.HasEntriesFor("migrated/new"));
            Assert.True(reopened.HasEntriesFor("migrated/b"));
            Assert.False(reopened.HasEntriesFor("migrated/torn"));
            Assert.False(reopened.HasEntriesFor("migrated/x"));
            await reopened.RecordBlobAsync("migrated/c", digest, default);
            await reopened.DisposeAsync();
            Assert.DoesNotContain("migrated/torn", await File.ReadAllTextAsync(path));
            Assert.EndsWith($"migrated/c\t{digest}\n", await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Unwritable_journal_path_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<HarborOpsException>(() => CopyJournal.OpenAsync("/proc/harborops-cannot-write-here/journal", "r", default));
        Assert.Equal(CopyErrorIds.JournalInvalid, error.ErrorId);
        Assert.Contains("journal", error.Message);
    }
}
