using HarborOps.Engine.Errors;
using HarborOps.Engine.Kube;
using k8s;

namespace HarborOps.Engine.Rotation;

/// <summary>
/// Which of the cluster's HarborOps-managed pull secrets hold which robot logins, read across every namespace. One
/// robot may sit in many namespaces' secrets (New-HarborRobot | Sync-PullSecret -Namespace a, b, c), so a namespace's
/// own secret letting go of a robot says nothing about the others; deleting it while any of them holds it makes every
/// pull there fail. Only user names are kept, never a password.
/// </summary>
public sealed class RobotHolders
{
    private readonly Dictionary<string, List<string>> _holders;

    private RobotHolders(Dictionary<string, List<string>> holders, string? unreadable)
    {
        this._holders = holders;
        Unreadable = unreadable;
    }

    /// <summary>Why the secrets of every namespace could not be read (RBAC, most often); null when they were.</summary>
    public string? Unreadable { get; }

    /// <summary>The secrets ("namespace/name") that hold <paramref name="robotName"/> in their data or record it as their robot.</summary>
    public IReadOnlyList<string> Of(string robotName) => _holders.TryGetValue(robotName, out var found) ? found : [];

    /// <summary>
    /// Lists the managed secrets of all namespaces in one call. A cluster identity that may not do that (a RoleBinding
    /// per namespace) cannot show that no other namespace holds a robot, so the answer is then <see cref="Unreadable"/>.
    /// </summary>
    public static async Task<RobotHolders> ReadAsync(KubeCluster cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        k8s.Models.V1SecretList secrets;
        try
        {
            secrets = await cluster.CallAsync(KubeOperation.List("secrets"),
                (k, ct) => k.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: PullSecretKeys.ManagedSelector, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeException ex) when (!ex.IsTerminating)
        {
            return new RobotHolders([], ex.Kind == FailureKind.PermissionDenied
                ? "the cluster identity may not list secrets in all namespaces (a ClusterRole with list on secrets, bound cluster-wide), so it cannot see whether another namespace's pull secret still holds the robot"
                : $"the managed pull secrets of all namespaces could not be listed ({ex.Message}), so whether another namespace still holds the robot is unknown");
        }
        var index = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var secret in secrets.Items.Where(s => s.Type == DockerConfigJson.SecretType))
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (secret.Data?.TryGetValue(DockerConfigJson.DataKey, out var payload) == true) names.UnionWith(DockerConfigJson.UserNames(payload));
            if (PullSecretState.FromAnnotations(secret.Metadata.Annotations).Robot is { } recorded) names.Add(recorded);
            foreach (var name in names)
            {
                if (!index.TryGetValue(name, out var list)) index[name] = list = [];
                list.Add($"{secret.Metadata.NamespaceProperty}/{secret.Metadata.Name}");
            }
        }
        return new RobotHolders(index, null);
    }
}
