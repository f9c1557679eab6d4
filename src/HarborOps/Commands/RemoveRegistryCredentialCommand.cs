using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;

namespace HarborOps.Commands;

/// <summary>Removes a registry credential from this PowerShell session.</summary>
/// <remarks>
/// <para>Remove-RegistryCredential forgets the credential set for a registry with Set-RegistryCredential.
/// Later commands fall back to the docker config.json, or to anonymous access.</para>
/// <para>It accepts the output of Get-RegistryCredential from the pipeline.</para>
/// </remarks>
/// <example>
/// <code>Remove-RegistryCredential -Registry harbor.example.com</code>
/// <para>Forgets the credential of harbor.example.com.</para>
/// </example>
/// <example>
/// <code>Get-RegistryCredential | Remove-RegistryCredential -WhatIf</code>
/// <para>Shows which credentials would be removed, without removing any.</para>
/// </example>
/// <errors>
/// <error id="RegistryCredentialNotFound">No credential is set for that registry in this session. Run Get-RegistryCredential to see the registries that have one.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Remove, "RegistryCredential", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Remove-RegistryCredential.md")]
[OutputType(typeof(void))]
public sealed class RemoveRegistryCredentialCommand : HarborOpsCmdlet
{
    internal const string NotFoundErrorId = "RegistryCredentialNotFound";

    /// <summary>The registry host (host[:port]) whose session credential is removed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string[] Registry { get; set; } = [];

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (string registry in Registry)
        {
            CurrentTarget = registry;
            if (!await ShouldProcessAsync(registry, "Remove the session credential").ConfigureAwait(false))
            {
                continue;
            }

            if (RegistryEngine.Shared.SessionCredentials.Remove(registry))
            {
                WriteVerbose($"Removed the session credential of {registry}.");
            }
            else
            {
                WriteFailure(new HarborOpsException(NotFoundErrorId, FailureKind.NotFound,
                    $"No credential is set for '{registry}' in this session. Run Get-RegistryCredential to see the registries that have one.", registry), registry);
            }
        }
    }
}
