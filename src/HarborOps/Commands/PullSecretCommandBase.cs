using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Rotation;

namespace HarborOps.Commands;

/// <summary>
/// Base of the pull-secret cmdlets that need Harbor as well as the cluster (the rotation and the status): Harbor's
/// session or -Harbor/-Credential, the cluster's -Kubeconfig/-Context (in-cluster configuration without them inside a
/// pod), and the namespace selection.
/// </summary>
public abstract class PullSecretCommandBase : HarborCommandBase
{
    /// <summary>Namespaces by name; wildcards list the cluster's namespaces and keep the matching ones. Without -Namespace, -LabelSelector or -AllNamespaces: every namespace that has a HarborOps-managed secret of -SecretName.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Namespace { get; set; }

    /// <summary>Namespaces whose labels match this selector (team=payments,env!=dev).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LabelSelector { get; set; }

    /// <summary>Every namespace of the cluster.</summary>
    [Parameter]
    public SwitchParameter AllNamespaces { get; set; }

    /// <summary>The pull secret's name in each namespace. Default harbor-pull.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SecretName { get; set; } = PullSecretSyncRequest.DefaultSecretName;

    /// <summary>The kubeconfig file; by default $env:KUBECONFIG or ~/.kube/config, or the pod's ServiceAccount when running in a cluster.</summary>
    [Parameter]
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context to use instead of its current context.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Context { get; set; }

    /// <summary>The namespace selection as the engine takes it, or null for "the managed ones".</summary>
    protected NamespaceSelection? Selection() =>
        Namespace is null && LabelSelector is null && !AllNamespaces ? null
        : new NamespaceSelection { Names = Namespace ?? [], LabelSelector = LabelSelector, All = AllNamespaces };

    /// <summary>Resolves -Kubeconfig against the PowerShell location (not the process directory); pipeline thread.</summary>
    protected override void PrepareRecord()
    {
        if (!string.IsNullOrEmpty(Kubeconfig)) Kubeconfig = GetUnresolvedProviderPathFromPSPath(Kubeconfig);
    }

    protected PullSecretCluster ConnectCluster() => PullSecretCluster.Connect(Kubeconfig, Context);

    /// <summary>A registry engine of its own for this command, so credential checks ask Harbor's token service afresh.</summary>
    protected static RegistryEngine NewVerificationEngine() => new(RegistryEngine.Shared.Options);
}
