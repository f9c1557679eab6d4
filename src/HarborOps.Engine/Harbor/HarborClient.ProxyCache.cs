using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

public sealed partial class HarborClient
{
    /// <summary>
    /// The registry types Harbor lets back a proxy-cache project: its install default of PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE
    /// (goharbor/harbor make/photon/prepare/templates/core/env.jinja), which src/server/v2.0/handler/project.go
    /// validateProjectReq holds a registry_id's endpoint to ("unsupported registry type").
    /// </summary>
    public static readonly IReadOnlyList<string> ProxyCacheRegistryTypes =
        ["docker-hub", "harbor", "azure-acr", "ali-acr", "aws-ecr", "google-gcr", "docker-registry", "github-ghcr", "jfrog-artifactory"];

    /// <summary>
    /// Creates a proxy-cache project (a pull-through mirror) of a registry endpoint, with its policies and quota. The endpoint
    /// is checked first because Harbor answers an unknown registry_id with a bare 500.
    /// </summary>
    public async Task<HarborProjectInfo> CreateProxyCacheProjectAsync(string project, string endpoint, HarborProjectSettings settings, CancellationToken cancellationToken)
    {
        var registry = await FindRegistryEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false);
        if (!ProxyCacheRegistryTypes.Contains(registry.Type, StringComparer.Ordinal))
            throw new HarborException(HarborErrorIds.ProxyCacheTypeUnsupported, FailureKind.InvalidArgument,
                $"Registry endpoint '{registry.Name}' is of type '{registry.Type}', which Harbor cannot back a proxy-cache project with. " +
                $"Make an endpoint of type {string.Join(", ", ProxyCacheRegistryTypes)} with New-HarborRegistryEndpoint.", endpoint);
        return await CreateProjectAsync(project, settings, registry.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A registry endpoint by its exact name, or by its id when no endpoint has that name.</summary>
    public async Task<HarborRegistryEndpointInfo> FindRegistryEndpointAsync(string nameOrId, CancellationToken cancellationToken)
    {
        var endpoints = await ListRegistryEndpointsAsync(null, cancellationToken).ConfigureAwait(false);
        return endpoints.FirstOrDefault(e => e.Name == nameOrId)
            ?? (long.TryParse(nameOrId, out var id) ? endpoints.FirstOrDefault(e => e.Id == id) : null)
            ?? throw new HarborException(HarborErrorIds.RegistryEndpointNotFound, FailureKind.NotFound,
                $"There is no registry endpoint named '{nameOrId}' on {Connection.Url}. Add it with New-HarborRegistryEndpoint; Get-HarborRegistryEndpoint lists them.",
                nameOrId);
    }

    /// <summary>The registry endpoint of a proxy-cache project from its summary, which project members may read (/registries needs an admin).</summary>
    private async Task<RegistryDto?> ProxyCacheRegistryAsync(ProjectDto project, CancellationToken cancellationToken)
    {
        if (project.RegistryId <= 0) return null;
        var call = new HarborCall(HttpMethod.Get, $"projects/{ProjectSegment(project.Name)}/summary")
        {
            ProjectByName = true, Target = project.Name, Description = $"the summary of project '{project.Name}'", NotFoundId = HarborErrorIds.ProjectNotFound,
        };
        return (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<ProjectSummaryDto>(call).Registry;
    }
}
