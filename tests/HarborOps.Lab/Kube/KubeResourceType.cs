namespace HarborOps.Lab.Kube;

/// <summary>One resource the emulator serves, with what discovery says about it (kubectl maps names through it).</summary>
public sealed record KubeResourceType(string Group, string Version, string Plural, string Kind, bool Namespaced, string[] ShortNames, string[] FieldLabels)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
    /// <summary>"secrets" or "deployments.apps": how the API server names a resource in its messages.</summary>
    public string Qualified => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
    public string Singular => Kind.ToLowerInvariant();
    public bool IsWorkload => Kind is "Deployment" or "StatefulSet" or "DaemonSet";
    /// <summary>Whether the API server counts spec changes in metadata.generation (the workload and batch strategies do; RBAC's do not).</summary>
    public bool HasGeneration => Group is "apps" or "batch";

    public static readonly string[] AllVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public static readonly KubeResourceType Namespaces = new("", "v1", "namespaces", "Namespace", false, ["ns"], ["metadata.name", "status.phase"]);
    public static readonly KubeResourceType Secrets = new("", "v1", "secrets", "Secret", true, [], ["metadata.name", "metadata.namespace", "type"]);
    public static readonly KubeResourceType ServiceAccounts = new("", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"], ["metadata.name", "metadata.namespace"]);
    public static readonly KubeResourceType Pods = new("", "v1", "pods", "Pod", true, ["po"], ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.serviceAccountName", "status.phase"]);
    public static readonly KubeResourceType Deployments = new("apps", "v1", "deployments", "Deployment", true, ["deploy"], ["metadata.name", "metadata.namespace"]);
    public static readonly KubeResourceType StatefulSets = new("apps", "v1", "statefulsets", "StatefulSet", true, ["sts"], ["metadata.name", "metadata.namespace"]);
    public static readonly KubeResourceType DaemonSets = new("apps", "v1", "daemonsets", "DaemonSet", true, ["ds"], ["metadata.name", "metadata.namespace"]);
    public static readonly KubeResourceType ReplicaSets = new("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], ["metadata.name", "metadata.namespace", "status.replicas"]);
    public static readonly KubeResourceType Jobs = new("batch", "v1", "jobs", "Job", true, [], ["metadata.name", "metadata.namespace", "status.successful"]);
    public static readonly KubeResourceType CronJobs = new("batch", "v1", "cronjobs", "CronJob", true, ["cj"], ["metadata.name", "metadata.namespace"]);

    // RBAC objects are stored as written (the examples' manifests create them); the emulator's own access rules are KubeAccessRule.
    public static readonly KubeResourceType Roles = new("rbac.authorization.k8s.io", "v1", "roles", "Role", true, [], ["metadata.name", "metadata.namespace"]);
    public static readonly KubeResourceType RoleBindings = new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, [], ["metadata.name", "metadata.namespace"]);
    public static readonly KubeResourceType ClusterRoles = new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, [], ["metadata.name"]);
    public static readonly KubeResourceType ClusterRoleBindings = new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, [], ["metadata.name"]);

    public static readonly IReadOnlyList<KubeResourceType> All =
        [Namespaces, Secrets, ServiceAccounts, Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, Roles, RoleBindings, ClusterRoles, ClusterRoleBindings];

    public static KubeResourceType? Find(string group, string version, string plural) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);

    public static KubeResourceType OfKind(string kind) => All.First(t => t.Kind == kind);
}
