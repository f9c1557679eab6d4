using k8s;

namespace HarborOps.Engine.Kube;

/// <summary>
/// What tab completion offers for -Context and -Namespace: the contexts of the kubeconfig the cmdlet would read, and the
/// namespaces of that cluster. A completer runs while the user types, so every failure is an empty list and the
/// cluster gets a short deadline: completion never throws and never hangs the prompt.
/// </summary>
public static class KubeCompletion
{
    /// <summary>How long a namespace listing may take before completion gives up on it.</summary>
    public static readonly TimeSpan NamespaceDeadline = TimeSpan.FromSeconds(2);

    /// <summary>Context names of the kubeconfig (explicit path, else KUBECONFIG, else ~/.kube/config), sorted; empty on any failure.</summary>
    public static async Task<IReadOnlyList<string>> ContextNamesAsync(string? kubeconfigPath)
    {
        try
        {
            var files = KubeCluster.KubeconfigFiles(kubeconfigPath);
            if (files.Count == 0) return [];
            var merged = await KubeCluster.LoadMergedAsync(files).ConfigureAwait(false);
            return (merged.Contexts ?? []).Select(c => c.Name).Where(n => !string.IsNullOrEmpty(n)).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception)
        {
            return []; // a completer is failure-silent: a broken kubeconfig shows when the command runs
        }
    }

    /// <summary>Namespace names of the cluster the kubeconfig and context point at, sorted; empty on any failure or after the deadline.</summary>
    public static async Task<IReadOnlyList<string>> NamespaceNamesAsync(string? kubeconfigPath, string? context)
    {
        try
        {
            using var deadline = new CancellationTokenSource(NamespaceDeadline);
            var listing = Task.Run(async () =>
            {
                using var cluster = await KubeCluster.ConnectAsync(new KubeConnectionRequest
                {
                    KubeconfigPath = kubeconfigPath, Context = context, RequestTimeout = NamespaceDeadline,
                }).ConfigureAwait(false);
                var list = await cluster.Client.CoreV1.ListNamespaceAsync(cancellationToken: deadline.Token).ConfigureAwait(false);
                return (IReadOnlyList<string>)list.Items.Select(n => n.Metadata.Name).Order(StringComparer.Ordinal).ToList();
            }, deadline.Token);
            return await listing.WaitAsync(NamespaceDeadline, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            return [];
        }
    }
}
