using System.Management.Automation;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Lists the registry credentials set for this PowerShell session, without their secrets.</summary>
/// <remarks>
/// <para>Get-RegistryCredential shows which registries have a credential in the session store, of which kind
/// (Basic, Token, AzureIdentity or DockerConfig), for which user, and where it came from. Secrets are never
/// shown.</para>
/// <para>Credentials found only in the docker config.json at run time are not listed: they are read when a
/// registry asks for them.</para>
/// </remarks>
/// <example>
/// <code>Get-RegistryCredential</code>
/// <para>Lists every credential set in this session.</para>
/// </example>
/// <example>
/// <code>Get-RegistryCredential -Registry *.azurecr.io</code>
/// <para>Lists the credentials of Azure Container Registries only.</para>
/// </example>
/// <errors>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "RegistryCredential", HelpUri = OnlineHelp.CmdletPages + "Get-RegistryCredential.md")]
[OutputType(typeof(RegistryCredentialInfo))]
public sealed class GetRegistryCredentialCommand : HarborOpsCmdlet
{
    /// <summary>Registry hosts to show; wildcards are allowed. All when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string[]? Registry { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        WildcardPattern[] patterns = (Registry ?? ["*"])
            .Select(pattern => WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase))
            .ToArray();
        foreach (RegistryCredentialInfo entry in RegistryEngine.Shared.SessionCredentials.List())
        {
            if (patterns.Any(pattern => pattern.IsMatch(entry.Registry)))
            {
                WriteObject(entry);
            }
        }

        return Task.CompletedTask;
    }
}
