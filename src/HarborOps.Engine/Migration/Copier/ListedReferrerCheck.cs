using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Holds a referrer the source's referrers API listed against the manifest it names, before the copy writes it or lists
/// it in the destination's referrers index: the descriptor must tell the manifest's true size and media type (an index
/// entry with a wrong size breaks every client that reads it), and the manifest must name the image as its subject
/// (distribution-spec v1.1 "Listing Referrers": each descriptor is of a manifest whose subject is that digest), or a
/// broken or hostile registry could attach any manifest of the repository to an image as its signature or SBOM.
/// The manifest's digest is already proven: it was read by that digest, and its bytes hash to it.
/// </summary>
internal static class ListedReferrerCheck
{
    public static void Require(OciDescriptor listed, ManifestContent manifest, string subject, string item)
    {
        if (listed.Size != manifest.Size || !string.Equals(MediaTypes.Normalize(listed.MediaType), MediaTypes.Normalize(manifest.MediaType), StringComparison.Ordinal))
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"The referrers list of '{item}' describes {listed.Digest} as {listed.Size} bytes of {listed.MediaType}, but that manifest has {manifest.Size} bytes of {manifest.MediaType}; a referrer with a wrong descriptor breaks every client that reads it, so it is neither copied nor listed. The source registry's referrers list is damaged.",
                item);
        if (manifest.Subject?.Digest != subject)
            throw new RegistryException(RegistryErrorIds.ManifestInvalid, FailureKind.InvalidData,
                $"The referrers list of '{item}' names {listed.Digest}, but that manifest's subject is {manifest.Subject?.Digest ?? "absent"}, not {subject}; it is not copied as a referrer of that image. The source registry's referrers list is wrong.",
                item);
    }
}
