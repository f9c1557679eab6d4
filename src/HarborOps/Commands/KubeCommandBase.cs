using System.Management.Automation;
using HarborOps.Engine.Kube;
using HarborOps.Infrastructure;

namespace HarborOps.Commands;

/// <summary>
/// Base of the Kubernetes cmdlets: which cluster (-Kubeconfig, -Context, or -InCluster) and one connection per
/// invocation, with the client's request log (method, path, status) as verbose output.
/// </summary>
public abstract class KubeCommandBase : HarborOpsCmdlet, IDisposable
{
    // object, not KubeCluster: a field of an engine type would make PowerShell load the engine with the cmdlet type.
    private object? _cluster;
    private string? _resolvedKubeconfig;

    /// <summary>The kubeconfig file; by default $KUBECONFIG, else ~/.kube/config, else the in-cluster configuration when running in a pod.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context to use; by default the file's current context.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KubeContextCompleter))]
    public string? Context { get; set; }

    /// <summary>Use the pod's ServiceAccount (in-cluster configuration), as in a Kubernetes CronJob or a runbook pod.</summary>
    [Parameter]
    public SwitchParameter InCluster { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (InCluster.IsPresent && (Kubeconfig is not null || Context is not null))
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("-InCluster uses the pod's ServiceAccount; it cannot be combined with -Kubeconfig or -Context."),
                "KubeConnectionConflict", ErrorCategory.InvalidArgument, null));
        // PowerShell's current location is not the process's: resolve a relative path here, on the pipeline thread.
        if (Kubeconfig is not null) _resolvedKubeconfig = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Kubeconfig);
    }

    /// <summary>The connection of this invocation, made on first use.</summary>
    protected async Task<KubeCluster> ConnectClusterAsync()
    {
        if (_cluster is KubeCluster cluster) return cluster;
        var connected = await KubeCluster.ConnectAsync(new KubeConnectionRequest
        {
            KubeconfigPath = _resolvedKubeconfig, Context = Context, InCluster = InCluster.IsPresent,
        }, WriteVerbose).ConfigureAwait(false);
        _cluster = connected;
        WriteVerbose($"Kubernetes: {connected}");
        return connected;
    }

    /// <summary>PowerShell disposes a cmdlet when its pipeline ends: the connection goes with it (HarborOpsCmdlet's
    /// Dispose is not virtual, so the interface is re-implemented here).</summary>
    void IDisposable.Dispose()
    {
        (_cluster as IDisposable)?.Dispose();
        _cluster = null;
        Dispose();
    }
}
