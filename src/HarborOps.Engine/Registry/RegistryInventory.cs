using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Store;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>
/// What registries and layouts hold, as Get-RegistryRepository and Get-RegistryTag list it: repositories of a catalog or
/// a layout root, and tags with their digest, media type, platforms, size and referrers. Stores come from the engine.
/// </summary>
internal sealed class RegistryInventory(RegistryEngine engine)
{
    /// <summary>
    /// Repositories of a registry (its catalog) or of an OCI layout root (every layout directory below it), sorted
    /// ordinally, with each listed repository that fails on its own (a name the registry sent that breaks the repository
    /// grammar) handed to <paramref name="onRepositoryFailure"/> while the listing goes on; without it such a failure
    /// ends the listing.
    /// </summary>
    public async IAsyncEnumerable<RegistryRepositoryInfo> GetRepositoriesAsync(GetRepositoriesRequest request, IProgress<OperationProgress>? progress,
        Action<HarborOpsException>? onRepositoryFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var registry = ImageReference.NormalizeRegistry(request.Registry);
        var store = engine.OpenStore(registry, request.Credential);
        var prefix = request.Prefix?.Trim().Trim('/');
        var activity = $"Listing repositories of {registry}";
        var names = new List<string>();
        var page = 0;
        var emitted = 0;
        try
        {
            await foreach (var pageNames in store.ListRepositoryPagesAsync(cancellationToken).ConfigureAwait(false))
            {
                page++;
                names.AddRange(pageNames.Where(n => string.IsNullOrEmpty(prefix) || n == prefix || n.StartsWith(prefix + "/", StringComparison.Ordinal))
                    .Where(n => ListedRepositories.Admit(store, n, onRepositoryFailure is null ? null : (_, failure) => onRepositoryFailure(failure))));
                progress?.Report(new OperationProgress(activity, $"Page {page}: {names.Count} repositories so far", Completed: names.Count));
            }
            names = names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var isLayout = registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal);
            foreach (var name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                emitted++;
                yield return new RegistryRepositoryInfo
                {
                    Registry = registry,
                    Repository = name,
                    Reference = isLayout ? (name.Length == 0 ? registry : registry + "/" + name) : $"{registry}/{name}",
                };
            }
        }
        finally
        {
            progress?.Report(new OperationProgress(activity, $"{emitted} repositories", Completed: emitted, Total: names.Count, IsComplete: true));
        }
    }

    /// <summary>
    /// Tags of a repository with their digest, media type, platforms and size, with each tag of a listed repository that fails on its own (a name or a manifest the registry sent
    /// malformed, a 5xx after the retries) handed to <paramref name="onTagFailure"/> while the listing goes on; without
    /// it such a failure ends the listing. Terminating failures (authentication, cancellation) always end it.
    /// </summary>
    public async IAsyncEnumerable<RegistryTagInfo> GetTagsAsync(GetTagsRequest request, IProgress<OperationProgress>? progress,
        Action<HarborOpsException>? onTagFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reference = ImageReference.Parse(request.Reference);
        var (store, repository) = engine.OpenStore(reference, request.Credential);
        var display = reference.RepositoryReference;
        var activity = $"Reading tags of {display}";
        var patterns = request.TagPatterns.Where(p => !string.IsNullOrEmpty(p)).Select(Wildcard.ToRegex).ToArray();
        var context = new TagDescriber(store, repository, reference, request.IncludeReferrers);

        if (reference.Digest is not null)
        {
            // A digest names one manifest; a tag given with it is only a label (Docker ignores it too).
            var byDigest = await context.DescribeAsync(reference.Tag ?? "", reference.Digest, mustExist: true, cancellationToken).ConfigureAwait(false);
            if (byDigest is not null) yield return byDigest;
            progress?.Report(new OperationProgress(activity, "1 manifest", Completed: 1, Total: 1, IsComplete: true));
            yield break;
        }

        List<string> tags;
        // A store with a bulk inventory (ACR's _manifests) names each tag's digest: no HEAD per tag.
        Dictionary<string, TaggedManifest>? listed = null;
        if (reference.Tag is not null)
        {
            tags = [reference.Tag];
        }
        else
        {
            tags = [];
            var page = 0;
            if (store.HasBulkInventory)
            {
                listed = new Dictionary<string, TaggedManifest>(StringComparer.Ordinal);
                await foreach (var entries in store.ListTaggedManifestPagesAsync(repository, cancellationToken).ConfigureAwait(false))
                {
                    page++;
                    foreach (var entry in entries) listed.TryAdd(entry.Tag, entry);
                    tags.AddRange(entries.Select(e => e.Tag));
                    progress?.Report(new OperationProgress(activity, $"Listing tags: page {page}, {tags.Count} tags so far", Completed: tags.Count));
                }
            }
            else
            {
                await foreach (var names in store.ListTagPagesAsync(repository, cancellationToken).ConfigureAwait(false))
                {
                    page++;
                    tags.AddRange(names);
                    progress?.Report(new OperationProgress(activity, $"Listing tags: page {page}, {tags.Count} tags so far", Completed: tags.Count));
                }
            }
            tags = tags.Distinct(StringComparer.Ordinal).ToList();
            context.KnownTags = tags.ToHashSet(StringComparer.Ordinal);
            tags.Sort(StringComparer.Ordinal);
        }
        if (patterns.Length > 0)
            tags = tags.Where(t => patterns.Any(p => p.IsMatch(t))).ToList();

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var window = new Queue<Task<TagOutcome>>();
        var parallelism = Math.Max(1, engine.Options.TagDetailParallelism);
        var done = 0;
        try
        {
            foreach (var tag in tags)
            {
                window.Enqueue(TagOutcome.Of(listed?.GetValueOrDefault(tag) is { } entry
                    ? () => context.DescribeListedAsync(entry, linked.Token)
                    : () => context.DescribeAsync(tag, tag, mustExist: reference.Tag is not null, linked.Token), tag, display, walking: reference.Tag is null));
                if (window.Count < parallelism) continue;
                var info = (await window.Dequeue().ConfigureAwait(false)).Take(onTagFailure);
                cancellationToken.ThrowIfCancellationRequested(); // results already read must not outrun a cancel
                done++;
                progress?.Report(new OperationProgress(activity, $"Tag {done} of {tags.Count}", info?.Tag, done, tags.Count));
                if (info is not null) yield return info;
            }
            while (window.Count > 0)
            {
                var info = (await window.Dequeue().ConfigureAwait(false)).Take(onTagFailure);
                cancellationToken.ThrowIfCancellationRequested(); // results already read must not outrun a cancel
                done++;
                progress?.Report(new OperationProgress(activity, $"Tag {done} of {tags.Count}", info?.Tag, done, tags.Count));
                if (info is not null) yield return info;
            }
        }
        finally
        {
            // The consumer stopped early or a tag failed: stop the reads still in flight and observe their outcome.
            if (window.Count > 0)
            {
                await linked.CancelAsync().ConfigureAwait(false);
                foreach (var pending in window)
                {
                    try { await pending.ConfigureAwait(false); }
                    catch (OperationCanceledException) { }
                    catch (HarborOpsException) { }
                }
            }
            progress?.Report(new OperationProgress(activity, $"{done} tags", Completed: done, Total: tags.Count, IsComplete: true));
        }
    }
}
