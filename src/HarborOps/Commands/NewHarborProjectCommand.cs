using System.Management.Automation;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Creates a Harbor project with its policies and storage quota.</summary>
/// <remarks>
/// <para>New-HarborProject creates a private project (unless -Public) and sets its policies in the same call: scan on
/// push, the vulnerability pull gate with its severity, the cosign signature requirement, a project CVE allowlist, and a
/// storage quota. Turn -AutoScan on before copying images into a project with -PreventVulnerable, or every copied image
/// is refused on pull until it is scanned.</para>
/// </remarks>
/// <example>
/// <code>New-HarborProject team-a -AutoScan -PreventVulnerable -Severity High -RequireCosignSignature -StorageQuotaGB 50</code>
/// <para>Creates a gated project with a 50 GB quota.</para>
/// </example>
/// <example>
/// <code>'team-a', 'team-b' | New-HarborProject -AutoScan -WhatIf</code>
/// <para>Shows which projects would be created.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNameInvalid">The name breaks Harbor's rules (lower case, digits, single . _ - between).</error>
/// <error id="HarborProjectExists">A project of that name exists.</error>
/// <error id="HarborRequestInvalid">Harbor refused a policy value.</error>
/// <error id="HarborPermissionDenied">The credential may not create projects (robots need to be system robots).</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.New, "HarborProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HarborProjectInfo))]
public sealed class NewHarborProjectCommand : HarborProjectSettingsCommandBase
{
    /// <summary>The project name: lower-case letters and digits, separated by single '.', '_' or '-'.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        if (!await ShouldProcessAsync(Name, $"Create project ({Describe()})").ConfigureAwait(false))
        {
            return;
        }

        WriteObject(await CreateClient().CreateProjectAsync(Name, Settings(), cancellationToken).ConfigureAwait(false));
    }
}
