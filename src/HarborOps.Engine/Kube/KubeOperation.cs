namespace HarborOps.Engine.Kube;

/// <summary>
/// What a call to the API server is about, in RBAC terms (verb, API group, resource, namespace, name): the words
/// errors use, so a Forbidden names exactly the rule that would allow it.
/// </summary>
public sealed record KubeOperation(string Verb, string Resource, string? Namespace = null, string? Name = null, string ApiGroup = "")
{
    public static KubeOperation Get(string resource, string? ns, string name, string apiGroup = "") => new("get", resource, ns, name, apiGroup);
    public static KubeOperation List(string resource, string? ns = null, string apiGroup = "") => new("list", resource, ns, null, apiGroup);
    public static KubeOperation Create(string resource, string? ns, string name, string apiGroup = "") => new("create", resource, ns, name, apiGroup);
    public static KubeOperation Update(string resource, string? ns, string name, string apiGroup = "") => new("update", resource, ns, name, apiGroup);
    public static KubeOperation Patch(string resource, string? ns, string name, string apiGroup = "") => new("patch", resource, ns, name, apiGroup);
    public static KubeOperation Delete(string resource, string? ns, string name, string apiGroup = "") => new("delete", resource, ns, name, apiGroup);
    public static KubeOperation Watch(string resource, string? ns, string apiGroup = "") => new("watch", resource, ns, null, apiGroup);

    /// <summary>"secrets", "deployments.apps": the API server's name for the resource.</summary>
    public string QualifiedResource => ApiGroup.Length == 0 ? Resource : $"{Resource}.{ApiGroup}";

    /// <summary>The thing an error is about: "ns/name", "ns", "name" or the resource.</summary>
    public string Target => (Namespace, Name) switch
    {
        ({ } ns, { } name) => $"{ns}/{name}",
        ({ } ns, null) => ns,
        (null, { } name) => name,
        _ => QualifiedResource,
    };

    /// <summary>"get secrets \"pull\" in namespace \"team-a\"".</summary>
    public string Describe()
    {
        var what = Name is null ? QualifiedResource : $"{QualifiedResource} \"{Name}\"";
        return Namespace is null ? $"{Verb} {what}" : $"{Verb} {what} in namespace \"{Namespace}\"";
    }
}
