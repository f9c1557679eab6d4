using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Registry;

/// <summary>
/// A Harbor registry as a store whose tag inventory comes from Harbor's API (<see cref="HarborInventory"/>): a page of
/// 100 artifacts per request instead of a HEAD per tag. Where the caller expects several repositories of one project, the
/// project's whole listing answers them all, if it takes fewer pages than there are repositories. Where Harbor refuses
/// the caller the API (401, 403), the store says so once and from then on is an ordinary registry (a HEAD per tag).
/// Everything else (HEADs, reads, referrers) is the registry's own.
/// </summary>
internal sealed class HarborInventoryStore : IImageStore
{
    private readonly IImageStore _registry;
    private readonly HarborInventory _api;
    private readonly int _tagParallelism;
    private readonly ConcurrentDictionary<string, Lazy<Task<Dictionary<string, List<TaggedManifest>>?>>> _projects = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, int> _expectedPerProject = new Dictionary<string, int>();
    private int _refused;

    private HarborInventoryStore(RemoteRegistryStore registry, NetworkCredential? credential, int tagParallelism)
    {
        _registry = registry;
        _api = new HarborInventory(registry, credential);
        _tagParallelism = tagParallelism;
    }

    /// <summary>The store with Harbor's inventory API in front of its listings; a store that is no remote registry (an OCI layout) as it is.</summary>
    public static IImageStore Over(IImageStore store, NetworkCredential? credential, int tagParallelism) =>
        store is RemoteRegistryStore remote ? new HarborInventoryStore(remote, credential, tagParallelism) : store;

    public string Registry => _registry.Registry;

    /// <summary>True until Harbor refused the caller its API; then callers HEAD only the tags they want, as for any registry.</summary>
    public bool HasBulkInventory => !Refused;

    /// <summary>Harbor answered the inventory API with 401 or 403 for this caller.</summary>
    public bool Refused => Volatile.Read(ref _refused) != 0;

    /// <summary>
    /// The repositories the caller is about to list: a project with several of them is listed whole, once, when that
    /// takes fewer pages than the repositories would take requests.
    /// </summary>
    public void ExpectRepositories(IEnumerable<string> repositories) =>
        _expectedPerProject = repositories.Distinct(StringComparer.Ordinal).Select(HarborInventory.ProjectOf).OfType<string>()
            .GroupBy(p => p, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public async IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListTaggedManifestPagesAsync(string repository, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listed = Refused ? null : await ListThroughApiAsync(repository, cancellationToken).ConfigureAwait(false);
        if (listed is not null)
        {
            yield return listed;
            yield break;
        }
        await foreach (var page in TagInventory.HeadEachTagAsync(_registry, repository, _tagParallelism, cancellationToken).ConfigureAwait(false))
            yield return page;
    }

    /// <summary>
    /// The repository's tags from Harbor's API alone, without the HEAD-per-tag fallback: null when Harbor refused the
    /// caller (then the caller decides what to HEAD). A repository neither API has is RegistryRepositoryNotFound.
    /// </summary>
    public Task<List<TaggedManifest>?> TryListThroughApiAsync(string repository, CancellationToken cancellationToken) =>
        Refused ? Task.FromResult<List<TaggedManifest>?>(null) : ListThroughApiAsync(repository, cancellationToken);

    /// <summary>The repositories of a Harbor project from its API; null when Harbor refused the caller the list.</summary>
    public async Task<List<string>?> TryListProjectRepositoriesAsync(string project, CancellationToken cancellationToken)
    {
        if (Refused) return null;
        var names = new List<string>();
        try
        {
            await foreach (var page in _api.ListProjectRepositoryPagesAsync(project, cancellationToken).ConfigureAwait(false))
                names.AddRange(page);
        }
        catch (HarborInventoryRefusedException)
        {
            return null;
        }
        return names;
    }

    /// <summary>The repository's tags from Harbor's API; null when Harbor refused the caller (then the registry API is asked).</summary>
    private async Task<List<TaggedManifest>?> ListThroughApiAsync(string repository, CancellationToken cancellationToken)
    {
        try
        {
            // A project named by digits only would be read as a project id by the project listing (project_name_or_id).
            if (HarborInventory.ProjectOf(repository) is { } project && _expectedPerProject.GetValueOrDefault(project) > 1 && !project.All(char.IsAsciiDigit)
                && await _projects.GetOrAdd(project, p => new(() => ReadProjectAsync(p, _expectedPerProject[p], cancellationToken))).Value.ConfigureAwait(false) is { } byRepository)
                return byRepository.TryGetValue(repository, out var items) ? items
                    : throw new RegistryException(RegistryErrorIds.RepositoryNotFound, FailureKind.NotFound,
                        $"Harbor lists no artifact of repository '{_registry.ItemName(repository)}' in its project.", _registry.ItemName(repository));
            var result = new List<TaggedManifest>();
            RegistryException? notFound = null;
            try
            {
                await foreach (var page in _api.ListRepositoryPagesAsync(repository, cancellationToken).ConfigureAwait(false))
                    result.AddRange(page);
            }
            catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.RepositoryNotFound)
            {
                notFound = ex;
            }
            if (notFound is null) return result;
            if (!await RegistryListsTagsAsync(repository, cancellationToken).ConfigureAwait(false)) throw notFound;
            // The API hid a repository the registry has: this caller may pull but not see the project (a robot without
            // project read). The registry's answers are the ones to trust, for this and every later repository.
            Interlocked.Exchange(ref _refused, 1);
            return null;
        }
        catch (HarborInventoryRefusedException)
        {
            Interlocked.Exchange(ref _refused, 1);
            return null;
        }
    }

