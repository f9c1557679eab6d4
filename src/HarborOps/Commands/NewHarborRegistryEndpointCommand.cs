using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Adds a registry endpoint (ACR, GHCR, Docker Hub, another Harbor, any Distribution registry) that Harbor can replicate from.</summary>
/// <remarks>
/// <para>New-HarborRegistryEndpoint registers a registry under a name, with Harbor's adapter type for it and an
/// optional credential (-EndpointCredential: for ACR a token or service principal, for GHCR a user and token). The secret
/// goes to Harbor once and is never shown again. Replication policies then name the endpoint as their source.</para>
/// </remarks>
/// <example>
/// <code>New-HarborRegistryEndpoint acr-prod -Type AzureAcr -Url https://contoso.azurecr.io -EndpointCredential $acrToken</code>
/// <para>Registers an Azure Container Registry with a repository-scoped token.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborRegistryEndpointExists">An endpoint of that name exists.</error>
/// <error id="HarborRequestInvalid">Harbor refused the endpoint (an unknown type or a bad URL).</error>
/// <error id="HarborPermissionDenied">Only system administrators may add registry endpoints.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.New, "HarborRegistryEndpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "New-HarborRegistryEndpoint.md")]
[OutputType(typeof(HarborRegistryEndpointInfo))]
public sealed class NewHarborRegistryEndpointCommand : HarborCommandBase
{
    private static readonly Dictionary<string, string> AdapterTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Harbor"] = "harbor", ["DockerHub"] = "docker-hub", ["DockerRegistry"] = "docker-registry", ["AzureAcr"] = "azure-acr",
        ["GitHubGhcr"] = "github-ghcr", ["AwsEcr"] = "aws-ecr", ["GoogleGcr"] = "google-gcr", ["Quay"] = "quay", ["GitLab"] = "gitlab",
        ["JFrogArtifactory"] = "jfrog-artifactory",
    };

    /// <summary>The endpoint's name in Harbor.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Harbor's adapter for the registry: Harbor, DockerHub, DockerRegistry (any Distribution registry), AzureAcr, GitHubGhcr, AwsEcr, GoogleGcr, Quay, GitLab or JFrogArtifactory.</summary>
    [Parameter(Mandatory = true)]
    [ValidateSet("Harbor", "DockerHub", "DockerRegistry", "AzureAcr", "GitHubGhcr", "AwsEcr", "GoogleGcr", "Quay", "GitLab", "JFrogArtifactory")]
    public string Type { get; set; } = "";

    /// <summary>The registry's URL, such as https://contoso.azurecr.io.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public Uri Url { get; set; } = null!;

    /// <summary>The credential Harbor uses at the registry (access key and secret); anonymous when omitted.</summary>
    [Parameter]
    [Credential]
    public PSCredential? EndpointCredential { get; set; }

    /// <summary>Harbor does not verify the registry's TLS certificate.</summary>
    [Parameter]
    public SwitchParameter Insecure { get; set; }

    /// <summary>A description shown in Harbor.</summary>
    [Parameter]
    public string? Description { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        if (!await ShouldProcessAsync(Name, $"Add {Type} registry endpoint {Url}").ConfigureAwait(false)) return;
        var request = new HarborRegistryEndpointRequest(Name, AdapterTypes[Type], Url)
        {
            Credential = ToNetworkCredential(EndpointCredential), Insecure = Insecure, Description = Description,
        };
        WriteObject(await CreateClient().CreateRegistryEndpointAsync(request, cancellationToken).ConfigureAwait(false));
    }
}
