using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;

namespace HarborOps.Engine.Manifests;

/// <summary>
/// What a registry sends is data, not the user's input: a malformed digest or tag from a server is the failure of the
/// item that carries it (InvalidData, never terminating), caught before it can reach a URL or a file path.
/// </summary>
internal static class ManifestChecks
{
    /// <summary>Throws ManifestInvalid when a descriptor of the manifest names a digest that is not sha256/sha512 hex.</summary>
    public static void RequireValidDigests(ManifestContent manifest, object? target)
    {
        IEnumerable<OciDescriptor> descriptors = manifest.Layers.Concat(manifest.Manifests);
        if (manifest.Config is not null) descriptors = descriptors.Prepend(manifest.Config);
        if (manifest.Subject is not null) descriptors = descriptors.Append(manifest.Subject);
        foreach (var descriptor in descriptors)
            if (!ImageReference.IsValidDigest(descriptor.Digest))
                throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
                    $"The manifest of {target} names the digest {Shown(descriptor.Digest)}, which is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>; the image is damaged at the source and is not copied.",
                    target);
    }

    /// <summary>Throws ManifestInvalid when a referrers list from a registry names a malformed digest.</summary>
    public static void RequireValidDigests(IEnumerable<OciDescriptor> referrers, object? target)
    {
        foreach (var referrer in referrers)
            if (!ImageReference.IsValidDigest(referrer.Digest))
                throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
                    $"The referrers of {target} name the digest {Shown(referrer.Digest)}, which is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>; the registry's referrers list is damaged.",
                    target);
    }

    /// <summary>A tag from a registry's tag list, or TagNameInvalid (for that tag alone) when it breaks the tag grammar.</summary>
    public static RegistryException? InvalidTag(string tag, string repository) =>
        ImageReference.IsValidTag(tag)
            ? null
            : new RegistryException(RegistryErrorIds.TagNameInvalid, FailureKind.InvalidData,
                $"The registry listed a tag {Shown(tag)} in '{repository}' that breaks the tag grammar (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'); it is skipped and never used in a URL or path. Rename or delete it at the source.",
                $"{repository}:{Shown(tag)}");

    /// <summary>A repository from a registry's catalog, or RepositoryNameInvalid (for that repository alone) when it breaks the grammar.</summary>
    public static RegistryException? InvalidRepository(string repository, string registry) =>
        ImageReference.IsValidRepository(registry, repository)
            ? null
            : new RegistryException(RegistryErrorIds.RepositoryNameInvalid, FailureKind.InvalidData,
                $"The registry '{registry}' listed a repository {Shown(repository)} that breaks the repository grammar (lowercase path components of letters and digits joined by '.', '_', '__' or '-', separated by single '/', at most {ImageReference.MaxNameLength} characters with the registry); it is skipped and never used in a URL or path. Rename or delete it at the registry.",
                $"{registry}/{Shown(repository)}");

    /// <summary>A server's value as a message may show it: quoted, escaped (no newline reaches a log line) and cut short.</summary>
    public static string Shown(string value)
    {
        const int Longest = 80;
        var cut = value.Length > Longest ? value[..Longest] : value;
        var quoted = JsonSerializer.Serialize(cut, ShownOptions);
        return value.Length > Longest ? $"{quoted}... ({value.Length} characters)" : quoted;
    }

    private static readonly JsonSerializerOptions ShownOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
