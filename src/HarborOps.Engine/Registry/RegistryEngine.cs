using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Registry.Layout;
using HarborOps.Engine.Resilience;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>Get-RegistryRepository's request. Registry is host[:port], or "oci:" followed by a layout directory.</summary>
public sealed record GetRepositoriesRequest(string Registry)
{
    /// <summary>Only repositories under this path prefix ("team/" or "team").</summary>
    public string? Prefix { get; init; }
    public NetworkCredential? Credential { get; init; }
}

/// <summary>Get-RegistryTag's request. Reference is "host/repo", "host/repo:tag" or "host/repo@digest", or an "oci:" layout reference.</summary>
public sealed record GetTagsRequest(string Reference)
{
    /// <summary>Wildcard patterns (* and ?) a tag must match; empty means every tag.</summary>
    public IReadOnlyList<string> TagPatterns { get; init; } = [];
    /// <summary>Also discover referrers (API, tag schema) and cosign .sig/.att/.sbom tags of each digest.</summary>
    public bool IncludeReferrers { get; init; }
    public NetworkCredential? Credential { get; init; }
}

/// <summary>
/// The registry engine the cmdlets use: one per process, so one connection pool and one token cache
/// serve every cmdlet of a session.
/// </summary>
public sealed partial class RegistryEngine : IDisposable
{
    private static readonly Lazy<RegistryEngine> SharedEngine =
        new(() => new RegistryEngine(RegistryEngineOptions.FromEnvironment(Environment.GetEnvironmentVariable), HostBackoff.Session));

    /// <summary>The engine of this process, used by the cmdlets.</summary>
    public static RegistryEngine Shared => SharedEngine.Value;

    /// <summary>Credentials set for this session (Set-RegistryCredential); consulted before the docker config.</summary>
    public RegistryCredentialStore Credentials { get; }

    /// <summary>
    /// Repositories of a registry (its catalog) or of an OCI layout root (every layout directory below it), sorted
    /// ordinally. Progress reports each page.
    /// </summary>
    public IAsyncEnumerable<RegistryRepositoryInfo> GetRepositoriesAsync(GetRepositoriesRequest request, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken) =>
        GetRepositoriesAsync(request, progress, onRepositoryFailure: null, cancellationToken);

