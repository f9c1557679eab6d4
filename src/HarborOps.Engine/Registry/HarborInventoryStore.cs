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
internal sealed class HarborInventoryStore : IImageStore, IBlobUploadUnlessPresent
{
    private readonly RemoteRegistryStore _registry;
    private HarborInventory _api;
    private readonly int _tagParallelism;
    // Set for a registry no Harbor session names: whether it is a Harbor is learnt from its challenge (HarborDetection).
    private readonly HarborDetection? _detection;
    private readonly NetworkCredential? _registryCredential;
    private Task? _decision;
    private readonly SemaphoreSlim _meeting = new(1, 1);
    // Tag lists read to meet the registry's challenge before the decision, handed to the one caller that asked for them.
    private readonly ConcurrentDictionary<string, List<IReadOnlyList<string>>> _tagsReadToDecide = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<Dictionary<string, List<TaggedManifest>>?>>> _projects = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, int> _expectedPerProject = new Dictionary<string, int>();
    private int _refused;

    private HarborInventoryStore(RemoteRegistryStore registry, NetworkCredential? credential, int tagParallelism, HarborDetection? detection = null)
    {
        _registry = registry;
        _api = new HarborInventory(registry, credential);
        _tagParallelism = tagParallelism;
        _detection = detection;
        _registryCredential = credential;
    }

    /// <summary>The store with Harbor's inventory API in front of its listings; a store that is no remote registry (an OCI layout) as it is.</summary>
    public static IImageStore Over(IImageStore store, NetworkCredential? credential, int tagParallelism) =>
        store is RemoteRegistryStore remote ? new HarborInventoryStore(remote, credential, tagParallelism) : store;

    /// <summary>
    /// A registry no Harbor session names: Harbor's listing is used once <paramref name="detection"/> found it a Harbor
    /// (read with <paramref name="registryCredential"/>, or whatever credential the run's registry requests resolve to);
    /// until then, and for good when it is not one, the store is the registry's own. ACR and OCI layouts are left as they are.
    /// </summary>
    public static IImageStore Detecting(IImageStore store, HarborDetection detection, NetworkCredential? registryCredential, int tagParallelism) =>
        store is RemoteRegistryStore { IsAcr: false } remote ? new HarborInventoryStore(remote, registryCredential, tagParallelism, detection) : store;

    /// <summary>A Harbor no session named, known only by its challenge and its systeminfo.</summary>
    public bool Detected => _detection is not null;

    /// <summary>True while a detecting store has not yet learnt whether its registry is a Harbor.</summary>
    public bool Undecided => _decision is not { IsCompletedSuccessfully: true };

