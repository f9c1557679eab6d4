using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Lists Harbor's registry endpoints, the registries it replicates from and to.</summary>
/// <remarks>
/// <para>Get-HarborRegistryEndpoint lists the endpoints (Administration, Registries) with their adapter type, URL and
/// the access key of their credential; Harbor never returns a stored secret. -Id reads one endpoint.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborRegistryEndpoint 'acr-*'</code>
/// <para>Lists the endpoints whose name starts with acr-.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborRegistryEndpointNotFound">No endpoint has that id.</error>
/// <error id="HarborPermissionDenied">Only system administrators may read registry endpoints.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborRegistryEndpoint", DefaultParameterSetName = "Name", HelpUri = OnlineHelp.CmdletPages + "Get-HarborRegistryEndpoint.md")]
[OutputType(typeof(HarborRegistryEndpointInfo))]
public sealed class GetHarborRegistryEndpointCommand : HarborCommandBase
{
    /// <summary>Endpoint names to list (wildcards allowed); every endpoint when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = "Name")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The id of one endpoint.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    [Alias("SourceRegistryId")]
    public long Id { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborClient client = CreateClient();
        CurrentTarget = Name ?? (ParameterSetName == "Id" ? Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : client.Connection.Url.ToString());
        if (ParameterSetName == "Id")
        {
            WriteObject(await client.GetRegistryEndpointAsync(Id, cancellationToken).ConfigureAwait(false));
            return;
        }

        foreach (HarborRegistryEndpointInfo endpoint in await client.ListRegistryEndpointsAsync(Name, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(endpoint);
        }
    }
}
