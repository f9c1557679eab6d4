using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Where a source repository lands: the destination registry and prefix with Copy-RegistryImage's stripping and
/// renames applied. Copy-RegistryImage copies by it and Update-ImageReference rewrites references by it, so a chart
/// rewritten with the same options names exactly the repositories the copy wrote.
/// </summary>
public sealed class ImageMapping
{
    private readonly RepositoryMapper mapper;

    public ImageMapping(CopyDestination destination, int stripPrefixSegments, IReadOnlyDictionary<string, string>? renames)
    {
        Destination = destination ?? throw new ArgumentNullException(nameof(destination));
        mapper = new RepositoryMapper(stripPrefixSegments, renames ?? new Dictionary<string, string>(), destination.Prefix);
    }

    /// <summary>The mapping of a copy request (its destination, destination prefix, stripped segments and renames).</summary>
    public static ImageMapping For(string destination, string? destinationPrefix, int stripPrefixSegments, IReadOnlyDictionary<string, string>? renames) =>
        new(CopyDestination.Parse(destination, destinationPrefix), stripPrefixSegments, renames);

    public CopyDestination Destination { get; }

    /// <summary>
    /// The destination repository of <paramref name="sourceRepository"/>; throws CopyMappingInvalid when stripping leaves
    /// nothing, or when nothing is left to append to a registry destination (<paramref name="sourceText"/> names the item).
    /// </summary>
    public string MapRepository(string sourceRepository, string sourceText)
    {
        var mapped = mapper.Map(sourceRepository);
        if (mapped.Length == 0 && !Destination.Registry.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal))
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"'{sourceText}' has no repository path to append to the destination '{Destination.Text}'. Give the destination a path, e.g. {Destination.Registry}/migrated/app.", sourceText);
        return mapped;
    }

    /// <summary>The reference at the destination: same tag and digest, mapped registry and repository.</summary>
    public ImageReference Map(ImageReference source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source with { Registry = Destination.Registry, Repository = MapRepository(source.Repository, source.ToString()) };
    }
}
