using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Resilience;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Makes blobs present at the destination: each digest once per destination repository, found there by a HEAD, mounted
/// from another destination repository where it already landed (by this run, an earlier run of its journal, or the
/// shard that owns it in a sharded run, see <see cref="BorrowedBlobs"/>), or else transferred, and one transfer per
/// digest for the whole run.
/// </summary>
internal sealed class BlobMover
{
    private enum BlobOutcome { Present, Mounted, Transferred }

    private readonly CopyContext _context;
    private readonly CopyTally _tally;
    private readonly RegistryEngine _engine;
    private readonly HostThrottle _throttle;
    private readonly IImageStore _destinationStore;
    private readonly CopyJournal? _journal;
    private readonly BorrowedBlobs _borrowed;
    private readonly OncePerKey<string, BlobOutcome> _blobs = new(StringComparer.Ordinal);
    private readonly OncePerKey<string, (string Repository, BlobOutcome Outcome)> _transfers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _blobLocations = new(StringComparer.Ordinal);
    // What an upload made ahead of its tags moved, until the first tag that needs the blob claims it for its result.
    private readonly ConcurrentDictionary<string, TagCounters> _movedAhead = new(StringComparer.Ordinal);
    private readonly BlobSizeCheck _blobSizes = new();

    /// <summary>A mover for one run; the run's journal must be open already.</summary>
    public BlobMover(CopyContext context, CopyTally tally, BorrowedBlobs borrowed)
    {
        _borrowed = borrowed;
        this._context = context;
        this._tally = tally;
        _engine = context.Engine;
        _throttle = context.Throttle;
        _destinationStore = context.DestinationStore;
        _journal = context.Journal;
    }

    private bool PlanOnly => _context.PlanOnly;

    /// <summary>
    /// <paramref name="blob"/> present in the plan's destination repository, with the size its descriptor claims (a
    /// planned blob nobody has seen is not checked).
    /// </summary>
    public async Task EnsureBlobAsync(RepositoryPlan plan, OciDescriptor blob, TagCounters counters, CancellationToken cancellationToken)
    {
        var key = plan.DestinationRepository + "@" + blob.Digest;
        await _blobs.RunAsync(key, () => EnsureBlobOnceAsync(plan, blob, counters, cancellationToken), out var startedHere).ConfigureAwait(false);
        if (!startedHere && _movedAhead.TryRemove(key, out var ahead)) counters.Add(ahead);
        if (PlanOnly && !_blobSizes.IsKnown(blob.Digest)) return;
        await _blobSizes.RequireAsync(blob, () => _throttle.RunAsync(_destinationStore.Registry,
            () => _destinationStore.HeadBlobAsync(plan.DestinationRepository, blob.Digest, cancellationToken), cancellationToken), plan.SourceName).ConfigureAwait(false);
    }

    /// <summary>
    /// <paramref name="blob"/> made present before any tag asks for it (<see cref="EnsureBlobAsync"/> then finds it done or
    /// under way): what it moved counts with the first tag that needs it. Failures are the tags' to report, with the
    /// same error.
    /// </summary>
    public async Task EnsureAheadAsync(RepositoryPlan plan, OciDescriptor blob, CancellationToken cancellationToken)
    {
        var key = plan.DestinationRepository + "@" + blob.Digest;
        try
        {
            await _blobs.RunAsync(key, async () =>
            {
                var counters = new TagCounters();
                var outcome = await EnsureBlobOnceAsync(plan, blob, counters, cancellationToken).ConfigureAwait(false);
                // Kept before the run completes, so a tag that awaited it finds it.
                _movedAhead[key] = counters;
                return outcome;
            }).ConfigureAwait(false);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            // Reported by the tags that need the blob: they get the same failure.
        }
    }

