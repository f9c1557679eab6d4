using System.Collections;
using System.Management.Automation;
using HarborOps.Engine;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Copies images, with their signatures and SBOMs, from one registry (or OCI layout) to another, digest for digest.</summary>
/// <remarks>
/// <para>Copy-RegistryImage copies one tag or digest, a repository, every repository under a path prefix
/// ("registry/team/*"), a whole registry (its catalog) or an OCI layout directory, and everything piped to it from
/// Get-RegistryTag or Get-RegistryRepository, in one run. Each source repository lands under the destination with its
/// path appended: "harbor.example.com/migrated" receives "team/app" as "migrated/team/app". -StripPrefixSegments drops
/// leading path segments first and -Rename maps repository paths (a key matches a repository or a leading path).</para>
/// <para>Manifests and indexes are copied byte for byte, so every digest stays the same. Signatures, attestations and
/// SBOMs come along after the image they refer to: cosign's sha256-&lt;hex&gt;.sig/.att/.sbom tags, the referrers
/// tag-schema index and the referrers API. -ExcludeReferrers leaves them behind.</para>
/// <para>Each blob is moved at most once per run: it is looked up at the destination first (HEAD), mounted from
/// another destination repository when it already sits there, and otherwise streamed from the source to the
/// destination without a temporary file, verified against its digest on the way. A tag is written only after
/// everything under it is at the destination, so no tag ever points at an incomplete image. A tag whose destination
/// already has the same digest costs one request. A differing destination tag is updated unless -NoClobber.</para>
/// <para>A failure of one tag (a missing repository, a refused push) is written as an error and the run goes on.
/// With -JournalPath, finished blobs are recorded in a file, so a run interrupted by Ctrl+C, a crash or a killed
/// process resumes where it stopped when started again with the same journal. One run holds a journal at a time (a
/// second run on it stops before copying anything), and a file that is not a journal is refused and left as it is.</para>
/// <para>-Platform copies only the named platforms of multi-platform images. An index with other platforms is written
/// as a new index holding only the matching children, so its destination digest differs from the source's (each
/// result's SourceDigest names the source's, and a warning says how many differ); parity checks that compare source
/// and destination digests will report those tags, and the source index's signatures stay behind because they sign a
/// digest the destination does not have. The children themselves keep their digests and signatures. An image of
/// another platform is skipped with the reason.</para>
/// <para>-Since copies only tags whose image was created at or after the given time, as the image config's "created"
/// field records it (for an index, its newest child's), from a registry or an OCI layout alike. A tag whose time
/// cannot be read is copied anyway and its Reason says so. From Azure Container Registry the time is the manifest's
/// lastUpdateTime from ACR's own listing (when it was pushed or last re-tagged), so older tags cost no request at all.</para>
/// <para>Azure Container Registry sources (*.azurecr.io and the sovereign clouds' suffixes, or hosts named in the
/// HARBOROPS_ACR_HOSTS environment variable) are listed with ACR's /acr/v1 API: every tag with its digest in one paged
/// call. Sign in with Set-RegistryCredential -UseAzureIdentity (Entra ID through DefaultAzureCredential), an admin user,
/// a service principal secret or a repository-scoped token. A tag locked against reads (readEnabled=false) is reported
/// with the error id RegistryItemReadDisabled and the rest is copied.</para>
/// <para>The output is one object per tag (Action Copied, Updated, Skipped or Failed, with bytes moved) and a summary
/// object last. -WhatIf reads both sides and prints what would be copied and how many bytes would move.</para>
/// <para>Harbor keeps repositories in projects and refuses a push into a missing project with a bare "unauthorized".
/// When the destination is a Harbor (-CreateProject, -Harbor, or the Harbor of the Connect-Harbor session), the
/// projects of the destination repositories are looked up through Harbor's API first, with -DestinationCredential (or
/// the session's credential). -CreateProject creates each missing project once per run, private unless
/// -ProjectSettings says otherwise, asking for confirmation per project; -WhatIf lists the projects it would create.
/// Without -CreateProject the images of a missing project fail with an error naming the project.</para>
/// <para>-ShardCount N splits a migration into N runs that can go side by side (a Kubernetes Indexed Job, one pod per
/// shard): the run with -ShardIndex i (default: the JOB_COMPLETION_INDEX environment variable) copies the source
/// repositories whose path hashes to i (the first 8 bytes of its SHA-256, modulo N), with all their tags, so every tag
/// is copied by exactly one shard, the same one on every run and machine, and a failed shard is re-run alone.
/// -ShardBy Tag splits each repository's tags instead, for a repository too large for one shard (a referrer tag goes
/// with its image's digest). A layer that repositories (or tags) of different shards share moves once between them:
/// every shard reads from the source what every shard copies, so all agree which of the shards that need a layer
/// uploads it (chosen by its digest); that shard uploads it first, and the others wait for it and mount it
/// (-SharedBlobWait bounds the wait, for a shard that failed or has not started). Each shard is
/// resumable with its own -JournalPath; its summary says which shard it was (Shard, ShardCount), and -ShardSummaryPath
/// writes it as JSON of at most 4 KiB (counts and the first failures), the pod's termination message in a Job.</para>
/// </remarks>
/// <example>
/// <code>Copy-RegistryImage -Source contoso.azurecr.io -Destination harbor.example.com/migrated -SourceCredential $acr -DestinationCredential $harbor -JournalPath ./acr.journal</code>
/// <para>Copies every repository of the registry to Harbor under migrated/, with signatures, resumable.</para>
/// </example>
/// <example>
/// <code>Get-RegistryTag contoso.azurecr.io/team/app -Tag 'v2.*' | Copy-RegistryImage -Destination harbor.example.com -DestinationPrefix migrated</code>
/// <para>Copies the v2 tags of one repository, as Get-RegistryTag selected them.</para>
/// </example>
/// <example>
/// <code>Copy-RegistryImage contoso.azurecr.io/team/* harbor.example.com/apps -StripPrefixSegments 1 -WhatIf</code>
/// <para>Shows which tags of the repositories under team/ would be copied to apps/&lt;name&gt; and how many bytes would move.</para>
/// </example>
/// <example>
/// <code>Copy-RegistryImage contoso.azurecr.io/team-a/* harbor.example.com -DestinationCredential $harbor -CreateProject -ProjectSettings @{ AutoScan = $true; PreventVulnerable = $true; Severity = 'High' }</code>
/// <para>Copies team-a's repositories into the Harbor project team-a, creating it with scan on push and the vulnerability gate if it is missing.</para>
/// </example>
/// <example>
/// <code>Copy-RegistryImage harbor.example.com/base/debian:bookworm oci:./offline</code>
/// <para>Writes one image with its signature into an OCI image layout directory.</para>
/// </example>
/// <example>
/// <code>Copy-RegistryImage contoso.azurecr.io harbor.example.com/migrated -ShardCount 4 -JournalPath /work/copy.journal -ShardSummaryPath /dev/termination-log</code>
/// <para>In a pod of a 4-completion Indexed Job: copies the quarter of the registry JOB_COMPLETION_INDEX names, resumable, and leaves its summary as the pod's termination message.</para>
/// </example>
/// <example>
/// <code>Copy-RegistryImage contoso.azurecr.io/team/app harbor.example.com/migrated -Platform linux/amd64, linux/arm64 -Since (Get-Date).AddDays(-90)</code>
/// <para>Copies the tags built in the last 90 days, with only their amd64 and arm64 images; trimmed indexes get new digests and a warning says so.</para>
/// </example>
/// <errors>
/// <error id="RegistryReferenceInvalid">A source or the destination does not follow the reference grammar. Fix the value named in the message.</error>
/// <error id="CopyMappingInvalid">A repository cannot be mapped to a destination (stripping leaves no name, a layout image needs a destination path) a tag regex is invalid, or a -Platform value is not os/architecture[/variant].</error>
/// <error id="CopyJournalInvalid">The -JournalPath file cannot be opened or written.</error>
/// <error id="CopyJournalNotAJournal">The -JournalPath file has content but is not a copy journal; it is left unchanged and nothing is copied.</error>
/// <error id="CopyJournalInUse">Another run holds the -JournalPath journal; nothing is copied. Wait for it, or use a journal of your own.</error>
/// <error id="RegistryHostUnreachable">A registry host cannot be resolved or reached. Check the name, the port and the network path.</error>
/// <error id="RegistryAuthenticationFailed">A registry rejected the credential. Check it, or set one with Set-RegistryCredential.</error>
/// <error id="RegistryPermissionDenied">The credential may not pull from the source or push to the destination repository; that item fails, the rest goes on.</error>
/// <error id="RegistryRepositoryNotFound">A source repository does not exist; that item fails, the rest goes on.</error>
/// <error id="RegistryManifestNotFound">A source tag or digest has no manifest; that item fails, the rest goes on.</error>
/// <error id="RegistryBlobNotFound">A blob a source manifest names is missing at the source; that tag fails.</error>
/// <error id="RegistryDigestMismatch">Content did not hash to its digest after the retries, a manifest declares a blob size the blob does not have (or an index a child manifest size the child does not have, or the source's referrers list a referrer size or media type its manifest does not have), or the source's Docker-Content-Digest names a manifest it does not hold; that tag fails, nothing unverified was committed and the destination tag keeps what it had.</error>
/// <error id="RegistryManifestInvalid">A source manifest is not valid (malformed JSON, a malformed digest, a schemaVersion other than 2), or the source's referrers list names a manifest whose subject is another image; that tag (or referrer) fails, the rest goes on.</error>
/// <error id="RegistryTagNameInvalid">The source listed a tag name that breaks the tag grammar (a path, a newline, over 128 characters); that tag fails without a request naming it, the rest goes on.</error>
/// <error id="RegistryRepositoryNameInvalid">A whole-registry or prefix source's catalog listed a repository name that breaks the repository grammar ('../x', 'a//b', uppercase, a newline, too long); that repository fails without a request naming it, the rest goes on.</error>
/// <error id="RegistryThrottled">A registry kept answering 429 after the retries; that item fails. Lower -ThrottleLimit or try later.</error>
/// <error id="RegistryServerError">A registry kept failing with 5xx after the retries; that item fails.</error>
/// <error id="RegistryUnsupportedMediaType">A source manifest has a media type HarborOps does not copy (schema 1).</error>
/// <error id="RegistryCatalogUnsupported">A whole-registry source has no catalog API. Name the repositories instead.</error>
/// <error id="RegistryInsecureRedirect">A registry redirected a request, or pointed an upload, to plain http on a host not allowed for it; nothing was sent there and that item fails.</error>
/// <error id="RegistryPagingLoop">A registry linked a listing back to a page it had already sent; that listing stops with this error.</error>
/// <error id="RegistryRequestFailed">A request failed for another reason, named in the message.</error>
/// <error id="RegistryItemReadDisabled">A source tag is locked against reads (Azure Container Registry readEnabled=false); it is reported, the rest goes on.</error>
/// <error id="CopyHarborProjectMissing">The Harbor project of a destination repository does not exist (or its creation was declined); that project's images fail. Add -CreateProject or run New-HarborProject.</error>
/// <error id="HarborNotConnected">-CreateProject or -Harbor was given without a credential for Harbor's API: give -DestinationCredential or run Connect-Harbor.</error>
/// <error id="HarborRequestInvalid">A -ProjectSettings key is unknown or its value has the wrong type.</error>
/// <error id="HarborProjectNameInvalid">A destination project name breaks Harbor's naming rules; that project's images fail.</error>
/// <error id="HarborPermissionDenied">The destination credential may not read or create Harbor projects; that project's images fail.</error>
/// <error id="OciLayoutInvalid">An oci: directory is not a valid OCI image layout.</error>
/// <error id="SourceMatchedNothing">-FailOnEmpty: the sources selected no tag (a mistyped path or prefix, filters that exclude everything, a credential that may not list the catalog); the summary was written first. Without -FailOnEmpty this is a warning.</error>
/// <error id="ShardInvalid">-ShardCount, -ShardIndex or JOB_COMPLETION_INDEX does not name a shard of the run (an index outside 0 to count - 1, -ShardIndex without -ShardCount, JOB_COMPLETION_INDEX not a whole number), or -SharedBlobWait is negative; nothing is done. Make -ShardCount the Job's completions.</error>
/// <error id="ShardSummaryWriteFailed">-ShardSummaryPath cannot be written; checked before the run starts. Give a writable file (in a Kubernetes pod, /dev/termination-log).</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Copy, "RegistryImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Copy-RegistryImage.md")]
[OutputType(typeof(CopyResult), typeof(CopySummary))]
public sealed class CopyRegistryImageCommand : RegistryMappingCommandBase
{
    private readonly List<string> _sources = [];
    private string _destination = "";
    private bool _whatIf;
    private string? _shardSummaryPath;

