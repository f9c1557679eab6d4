using System.Diagnostics;
using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.PullLoad;

/// <summary>
/// One image pull the way a kubelet's runtime (containerd) makes it on a node that has none of the image: the manifest
/// by tag, the node's platform picked from an index, then the config and every layer, a few at a time, each verified
/// against its digest and thrown away. Foreign layers (with urls) are skipped, as registries do not serve them.
/// </summary>
internal static class KubeletPull
{
    internal sealed record Outcome(TimeSpan TimeToManifest, long Bytes);

    public static async Task<Outcome> RunAsync(RegistryEngine node, ImageReference image, PlatformFilter platform, int layerParallelism,
        NetworkCredential? credential, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var store = node.OpenStore(image.Registry, credential);
        var manifest = await store.GetManifestAsync(image.Repository, image.ManifestReference, cancellationToken).ConfigureAwait(false);
        var timeToManifest = clock.Elapsed;
        long bytes = manifest.Size;
        if (manifest.IsIndex)
        {
            var child = manifest.Manifests.FirstOrDefault(m => platform.Matches(m.Platform))
                ?? throw new HarborOpsException(PullLoadErrorIds.PlatformMissing, FailureKind.NotFound,
                    $"{image} has no {platform} image (it has {string.Join(", ", manifest.Manifests.Select(m => m.Platform?.ToString()).Where(p => p is not null).Distinct())}); pass -Platform with one of those.",
                    image.ToString());
            manifest = await store.GetManifestAsync(image.Repository, child.Digest, cancellationToken).ConfigureAwait(false);
            bytes += manifest.Size;
        }
        var blobs = new List<OciDescriptor>();
        if (manifest.Config is { } config) blobs.Add(config);
        blobs.AddRange(manifest.Layers.Where(l => l.Urls.Count == 0));
        long blobBytes = 0;
        await Parallel.ForEachAsync(blobs, new ParallelOptions { MaxDegreeOfParallelism = layerParallelism, CancellationToken = cancellationToken },
            async (blob, ct) =>
            {
                // The store's stream checks the digest at its end: reading to the end is the verification.
                await using var stream = await store.OpenBlobAsync(image.Repository, blob.Digest, blob.Size, ct).ConfigureAwait(false);
                var read = await DrainAsync(stream, ct).ConfigureAwait(false);
                Interlocked.Add(ref blobBytes, read);
            }).ConfigureAwait(false);
        return new Outcome(timeToManifest, bytes + blobBytes);
    }

    private static async Task<long> DrainAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0) total += read;
        return total;
    }
}