    private async Task<BlobOutcome> EnsureBlobOnceAsync(RepositoryPlan plan, OciDescriptor blob, TagCounters counters, CancellationToken cancellationToken)
    {
        var repository = plan.DestinationRepository;
        var digest = blob.Digest;
        var candidates = MountCandidates(plan, digest).Take(2).ToList();
        // A destination that folds the presence check into the upload start needs no HEAD before an upload; a plan, or
        // a mount that would otherwise report a blob the repository already has as mounted, still asks first.
        var headFirst = !plan.DestinationIsNew && (PlanOnly || candidates.Count > 0 || _destinationStore is not IBlobUploadUnlessPresent);
        var size = !headFirst ? null
            : await _throttle.RunAsync(_destinationStore.Registry, () => _destinationStore.HeadBlobAsync(repository, digest, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (size is not null)
        {
            _blobSizes.Confirmed(digest, size.Value);
            return RecordAlreadyPresent(repository, digest, counters);
        }

        foreach (var from in candidates)
            if (await TryMountAsync(plan, digest, from, counters, cancellationToken).ConfigureAwait(false))
                return BlobOutcome.Mounted;

        // A blob another shard needs too may be that shard's to upload: this shard waits for it there and mounts it.
        if (await _borrowed.WaitAsync(blob, cancellationToken).ConfigureAwait(false) is { } landedElsewhere)
        {
            if (landedElsewhere == repository) return RecordAlreadyPresent(repository, digest, counters);
            RememberLocation(digest, landedElsewhere);
            // Short too, and the tag has waited long enough: not behind this shard's uploads.
            if (await HostThrottle.FirstInLine(() => TryMountAsync(plan, digest, landedElsewhere, counters, cancellationToken)).ConfigureAwait(false))
                return BlobOutcome.Mounted;
        }

        // Other shards wait for a blob this shard owns: its upload goes first in line, whichever tag reached it first.
        var othersWait = await _borrowed.OthersWaitForAsync(digest).ConfigureAwait(false);
        if (!othersWait) await _borrowed.BeforeOwnUploadAsync().ConfigureAwait(false);
        // One transfer per digest for the whole run: later repositories wait for it and mount from where it landed.
        var flight = _transfers.RunAsync(digest, () => othersWait
            ? HostThrottle.FirstInLine(() => TransferAsync(plan, blob, counters, cancellationToken))
            : TransferAsync(plan, blob, counters, cancellationToken), out var transferredHere);
        if (transferredHere)
            return (await flight.ConfigureAwait(false)).Outcome;
        string? landed = null;
        try
        {
            landed = (await flight.ConfigureAwait(false)).Repository;
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            // That transfer failed for its repository; this one tries on its own below.
        }
        if (landed is not null && landed != repository && await TryMountAsync(plan, digest, landed, counters, cancellationToken).ConfigureAwait(false))
            return BlobOutcome.Mounted;
        return (await TransferAsync(plan, blob, counters, cancellationToken).ConfigureAwait(false)).Outcome;
    }

    /// <summary>The destination repository already holds the blob: noted as a place to mount it from, and counted as present.</summary>
    private BlobOutcome RecordAlreadyPresent(string repository, string digest, TagCounters counters)
    {
        RememberLocation(digest, repository);
        counters.Skipped();
        _tally.BlobAlreadyPresent();
        return BlobOutcome.Present;
    }

    private IEnumerable<string> MountCandidates(RepositoryPlan plan, string digest)
    {
        var repository = plan.DestinationRepository;
        if (_blobLocations.TryGetValue(digest, out var known))
            foreach (var location in known.Keys)
                if (location != repository) yield return location;
        if (_journal is not null)
            foreach (var location in _journal.RepositoriesWithBlob(digest))
                if (location != repository && (known is null || !known.ContainsKey(location))) yield return location;
        // Copying within one registry: the blob is already in the source repository there.
        if (plan.Source.Registry == _destinationStore.Registry && plan.SourceRepository != repository && plan.SourceRepository.Length > 0)
            yield return plan.SourceRepository;
    }

    private async Task<bool> TryMountAsync(RepositoryPlan plan, string digest, string from, TagCounters counters, CancellationToken cancellationToken)
    {
        var repository = plan.DestinationRepository;
        if (!PlanOnly)
        {
            await _context.BeforeFirstWriteAsync(plan, cancellationToken).ConfigureAwait(false);
            var mounted = await _throttle.RunAsync(_destinationStore.Registry, () => _destinationStore.TryMountBlobAsync(repository, digest, from, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (!mounted) return false;
            if (_journal is not null) await _journal.RecordBlobAsync(repository, digest, cancellationToken).ConfigureAwait(false);
        }
        RememberLocation(digest, repository);
        counters.Mounted();
        _tally.BlobMounted();
        return true;
    }

    private void RememberLocation(string digest, string repository) =>
        _blobLocations.GetOrAdd(digest, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(repository, 0);

    /// <summary>
    /// Streams one blob from the source to the destination (no temp file): the source stream verifies the digest as it
    /// is read and the upload is committed only after the last byte verified. A transfer that fails on the way
    /// (throttling, 5xx, a connection drop the download could not resume, a digest mismatch in transit) starts over.
    /// Where the destination folds the presence check into the upload start, a blob it already holds (left by an
    /// interrupted run that wrote no journal) is not moved again, and the download is opened while the upload starts.
    /// </summary>
    private async Task<(string Repository, BlobOutcome Outcome)> TransferAsync(RepositoryPlan plan, OciDescriptor blob, TagCounters counters, CancellationToken cancellationToken)
    {
        var repository = plan.DestinationRepository;
        if (!PlanOnly)
        {
            await _context.BeforeFirstWriteAsync(plan, cancellationToken).ConfigureAwait(false);
            // The throttle slot is held across the retries, so a failing host does not get a fresh slot per attempt.
            var uploaded = await _throttle.RunAsync(_destinationStore.Registry, () => _engine.Pipeline.Resilience.RunAsync(async _ =>
            {
                if (_destinationStore is IBlobUploadUnlessPresent unlessPresent)
                    return await PutUnlessPresentAsync(unlessPresent, plan, blob, cancellationToken).ConfigureAwait(false);
                await using var content = await plan.Source.OpenBlobAsync(plan.SourceRepository, blob.Digest, blob.Size, cancellationToken).ConfigureAwait(false);
                await _destinationStore.PutBlobAsync(repository, blob.Digest, blob.Size, content, cancellationToken).ConfigureAwait(false);
                return true;
            }, ex => IsWorthRetrying(ex, cancellationToken), cancellationToken), cancellationToken).ConfigureAwait(false);
            if (!uploaded) return (repository, RecordAlreadyPresent(repository, blob.Digest, counters));
            _blobSizes.Confirmed(blob.Digest, blob.Size); // the source stream verified the descriptor's size as it went
            if (_journal is not null) await _journal.RecordBlobAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false);
        }
        RememberLocation(blob.Digest, repository);
        counters.Copied(blob.Size);
        _tally.BlobTransferred(blob.Size);
        return (repository, BlobOutcome.Transferred);
    }

    /// <summary>The download and the upload start overlap (two round trips become one); false when the blob was there.</summary>
    private static async Task<bool> PutUnlessPresentAsync(IBlobUploadUnlessPresent destination, RepositoryPlan plan, OciDescriptor blob, CancellationToken cancellationToken)
    {
        var opening = plan.Source.OpenBlobAsync(plan.SourceRepository, blob.Digest, blob.Size, cancellationToken);
        try
        {
            return await destination.PutBlobUnlessPresentAsync(plan.DestinationRepository, blob.Digest, blob.Size, () => opening, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await (await opening.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HarborOpsException or IOException or HttpRequestException or OperationCanceledException)
            {
                // A failed download either failed the upload above (and that is the error reported) or was not needed
                // because the destination already had the blob.
            }
        }
    }

    private static bool IsWorthRetrying(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex switch
        {
            RegistryException r => r.Kind is FailureKind.ConnectionFailed or FailureKind.Timeout or FailureKind.ServerError or FailureKind.Throttled
                || r.ErrorId == RegistryErrorIds.DigestMismatch,
            IOException or HttpRequestException => true,
            _ => false,
        };
}
