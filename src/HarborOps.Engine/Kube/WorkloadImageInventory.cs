using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Models;
using k8s;
using k8s.Models;

namespace HarborOps.Engine.Kube;

/// <summary>What Get-WorkloadImage lists: namespaces by name or wildcard (all when empty) and registries by host or wildcard.</summary>
public sealed record WorkloadImageRequest
{
    public IReadOnlyList<string> Namespaces { get; init; } = [];
    public IReadOnlyList<string> Registries { get; init; } = [];
    /// <summary>Only namespaces this label selector selects (the API server's syntax).</summary>
    public string? NamespaceSelector { get; init; }
}

/// <summary>
/// Every image a cluster uses, per namespace, owning workload and container: running pods are resolved to their
/// owner through the ownerReferences chain (Pod → ReplicaSet → Deployment, Pod → Job → CronJob), with the digests the
/// kubelet resolved; workloads with no pod right now (a CronJob between runs, a Deployment scaled to zero) are listed
/// from their pod template with the pull secrets admission would give their pods.
/// </summary>
public static class WorkloadImageInventory
{
    private const int PodNamesKept = 20;
    private const string Activity = "Listing workload images";

    public static async Task<IReadOnlyList<WorkloadImageInfo>> ListAsync(KubeCluster cluster, WorkloadImageRequest request,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var registryPatterns = request.Registries.Where(r => !string.IsNullOrWhiteSpace(r)).Select(RegistryPattern).ToArray();
        var resolved = await KubeNamespaceScope.ResolveAsync(cluster, request.Namespaces, request.NamespaceSelector, cancellationToken).ConfigureAwait(false);
        // every namespace: one cluster-wide list per resource (null), rather than one list per namespace
        List<string?> scopes = resolved.All ? [null] : resolved.Names.Cast<string?>().ToList();
        var rows = new List<WorkloadImageInfo>();
        var done = 0;
        foreach (var scope in scopes)
        {
            progress?.Report(new OperationProgress(Activity, scope is null ? "all namespaces" : $"namespace {scope}", scope, done, scopes.Count));
            var snapshot = await ReadAsync(cluster, scope, cancellationToken).ConfigureAwait(false);
            rows.AddRange(Inventory(snapshot).Where(r => registryPatterns.Length == 0 || registryPatterns.Any(p => p.IsMatch(r.Registry))));
            done++;
        }
        progress?.Report(new OperationProgress(Activity, "done", null, done, scopes.Count, IsComplete: true));
        return rows
            .OrderBy(r => r.Namespace, StringComparer.Ordinal).ThenBy(r => r.WorkloadKind, StringComparer.Ordinal)
            .ThenBy(r => r.Workload, StringComparer.Ordinal).ThenBy(r => KindOrder(r.ContainerKind)).ThenBy(r => r.Container, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A registry filter: a host (normalised like image references, so "index.docker.io" finds docker.io) or a wildcard.</summary>
    private static Regex RegistryPattern(string registry)
    {
        var text = registry.Trim();
        if (!text.Contains('*') && !text.Contains('?')) text = ImageReference.NormalizeRegistry(text);
        return Wildcard.ToRegex(text);
    }

    private static int KindOrder(string kind) => kind switch { "Init" => 0, "Container" => 1, _ => 2 };

    private sealed record Snapshot(
        IList<V1Pod> Pods, IList<V1ReplicaSet> ReplicaSets, IList<V1Job> Jobs, IList<V1Deployment> Deployments,
        IList<V1StatefulSet> StatefulSets, IList<V1DaemonSet> DaemonSets, IList<V1CronJob> CronJobs, IList<V1ServiceAccount> ServiceAccounts);

    private static async Task<Snapshot> ReadAsync(KubeCluster cluster, string? ns, CancellationToken ct)
    {
        Task<T> List<T>(string resource, string group, Func<IKubernetes, CancellationToken, Task<T>> all, Func<IKubernetes, string, CancellationToken, Task<T>> inNamespace) =>
            cluster.CallAsync(KubeOperation.List(resource, ns, group), (c, t) => ns is null ? all(c, t) : inNamespace(c, ns, t), ct);

        var pods = List("pods", "", (c, t) => c.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.CoreV1.ListNamespacedPodAsync(n, cancellationToken: t));
        var replicaSets = List("replicasets", "apps", (c, t) => c.AppsV1.ListReplicaSetForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.AppsV1.ListNamespacedReplicaSetAsync(n, cancellationToken: t));
        var jobs = List("jobs", "batch", (c, t) => c.BatchV1.ListJobForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.BatchV1.ListNamespacedJobAsync(n, cancellationToken: t));
        var deployments = List("deployments", "apps", (c, t) => c.AppsV1.ListDeploymentForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.AppsV1.ListNamespacedDeploymentAsync(n, cancellationToken: t));
        var statefulSets = List("statefulsets", "apps", (c, t) => c.AppsV1.ListStatefulSetForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.AppsV1.ListNamespacedStatefulSetAsync(n, cancellationToken: t));
        var daemonSets = List("daemonsets", "apps", (c, t) => c.AppsV1.ListDaemonSetForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.AppsV1.ListNamespacedDaemonSetAsync(n, cancellationToken: t));
        var cronJobs = List("cronjobs", "batch", (c, t) => c.BatchV1.ListCronJobForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.BatchV1.ListNamespacedCronJobAsync(n, cancellationToken: t));
        var accounts = List("serviceaccounts", "", (c, t) => c.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: t), (c, n, t) => c.CoreV1.ListNamespacedServiceAccountAsync(n, cancellationToken: t));
        await Task.WhenAll(pods, replicaSets, jobs, deployments, statefulSets, daemonSets, cronJobs, accounts).ConfigureAwait(false);
        return new Snapshot((await pods).Items, (await replicaSets).Items, (await jobs).Items, (await deployments).Items,
            (await statefulSets).Items, (await daemonSets).Items, (await cronJobs).Items, (await accounts).Items);
    }

    private sealed record Owner(string Kind, string Name);

    private sealed class Row(string ns, Owner owner, string container, string kind, string image, string serviceAccount, IEnumerable<string> pullSecrets)
    {
        public string Namespace { get; } = ns;
        public Owner Owner { get; } = owner;
        public string Container { get; } = container;
        public string Kind { get; } = kind;
        public string Image { get; } = image;
        public string ServiceAccount { get; } = serviceAccount;
        public SortedSet<string> PullSecrets { get; } = new(pullSecrets, StringComparer.Ordinal);
        public SortedSet<string> Digests { get; } = new(StringComparer.Ordinal);
        public List<string> Pods { get; } = [];
    }

    private static IEnumerable<WorkloadImageInfo> Inventory(Snapshot snapshot)
    {
        var byUid = new Dictionary<string, (string Kind, V1ObjectMeta Meta)>(StringComparer.Ordinal);
        foreach (var rs in snapshot.ReplicaSets) byUid[rs.Metadata.Uid] = ("ReplicaSet", rs.Metadata);
        foreach (var job in snapshot.Jobs) byUid[job.Metadata.Uid] = ("Job", job.Metadata);
        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);

        foreach (var pod in snapshot.Pods)
        {
            var owner = ResolveOwner(pod.Metadata, byUid);
            var statuses = (pod.Status?.ContainerStatuses ?? []).Concat(pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.EphemeralContainerStatuses ?? [])
                .GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var secrets = (pod.Spec.ImagePullSecrets ?? []).Select(s => s.Name);
            foreach (var (name, image, kind) in Containers(pod.Spec))
            {
                var row = RowFor(rows, pod.Metadata.NamespaceProperty, owner, name, kind, image, pod.Spec.ServiceAccountName ?? "default", secrets);
                row.Pods.Add(pod.Metadata.Name);
                if (statuses.TryGetValue(name, out var status) && DigestOf(status.ImageID) is { } digest) row.Digests.Add(digest);
            }
        }

        // Workloads without a running pod still pull on their next start: list them from their templates.
        var accounts = snapshot.ServiceAccounts.ToDictionary(a => (a.Metadata.NamespaceProperty, a.Metadata.Name));
        void FromTemplate(string kind, V1ObjectMeta meta, V1PodTemplateSpec? template)
        {
            if (template?.Spec is null) return;
            var owner = new Owner(kind, meta.Name);
            if (rows.Values.Any(r => r.Namespace == meta.NamespaceProperty && r.Owner == owner)) return;
            var account = template.Spec.ServiceAccountName ?? "default";
            var secrets = (template.Spec.ImagePullSecrets ?? []).Select(s => s.Name).ToList();
            if (secrets.Count == 0 && accounts.TryGetValue((meta.NamespaceProperty, account), out var sa))
                secrets = (sa.ImagePullSecrets ?? []).Select(s => s.Name).ToList();
            foreach (var (name, image, containerKind) in Containers(template.Spec))
                RowFor(rows, meta.NamespaceProperty, owner, name, containerKind, image, account, secrets);
        }
        foreach (var d in snapshot.Deployments) FromTemplate("Deployment", d.Metadata, d.Spec?.Template);
        foreach (var s in snapshot.StatefulSets) FromTemplate("StatefulSet", s.Metadata, s.Spec?.Template);
        foreach (var d in snapshot.DaemonSets) FromTemplate("DaemonSet", d.Metadata, d.Spec?.Template);
        foreach (var c in snapshot.CronJobs) FromTemplate("CronJob", c.Metadata, c.Spec?.JobTemplate?.Spec?.Template);

        foreach (var row in rows.Values)
        {
            var (registry, repository, tag, pinned) = Parse(row.Image);
            var digests = pinned is not null ? [pinned] : row.Digests.ToArray();
            yield return new WorkloadImageInfo
            {
                Namespace = row.Namespace, WorkloadKind = row.Owner.Kind, Workload = row.Owner.Name, Container = row.Container, ContainerKind = row.Kind,
                Image = row.Image, Reference = FullReference(registry, repository, tag, pinned), Registry = registry, Repository = repository, Tag = tag,
                Digest = digests.Length == 1 ? digests[0] : null, Digests = digests,
                PullSecrets = row.PullSecrets.ToArray(), ServiceAccount = row.ServiceAccount,
                PodCount = row.Pods.Count, Pods = row.Pods.Order(StringComparer.Ordinal).Take(PodNamesKept).ToArray(),
            };
        }
    }

