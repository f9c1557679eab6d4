using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>
/// The migration engine behind Copy-RegistryImage: plan, execute, verify. It inventories both sides (tag lists, then a
/// HEAD per tag; the destination is never GET for an unchanged tag), diffs by digest, and runs a dependency graph per
/// tag: blobs (one transfer per digest for the whole run, cross-repository mounts where a blob already landed), child
/// manifests by digest, then the tag, then its referrers. A tag is written only after everything under it is present
/// at the destination; per-item failures are reported and the run goes on.
/// </summary>
public sealed class ImageCopier
{
    private readonly RegistryEngine _engine;

    /// <summary>A copier over the engine's one HTTP pipeline and token cache.</summary>
    public ImageCopier(RegistryEngine engine)
    {
        this._engine = engine ?? throw new ArgumentNullException(nameof(engine));
    }

    /// <summary>
    /// Copies what <paramref name="request"/> names. <paramref name="onResult"/> receives one <see cref="CopyResult"/>
    /// per tag as soon as the tag is done (from worker threads, one call at a time); a Failed result comes with the
    /// failure that made it, typed (the result's Reason, Error and ErrorId are its kind, message and id), and any other
    /// with null. Throws only for failures that stop the whole run (invalid request, authentication, cancellation);
    /// everything else becomes a Failed result.
    /// </summary>
    public async Task<CopySummary> CopyAsync(CopyRequest request, IProgress<OperationProgress>? progress, Action<CopyResult, HarborOpsException?>? onResult,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Sources.Count == 0)
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                "Nothing to copy: give at least one source (registry/repository[:tag], registry/prefix/*, a registry, or oci:<directory>).");
        if (request.ThrottleLimit is < 1 or > 256)
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"ThrottleLimit is {request.ThrottleLimit}; use 1 to 256 concurrent requests per registry.");
        var run = new CopyRun(_engine, request, progress, onResult);
        return await run.RunAsync(cancellationToken).ConfigureAwait(false);
    }
}
