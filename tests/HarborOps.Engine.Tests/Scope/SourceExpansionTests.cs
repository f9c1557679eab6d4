using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;
using Xunit;

namespace HarborOps.Engine.Tests.Scope;

/// <summary>The one expansion of sources that the copy and the parity check share: its rules, without a registry.</summary>
public sealed class SourceExpansionTests
{
    private const string Registry = "source.example.com";

    [Fact]
    public async Task A_prefix_covers_the_repositories_at_and_below_it_each_mapped_in_catalog_order()
    {
        var store = new CatalogStore(Registry, ["team", "team/app", "team/sub/db", "teamx/app", "other/app"]);
        var (expanded, failures) = await ExpandAsync(store, new RepositoryMapping("dest.example.com/migrated"), $"{Registry}/team/*");

        Assert.Equal(["team", "team/app", "team/sub/db"], expanded.Select(e => e.SourceRepository));
        Assert.Equal(["migrated/team", "migrated/team/app", "migrated/team/sub/db"], expanded.Select(e => e.DestinationRepository));
        Assert.All(expanded, e => Assert.False(e.IsImage));
        Assert.Empty(failures.Reported);
    }

    [Fact]
    public async Task A_repository_named_twice_is_taken_once_and_an_image_is_its_own_item_by_tag_and_digest()
    {
        var store = new CatalogStore(Registry, ["team/app", "team/db"]);
        var (expanded, _) = await ExpandAsync(store, new RepositoryMapping("dest.example.com"),
            $"{Registry}/team/*", $"{Registry}/team/app", $"{Registry}/team/app:1.0", $"{Registry}/team/app:1.0", $"{Registry}/team/app:2.0");

        Assert.Equal(["team/app", "team/db", "team/app:1.0", "team/app:2.0"],
            expanded.Select(e => e.OnlyTag is null ? e.SourceRepository : $"{e.SourceRepository}:{e.OnlyTag}"));
        Assert.Equal(2, expanded.Count(e => e.IsImage));
        Assert.All(expanded.Where(e => !e.IsImage), e => Assert.Null(e.OnlyTag ?? e.OnlyDigest));
    }

    [Fact]
    public async Task What_is_left_out_is_reported_once_each_and_the_expansion_goes_on()
    {
        var store = new CatalogStore(Registry, ["team/app", "team/Bad Name", "x"]);
        var mapping = new RepositoryMapping("dest.example.com", stripPrefixSegments: 1);
        var (expanded, failures) = await ExpandAsync(store, mapping, $"{Registry}/*", $"{Registry}/x");

        Assert.Equal(["app"], expanded.Select(e => e.DestinationRepository));
        Assert.Equal(["invalid team/Bad Name", $"mapping {Registry}/x"], failures.Reported);
        var mappingFailure = Assert.Single(failures.Failures, f => f.ErrorId == ScopeErrorIds.MappingInvalid);
        Assert.Contains("'x'", mappingFailure.Message);
    }

    [Fact]
    public async Task A_catalog_that_fails_midway_keeps_what_it_listed_and_the_next_source_is_expanded()
    {
        var store = new CatalogStore(Registry, ["team/app"], failAfterFirstPage: true);
        var (expanded, failures) = await ExpandAsync(store, new RepositoryMapping("dest.example.com"), $"{Registry}/*", $"{Registry}/team/db:1.0");

        Assert.Equal(["team/app", "team/db"], expanded.Select(e => e.SourceRepository));
        Assert.Equal([$"listing {Registry}/*"], failures.Reported);
    }

    [Fact]
    public async Task A_name_that_does_not_map_names_the_repository_it_could_not_place()
    {
        var store = new CatalogStore(Registry, ["legacy/app"]);
        var mapping = new RepositoryMapping("dest.example.com", renames: new Dictionary<string, string> { ["legacy/app"] = "" });
        var (expanded, failures) = await ExpandAsync(store, mapping, $"{Registry}/legacy/*");

        Assert.Empty(expanded);
        var failure = Assert.Single(failures.Failures);
        Assert.Equal($"{Registry}/legacy/app", failure.Target);
        Assert.StartsWith($"'{Registry}/legacy/app' has no repository path", failure.Message, StringComparison.Ordinal);
    }

    private static Task<(List<ExpandedRepository>, RecordedFailures)> ExpandAsync(IImageStore store, RepositoryMapping mapping, params string[] sources) =>
        ExpandShardAsync(store, mapping, ShardPartition.Whole, sources);

    private static async Task<(List<ExpandedRepository>, RecordedFailures)> ExpandShardAsync(IImageStore store, RepositoryMapping mapping, ShardPartition shard, params string[] sources)
    {
        var failures = new RecordedFailures();
        var expanded = await SourceExpansion.ExpandAsync(sources.Select(CopySource.Parse), _ => store, mapping, shard, failures, null, "test", default);
        return (expanded.Repositories, failures);
    }

    private sealed class RecordedFailures : ISourceExpansionFailures
    {
        public List<string> Reported { get; } = [];
        public List<HarborOpsException> Failures { get; } = [];

        public void ListingFailed(CopySource source, HarborOpsException failure) => Record($"listing {source.Text}", failure);
        public void NameInvalid(IImageStore store, string name, HarborOpsException failure) => Record($"invalid {name}", failure);
        public void MappingFailed(IImageStore store, string repository, HarborOpsException failure) => Record($"mapping {store.ItemName(repository)}", failure);

        private void Record(string what, HarborOpsException failure)
        {
            Reported.Add(what);
            Failures.Add(failure);
        }
    }

    /// <summary>A store that only has a catalog, one page, optionally failing on the next.</summary>
    private sealed class CatalogStore(string registry, IReadOnlyList<string> catalog, bool failAfterFirstPage = false) : IImageStore
    {
        public string Registry => registry;

        public async IAsyncEnumerable<IReadOnlyList<string>> ListRepositoryPagesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            yield return catalog;
            if (failAfterFirstPage)
                throw new RegistryException(RegistryErrorIds.RepositoryNotFound, FailureKind.ServerError, "the catalog's second page failed", registry);
        }

        public IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, CancellationToken cancellationToken) => throw new NotSupportedException();
        public IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListTaggedManifestPagesAsync(string repository, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<OciDescriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<ManifestContent> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<string> PutManifestAsync(string repository, string reference, ManifestContent manifest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<long?> HeadBlobAsync(string repository, string digest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Stream> OpenBlobAsync(string repository, string digest, long? expectedSize, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task PutBlobAsync(string repository, string digest, long size, Stream content, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> TryMountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<OciDescriptor>?> GetReferrersAsync(string repository, string digest, string? artifactType, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