    /// <summary>
    /// What to copy: "registry/repository:tag" or "@sha256:..." (one image), "registry/repository" (every tag),
    /// "registry/prefix/*" (every repository under the prefix), "registry" (every repository), or "oci:directory[:tag]".
    /// Binds the Reference property of Get-RegistryTag and Get-RegistryRepository output.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Reference")]
    [ValidateNotNullOrEmpty]
    public string[] Source { get; set; } = [];

    /// <summary>
    /// Where to: "registry" or "registry/prefix" (the source path is appended below it), or "oci:directory". Binds the
    /// Destination property of Compare-RegistryParity output.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Never change a destination tag that exists with another digest (it is reported as Skipped, reason NoClobber).</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Do not copy signatures, attestations, SBOMs and other referrers.</summary>
    [Parameter]
    public SwitchParameter ExcludeReferrers { get; set; }

    /// <summary>Also copy foreign (non-distributable) layers, which registries normally leave to their URLs.</summary>
    [Parameter]
    public SwitchParameter IncludeForeignLayers { get; set; }

    /// <summary>
    /// Only these platforms ("linux/amd64", "linux/arm64/v8"; without a variant every variant matches). Indexes with other
    /// platforms are written as new indexes with new digests, which differ from the source's; images of other platforms are skipped.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Platform { get; set; }

