using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Makes release tags immutable: a rule that refuses pushes over, and deletes of, matching tags.</summary>
/// <remarks>
/// <para>Creates an immutable tag rule in the project (POST /api/v2.0/projects/{project}/immutabletagrules). Once a
/// tag matching -Tag exists in a repository matching -Repository, Harbor refuses a push that would move it (412
/// "configured as immutable") and a delete of it, and retention marks it Immutable instead of deleting it. A first
/// push of a matching tag still works. Patterns are doublestar (** for all); -ExcludeRepository and -ExcludeTag turn a
/// pattern into "all but". Needs a project admin or maintainer.</para>
/// </remarks>
/// <example>
/// <code>New-HarborImmutableTagRule -Project team-a -Repository '**' -Tag 'v*'</code>
/// <para>Version tags of every repository in team-a can no longer be overwritten or deleted.</para>
/// </example>
/// <errors>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from the caller.</error>
/// <error id="HarborRequestInvalid">An empty pattern, or a rule Harbor refuses.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Only project admins and maintainers may create immutable tag rules.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.New, "HarborImmutableTagRule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "New-HarborImmutableTagRule.md")]
[OutputType(typeof(HarborImmutableTagRule))]
public sealed class NewHarborImmutableTagRuleCommand : HarborProjectCommandBase
{
    /// <summary>Repositories (without the project) the rule covers, doublestar; default ** for all.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Repositories")]
    [ValidateNotNullOrEmpty]
    public string Repository { get; set; } = "**";

    /// <summary>Tags made immutable, doublestar, such as v* or release-*.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Tags")]
    [ValidateNotNullOrEmpty]
    public string Tag { get; set; } = "";

    /// <summary>Cover every repository except those -Repository matches.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ExcludeRepositories")]
    public SwitchParameter ExcludeRepository { get; set; }

    /// <summary>Make every tag except those -Tag matches immutable.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ExcludeTags")]
    public SwitchParameter ExcludeTag { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        HarborClient client = CreateClient();
        string what = $"Make tags {(ExcludeTag ? "not " : "")}matching '{Tag}' in repositories {(ExcludeRepository ? "not " : "")}matching '{Repository}' immutable";
        if (!await ShouldProcessAsync($"project {Project}", what).ConfigureAwait(false)) return;
        WriteObject(await client.CreateImmutableTagRuleAsync(Project, Repository, Tag, ExcludeRepository, ExcludeTag, cancellationToken).ConfigureAwait(false));
    }
}
