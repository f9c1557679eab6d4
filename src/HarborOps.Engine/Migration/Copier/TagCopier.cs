using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.Registry.Store;
using HarborOps.Models;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Copies one tag (or untagged digest): decides what must be done (<see cref="TagDecider"/>), writes it, reports the
/// result, and then copies what refers to it. A tag is written only after everything under it is present; its failure
/// is its own result and the run goes on.
/// </summary>
internal sealed class TagCopier
{
    private readonly CopyContext _context;
    private readonly CopyTally _tally;
    private readonly ManifestMover _manifests;
    private readonly TagDecider _decider;

    public TagCopier(CopyContext context, CopyTally tally, SourceReader source, ManifestMover manifests)
    {
        this._context = context;
        this._tally = tally;
        this._manifests = manifests;
        _decider = new TagDecider(context, source, new TagFilters(context, source));
        Referrers = new ReferrerCopier(context, tally, source, manifests, CopyAsync);
    }

    /// <summary>The referrer walks, which copy referrer tags through this copier.</summary>
    public ReferrerCopier Referrers { get; }

    /// <summary>Copies <paramref name="work"/>; <paramref name="subject"/> is set for a referrer tag, the digest it refers to.</summary>
    public Task<CopyResult?> CopyAsync(RepositoryPlan plan, TagWork work, string? subject, bool probeReferrers, CancellationToken cancellationToken)
    {
        if (work.Tag.Length == 0) return CopyOnceAsync(plan, work, subject, probeReferrers, cancellationToken);
        // A referrer tag can be reached from more than one walk; it is copied once.
        return plan.TagCopies.RunAsync(work.Tag, () => CopyOnceAsync(plan, work, subject, probeReferrers, cancellationToken));
    }

    private async Task<CopyResult?> CopyOnceAsync(RepositoryPlan plan, TagWork work, string? subject, bool probeReferrers, CancellationToken cancellationToken)
    {
        var tag = work.Tag;
        if (tag.Length > 0 && ManifestChecks.InvalidTag(tag, plan.SourceName) is { } invalidTag)
        {
            // A name the registry sent that no URL or path may carry: that tag fails alone, shown escaped.
            var shown = ManifestChecks.Shown(tag);
            var named = new TagJob(plan, work, subject, probeReferrers, $"{plan.SourceName}:{shown}", $"{plan.DestinationName}:{shown}") { Digest = null, MediaType = "" };
            return EmitFailed(named, invalidTag);
        }

        var reference = tag.Length > 0 ? tag : work.Digest;
        var job = new TagJob(plan, work, subject, probeReferrers,
            plan.Source.ItemName(plan.SourceRepository, reference), _context.DestinationStore.ItemName(plan.DestinationRepository, reference));
        TagDecision decision;
        var action = CopyAction.Skipped;
        try
        {
            decision = await _decider.DecideAsync(job, cancellationToken).ConfigureAwait(false);
            if (decision.Verdict == TagVerdict.Write)
                action = await WriteAsync(job, decision, cancellationToken).ConfigureAwait(false);
        }
        catch (HarborOpsException ex) when (!ex.IsTerminating)
        {
            job.DiscardDestinationHeadFailure();
            return EmitFailed(job, ex);
        }

        switch (decision.Verdict)
        {
            case TagVerdict.Failed:
                return EmitFailed(job, decision.Failure!);
            case TagVerdict.FilteredOut:
                var skipped = job.Result(CopyAction.Skipped, decision.SkipReason!);
                _tally.Emit(skipped);
                return skipped;
        }
        var result = job.Result(action, ReasonFor(decision, job)) with { SourceDigest = decision.SourceDigest };
        _tally.Emit(result);
        if (_context.Request.IncludeReferrers && decision.Verdict != TagVerdict.KeptByNoClobber)
            await Referrers.CopyReferrersOfTagAsync(job, decision, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// The write step: the referrer tags start moving their blobs alongside, everything under the manifest is made
    /// present, then the manifest is written under the tag (or its digest). Planning writes nothing.
    /// </summary>
    private async Task<CopyAction> WriteAsync(TagJob job, TagDecision decision, CancellationToken cancellationToken)
    {
        var plan = job.Plan;
        var digest = job.Digest!;
        var manifest = decision.Manifest!;
        if (_context.Request.IncludeReferrers && job.Subject is null && decision.SourceDigest is null)
            Referrers.PrefetchTagsOf(plan, digest, cancellationToken);
        await _manifests.EnsureDependenciesAsync(plan, manifest, job.Counters, cancellationToken).ConfigureAwait(false);
        if (_context.PlanOnly) return CopyAction.Planned;
        await _manifests.PutAsync(plan, job.Tag.Length > 0 ? job.Tag : digest, digest, manifest, cancellationToken).ConfigureAwait(false);
        return job.Previous is null ? CopyAction.Copied : CopyAction.Updated;
    }

    private static string ReasonFor(TagDecision decision, TagJob job)
    {
        var reason = decision.Verdict switch
        {
            TagVerdict.Unchanged => "unchanged",
            TagVerdict.KeptByNoClobber => "NoClobber",
            _ => job.Previous is null ? "new" : "differs",
        };
        return decision.Note is null ? reason : $"{reason}; {decision.Note}";
    }

    private CopyResult EmitFailed(TagJob job, HarborOpsException failure) =>
        _tally.EmitFailed(job.Result(CopyAction.Failed, failure.Kind.ToString()), failure);
}
