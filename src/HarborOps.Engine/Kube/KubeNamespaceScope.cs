using k8s;

namespace HarborOps.Engine.Kube;

/// <summary>
/// Which namespaces a Kubernetes cmdlet works on: names as given (no list permission needed, so a namespace-scoped
/// identity can use them), wildcards and a label selector resolved by listing namespaces, or every namespace.
/// </summary>
public sealed record KubeNamespaceScope(bool All, IReadOnlyList<string> Names)
{
    /// <summary>
    /// Resolves names, wildcards (team-*) and a label selector (the API server's syntax: "team in (a,b),!legacy"). No
    /// names and no selector means every namespace (<see cref="All"/>, names listed only when <paramref name="listAll"/>).
    /// </summary>
    public static async Task<KubeNamespaceScope> ResolveAsync(KubeCluster cluster, IReadOnlyList<string> namesOrWildcards, string? labelSelector,
        CancellationToken cancellationToken, bool listAll = false)
    {
        var names = namesOrWildcards.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var patterns = names.Where(n => n.Contains('*') || n.Contains('?')).ToList();
        var selector = string.IsNullOrWhiteSpace(labelSelector) ? null : labelSelector.Trim();
        if (names.Count == 0 && selector is null && !listAll) return new KubeNamespaceScope(true, []);

        var exact = names.Except(patterns).ToList();
        if (patterns.Count == 0 && selector is null && names.Count > 0) return new KubeNamespaceScope(false, exact.Order(StringComparer.Ordinal).ToList());

        var listed = (await cluster.CallAsync(KubeOperation.List("namespaces"),
            (c, t) => c.CoreV1.ListNamespaceAsync(labelSelector: selector, cancellationToken: t), cancellationToken).ConfigureAwait(false))
            .Items.Select(n => n.Metadata.Name).ToList();
        var regexes = patterns.Select(Wildcard.ToRegex).ToList();
        IEnumerable<string> result = names.Count == 0
            ? listed
            : exact.Concat(listed.Where(n => regexes.Any(r => r.IsMatch(n))));
        // a selector narrows names and wildcards to the namespaces it selects
        if (selector is not null && names.Count > 0) result = result.Intersect(listed, StringComparer.Ordinal);
        return new KubeNamespaceScope(false, result.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
    }
}