    /// <summary>
    /// Only tags whose image was created at or after this time, as the image config records it (an index: its newest
    /// child), or, from Azure Container Registry, as its listing's lastUpdateTime says. Tags without a recorded time
    /// are copied and say so in Reason.
    /// </summary>
    [Parameter]
    public DateTime? Since { get; set; }

    /// <summary>Concurrent requests per registry host (default 8).</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 8;

    /// <summary>
    /// A file recording finished blobs, so an interrupted copy resumes without moving them again. Reuse it for the re-run.
    /// It is created when missing; an existing file must be a journal, and only one run may use it at a time.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    /// <summary>
    /// In a sharded run, how long to wait for a layer another shard uploads (one it shares with this shard) before
    /// uploading it here: by default 30 seconds plus one per 2 MiB of the layer, counted from the last time that shard
    /// was seen landing a layer; a shard that lands nothing for that long is not waited for again. 0 never waits (and
    /// reads nothing of the other shards): use it for shards run one at a time.
    /// </summary>
    [Parameter]
    public TimeSpan? SharedBlobWait { get; set; }

    /// <summary>Create each missing Harbor project of the destination repositories (once per run, confirmed per project), with -ProjectSettings.</summary>
    [Parameter]
    public SwitchParameter CreateProject { get; set; }

