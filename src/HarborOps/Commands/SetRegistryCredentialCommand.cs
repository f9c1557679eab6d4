using System.Management.Automation;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Sets the credential HarborOps uses for a registry in this PowerShell session.</summary>
/// <remarks>
/// <para>Set-RegistryCredential stores a credential for one registry host in the process-wide session store.
/// Every later HarborOps command that talks to that registry uses it, before the docker config.json. A
/// credential given with -Credential on a command still wins for that command.</para>
/// <para>Three kinds can be set: a user name and password or token (-Credential), the entry for the registry in a
/// docker config.json file (-DockerConfig), or Azure identity (-UseAzureIdentity) for Azure Container Registry,
/// which signs in through DefaultAzureCredential: environment variables, workload identity, managed identity,
/// Azure CLI and the other sources it supports.</para>
/// <para>The secret stays in memory as a SecureString and is never written to disk, to the verbose stream or
/// to error messages. On Linux and macOS a SecureString is only obfuscated in memory.</para>
/// </remarks>
/// <example>
/// <code>Set-RegistryCredential -Registry harbor.example.com -Credential (Get-Credential robot$ci)</code>
/// <para>Prompts for the robot account's secret and uses it for every later call to harbor.example.com.</para>
/// </example>
/// <example>
/// <code>Set-RegistryCredential -Registry contoso.azurecr.io -UseAzureIdentity -TenantId 00000000-0000-0000-0000-000000000000</code>
/// <para>Signs in to the Azure Container Registry through Azure identity in the given tenant.</para>
/// </example>
/// <example>
/// <code>Set-RegistryCredential -Registry ghcr.io -DockerConfig ~/.docker/config.json -PassThru</code>
/// <para>Copies the ghcr.io entry of a docker config file (running its credential helper once) into the session and shows what was stored (without the secret).</para>
/// </example>
/// <errors>
/// <error id="RegistryReferenceInvalid">The -Registry value is not a host[:port]. Give the registry host only, such as harbor.example.com or 127.0.0.1:5000.</error>
/// <error id="RegistryCredentialConfigInvalid">The docker config file cannot be read or has no usable entry for the registry. Check the path and that the file has an "auths" entry (or a credential helper) for the host.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Set, "RegistryCredential", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = CredentialSet, HelpUri = OnlineHelp.CmdletPages + "Set-RegistryCredential.md")]
[OutputType(typeof(RegistryCredentialInfo))]
public sealed class SetRegistryCredentialCommand : HarborOpsCmdlet
{
    private const string CredentialSet = "Credential";
    private const string DockerConfigSet = "DockerConfig";
    private const string AzureIdentitySet = "AzureIdentity";

    /// <summary>The registry host (host[:port]) the credential is for, such as harbor.example.com or contoso.azurecr.io.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string Registry { get; set; } = "";

    /// <summary>User name and password (or token) for the registry. Use an empty user name with an identity token.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = CredentialSet, ValueFromPipelineByPropertyName = true)]
    [Credential]
    [ValidateNotNull]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    /// <summary>Path of a docker config.json file whose entry for the registry (auths or credential helper) is used.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DockerConfigSet)]
    [ValidateNotNullOrEmpty]
    public string DockerConfig { get; set; } = "";

    /// <summary>Authenticate to Azure Container Registry through Azure identity (DefaultAzureCredential) instead of a password.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AzureIdentitySet)]
    public SwitchParameter UseAzureIdentity { get; set; }

    /// <summary>The Microsoft Entra tenant to sign in to with -UseAzureIdentity; by default the credential's own tenant.</summary>
    [Parameter(ParameterSetName = AzureIdentitySet)]
    [ValidateNotNullOrEmpty]
    public string? TenantId { get; set; }

    /// <summary>Writes the stored entry (without its secret) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private string? _dockerConfigPath;

    protected override void PrepareRecord()
        => _dockerConfigPath = ParameterSetName == DockerConfigSet ? GetUnresolvedProviderPathFromPSPath(DockerConfig) : null;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Registry;
        string kind = ParameterSetName switch
        {
            DockerConfigSet => "the docker config entry",
            AzureIdentitySet => "Azure identity",
            _ => $"the credential of user '{Credential.UserName}'",
        };
        if (!await ShouldProcessAsync(Registry, $"Use {kind} for this session").ConfigureAwait(false))
        {
            return;
        }

        SessionCredentials store = RegistryEngine.Shared.SessionCredentials;
        switch (ParameterSetName)
        {
            case DockerConfigSet:
                await store.SetFromDockerConfigAsync(Registry, _dockerConfigPath!, cancellationToken).ConfigureAwait(false);
                break;
            case AzureIdentitySet:
                store.SetAzureIdentity(Registry, TenantId);
                break;
            default:
                store.Set(Registry, ToNetworkCredential(Credential)!);
                break;
        }

        WriteVerbose($"Stored {kind} for {Registry}.");
        if (PassThru)
        {
            foreach (RegistryCredentialInfo entry in store.List())
            {
                if (string.Equals(entry.Registry, Registry, StringComparison.OrdinalIgnoreCase))
                {
                    WriteObject(entry);
                }
            }
        }
    }
}