    /// <summary>
    /// The same, with each listed repository that fails on its own (a name the registry sent that breaks the repository
    /// grammar) handed to <paramref name="onRepositoryFailure"/> while the listing goes on; without it such a failure
    /// ends the listing.
    /// </summary>
    public async IAsyncEnumerable<RegistryRepositoryInfo> GetRepositoriesAsync(GetRepositoriesRequest request, IProgress<OperationProgress>? progress,
        Action<HarborOpsException>? onRepositoryFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var registry = ImageReference.NormalizeRegistry(request.Registry);
        var store = OpenStore(registry, request.Credential);
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
    /// Tags of a repository with their digest, media type, platforms and size (every tag, paged and sorted ordinally;
    /// or the one tag or digest the reference names). Manifests are read with bounded parallelism and cached by
    /// digest, so thousands of tags of one image cost one manifest read each, plus one HEAD.
    /// </summary>
    public IAsyncEnumerable<RegistryTagInfo> GetTagsAsync(GetTagsRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        GetTagsAsync(request, progress, onTagFailure: null, cancellationToken);

    /// <summary>
    /// The same, with each tag of a listed repository that fails on its own (a name or a manifest the registry sent
    /// malformed, a 5xx after the retries) handed to <paramref name="onTagFailure"/> while the listing goes on; without
    /// it such a failure ends the listing. Terminating failures (authentication, cancellation) always end it.
    /// </summary>
    public async IAsyncEnumerable<RegistryTagInfo> GetTagsAsync(GetTagsRequest request, IProgress<OperationProgress>? progress,
        Action<HarborOpsException>? onTagFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reference = ImageReference.Parse(request.Reference);
        var (store, repository) = OpenStore(reference, request.Credential);
        var display = reference.RepositoryReference;
        var activity = $"Reading tags of {display}";
        var patterns = request.TagPatterns.Where(p => !string.IsNullOrEmpty(p)).Select(Wildcard.ToRegex).ToArray();
        var context = new TagContext(store, repository, reference, request.IncludeReferrers);

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
        var parallelism = Math.Max(1, Options.TagDetailParallelism);
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

    /// <summary>
    /// Requests this engine has sent to a registry so far (0 for an OCI layout): callers take the difference over a run
    /// to say what the run cost each side. Retries and token requests are not counted.
    /// </summary>
    public long RequestsSentTo(string registry) => Pipeline.RequestsSentTo(ImageReference.NormalizeRegistry(registry));

    /// <summary>Opens a registry ("host[:port]", "docker.io") or an OCI layout root ("oci:dir") as an image store.</summary>
    public IImageStore OpenStore(string registry, NetworkCredential? credential = null)
    {
        var normalized = ImageReference.NormalizeRegistry(registry);
        return normalized.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal)
            ? new OciLayoutStore(normalized[ImageReference.OciLayoutPrefix.Length..])
            : new RemoteRegistryStore(Pipeline, normalized, credential);
    }

    /// <summary>The store and repository an image reference points into (a layout reference is repository "" of its directory).</summary>
    public (IImageStore Store, string Repository) OpenStore(ImageReference reference, NetworkCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.Kind == ImageReferenceKind.OciLayout
            ? (new OciLayoutStore(reference.LayoutPath!), "")
            : (new RemoteRegistryStore(Pipeline, reference.Registry, credential), reference.Repository);
    }

    /// <summary>Per-call caches: manifests and configs by digest, referrers by digest.</summary>
    private sealed class TagContext(IImageStore store, string repository, ImageReference reference, bool includeReferrers)
    {
        private readonly ConcurrentDictionary<string, Lazy<Task<(ManifestContent Manifest, string[] Platforms, long Size)>>> manifests = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, Lazy<Task<OciPlatform?>>> configs = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<RegistryReferrerInfo>>>> referrers = new(StringComparer.Ordinal);

        public IReadOnlySet<string>? KnownTags { get; set; }

        /// <summary>
        /// A tag the store's inventory listed with its digest. One locked against reads (ACR readEnabled=false) is shown
        /// with what the listing says, without platforms or size, rather than failing the whole listing.
        /// </summary>
        public async Task<RegistryTagInfo?> DescribeListedAsync(TaggedManifest entry, CancellationToken cancellationToken)
        {
            if (entry.ReadEnabled)
            {
                try
                {
                    return await DescribeAsync(entry.Tag, entry.Manifest.Digest, mustExist: false, cancellationToken).ConfigureAwait(false);
                }
                catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.ManifestNotFound)
                {
                    return null; // deleted between listing and reading: it is simply gone
                }
            }
            return new RegistryTagInfo
            {
                    Registry = reference.Registry,
                    Repository = reference.Repository,
                    Tag = entry.Tag,
                    Digest = entry.Manifest.Digest,
                    MediaType = entry.Manifest.MediaType,
                Reference = $"{reference.RepositoryReference}:{entry.Tag}",
            };
        }

        public async Task<RegistryTagInfo?> DescribeAsync(string tag, string manifestReference, bool mustExist, CancellationToken cancellationToken)
        {
            string digest;
            if (manifestReference.Contains(':'))
            {
                digest = manifestReference;
            }
            else
            {
                var head = await store.HeadManifestAsync(repository, manifestReference, cancellationToken).ConfigureAwait(false);
                if (head is null)
                {
                    if (!mustExist) return null; // deleted between listing and reading: it is simply gone
                    // A HEAD 404 has no body to tell a missing repository from a missing tag: ask again with a GET
                    // (a registry whose HEAD is wrong gets its GET believed) and, if that is not found either, let the
                    // tag list say whether the repository exists at all.
                    try
                    {
                        head = (await store.GetManifestAsync(repository, manifestReference, cancellationToken).ConfigureAwait(false)).ToDescriptor();
                    }
                    catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.ManifestNotFound)
                    {
                        // Distribution says MANIFEST_UNKNOWN even when the whole repository is missing; its tag list knows.
                        await using var pages = store.ListTagPagesAsync(repository, cancellationToken).GetAsyncEnumerator(cancellationToken);
                        await pages.MoveNextAsync().ConfigureAwait(false);
                        throw;
                    }
                }
                digest = head.Digest;
            }
            (ManifestContent Manifest, string[] Platforms, long Size) details;
            try
            {
                var headedTag = manifestReference.Contains(':') ? null : manifestReference;
                details = await manifests.GetOrAdd(digest, d => new Lazy<Task<(ManifestContent, string[], long)>>(() => ReadAsync(d, headedTag, cancellationToken))).Value.ConfigureAwait(false);
            }
            catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.UnsupportedMediaType && !mustExist)
            {
                // One legacy (schema 1) tag must not hide every other tag of the repository: list it with what the
                // registry's headers say, without platforms or size.
                var head = await store.HeadManifestAsync(repository, manifestReference, cancellationToken).ConfigureAwait(false);
                return new RegistryTagInfo
                {
                    Registry = reference.Registry,
                    Repository = reference.Repository,
                    Tag = tag,
                    Digest = digest,
                    MediaType = head?.MediaType ?? "",
                    Reference = tag.Length > 0 ? $"{reference.RepositoryReference}:{tag}" : $"{reference.RepositoryReference}@{digest}",
                };
            }
            RegistryReferrerInfo[]? found = null;
            bool? signed = null;
            if (includeReferrers)
            {
                found = (await referrers.GetOrAdd(digest, d => new Lazy<Task<IReadOnlyList<RegistryReferrerInfo>>>(
                    () => ReferrerDiscovery.DiscoverAsync(store, repository, d, KnownTags, cancellationToken))).Value.ConfigureAwait(false)).ToArray();
                signed = found.Any(ReferrerDiscovery.IsSignature);
            }
            var baseReference = reference.RepositoryReference;
            return new RegistryTagInfo
            {
                Registry = reference.Registry,
                Repository = reference.Repository,
                Tag = tag,
                Digest = digest,
                MediaType = details.Manifest.MediaType,
                Platforms = details.Platforms,
                Size = details.Size,
                Referrers = found,
                Signed = signed,
                Reference = tag.Length > 0 ? $"{baseReference}:{tag}" : $"{baseReference}@{digest}",
            };
        }

