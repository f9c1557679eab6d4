using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Creates a pull replication policy: which repositories and tags Harbor copies from a registry endpoint, and where to.</summary>
/// <remarks>
/// <para>New-HarborReplicationPolicy creates a manually triggered pull policy from a registry endpoint into this Harbor.
/// -NameFilter and -TagFilter are Harbor's doublestar patterns ("team/**", "v1.*", "{a,b}"). A tag filter would leave
/// cosign's signature tags (sha256-&lt;digest&gt;.sig) behind, and a gated project then refuses the images; so the tag
/// filter is widened to keep them unless -ExcludeSignatureTags. -DestinationNamespace names the project (and path) the
/// repositories land in, replacing -ReplaceCount leading path components of the source repository; Harbor creates a
/// missing destination project with default policies, so create gated projects first with New-HarborProject.</para>
/// </remarks>
/// <example>
/// <code>New-HarborReplicationPolicy acr-team-a -SourceRegistry acr-prod -NameFilter 'team-a/**' -TagFilter 'v*' -DestinationNamespace team-a -ReplaceCount 1</code>
/// <para>Pulls team-a's v* tags with their signatures from ACR into the project team-a.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborRegistryEndpointNotFound">No registry endpoint has that name.</error>
/// <error id="HarborReplicationPolicyExists">A policy of that name exists.</error>
/// <error id="HarborRequestInvalid">Harbor refused the policy (a filter or namespace it does not accept).</error>
/// <error id="HarborPermissionDenied">Only system administrators may create replication policies.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.New, "HarborReplicationPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "New-HarborReplicationPolicy.md")]
[OutputType(typeof(HarborReplicationPolicyInfo))]
public sealed class NewHarborReplicationPolicyCommand : HarborCommandBase
{
    /// <summary>The policy's name.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The name of the registry endpoint to pull from.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string SourceRegistry { get; set; } = "";

    /// <summary>Doublestar pattern of the source repositories to replicate ("team/**"); every repository when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NameFilter { get; set; }

    /// <summary>Doublestar pattern of the tags to replicate ("v1.*"); every tag when omitted. Signature tags are kept unless -ExcludeSignatureTags.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TagFilter { get; set; }

    /// <summary>Apply -TagFilter literally, leaving cosign's sha256-*.sig tags behind unless they match it.</summary>
    [Parameter]
    public SwitchParameter ExcludeSignatureTags { get; set; }

    /// <summary>The project (and path) the repositories land in; the source paths are kept when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DestinationNamespace { get; set; }

    /// <summary>Leading path components of each source repository that -DestinationNamespace replaces; -1 (default) replaces all but the last.</summary>
    [Parameter]
    [ValidateRange(-1, 32)]
    public int ReplaceCount { get; set; } = -1;

    /// <summary>Leave destination tags that already exist as they are instead of overwriting them.</summary>
    [Parameter]
    public SwitchParameter NoOverride { get; set; }

    /// <summary>A description shown in Harbor.</summary>
    [Parameter]
    public string? Description { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        HarborClient client = CreateClient();
        string tags = HarborClient.EffectiveTagFilter(TagFilter, !ExcludeSignatureTags) ?? "every tag";
        if (!await ShouldProcessAsync(Name, $"Create a pull policy from '{SourceRegistry}' ({NameFilter ?? "every repository"}, {tags}) into {DestinationNamespace ?? "the source paths"}").ConfigureAwait(false)) return;
        HarborRegistryEndpointInfo source = await client.FindRegistryEndpointAsync(SourceRegistry, cancellationToken).ConfigureAwait(false);
        var request = new HarborPullReplicationRequest(Name, source.Id)
        {
            NameFilter = NameFilter, TagFilter = TagFilter, KeepSignatureTags = !ExcludeSignatureTags, DestinationNamespace = DestinationNamespace,
            DestinationNamespaceReplaceCount = ReplaceCount, Override = !NoOverride, Description = Description,
        };
        WriteObject(await client.CreatePullReplicationPolicyAsync(request, cancellationToken).ConfigureAwait(false));
    }
}
