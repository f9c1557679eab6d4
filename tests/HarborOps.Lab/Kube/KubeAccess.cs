namespace HarborOps.Lab.Kube;

/// <summary>
/// One RBAC-like rule of a lab token: verbs on resources (plural names, "pods/ephemeralcontainers" for a subresource)
/// in API groups, optionally only in some namespaces and only for some names. "*" matches anything; a null list means
/// any namespace (cluster-wide, like a ClusterRoleBinding) or any name.
/// </summary>
public sealed record KubeAccessRule(IReadOnlyList<string> Verbs, IReadOnlyList<string> Resources, IReadOnlyList<string>? Namespaces = null,
    IReadOnlyList<string>? ApiGroups = null, IReadOnlyList<string>? ResourceNames = null)
{
    /// <summary>Everything, everywhere: what the lab's admin token has.</summary>
    public static readonly KubeAccessRule Everything = new(["*"], ["*"], ApiGroups: ["*"]);

    /// <summary>get, list and watch on every resource: a reader.</summary>
    public static readonly KubeAccessRule ReadAll = new(["get", "list", "watch"], ["*"], ApiGroups: ["*"]);

    internal bool Allows(string verb, KubeResourceType type, string? subresource, string? ns, string? name)
    {
        var resource = subresource is null ? type.Plural : $"{type.Plural}/{subresource}";
        if (!Verbs.Any(v => v == "*" || v == verb)) return false;
        if (!Resources.Any(r => r == "*" || r == resource)) return false;
        if (!(ApiGroups ?? [""]).Any(g => g == "*" || g == type.Group)) return false;
        if (Namespaces is not null && (ns is null || !Namespaces.Contains(ns))) return false;
        if (ResourceNames is not null && (name is null || !ResourceNames.Contains(name))) return false;
        return true;
    }
}

/// <summary>A bearer token the emulator accepts, the user it authenticates as, and what that user may do.</summary>
public sealed record KubeTokenGrant(string User, string Token, IReadOnlyList<KubeAccessRule> Rules)
{
    internal bool Allows(string verb, KubeResourceType type, string? subresource, string? ns, string? name) =>
        Rules.Any(r => r.Allows(verb, type, subresource, ns, name));

    public override string ToString() => $"token of {User} ({Rules.Count} rules)";
}
