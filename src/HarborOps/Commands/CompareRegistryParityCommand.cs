using System.Management.Automation;
using HarborOps.Engine;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Compares a source registry with a destination registry, tag by tag and digest by digest, and lists every difference.</summary>
/// <remarks>
/// <para>Compare-RegistryParity proves, at any moment of a migration, that the destination holds everything the source
/// holds. It takes the same -Source, -Destination, mapping (-DestinationPrefix, -StripPrefixSegments, -Rename) and tag
/// filters (-Include, -Exclude, -IncludeRegex, -ExcludeRegex) as Copy-RegistryImage, so it checks exactly what that copy
/// writes: one tag, a repository, every repository under "registry/prefix/*", or a whole registry.</para>
/// <para>Each repository is read once per side: its tags with the digest each points at, from the registry's bulk listing
/// where it has one, else from the tag list and a HEAD per tag. The destination is only listed and HEADed, never read
/// with a manifest GET: on Harbor a GET counts as a pull and would defeat retention rules that keep recently pulled
/// images.</para>
/// <para>One object is written per difference: MissingAtDestination, ExtraAtDestination (a destination tag the source
/// repository lacks), DigestDiffers, ReferrerMissing (with -IncludeReferrers: a signature, attestation, SBOM or other
/// referrer of an image both sides have is not at the destination; found through cosign's sha256-&lt;hex&gt;.sig/.att/.sbom
/// tags, the referrers tag schema and the source's referrers API) and SourceUnreadable (a locked source item, a source
/// repository or catalog that could not be listed). Identical tags are counted but not written unless -IncludeEqual.
/// Referrer tags are never compared as tags of their own. A summary object closes the run: counts per kind, tags
/// compared, requests sent to each side and the time taken.</para>
/// <para>The output pipes straight into Copy-RegistryImage, which copies what each difference names with the mapping of
/// the comparison and skips the summary and ExtraAtDestination (copying never deletes): a missing or differing tag is
/// copied, and copying the image a missing referrer belongs to brings its referrers.</para>
/// <para>-FailOnDifference writes every difference and then stops with the terminating error ParityDifferencesFound
/// ("N differences between source and destination"), so a CI step fails with a non-zero exit.</para>
/// </remarks>
/// <example>
/// <code>Compare-RegistryParity contoso.azurecr.io harbor.example.com/migrated -IncludeReferrers</code>
/// <para>Lists everything in the registry that is missing, different or unsigned under migrated/ on Harbor, then the summary.</para>
/// </example>
/// <example>
/// <code>Compare-RegistryParity contoso.azurecr.io/team/* harbor.example.com/apps -StripPrefixSegments 1 | Where-Object Kind -ne ExtraAtDestination | Copy-RegistryImage</code>
/// <para>Repairs exactly what is missing or different, with the mapping the comparison used; a second comparison is then clean.</para>
/// </example>
/// <example>
/// <code>pwsh -NoProfile -Command "Compare-RegistryParity contoso.azurecr.io harbor.example.com/migrated -IncludeReferrers -FailOnDifference"</code>
/// <para>A CI step that fails (exit code 1) when anything, signatures included, differs.</para>
/// </example>
/// <errors>
/// <error id="ParityDifferencesFound">-FailOnDifference: the comparison found differences (all were written before the error).</error>
/// <error id="RegistryReferenceInvalid">A source or the destination does not follow the reference grammar. Fix the value named in the message.</error>
/// <error id="CopyMappingInvalid">A repository cannot be mapped to a destination (stripping leaves no name), or a tag regex is invalid.</error>
/// <error id="RegistryHostUnreachable">A registry host cannot be resolved or reached. Check the name, the port and the network path.</error>
/// <error id="RegistryAuthenticationFailed">A registry rejected the credential. Check it, or set one with Set-RegistryCredential.</error>
/// <error id="RegistryPermissionDenied">The destination credential may not list a destination repository; that repository is not compared.</error>
/// <error id="RegistryThrottled">The destination kept answering 429 after the retries; that repository is not compared. Lower -ThrottleLimit or try later.</error>
/// <error id="RegistryServerError">The destination kept failing with 5xx after the retries; that repository is not compared.</error>
/// <error id="RegistryCatalogUnsupported">A whole-registry source has no catalog API (reported as SourceUnreadable). Name the repositories instead.</error>
/// <error id="RegistryInsecureRedirect">A registry redirected a request to plain http on a host not allowed for it; nothing was sent there.</error>
/// <error id="RegistryPagingLoop">A registry linked a listing back to a page it had already sent; that listing stops with this error.</error>
/// <error id="RegistryTagNameInvalid">A tag list named a tag that breaks the tag grammar (a path, a newline, over 128 characters): never requested, reported as a SourceUnreadable difference at the source or ExtraAtDestination at the destination, with this ErrorId; a piped Copy-RegistryImage skips it, and the rest is compared.</error>
/// <error id="RegistryRepositoryNameInvalid">A whole-registry or prefix source's catalog listed a repository name that breaks the repository grammar: never requested, reported as a SourceUnreadable difference with this ErrorId, which a piped Copy-RegistryImage skips (no copy can name it); the rest is compared.</error>
/// <error id="RegistryRequestFailed">A request failed for another reason, named in the message.</error>
/// <error id="OciLayoutInvalid">An oci: directory is not a valid OCI image layout.</error>
/// <error id="SourceMatchedNothing">-FailOnEmpty: the sources selected no tag to compare (a mistyped path or prefix, filters that exclude everything, a credential that may not list the catalog); the summary was written first. Without -FailOnEmpty this is a warning.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
/// <parameter name="StripPrefixSegments">Leading path segments removed from each source repository ("team/app" with 1 is compared with "app").</parameter>
/// <parameter name="Include">Only tags matching one of these wildcard patterns (* and ?), on both sides.</parameter>
/// <parameter name="Exclude">Leave out tags matching one of these wildcard patterns, on both sides.</parameter>
[Cmdlet(VerbsData.Compare, "RegistryParity")]
[OutputType(typeof(ParityDifference), typeof(ParitySummary))]
public sealed class CompareRegistryParityCommand : RegistryMappingCommandBase
{
    private readonly List<string> _sources = [];
    private string _destination = "";

