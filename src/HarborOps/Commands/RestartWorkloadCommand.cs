using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Rotation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Restarts the Deployments, StatefulSets and DaemonSets that pull with a secret or from a registry, like kubectl rollout restart, and can wait for their rollouts.</summary>
/// <remarks>
/// <para>Restart-Workload picks, in each namespace, the workloads whose pod template lists -SecretName in
/// imagePullSecrets or runs as a ServiceAccount that lists it, and those with a container image from -Registry. It
/// restarts each by setting the kubectl.kubernetes.io/restartedAt annotation of the pod template (a strategic merge
/// patch: the template's other annotations stay), exactly as kubectl rollout restart does.</para>
/// <para>-Wait follows each rollout the way kubectl rollout status does, all at once. A Deployment that exceeds its
/// progressDeadlineSeconds, or any workload still rolling when -Timeout runs out, fails alone with
/// WorkloadRolloutStalled or WorkloadRolloutTimeout; the others are still followed to the end.</para>
/// </remarks>
/// <example>
/// <code>Restart-Workload -Namespace team-a -SecretName harbor-pull -Wait</code>
/// <para>Rolls every workload of team-a that pulls with harbor-pull and waits until each has rolled out.</para>
/// </example>
/// <example>
/// <code>Restart-Workload -AllNamespaces -Registry harbor.example.com -Kind Deployment -WhatIf</code>
/// <para>Lists the Deployments that would be restarted because their images come from Harbor.</para>
/// </example>
/// <errors>
/// <error id="WorkloadRolloutStalled">A Deployment exceeded its progress deadline; its new pods do not become available.</error>
/// <error id="WorkloadRolloutTimeout">A rollout did not finish within -Timeout.</error>
/// <error id="PullSecretCredentialInvalid">Neither -SecretName nor -Registry was given, or an unknown -Kind.</error>
/// <error id="KubeResourceNotFound">A workload disappeared before it was restarted.</error>
/// <error id="KubePermissionDenied">The cluster credential lacks a verb on a resource (the message names both).</error>
/// <error id="KubeAuthenticationFailed">The API server rejected the cluster credential.</error>
/// <error id="KubeApiUnreachable">The API server could not be reached.</error>
/// <error id="KubeconfigNotFound">No kubeconfig and not running in a pod.</error>
/// <error id="KubeContextNotFound">The kubeconfig has no such context.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsLifecycle.Restart, "Workload", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Restart-Workload.md")]
[OutputType(typeof(WorkloadRestartResult))]
public sealed class RestartWorkloadCommand : NamespaceSelectionCommandBase
{
    /// <summary>Restart the workloads that pull with this secret (in their pod template or through their ServiceAccount).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SecretName { get; set; }

    /// <summary>Restart the workloads with a container or init container image from this registry (host[:port]).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string? Registry { get; set; }

    /// <summary>Only these kinds: Deployment, StatefulSet, DaemonSet (default all three).</summary>
    [Parameter]
    [ValidateSet("Deployment", "StatefulSet", "DaemonSet")]
    public string[] Kind { get; set; } = ["Deployment", "StatefulSet", "DaemonSet"];

    /// <summary>Only workloads with these names (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Wait until each rollout completes (like kubectl rollout status).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait follows a rollout before it fails with WorkloadRolloutTimeout. Default 5 minutes.</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var namespaceSelection = RequiredSelection(SecretName ?? Registry);
        if (Timeout <= TimeSpan.Zero)
            throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument, $"-Timeout must be positive; {Timeout} is not.", SecretName ?? Registry);
        var cluster = await ConnectClusterAsync().ConfigureAwait(false);
        var restarter = new WorkloadRestarter(cluster);
        var selection = new WorkloadSelection { SecretName = SecretName, Registry = Registry, Kinds = Kind, Names = Name ?? [] };
        var namespaces = await new PullSecretSync(cluster).ResolveNamespacesAsync(namespaceSelection, cancellationToken).ConfigureAwait(false);
        var targets = new List<WorkloadTarget>();
        foreach (var name in namespaces)
        {
            IReadOnlyList<WorkloadTarget> found = [];
            if (await RunItemAsync(name, async () => found = await restarter.FindAsync(name, selection, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false) is not null)
                continue;
            foreach (var target in found)
            {
                if (await ShouldProcessAsync($"{target.Kind} {target.Namespace}/{target.Name}", $"Restart (pulls with {target.Reason})").ConfigureAwait(false))
                    targets.Add(target);
                else
                    WriteObject(new WorkloadRestartResult { Namespace = target.Namespace, Kind = target.Kind, Name = target.Name, Reason = target.Reason, State = WorkloadRolloutState.Planned });
            }
        }
        if (targets.Count == 0) return;
        var progress = Wait ? StartProgress("Restart-Workload", $"Waiting for {targets.Count} rollouts") : null;
        foreach (var outcome in await restarter.RestartAllAsync(targets, Wait, Timeout, progress, cancellationToken).ConfigureAwait(false))
        {
            if (outcome.Failure is not null) WriteFailure(outcome.Failure, $"{outcome.Result.Kind} {outcome.Result.Namespace}/{outcome.Result.Name}");
            else WriteVerbose($"{outcome.Result.Kind} {outcome.Result.Namespace}/{outcome.Result.Name}: {outcome.Result.Status ?? "restarted"}");
            WriteObject(outcome.Result);
        }
    }
}
