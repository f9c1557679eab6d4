using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>
/// The smallest faithful copy through <see cref="IImageStore"/> (blobs, then child manifests by digest, then the tagged
/// manifest), used to prove both directions of every store; the real copy engine with its plan and journal comes later.
/// </summary>
internal static class ImageStoreCopy
{
    public static async Task CopyAsync(IImageStore from, string fromRepo, IImageStore to, string toRepo, string reference)
    {
        var manifest = await from.GetManifestAsync(fromRepo, reference, default);
        await CopyContentAsync(from, fromRepo, to, toRepo, manifest);
        await to.PutManifestAsync(toRepo, reference, manifest, default);
    }

    private static async Task CopyContentAsync(IImageStore from, string fromRepo, IImageStore to, string toRepo, ManifestContent manifest)
    {
        foreach (var child in manifest.Manifests)
        {
            var childManifest = await from.GetManifestAsync(fromRepo, child.Digest, default);
            await CopyContentAsync(from, fromRepo, to, toRepo, childManifest);
            await to.PutManifestAsync(toRepo, child.Digest, childManifest, default);
        }
        foreach (var blob in manifest.Blobs())
        {
            if (await to.HeadBlobAsync(toRepo, blob.Digest, default) is not null) continue;
            await using var stream = await from.OpenBlobAsync(fromRepo, blob.Digest, blob.Size, default);
            await to.PutBlobAsync(toRepo, blob.Digest, blob.Size, stream, default);
        }
    }
}
