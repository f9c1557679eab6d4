using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets the storage each project uses and its quota, largest use first, in one call.</summary>
/// <remarks>
/// <para>Get-HarborProjectUsage reads Harbor's quota list (paged, sorted by use) and reports bytes used, the quota
/// (-1 unlimited) and the share used. Harbor counts a blob shared by two projects once in each, so the sum can be more
/// than the disk use; deleted images count until garbage collection runs. Reading every project's quota needs a system
/// admin or a robot with quota:list.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborProjectUsage | Select-Object -First 10</code>
/// <para>The ten projects that use the most storage.</para>
/// </example>
/// <example>
/// <code>Get-HarborProjectUsage | Where-Object PercentUsed -gt 85</code>
/// <para>Projects close to their quota.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">The credential may not list quotas (system admin needed).</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborProjectUsage", HelpUri = OnlineHelp.CmdletPages + "Get-HarborProjectUsage.md")]
[OutputType(typeof(HarborProjectUsage))]
public sealed class GetHarborProjectUsageCommand : HarborCommandBase
{
    /// <summary>Only projects whose name matches this wildcard pattern.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string? Project { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        foreach (HarborProjectUsage usage in await CreateClient().GetProjectUsageAsync(Project, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(usage);
        }
    }
}
