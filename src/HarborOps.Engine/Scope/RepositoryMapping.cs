using HarborOps.Engine.Errors;
using HarborOps.Engine.References;

namespace HarborOps.Engine.Scope;

/// <summary>
/// Where a source repository lands, by Copy-RegistryImage's rules: the destination's own path, then the optional extra
/// prefix, then the source path with leading segments stripped and renames applied. One piece shared by everything that
/// must agree with a copy about names (the copier, parity checks, reference rewriting), so they can never drift apart.
/// </summary>
public sealed class RepositoryMapping
{
    private readonly int _strip;
    private readonly KeyValuePair<string, string>[] _renames;

    /// <param name="destination">"registry", "registry/prefix" or "oci:directory" (see <see cref="RegistryScopeRequest.Destination"/>).</param>
    /// <param name="destinationPrefix">A path appended to the destination's own path.</param>
    /// <param name="stripPrefixSegments">Leading source path segments to remove.</param>
    /// <param name="renames">Repository or leading-path renames applied after stripping; the longest key wins.</param>
    public RepositoryMapping(string destination, string? destinationPrefix = null, int stripPrefixSegments = 0, IReadOnlyDictionary<string, string>? renames = null)
        : this(CopyDestination.Parse(destination, destinationPrefix), stripPrefixSegments, renames)
    {
    }

    private RepositoryMapping(CopyDestination destination, int stripPrefixSegments, IReadOnlyDictionary<string, string>? renames)
    {
        Destination = destination;
        if (stripPrefixSegments < 0)
            throw new HarborOpsException(ScopeErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"StripPrefixSegments is {stripPrefixSegments}; it counts leading path segments to remove and cannot be negative.");
        _strip = stripPrefixSegments;
        this._renames = (renames ?? new Dictionary<string, string>()).Select(r => KeyValuePair.Create(r.Key.Trim('/'), r.Value.Trim('/')))
            .OrderByDescending(r => r.Key.Length).ToArray();
    }

    /// <summary>The mapping a copy or a parity check of <paramref name="request"/> uses, with the destination the request holds parsed.</summary>
    public static RepositoryMapping Of(RegistryScopeRequest request) =>
        new(request.ParsedDestination.WithExtraPrefix(request.DestinationPrefix), request.StripPrefixSegments, request.RenameRepositories);

    /// <summary>The parsed destination, with the extra prefix folded into its path and text.</summary>
    public CopyDestination Destination { get; }

    /// <summary>
    /// The destination repository of <paramref name="sourceRepository"/>; throws CopyMappingInvalid when nothing is left of
    /// the name, or when a registry destination would receive an image at its root (only a layout has a root image).
    /// <paramref name="sourceText"/> names the source in that message.
    /// </summary>
    public string MapRepository(string sourceRepository, string? sourceText = null)
    {
        var mapped = StripRenamePrefix(sourceRepository);
        if (mapped.Length == 0 && !Destination.Registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal))
            throw new HarborOpsException(ScopeErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"'{sourceText ?? sourceRepository}' has no repository path to append to the destination '{Destination.Text}'. Give the destination a path, e.g. {Destination.Registry}/migrated/app.", sourceText ?? sourceRepository);
        return mapped;
    }

    /// <summary>Strips the leading segments, applies the longest matching rename, then prepends the destination's prefix.</summary>
    private string StripRenamePrefix(string sourceRepository)
    {
        var parts = sourceRepository.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (_strip > 0 && parts.Length <= _strip)
            throw new HarborOpsException(ScopeErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"Stripping {_strip} leading path segment(s) from repository '{sourceRepository}' leaves no name. Lower StripPrefixSegments or copy that repository separately.", sourceRepository);
        var path = string.Join('/', parts.Skip(_strip));
        foreach (var (from, to) in _renames)
        {
            if (path == from) { path = to; break; }
            if (from.Length == 0 || path.StartsWith(from + "/", StringComparison.Ordinal))
            {
                path = from.Length == 0 ? $"{to}/{path}" : to + path[from.Length..];
                break;
            }
        }
        path = path.Trim('/');
        var prefix = Destination.Prefix.Trim('/');
        return prefix.Length == 0 ? path : path.Length == 0 ? prefix : $"{prefix}/{path}";
    }

    /// <summary>
    /// The destination path under which the repositories of a source prefix (empty: a whole registry) land; null when
    /// renames may move some of them elsewhere.
    /// </summary>
    public string? MapPrefix(string sourcePrefix)
    {
        if (_renames.Length > 0) return null;
        var path = string.Join('/', sourcePrefix.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(_strip));
        var prefix = Destination.Prefix.Trim('/');
        return prefix.Length == 0 ? path : path.Length == 0 ? prefix : $"{prefix}/{path}";
    }

    /// <summary>The reference at the destination: same tag and digest, mapped registry and repository.</summary>
    public ImageReference Map(ImageReference source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source with { Registry = Destination.Registry, Repository = MapRepository(source.Repository, source.ToString()) };
    }
}
