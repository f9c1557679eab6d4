using System.Runtime.CompilerServices;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Where a source repository lands, by Copy-RegistryImage's rules: the destination's own path, then the optional extra
/// prefix, then the source path with leading segments stripped and renames applied. One piece shared by everything that
/// must agree with a copy about names (the copier, parity checks, reference rewriting), so they can never drift apart.
/// </summary>
public sealed class RepositoryMapping
{
    private readonly RepositoryMapper mapper;

    /// <param name="destination">"registry", "registry/prefix" or "oci:directory" (see <see cref="RegistryScopeRequest.Destination"/>).</param>
    /// <param name="destinationPrefix">A path appended to the destination's own path.</param>
    /// <param name="stripPrefixSegments">Leading source path segments to remove.</param>
    /// <param name="renames">Repository or leading-path renames applied after stripping; the longest key wins.</param>
    public RepositoryMapping(string destination, string? destinationPrefix = null, int stripPrefixSegments = 0, IReadOnlyDictionary<string, string>? renames = null)
    {
        Destination = CopyDestination.Parse(destination, destinationPrefix);
        mapper = new RepositoryMapper(stripPrefixSegments, renames ?? new Dictionary<string, string>(), Destination.Prefix);
    }

    /// <summary>The mapping a copy or a parity check of <paramref name="request"/> uses.</summary>
    public static RepositoryMapping Of(RegistryScopeRequest request) =>
        new(request.Destination, request.DestinationPrefix, request.StripPrefixSegments, request.RenameRepositories);

    /// <summary>The parsed destination, with the extra prefix folded into its path and text.</summary>
    public CopyDestination Destination { get; }

    /// <summary>
    /// The destination repository of <paramref name="sourceRepository"/>; throws CopyMappingInvalid when nothing is left of
    /// the name, or when a registry destination would receive an image at its root (only a layout has a root image).
    /// <paramref name="sourceText"/> names the source in that message.
    /// </summary>
    public string MapRepository(string sourceRepository, string? sourceText = null)
    {
        var mapped = mapper.Map(sourceRepository);
        if (mapped.Length == 0 && !Destination.Registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal))
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"'{sourceText ?? sourceRepository}' has no repository path to append to the destination '{Destination.Text}'. Give the destination a path, e.g. {Destination.Registry}/migrated/app.", sourceText ?? sourceRepository);
        return mapped;
    }

    /// <summary>The reference at the destination: same tag and digest, mapped registry and repository.</summary>
    public ImageReference Map(ImageReference source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source with { Registry = Destination.Registry, Repository = MapRepository(source.Repository, source.ToString()) };
    }

    /// <summary>
    /// The repositories a Prefix or Registry source covers, in catalog order: every repository of the store, or those
    /// equal to or below the prefix. A Repository or Image source covers just its own repository. A listed name that
    /// breaks the repository grammar goes to <paramref name="onInvalidName"/> (with none, it ends the listing) and is left out.
    /// </summary>
    public static async IAsyncEnumerable<string> ListRepositoriesAsync(IImageStore store, CopySource source, Action<string, HarborOpsException>? onInvalidName,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (source.Kind is CopySourceKind.Image or CopySourceKind.Repository)
        {
            yield return source.Repository;
            yield break;
        }
        var prefix = source.Kind == CopySourceKind.Prefix ? source.Repository : "";
        await foreach (var page in store.ListRepositoryPagesAsync(cancellationToken).ConfigureAwait(false))
            foreach (var name in page)
                if ((prefix.Length == 0 || name == prefix || name.StartsWith(prefix + "/", StringComparison.Ordinal)) && ListedRepositories.Admit(store, name, onInvalidName))
                    yield return name;
    }

    /// <summary>"registry/repository", "registry/repository:tag" or "registry/repository@digest" of a store's item.</summary>
    public static string Describe(IImageStore store, string repository, string? reference)
    {
        var name = repository.Length == 0 ? store.Registry : $"{store.Registry}/{repository}";
        if (string.IsNullOrEmpty(reference)) return name;
        return reference.Contains(':') ? $"{name}@{reference}" : $"{name}:{reference}";
    }
}