    /// <summary>
    /// Settles whether the registry is a Harbor before a caller chooses between its listing and HEADs. The decision rests
    /// on the challenge the registry already sent; where none was met yet, this repository's tag list is read first (a
    /// request the HEADs would make anyway, handed to them by <see cref="ListTagPagesAsync"/>).
    /// </summary>
    public async Task DecideAsync(string repository, CancellationToken cancellationToken)
    {
        if (_detection is null || !Undecided) return;
        // One repository meets the challenge; the others, compared in parallel, wait for its decision.
        await _meeting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_decision is null) await ReadTagsToDecideAsync(repository, cancellationToken).ConfigureAwait(false);
            await ConfirmedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _meeting.Release();
        }
    }

    private async Task ReadTagsToDecideAsync(string repository, CancellationToken cancellationToken)
    {
        var pages = new List<IReadOnlyList<string>>();
        try
        {
            await foreach (var page in _registry.ListTagPagesAsync(repository, cancellationToken).ConfigureAwait(false))
                pages.Add(page);
            _tagsReadToDecide[repository] = pages;
        }
        catch (RegistryException ex) when (!ex.IsTerminating)
        {
            // The repository's own failure comes again, and is reported, where its tags are read.
        }
    }

    /// <summary>Whether Harbor's API is this store's to use: a named Harbor, or one detected; any other registry is refused for good.</summary>
    private async Task ConfirmedAsync(CancellationToken cancellationToken)
    {
        if (_detection is null) return;
        await LazyInitializer.EnsureInitialized(ref _decision, () => DecideCoreAsync(_detection, cancellationToken)).ConfigureAwait(false);
    }

    private async Task DecideCoreAsync(HarborDetection detection, CancellationToken cancellationToken)
    {
        if (!await detection.IsHarborAsync(Registry, cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Exchange(ref _refused, 1);
            return;
        }
        _api = new HarborInventory(_registry, await detection.RegistryCredentialAsync(Registry, _registryCredential, cancellationToken).ConfigureAwait(false));
    }

    public string Registry => _registry.Registry;

    /// <summary>True until Harbor refused the caller its API; then callers HEAD only the tags they want, as for any registry.</summary>
    public bool HasBulkInventory => !Refused;

    /// <summary>The registry contradicted Harbor's listing: from now on the registry API alone answers, as for any registry.</summary>
    public void DistrustListing() => Interlocked.Exchange(ref _refused, 1);

    /// <summary>Harbor answered the inventory API with 401 or 403 for this caller (or the registry contradicted it, or it is no Harbor).</summary>
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
        await DecideAsync(repository, cancellationToken).ConfigureAwait(false);
        var listed = Refused ? null : await ListThroughApiAsync(repository, cancellationToken).ConfigureAwait(false);
        if (listed is not null)
        {
            yield return listed;
            yield break;
        }
        await foreach (var page in TagInventory.HeadEachTagAsync(this, repository, _tagParallelism, cancellationToken).ConfigureAwait(false))
            yield return page;
    }

    /// <summary>
    /// The repository's tags from Harbor's API alone, without the HEAD-per-tag fallback: null when Harbor refused the
    /// caller (then the caller decides what to HEAD). A repository neither API has is RegistryRepositoryNotFound.
    /// </summary>
    public async Task<List<TaggedManifest>?> TryListThroughApiAsync(string repository, CancellationToken cancellationToken)
    {
        await ConfirmedAsync(cancellationToken).ConfigureAwait(false);
        return Refused ? null : await ListThroughApiAsync(repository, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The repositories of a Harbor project from its API; null when Harbor refused the caller the list.</summary>
    public async Task<List<string>?> TryListProjectRepositoriesAsync(string project, CancellationToken cancellationToken)
    {
        await ConfirmedAsync(cancellationToken).ConfigureAwait(false);
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

    public IAsyncEnumerable<IReadOnlyList<string>> ListTagPagesAsync(string repository, CancellationToken cancellationToken) =>
        _tagsReadToDecide.TryRemove(repository, out var pages) ? Replay(pages) : _registry.ListTagPagesAsync(repository, cancellationToken);

#pragma warning disable CS1998 // an async iterator over pages already read
    private static async IAsyncEnumerable<IReadOnlyList<string>> Replay(List<IReadOnlyList<string>> pages)
    {
        foreach (var page in pages) yield return page;
    }
#pragma warning restore CS1998

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

    /// <summary>The registry's own upload-unless-present (a mount naming the repository itself): no blob HEAD before an upload.</summary>
    public Task<bool> PutBlobUnlessPresentAsync(string repository, string digest, long size, Func<Task<Stream>> openContent, CancellationToken cancellationToken) =>
        _registry.PutBlobUnlessPresentAsync(repository, digest, size, openContent, cancellationToken);

    public Task<bool> TryMountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken) =>
        _registry.TryMountBlobAsync(repository, digest, fromRepository, cancellationToken);

    public Task<IReadOnlyList<OciDescriptor>?> GetReferrersAsync(string repository, string digest, string? artifactType, CancellationToken cancellationToken) =>
        _registry.GetReferrersAsync(repository, digest, artifactType, cancellationToken);
}
