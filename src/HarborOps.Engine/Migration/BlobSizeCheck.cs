using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The size of each blob as the destination holds it, per digest for the whole run. A manifest's descriptor sizes are
/// only proven by a transfer (the stream checks them); a blob that was already there, or was mounted, proves nothing,
/// and a manifest naming it with a wrong size would be written and make every pull of its tag fail. So before such a
/// manifest is written, the descriptor is held against what the destination reports, once per digest.
/// </summary>
internal sealed class BlobSizeCheck
{
    private readonly ConcurrentDictionary<string, Lazy<Task<long?>>> _sizes = new(StringComparer.Ordinal);

    /// <summary>The destination answered with this size (a HEAD), or a transfer verified it byte for byte.</summary>
    public void Confirmed(string digest, long size) => _sizes.TryAdd(digest, new Lazy<Task<long?>>(Task.FromResult<long?>(size)));

    public bool IsKnown(string digest) => _sizes.ContainsKey(digest);

    /// <summary>
    /// Throws DigestMismatch when <paramref name="blob"/>'s size is not the destination's; <paramref name="head"/> asks
    /// the destination when nobody has yet (null: it cannot say, and nothing is claimed).
    /// </summary>
    public async Task RequireAsync(OciDescriptor blob, Func<Task<long?>> head, string manifestOf)
    {
        var asked = _sizes.GetOrAdd(blob.Digest, _ => new Lazy<Task<long?>>(head));
        long? actual;
        try
        {
            actual = await asked.Value.ConfigureAwait(false);
        }
        catch
        {
            _sizes.TryRemove(new KeyValuePair<string, Lazy<Task<long?>>>(blob.Digest, asked)); // a failed HEAD is this tag's failure, not the next one's
            throw;
        }
        if (actual is { } size && size != blob.Size)
            throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.InvalidData,
                $"The manifest of '{manifestOf}' says blob {blob.Digest} is {blob.Size} bytes, but that blob has {size} bytes; a manifest with a wrong size breaks every pull, so it is not written and the destination tag keeps what it had. The source's manifest is damaged: re-push the image there.",
                manifestOf);
    }
}
