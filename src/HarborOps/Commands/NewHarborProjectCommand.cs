using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Creates a Harbor project with its policies and storage quota.</summary>
/// <remarks>
/// <para>New-HarborProject creates a private project (unless -Public) and sets its policies in the same call: scan on
/// push, the vulnerability pull gate with its severity, the cosign signature requirement, a project CVE allowlist, and a
/// storage quota. Turn -AutoScan on before copying images into a project with -PreventVulnerable, or every copied image
/// is refused on pull until it is scanned.</para>
/// <para>-ProxyCacheEndpoint makes the project a proxy cache (a pull-through mirror) of a registry endpoint made by
/// New-HarborRegistryEndpoint, such as Docker Hub or GHCR: pulls of harbor/project/library/nginx:1.27 fetch the image from
/// the endpoint and keep a copy that the project's gates then apply to. As Harbor does by design, the very first pull of an
/// image not yet cached is answered from the upstream before it is scanned; from the next pull on, -PreventVulnerable and
/// -RequireCosignSignature refuse what they would refuse in any project. Only system administrators may create proxy
/// caches, nobody may push into one, and Harbor lets only docker-hub, harbor, azure-acr, ali-acr, aws-ecr, google-gcr,
/// docker-registry, github-ghcr and jfrog-artifactory endpoints back one.</para>
/// </remarks>
/// <example>
/// <code>New-HarborProject team-a -AutoScan -PreventVulnerable -Severity High -RequireCosignSignature -StorageQuotaGB 50</code>
/// <para>Creates a gated project with a 50 GB quota.</para>
/// </example>
/// <example>
/// <code>New-HarborRegistryEndpoint docker-hub -Type DockerHub -Url https://hub.docker.com | New-HarborProject hub-mirror -AutoScan -PreventVulnerable -Severity Critical</code>
/// <para>Creates a gated Docker Hub mirror; images are then pulled as harbor.example.com/hub-mirror/library/nginx:1.27.</para>
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
/// <error id="HarborRegistryEndpointNotFound">-ProxyCacheEndpoint names no registry endpoint.</error>
/// <error id="HarborProxyCacheTypeUnsupported">-ProxyCacheEndpoint is of a type Harbor cannot back a proxy cache with.</error>
/// <error id="HarborPermissionDenied">The credential may not create projects (robots need to be system robots).</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.New, "HarborProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "New-HarborProject.md")]
[OutputType(typeof(HarborProjectInfo))]
public sealed class NewHarborProjectCommand : HarborProjectSettingsCommandBase
{
    /// <summary>The project name: lower-case letters and digits, separated by single '.', '_' or '-'.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Make the project a proxy cache of this registry endpoint: its name or id, or the endpoint object (also piped).</summary>
    [Parameter]
    [RegistryEndpointArgument]
    [ValidateNotNullOrEmpty]
    public string? ProxyCacheEndpoint { get; set; }

    /// <summary>A registry endpoint piped from Get-HarborRegistryEndpoint or New-HarborRegistryEndpoint, as -ProxyCacheEndpoint.</summary>
    [Parameter(ValueFromPipeline = true, DontShow = true)]
    public HarborRegistryEndpointInfo? Endpoint { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        string? endpoint = ProxyCacheEndpoint ?? Endpoint?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string what = endpoint is null ? "Create project" : $"Create proxy-cache project of registry endpoint '{Endpoint?.Name ?? endpoint}'";
        if (!await ShouldProcessAsync(Name, $"{what} ({Describe()})").ConfigureAwait(false))
        {
            return;
        }

        var client = CreateClient();
        WriteObject(endpoint is null
            ? await client.CreateProjectAsync(Name, Settings(), cancellationToken).ConfigureAwait(false)
            : await client.CreateProxyCacheProjectAsync(Name, endpoint, Settings(), cancellationToken).ConfigureAwait(false));
    }
}
