using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Registry;

/// <summary>
/// A tag's HEAD names its manifest by the registry's Docker-Content-Digest, which only the bytes can prove. A registry
/// whose header lies names a digest it holds nothing under, and reading that would say "not found": the tag is read
/// again by name, so that a tag that is gone stays not found and bytes of another digest are called what they are.
/// </summary>
internal static class HeadDigests
{
    public static async Task<ManifestContent> ReadAsync(Func<Task<ManifestContent>> byDigest, Func<Task<ManifestContent>> byTag, string headDigest, object target)
    {
        try
        {
            return await byDigest().ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.ErrorId == RegistryErrorIds.ManifestNotFound)
        {
            // The GET checks its own Docker-Content-Digest against the bytes and throws DigestMismatch when that lies too.
            var manifest = await byTag().ConfigureAwait(false);
            if (manifest.Digest != headDigest)
                throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                    $"The registry's HEAD of '{target}' says its manifest is {headDigest}, but it holds no manifest of that digest and the tag's bytes hash to {manifest.Digest}; its Docker-Content-Digest header is wrong. Do not trust this registry's copy of the tag until it answers consistently.",
                    target, ex);
            return manifest;
        }
    }
}
