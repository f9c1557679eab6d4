using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The size of each child manifest an index names, as the copy learnt it for free: the bytes fetched from the source
/// (which hash to the digest), or the destination's HEAD of a child already there. An index whose descriptor claims
/// another size makes every pull of its tag fail on the size, so it must not be written; holding the descriptor
/// against what is known costs no request (the request budgets stay as they are).
/// </summary>
internal sealed class ChildManifestSizes
{
    private readonly ConcurrentDictionary<string, long> _sizes = new(StringComparer.Ordinal);

    /// <summary>A HEAD without a Content-Length (0) proves nothing and is not recorded.</summary>
    public void Known(string digest, long size)
    {
        if (size > 0) _sizes.TryAdd(digest, size);
    }

    /// <summary>A manifest fetched from the source: its bytes are its size.</summary>
    public ManifestContent Known(ManifestContent manifest)
    {
        Known(manifest.Digest, manifest.Size);
        return manifest;
    }

    /// <summary>
    /// Once <paramref name="ensured"/> (the child made present at the destination) is done, throws DigestMismatch when
    /// <paramref name="child"/>'s size is not the size its manifest has.
    /// </summary>
    public async Task RequireAsync(OciDescriptor child, Task ensured, string indexOf)
    {
        await ensured.ConfigureAwait(false);
        if (_sizes.TryGetValue(child.Digest, out var size) && size != child.Size)
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"The index of '{indexOf}' says its child manifest {child.Digest} is {child.Size} bytes, but that manifest has {size} bytes; an index with a wrong size breaks every pull, so it is not written and the destination tag keeps what it had. The source's index is damaged: re-push the image there.",
                indexOf);
    }
}
