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

    [Fact]
    public async Task Three_shards_take_every_repository_and_image_exactly_once_between_them_and_each_knows_where_all_land()
    {
        var catalog = Enumerable.Range(0, 30).Select(i => $"team-{i % 4}/app-{i}").ToList();
        var store = new CatalogStore(Registry, catalog);
        var sources = new[] { $"{Registry}/*", $"{Registry}/solo/app:1.0", $"{Registry}/solo/app@sha256:{new string('a', 64)}" };
        var taken = new List<string>();

        for (var index = 0; index < 3; index++)
        {
            var shard = ShardPartition.Create(3, index, ShardBy.Repository, null);
            var scope = await SourceExpansion.ExpandAsync(sources.Select(CopySource.Parse), _ => store, new RepositoryMapping("dest.example.com/m"), shard,
                new RecordedFailures(), null, "test", default);
            Assert.All(scope.Repositories, e => Assert.Same(shard, e.Shard));
            Assert.Equal(catalog.Append("solo/app").Select(r => $"m/{r}").Order(StringComparer.Ordinal), scope.AllDestinationRepositories.Order(StringComparer.Ordinal));
            taken.AddRange(scope.Repositories.Select(e => $"{e.SourceRepository}:{e.OnlyTag}@{e.OnlyDigest}"));
        }

        Assert.Equal(catalog.Select(r => $"{r}:@").Append("solo/app:1.0@").Append($"solo/app:@sha256:{new string('a', 64)}").Order(StringComparer.Ordinal),
            taken.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_name_or_mapping_failure_is_reported_by_the_shard_that_owns_the_repository_only()
    {
        var store = new CatalogStore(Registry, ["team/app", "team/Bad Name", "x", "y", "z"]);
        var mapping = new RepositoryMapping("dest.example.com", stripPrefixSegments: 1);
        var reported = new List<string>();

        for (var index = 0; index < 4; index++)
        {
            var (_, failures) = await ExpandShardAsync(store, mapping, ShardPartition.Create(4, index, ShardBy.Repository, null), $"{Registry}/*");
            reported.AddRange(failures.Reported);
        }

        Assert.Equal(["invalid team/Bad Name", $"mapping {Registry}/x", $"mapping {Registry}/y", $"mapping {Registry}/z"], reported.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_source_that_cannot_be_listed_is_every_shards_failure()
    {
        var store = new CatalogStore(Registry, ["team/app"], failAfterFirstPage: true);

        for (var index = 0; index < 2; index++)
        {
            var (_, failures) = await ExpandShardAsync(store, new RepositoryMapping("dest.example.com"), ShardPartition.Create(2, index, ShardBy.Repository, null), $"{Registry}/*");
            Assert.Equal([$"listing {Registry}/*"], failures.Reported);
        }
    }

    [Fact]
    public async Task Split_by_tag_every_shard_takes_every_repository()
    {
        var store = new CatalogStore(Registry, ["team/app", "team/db", "other/x"]);

        var (expanded, _) = await ExpandShardAsync(store, new RepositoryMapping("dest.example.com"), ShardPartition.Create(5, 4, ShardBy.Tag, null), $"{Registry}/*");

        Assert.Equal(["team/app", "team/db", "other/x"], expanded.Select(e => e.SourceRepository));
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
