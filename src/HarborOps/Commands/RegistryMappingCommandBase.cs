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
    /// A run whose sources selected nothing: a warning naming them and what to check, or with -FailOnEmpty the
    /// terminating error. Without it a typo in "registry/team/*" looks like a successful run.
    /// </summary>
    protected void ReportEmptySource(string what)
    {
        if (FailOnEmpty) throw new SourceMatchedNothingException(what);
        WriteWarning(SourceMatchedNothingException.Describe(what));
    }
}
