using System.Net;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Test-RegistryImage's question, for one run: does each image exist, by one manifest HEAD (the tag, or the digest when
/// the reference has one). A reference asked several times in a run (the same image in many files) is asked once.
/// </summary>
public sealed class RegistryImageCheck
{
    private readonly RegistryEngine _engine;
    private readonly NetworkCredential? _credential;
    private readonly Dictionary<string, Task<OciDescriptor?>> _asked = new(StringComparer.Ordinal);

    /// <param name="engine">The engine whose stores (and credentials) answer.</param>
    /// <param name="credential">Credential for this run; otherwise the session credential, the docker config, or anonymous.</param>
    public RegistryImageCheck(RegistryEngine engine, NetworkCredential? credential)
    {
        this._engine = engine ?? throw new ArgumentNullException(nameof(engine));
        this._credential = credential;
    }

    /// <summary>
    /// Whether the image <paramref name="reference"/> names exists (a missing image is an answer, Missing), with the
    /// digest the registry serves; <paramref name="path"/> and <paramref name="line"/> say where the reference came from.
    /// Throws ReferenceInvalid for text that is no reference, and the store's failure when it cannot be asked.
    /// </summary>
    public async Task<RegistryImageStatus> CheckAsync(string reference, string? path, int? line, CancellationToken cancellationToken)
    {
        var parsed = ImageReference.Parse(reference);
        var key = parsed.ToString();
        Task<OciDescriptor?> head;
        lock (_asked)
        {
            if (!_asked.TryGetValue(key, out head!))
            {
                var (store, repository) = _engine.OpenStore(parsed, _credential);
                _asked[key] = head = store.HeadManifestAsync(repository, parsed.ManifestReference, cancellationToken);
            }
        }
        var descriptor = await head.ConfigureAwait(false);
        return new RegistryImageStatus
        {
            Reference = key,
            State = descriptor is null ? RegistryImageState.Missing : RegistryImageState.Exists,
            Digest = descriptor?.Digest,
            MediaType = descriptor?.MediaType,
            Path = path,
            Line = line,
        };
    }
}
