using System.Management.Automation;
using HarborOps.Engine.Kube;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets every image a Kubernetes cluster uses, per namespace, workload and container, with its registry, digest and pull secrets.</summary>
/// <remarks>
/// <para>Pods are resolved to the workload that owns them: through their ReplicaSet to a Deployment, through their Job to
/// a CronJob, or directly to a StatefulSet, DaemonSet or Job; a pod nobody owns is listed as a Pod. Init and ephemeral
/// containers are included and marked in ContainerKind. Digest is the one pinned in the reference or the one the
/// running pods resolved. A workload without running pods (a CronJob between runs, a Deployment scaled to zero) is
/// listed from its pod template with PodCount 0, because it will pull again when it starts.</para>
/// <para>PullSecrets are the pods' imagePullSecrets, which include those their ServiceAccount adds. Registry is normalised
/// like every image reference in HarborOps: "nginx" is docker.io/library/nginx.</para>
/// <para>Needs list on pods, replicasets, jobs, deployments, statefulsets, daemonsets, cronjobs and serviceaccounts in
/// the namespaces asked for (cluster-wide without -Namespace), and list on namespaces for wildcards.</para>
/// </remarks>
/// <example>
/// <code>Get-WorkloadImage -Registry myacr.azurecr.io | Group-Object Namespace</code>
/// <para>What still pulls from the old Azure Container Registry, by namespace.</para>
/// </example>
/// <example>
/// <code>Get-WorkloadImage -NamespaceSelector 'tier in (gold,silver)' -Registry *.azurecr.io | Format-Table</code>
/// <para>The images the gold and silver namespaces pull from any Azure Container Registry, as a table per namespace.</para>
/// </example>
/// <example>
/// <code>Get-WorkloadImage -Namespace team-* -Context prod | Where-Object PullSecrets -notcontains harbor-pull</code>
/// <para>Containers in the team namespaces of the prod context that do not use the harbor-pull secret yet.</para>
/// </example>
/// <errors>
/// <error id="KubeconfigNotFound">No kubeconfig was found and this is not a pod.</error>
/// <error id="KubeContextNotFound">The kubeconfig has no such context; the message lists the ones it has.</error>
/// <error id="KubeconfigInvalid">The kubeconfig or its credentials cannot be used.</error>
/// <error id="KubeInClusterUnavailable">-InCluster outside a pod.</error>
/// <error id="KubeConnectionConflict">-InCluster was combined with -Kubeconfig or -Context.</error>
/// <error id="KubeApiUnreachable">The API server could not be reached.</error>
/// <error id="KubeTlsFailed">The API server's certificate is not trusted by the kubeconfig.</error>
/// <error id="KubeAuthenticationFailed">The API server rejected the credentials.</error>
/// <error id="KubePermissionDenied">RBAC denies listing a resource; the message names the rule to add.</error>
/// <error id="KubeResourceNotFound">A namespace given by name does not exist.</error>
/// <error id="KubeRequestInvalid">-NamespaceSelector is not a valid label selector.</error>
/// <error id="RegistryReferenceInvalid">A -Registry value is not a registry host.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
/// <parameter name="Namespace">Namespaces by name or wildcard (team-*); every namespace when omitted.</parameter>
[Cmdlet(VerbsCommon.Get, "WorkloadImage", HelpUri = OnlineHelp.CmdletPages + "Get-WorkloadImage.md")]
[OutputType(typeof(WorkloadImageInfo))]
public sealed class GetWorkloadImageCommand : NamespaceFilterCommandBase
{
    /// <summary>Only images from these registries (host[:port], or a wildcard such as *.azurecr.io).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string[]? Registry { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Namespace is null ? null : string.Join(",", Namespace);
        var cluster = await ConnectClusterAsync().ConfigureAwait(false);
        var request = new WorkloadImageRequest { Namespaces = Namespace ?? [], Registries = Registry ?? [], NamespaceSelector = NamespaceSelector };
        var rows = await WorkloadImageInventory.ListAsync(cluster, request, StartProgress("Get-WorkloadImage", "Listing workloads"), cancellationToken)
            .ConfigureAwait(false);
        foreach (var row in rows) WriteObject(row);
    }
}
