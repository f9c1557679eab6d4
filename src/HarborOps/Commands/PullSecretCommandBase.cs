using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Rotation;

namespace HarborOps.Commands;

/// <summary>
/// Base of the pull-secret cmdlets that need Harbor as well as the cluster (the rotation and the status): the cluster
/// from KubeCommandBase (-Kubeconfig, -Context, -InCluster), Harbor's session or -Harbor/-Credential as the Harbor
/// cmdlets take them, and the namespace selection (NamespaceSelectionCommandBase).
/// </summary>
/// <parameter name="Namespace">Namespaces by name; wildcards list the cluster's namespaces and keep the matching ones. Without -Namespace, -NamespaceSelector or -AllNamespaces: every namespace that has a HarborOps-managed secret of -SecretName.</parameter>
public abstract class PullSecretCommandBase : NamespaceSelectionCommandBase
{
    /// <summary>The pull secret's name in each namespace. Default harbor-pull.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SecretName { get; set; } = PullSecretSyncRequest.DefaultSecretName;

    /// <summary>Harbor's URL (https://harbor.example.com); by default the one Connect-Harbor opened.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Harbor { get; set; }

    /// <summary>The Harbor identity that creates and deletes robots (a project admin, a system admin, or a robot with robot:create/delete/list), for this command only; by default the session's.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Do not check Harbor's TLS certificate. Only for a lab or a Harbor whose CA you cannot install.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>A Harbor client for the session from Connect-Harbor or -Harbor/-Credential, logging its requests as verbose.</summary>
    protected HarborClient CreateHarborClient() =>
        new(HarborSession.Resolve(Harbor, ToNetworkCredential(Credential), SkipCertificateCheck), WriteVerbose);

    /// <summary>A registry engine of its own for this command, so credential checks ask Harbor's token service afresh.</summary>
    protected static RegistryEngine NewVerificationEngine() => new(RegistryEngine.Shared.Options);
}
