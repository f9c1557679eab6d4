using System.Collections;
using System.Management.Automation;
using HarborOps.Engine.Scope;
using HarborOps.Infrastructure;

namespace HarborOps.Commands;

/// <summary>
/// What Copy-RegistryImage and Compare-RegistryParity share so that a comparison checks exactly what the copy would
/// write: where each source repository lands (-DestinationPrefix, -StripPrefixSegments, -Rename), which tags count
/// (-Include, -Exclude and their regular expressions), and the credentials of both registries.
/// </summary>
public abstract class RegistryMappingCommandBase : HarborOpsCmdlet
{
    /// <summary>A path added below -Destination (and above the source path), such as "migrated".</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DestinationPrefix { get; set; }

    /// <summary>Leading path segments removed from each source repository ("team/app" with 1 lands as "app").</summary>
    [Parameter]
    [ValidateRange(0, 32)]
    public int StripPrefixSegments { get; set; }

    /// <summary>Repository renames applied after stripping: @{ 'old-team' = 'new-team' } maps "old-team" and "old-team/*".</summary>
    [Parameter]
    public Hashtable? Rename { get; set; }

    /// <summary>Only tags matching one of these wildcard patterns (* and ?).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Leave out tags matching one of these wildcard patterns.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>Only tags matching this regular expression.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IncludeRegex { get; set; }

    /// <summary>Leave out tags matching this regular expression.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ExcludeRegex { get; set; }

    /// <summary>Credential for the source registry; otherwise the session credential, the docker config, or anonymous.</summary>
    [Parameter]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    /// <summary>Credential for the destination registry; otherwise the session credential, the docker config, or anonymous.</summary>
    [Parameter]
    [Credential]
    public PSCredential? DestinationCredential { get; set; }

    /// <summary>
    /// Stop with a terminating error (SourceMatchedNothing) when the sources select no tag at all, after the summary is
    /// written, so a CI step with a mistyped source fails instead of passing having done nothing.
    /// </summary>
    [Parameter]
    public SwitchParameter FailOnEmpty { get; set; }

    /// <summary>
    /// Split the run into this many shards, each run separately (a Kubernetes Indexed Job's completions): each takes the
    /// source repositories whose name hashes to its -ShardIndex (SHA-256 of the repository path, modulo the count), the
    /// same on every run and machine, so a copy and a comparison with the same shard agree and a retried shard redoes
    /// exactly its own work. Each shard is resumable on its own with its own -JournalPath.
    /// </summary>
    [Parameter]
    public int? ShardCount { get; set; }

    /// <summary>
    /// Which shard this run is, 0 to -ShardCount minus 1. Defaults to the JOB_COMPLETION_INDEX environment variable,
    /// which Kubernetes sets in each pod of an Indexed Job. Needs -ShardCount.
    /// </summary>
    [Parameter]
    public int? ShardIndex { get; set; }

    /// <summary>
    /// What the shards split: Repository (default; a repository with all its tags belongs to one shard, so their shared
    /// layers move once) or Tag (every repository's tags are split, for a repository too large for one shard; a referrer
    /// tag goes with its subject's digest, and a layer shared by tags of two shards may move twice).
    /// </summary>
    [Parameter]
    [ValidateSet("Repository", "Tag")]
    public string? ShardBy { get; set; }

    /// <summary>
    /// Write a compact JSON summary of this run (at most 4096 bytes: counts, shard, the first failures) to this file when
    /// it ends, also when it fails. A Kubernetes Job passes /dev/termination-log, which becomes the pod's termination message.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ShardSummaryPath { get; set; }

    /// <summary>The shard the parameters (and JOB_COMPLETION_INDEX) name; a contradiction is a terminating ShardInvalid.</summary>
    protected ShardPartition ShardOfRun() =>
        ShardPartition.Create(ShardCount, ShardIndex, ShardBy is null ? Engine.Scope.ShardBy.Repository : Enum.Parse<ShardBy>(ShardBy, ignoreCase: true), Environment.GetEnvironmentVariable(ShardPartition.JobCompletionIndexVariable));

    /// <summary>-ShardSummaryPath as a file-system path; call on the pipeline thread (it reads the current location).</summary>
    protected string? ResolvedShardSummaryPath() =>
        ShardSummaryPath is null ? null : GetUnresolvedProviderPathFromPSPath(ShardSummaryPath);

    /// <summary>
    /// A run whose sources selected nothing: a warning naming them and what to check, or with -FailOnEmpty the
    /// terminating error. Without it a typo in "registry/team/*" looks like a successful run.
    /// </summary>
    protected void ReportEmptySource(string what, ShardPartition shard)
    {
        // A shard may own nothing of a small scope (more shards than repositories): that is no mistyped source.
        if (shard.IsSharded)
        {
            WriteVerbose($"{shard} owns no tag of {what}.");
            return;
        }
        if (FailOnEmpty) throw new SourceMatchedNothingException(what);
        WriteWarning(SourceMatchedNothingException.Describe(what));
    }
}