    /// <summary>
    /// Policies of the projects -CreateProject creates, keyed like New-HarborProject's parameters: Public, AutoScan,
    /// PreventVulnerable, Severity, RequireCosignSignature, CveAllowlist, CveAllowlistExpiresAt, StorageQuotaGB.
    /// </summary>
    [Parameter]
    public Hashtable? ProjectSettings { get; set; }

    /// <summary>Harbor's URL when the destination is a Harbor whose API is not at https://&lt;destination registry&gt; (or is http).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Harbor { get; set; }

    /// <summary>
    /// Compare-RegistryParity output, bound from the pipeline: each difference's Source is copied with the comparison's
    /// destination and mapping; its summary, ExtraAtDestination and Equal entries are skipped (a copy never deletes).
    /// </summary>
    [Parameter(ValueFromPipeline = true, DontShow = true)]
    public ParityRecord? ParityResult { get; set; }

    private readonly ParityRepairScope _parity = new();

    protected override void PrepareRecord()
    {
        // Session state (current location, preferences) is only safe to read on the pipeline thread.
        var parity = ParityResult;
        ParityResult = null;
        if (parity is not null) AddParityResult(parity);
        else
        {
            _sources.AddRange(Source.Select(ResolveLayoutImage));
            _destination = ResolveLayoutDirectory(Destination);
        }
        _whatIf = LanguagePrimitives.IsTrue(MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf) ? whatIf : GetVariableValue("WhatIfPreference"));
        JournalPath = JournalPath is null ? null : GetUnresolvedProviderPathFromPSPath(JournalPath);
        _shardSummaryPath = ResolvedShardSummaryPath();
    }

    /// <summary>
    /// A piped Compare-RegistryParity result: a repairable difference adds its source, with the comparison's destination
    /// and mapping, which every difference of the run must share; anything else is skipped.
    /// </summary>
    private void AddParityResult(ParityRecord parity)
    {
        if (parity is not ParityDifference { IsRepairable: true } difference)
        {
            WriteVerbose(parity is ParityDifference other ? $"Nothing to copy for {other.Kind} {other.DestinationReference}." : "Skipping the parity summary.");
            return;
        }
        var bound = MyInvocation.BoundParameters;
        if (_parity.Admit(difference, bound.ContainsKey(nameof(DestinationPrefix)) || bound.ContainsKey(nameof(StripPrefixSegments)) || bound.ContainsKey(nameof(Rename))))
            _destination = ResolveLayoutDirectory(difference.Destination);
        _sources.Add(ResolveLayoutImage(difference.Source));
    }

    // The input is gathered record by record and copied in one run, so blobs shared across everything piped in move once.
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_sources.Count == 0) return;
        var sources = _sources.Distinct(StringComparer.Ordinal).ToList();
        CurrentTarget = _destination;
        // Parsed once: the Harbor behind it is found from the same destination the copier maps repositories onto.
        var destination = CopyDestination.Parse(_destination);
        var shard = ShardOfRun();
        var request = new CopyRequest(sources, destination)
        {
            Shard = shard,
            // -WhatIf writes nothing, not even a summary file.
            ShardSummaryPath = _whatIf ? null : _shardSummaryPath,
            DestinationPrefix = _parity.Comparison is null ? DestinationPrefix : null,
            StripPrefixSegments = _parity.Comparison?.StripPrefixSegments ?? StripPrefixSegments,
            RenameRepositories = _parity.Comparison?.Rename
                ?? ToRepositoryRenames(Rename),
            IncludeTags = Include ?? [],
            ExcludeTags = Exclude ?? [],
            IncludeTagRegex = IncludeRegex,
            ExcludeTagRegex = ExcludeRegex,
            NoClobber = NoClobber,
            IncludeReferrers = !ExcludeReferrers,
            IncludeForeignLayers = IncludeForeignLayers,
            Platforms = Platform ?? [],
            Since = Since is { } since ? new DateTimeOffset(since) : null,
            ThrottleLimit = ThrottleLimit,
            SharedBlobWait = SharedBlobWait,
            JournalPath = JournalPath,
            PlanOnly = _whatIf,
            Harbor = HarborDestinationOf(destination),
            SourceCredential = ToNetworkCredential(SourceCredential),
            DestinationCredential = ToNetworkCredential(DestinationCredential),
        };
        var what = sources.Count == 1 ? sources[0] : $"{sources.Count} sources";
        var copier = new ImageCopier(RegistryEngine.Shared);
        var rewritten = 0;

        if (_whatIf)
        {
            IProgress<OperationProgress> planProgress = StartProgress("Copy-RegistryImage", $"Planning the copy of {what}");
            var planned = new List<CopyResult>();
            var plan = await copier.CopyAsync(request, planProgress, (result, failure) =>
            {
                if (result.SourceDigest is not null) Interlocked.Increment(ref rewritten);
                if (result.Action == CopyAction.Planned) lock (planned) planned.Add(result);
                else if (failure is not null) WriteFailure(AsTagError(failure, result), result.Source);
            }, cancellationToken).ConfigureAwait(false);
            foreach (var project in plan.ProjectsCreated)
                await ShouldProcessAsync(project, $"Create Harbor project ({DescribeProjectSettings()})").ConfigureAwait(false);
            foreach (var result in planned.OrderBy(r => r.Destination, StringComparer.Ordinal))
                await ShouldProcessAsync(result.Destination,
                    $"{(result.PreviousDigest is null ? "Copy" : "Update")} from {result.Source} ({result.Digest}, {ByteCount.Format(result.BytesMoved)} to move)").ConfigureAwait(false);
            await ShouldProcessAsync(_destination,
                $"Copy {plan.Planned} tag(s), skip {plan.Skipped} already there, {plan.Failed} failed to plan; {ByteCount.Format(plan.BytesMoved)} to move, {plan.BlobsMounted} blob(s) to mount").ConfigureAwait(false);
            WarnAboutRewrittenIndexes(rewritten);
            if (plan.Tags == 0 && plan.Failed == 0) ReportEmptySource(what, shard);
            return;
        }

        if (!await ShouldProcessAsync(_destination, $"Copy images from {what}").ConfigureAwait(false)) return;
        IProgress<OperationProgress> progress = StartProgress("Copy-RegistryImage", $"Copying {what} to {_destination}");
        WriteVerbose($"Copying {string.Join(", ", sources)} to {_destination}{(DestinationPrefix is null ? "" : "/" + DestinationPrefix)}.");
        var summary = await copier.CopyAsync(request, progress, (result, failure) =>
        {
            if (result.SourceDigest is not null) Interlocked.Increment(ref rewritten);
            WriteObject(result);
            if (failure is not null) WriteFailure(AsTagError(failure, result), result.Source);
        }, cancellationToken).ConfigureAwait(false);
        WarnAboutRewrittenIndexes(rewritten);
        WriteObject(summary);
        // A source that failed (a missing repository) already said so; one that selected nothing has not.
        if (summary.Tags == 0 && summary.Failed == 0) ReportEmptySource(what, shard);
    }

    private void WarnAboutRewrittenIndexes(int count)
    {
        if (count == 0) return;
        WriteWarning($"-Platform removed platforms from {count} multi-platform index(es): they were {(_whatIf ? "planned to be " : "")}written as new indexes, so their destination digests differ from the source "
            + "(each result's SourceDigest is the source's, Digest the destination's). Parity checks comparing source and destination digests will report them, "
            + "and signatures of those source indexes were not copied.");
    }

    /// <summary>The Harbor behind the destination (see <see cref="HarborDestination.Resolve"/>), asking before it creates a project.</summary>
    private HarborDestination? HarborDestinationOf(CopyDestination destination) =>
        HarborDestination.Resolve(destination, CreateProject, Harbor,
            // Without -CreateProject the engine refuses -ProjectSettings; converting them first would report their values instead.
            ProjectSettings is null ? null : CreateProject ? HarborProjectSettingsCommandBase.SettingsFrom(ProjectSettings) : new HarborProjectSettings(),
            ToNetworkCredential(DestinationCredential)) is { } harbor
            ? harbor with
            {
                ConfirmCreateProject = (project, _) => ShouldProcessAsync(project, $"Create Harbor project ({DescribeProjectSettings()})"),
                Log = WriteVerbose,
            }
            : null;

    private string DescribeProjectSettings() =>
        ProjectSettings is null || ProjectSettings.Count == 0
            ? "private, Harbor's default policies"
            : string.Join(", ", ProjectSettings.Cast<DictionaryEntry>().OrderBy(e => e.Key.ToString(), StringComparer.OrdinalIgnoreCase).Select(e => $"{e.Key}={LanguagePrimitives.ConvertTo<string>(e.Value)}"));

    /// <summary>A failed tag's error record: the engine's failure (id, kind, message), targeted at the tag it failed.</summary>
    private static HarborOpsException AsTagError(HarborOpsException failure, CopyResult result) =>
        new(failure.ErrorId, failure.Kind, failure.Message, result.Source);
}
