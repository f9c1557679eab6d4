using System.Security.Cryptography;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>
/// A Harbor destination's artifact listing (100 artifacts a request) as the copier's proof that a tag is unchanged, in
/// place of a HEAD per tag. The listing is what a server says, like any registry answer, so it may only ever spare a
/// write, never cause one: a tag whose listed digest is the source's is unchanged; any other tag is HEADed as without
/// the listing, so a write (and the previous digest a result reports) always rests on the registry's own answer. A
/// listing that disagrees with the registry's tag list (a tag one has and the other lacks, a tag listed with two digests)
/// is not used for that repository at all. Referrer tags are never in it: Harbor lists cosign's tags and the tag-schema
/// index as accessories, not tags.
/// </summary>
internal static class DestinationInventory
{
    /// <summary>
    /// The destination repository's image tags with their digests from Harbor's API; null where there is no such listing
    /// (not a Harbor the run knows, the caller refused it, or it disagrees with <paramref name="registryTags"/>).
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, OciDescriptor>?> ReadAsync(IImageStore destination, string repository,
        IReadOnlySet<string> registryTags, CancellationToken cancellationToken)
    {
        if (destination is not HarborInventoryStore harbor) return null;
        List<TaggedManifest>? listed;
        try
        {
            listed = await harbor.TryListThroughApiAsync(repository, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.ErrorId is RegistryErrorIds.RepositoryNotFound || ex.Kind == FailureKind.InvalidData)
        {
            // A listing Harbor will not give for this repository, or one that is not a listing: the HEADs decide.
            return null;
        }
        if (listed is null) return null;
        var digests = new Dictionary<string, OciDescriptor>(StringComparer.Ordinal);
        foreach (var item in listed.Where(i => TagSelection.SubjectOfReferrerTag(i.Tag) is null))
        {
            if (digests.TryGetValue(item.Tag, out var seen) && seen.Digest != item.Manifest.Digest) return null;
            digests[item.Tag] = item.Manifest;
        }
        var imageTags = registryTags.Where(t => TagSelection.SubjectOfReferrerTag(t) is null).ToList();
        if (imageTags.Count != digests.Count || !imageTags.All(digests.ContainsKey)) return null;
        // A Harbor the user named (-Harbor, Connect-Harbor) is trusted as they trust it; one known only by what it says
        // of itself has its listing held against the registry first.
        return !harbor.Detected || await AgreesWithRegistryAsync(harbor, repository, imageTags, digests, cancellationToken).ConfigureAwait(false) ? digests : null;
    }

    /// <summary>
    /// One tag of a detected Harbor's listing, drawn at random so a server cannot tell which, is HEADed at the registry: a listing that disagrees with
    /// the registry's own answer (a Harbor database out of step with its storage, or a server that only claims to be
    /// Harbor) is not used for this repository, nor for any other of the run. A listing that claims the source's digest
    /// for a tag the registry holds otherwise would spare a write that is needed; this bounds it at one HEAD a repository.
    /// </summary>
    private static async Task<bool> AgreesWithRegistryAsync(HarborInventoryStore harbor, string repository, List<string> imageTags,
        Dictionary<string, OciDescriptor> digests, CancellationToken cancellationToken)
    {
        if (imageTags.Count == 0) return true;
        var tag = imageTags[RandomNumberGenerator.GetInt32(imageTags.Count)];
        var head = await harbor.HeadManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        if (head?.Digest == digests[tag].Digest) return true;
        harbor.DistrustListing();
        return false;
    }
}
