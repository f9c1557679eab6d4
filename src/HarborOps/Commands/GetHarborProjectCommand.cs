using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets Harbor projects with their policies: visibility, scan on push, pull gates, CVE allowlist and quota.</summary>
/// <remarks>
/// <para>Get-HarborProject lists the projects the caller can see, paging through Harbor's list 100 at a time. With a
/// name (no wildcard) it reads that one project, including its storage quota and use; a name is always sent as a name,
/// so all-digit project names work.</para>
/// <para>A proxy-cache project (a pull-through mirror) shows IsProxyCache and the registry endpoint it mirrors in
/// ProxyCacheEndpoint, ProxyCacheUrl and ProxyCacheType; the table's ProxyCache column names the endpoint.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborProject</code>
/// <para>Lists every project you can see.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject team-* | Where-Object { -not $_.PreventVulnerable }</code>
/// <para>Finds the team projects that do not block vulnerable images yet.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject | Where-Object IsProxyCache | Format-Table Name, ProxyCacheEndpoint, ProxyCacheUrl, PreventVulnerable</code>
/// <para>Lists the mirrors and what they mirror.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">A named project does not exist or is hidden from you.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborPermissionDenied">The credential may not read the project.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborServerError">Harbor failed with 5xx.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborProject", HelpUri = OnlineHelp.CmdletPages + "Get-HarborProject.md")]
[OutputType(typeof(HarborProjectInfo))]
public sealed class GetHarborProjectCommand : HarborCommandBase
{
    /// <summary>Project names; wildcards list the matching ones. All projects when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string[]? Name { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborClient client = CreateClient();
        // No -Name means every project: one pass with no name.
        string?[] names = Name ?? new string?[] { null };
        foreach (string? name in names)
        {
            await RunItemAsync(name, async () =>
            {
                if (name is not null && !WildcardPattern.ContainsWildcardCharacters(name))
                {
                    WriteObject(await client.GetProjectAsync(name, cancellationToken).ConfigureAwait(false));
                    return;
                }

                await foreach (HarborProjectInfo project in client.ListProjectsAsync(name, cancellationToken).ConfigureAwait(false))
                {
                    WriteObject(project);
                }
            }).ConfigureAwait(false);
        }
    }
}