    /// <summary>
    /// What to compare, as Copy-RegistryImage takes it: "registry/repository:tag" (one tag), "registry/repository" (every
    /// tag), "registry/prefix/*" (every repository under the prefix), "registry" (every repository), or "oci:directory".
    /// Binds the Reference property of Get-RegistryTag and Get-RegistryRepository output.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Reference")]
    [ValidateNotNullOrEmpty]
    public string[] Source { get; set; } = [];

    /// <summary>The destination as Copy-RegistryImage takes it: "registry" or "registry/prefix" (the source path is appended below it), or "oci:directory".</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Also check signatures, attestations, SBOMs and other referrers of every image both sides have.</summary>
    [Parameter]
    public SwitchParameter IncludeReferrers { get; set; }

    /// <summary>Also write identical tags (kind Equal); otherwise they are only counted in the summary.</summary>
    [Parameter]
    public SwitchParameter IncludeEqual { get; set; }

    /// <summary>After writing everything, stop with a terminating error (ParityDifferencesFound) when any difference was found, so CI fails.</summary>
    [Parameter]
    public SwitchParameter FailOnDifference { get; set; }

    /// <summary>Repositories compared at once (default 8); each lists its tags with bounded parallelism of its own.</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 8;

    protected override void PrepareRecord()
    {
        // Session state (current location) is only safe to read on the pipeline thread.
        _sources.AddRange(Source.Select(ResolveLayoutImage));
        _destination = ResolveLayoutDirectory(Destination);
        _shardSummaryPath = ResolvedShardSummaryPath();
    }

    private string? _shardSummaryPath;

    // Everything piped in is compared in one run, with one summary.
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_sources.Count == 0) return;
        var sources = _sources.Distinct(StringComparer.Ordinal).ToList();
        CurrentTarget = _destination;
        var shard = ShardOfRun();
        var request = new ParityRequest(sources, _destination)
        {
            Shard = shard,
            ShardSummaryPath = _shardSummaryPath,
            DestinationPrefix = DestinationPrefix,
            StripPrefixSegments = StripPrefixSegments,
            RenameRepositories = ToRepositoryRenames(Rename),
            IncludeTags = Include ?? [],
            ExcludeTags = Exclude ?? [],
            IncludeTagRegex = IncludeRegex,
            ExcludeTagRegex = ExcludeRegex,
            IncludeReferrers = IncludeReferrers,
            IncludeEqual = IncludeEqual,
            ThrottleLimit = ThrottleLimit,
            SourceCredential = ToNetworkCredential(SourceCredential),
            DestinationCredential = ToNetworkCredential(DestinationCredential),
        };
        var what = sources.Count == 1 ? sources[0] : $"{sources.Count} sources";
        IProgress<OperationProgress> progress = StartProgress("Compare-RegistryParity", $"Comparing {what} with {_destination}");
        var summary = await new ParityChecker(RegistryEngine.Shared).CompareAsync(request, progress, WriteObject,
            failure => WriteFailure(failure, failure.Target ?? _destination), cancellationToken).ConfigureAwait(false);
        WriteObject(summary);
        // A comparison of nothing finds no difference: without this, a mistyped source passes a parity gate.
        if (summary.TagsCompared == 0 && summary.SourceUnreadable == 0) ReportEmptySource(what, shard);
        if (FailOnDifference && summary.Differences > 0)
            throw new ParityDifferencesException(summary.Differences, what, summary.Destination);
    }
}