    /// <summary>Whether the registry API lists tags of a repository Harbor's API said it has not (one tag list page).</summary>
    private async Task<bool> RegistryListsTagsAsync(string repository, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var page in _registry.ListTagPagesAsync(repository, cancellationToken).ConfigureAwait(false))
                return page.Count > 0;
            return false;
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.RepositoryNotFound)
        {
            return false;
        }
    }

    /// <summary>
    /// A project's artifacts by repository; null where listing it whole does not pay (more pages than the repositories
    /// it would answer) or this Harbor has no project listing (before 2.11: 404), so each repository is listed alone.
    /// </summary>
    private async Task<Dictionary<string, List<TaggedManifest>>?> ReadProjectAsync(string project, int repositories, CancellationToken cancellationToken)
    {
        var byRepository = new Dictionary<string, List<TaggedManifest>>(StringComparer.Ordinal);
        try
        {
            await foreach (var page in _api.ListProjectPagesAsync(project, cancellationToken).ConfigureAwait(false))
            {
                if (page.Total is { } total && (total + HarborInventory.PageSize - 1) / HarborInventory.PageSize > repositories) return null;
                foreach (var (name, item) in page.Items)
                {
                    if (!byRepository.TryGetValue(name, out var items)) byRepository[name] = items = [];
                    items.Add(item);
                }
            }
        }
        catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.RepositoryNotFound || ex is HarborInventoryRefusedException)
        {
            // No project listing here (before Harbor 2.11), or not for this caller (anonymous is refused it even on a
            // public project, which lists its repositories to anyone): each repository is listed alone.
            return null;
        }
        return byRepository;
    }

    public IAsyncEnumerable<IReadOnlyList<string>> ListRepositoryPagesAsync(CancellationToken cancellationToken) => _registry.ListRepositoryPagesAsync(cancellationToken);

    public IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, CancellationToken cancellationToken) => _registry.ListTagPagesAsync(repository, cancellationToken);

    public Task<OciDescriptor?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken) =>
        _registry.HeadManifestAsync(repository, reference, cancellationToken);

    public Task<ManifestContent> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken) =>
        _registry.GetManifestAsync(repository, reference, cancellationToken);

    public Task<string> PutManifestAsync(string repository, string reference, ManifestContent manifest, CancellationToken cancellationToken) =>
        _registry.PutManifestAsync(repository, reference, manifest, cancellationToken);

    public Task<long?> HeadBlobAsync(string repository, string digest, CancellationToken cancellationToken) => _registry.HeadBlobAsync(repository, digest, cancellationToken);

    public Task<Stream> OpenBlobAsync(string repository, string digest, long? expectedSize, CancellationToken cancellationToken) =>
        _registry.OpenBlobAsync(repository, digest, expectedSize, cancellationToken);

    public Task PutBlobAsync(string repository, string digest, long size, Stream content, CancellationToken cancellationToken) =>
        _registry.PutBlobAsync(repository, digest, size, content, cancellationToken);

    public Task<bool> TryMountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken) =>
        _registry.TryMountBlobAsync(repository, digest, fromRepository, cancellationToken);

    public Task<IReadOnlyList<OciDescriptor>?> GetReferrersAsync(string repository, string digest, string? artifactType, CancellationToken cancellationToken) =>
        _registry.GetReferrersAsync(repository, digest, artifactType, cancellationToken);
}