        private async Task<(ManifestContent, string[], long)> ReadAsync(string digest, string? headedTag, CancellationToken cancellationToken)
        {
            var manifest = headedTag is null
                ? await store.GetManifestAsync(repository, digest, cancellationToken).ConfigureAwait(false)
                : await HeadDigests.ReadAsync(() => store.GetManifestAsync(repository, digest, cancellationToken),
                    () => store.GetManifestAsync(repository, headedTag, cancellationToken), digest, $"{reference.RepositoryReference}:{headedTag}").ConfigureAwait(false);
            if (manifest.IsIndex)
            {
                var platforms = manifest.Manifests
                    .Where(m => m.Platform is { Os.Length: > 0 } p && p.Os != "unknown")
                    .Select(m => m.Platform!.ToString()).Distinct(StringComparer.Ordinal).ToArray();
                return (manifest, platforms, manifest.Size);
            }
            var size = manifest.Size + manifest.Blobs().Sum(b => b.Size);
            string[] own = [];
            if (manifest.Config is { } config && config.MediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig)
            {
                var platform = await configs.GetOrAdd(config.Digest, _ => new Lazy<Task<OciPlatform?>>(() => ReadPlatformAsync(config, cancellationToken))).Value.ConfigureAwait(false);
                if (platform is not null) own = [platform.ToString()];
            }
            return (manifest, own, size);
        }

        private async Task<OciPlatform?> ReadPlatformAsync(OciDescriptor config, CancellationToken cancellationToken)
        {
            const long MaxConfigBytes = 4 * 1024 * 1024;
            if (config.Size > MaxConfigBytes) return null;
            await using var stream = await store.OpenBlobAsync(repository, config.Digest, config.Size, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return ManifestContent.ReadConfigPlatform(buffer.ToArray());
        }
    }
}

public sealed partial class RegistryEngine
{
    private readonly DockerConfigCredentials dockerConfig;

    /// <summary>An engine of its own, down to its per-host wait windows (the session's engine is <see cref="Shared"/>).</summary>
    public RegistryEngine(RegistryEngineOptions options)
        : this(options, new HostBackoff())
    {
    }

    /// <param name="options">The engine's settings.</param>
    /// <param name="hosts">Per-host wait windows, shared with the session's Harbor clients when they are <see cref="HostBackoff.Session"/>.</param>
    internal RegistryEngine(RegistryEngineOptions options, HostBackoff hosts)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        dockerConfig = new DockerConfigCredentials(options.DockerConfigPath);
        Credentials = new RegistryCredentialStore(dockerConfig);
        Pipeline = new RegistryHttpPipeline(options, hosts, pipeline => new RegistryAuthenticator(pipeline, Credentials, dockerConfig));
    }

    public RegistryEngineOptions Options { get; }

    internal RegistryHttpPipeline Pipeline { get; }

    public void Dispose() => Pipeline.Dispose();
}