    private static string FullReference(string registry, string repository, string? tag, string? pinned) =>
        registry.Length == 0 ? "" : $"{registry}/{repository}{(tag is null ? "" : ":" + tag)}{(pinned is null ? "" : "@" + pinned)}";

    private static Row RowFor(Dictionary<string, Row> rows, string ns, Owner owner, string container, string kind, string image, string account, IEnumerable<string> secrets)
    {
        var key = string.Join('\u0001', ns, owner.Kind, owner.Name, kind, container, image);
        if (!rows.TryGetValue(key, out var row))
        {
            row = new Row(ns, owner, container, kind, image, account, secrets);
            rows[key] = row;
        }
        else
        {
            row.PullSecrets.UnionWith(secrets);
        }
        return row;
    }

    private static IEnumerable<(string Name, string Image, string Kind)> Containers(V1PodSpec spec) =>
        (spec.InitContainers ?? []).Select(c => (c.Name, c.Image ?? "", "Init"))
            .Concat((spec.Containers ?? []).Select(c => (c.Name, c.Image ?? "", "Container")))
            .Concat((spec.EphemeralContainers ?? []).Select(c => (c.Name, c.Image ?? "", "Ephemeral")));

    /// <summary>The controller chain: a ReplicaSet's Deployment, a Job's CronJob; any other controller as it names itself.</summary>
    private static Owner ResolveOwner(V1ObjectMeta pod, Dictionary<string, (string Kind, V1ObjectMeta Meta)> byUid)
    {
        var reference = Controller(pod);
        if (reference is null) return new Owner("Pod", pod.Name);
        if (reference.Kind is "ReplicaSet" or "Job" && byUid.TryGetValue(reference.Uid, out var parent))
        {
            var grandParent = Controller(parent.Meta);
            if (grandParent is not null && (reference.Kind, grandParent.Kind) is ("ReplicaSet", "Deployment") or ("Job", "CronJob"))
                return new Owner(grandParent.Kind, grandParent.Name);
        }
        return new Owner(reference.Kind, reference.Name);
    }

    private static V1OwnerReference? Controller(V1ObjectMeta meta) =>
        meta.OwnerReferences?.FirstOrDefault(r => r.Controller == true) ?? meta.OwnerReferences?.FirstOrDefault();

    private static readonly Regex ManifestDigest = new("@(sha256:[a-f0-9]{64})$", RegexOptions.CultureInvariant);

    /// <summary>The manifest digest in a kubelet imageID ("docker.io/library/nginx@sha256:…", "docker-pullable://…@sha256:…").
    /// A bare "sha256:…" is the image's config id on some runtimes, not a manifest digest, so it is not reported.</summary>
    internal static string? DigestOf(string? imageId) =>
        imageId is null ? null : ManifestDigest.Match(imageId) is { Success: true } m ? m.Groups[1].Value : null;

    private static (string Registry, string Repository, string? Tag, string? Digest) Parse(string image)
    {
        try
        {
            var reference = ImageReference.Parse(image);
            if (reference.Kind != ImageReferenceKind.Registry) return ("", image, null, null);
            return (reference.Registry, reference.Repository, reference.Digest is null ? reference.Tag ?? "latest" : reference.Tag, reference.Digest);
        }
        catch (RegistryException)
        {
            return ("", image, null, null);
        }
    }
}
