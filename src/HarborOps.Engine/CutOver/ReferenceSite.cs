using HarborOps.Models;

namespace HarborOps.Engine.CutOver;

/// <summary>
/// Where an image reference sits in a file: its form, where (a readable path of keys) and the values it is made of. What
/// those values add up to is its <see cref="AssembledReference"/>.
/// </summary>
internal sealed record ReferenceSite(ImageReferenceForm Form, string Field, IReadOnlyList<ValueField> Fields)
{
    public ValueField? Get(FieldRole role) => Fields.FirstOrDefault(f => f.Role == role);

    /// <summary>The field a person looks at first: the whole value, the repository, or the kustomize name.</summary>
    public ValueField Primary =>
        Get(FieldRole.Full) ?? Get(FieldRole.Repository) ?? Get(FieldRole.KustomizeNewName) ?? Get(FieldRole.KustomizeName) ?? Fields[0];

    /// <summary>
    /// False for a registry on its own (global.imageRegistry, an override file's image.registry, an Argo image.registry
    /// parameter): it names where images come from, not an image. False too for a kustomize name with nothing beside it
    /// (Argo's "name=" part): it is the key overrides match, and the image pulled is the one it is replaced by.
    /// </summary>
    public bool IsImage => Fields.Any(f => f.Role is FieldRole.Full or FieldRole.Repository or FieldRole.KustomizeNewName)
        || (Get(FieldRole.KustomizeName) is not null && Fields.Count > 1);

    /// <summary>
    /// The registry the split parts are pulled from: global.imageRegistry wins over image.registry, as Bitnami charts do;
    /// none when the repository names its own host and no registry key sits beside it.
    /// </summary>
    public ValueField? EffectiveRegistry
    {
        get
        {
            var own = NonEmpty(Get(FieldRole.Registry));
            if (own is null && Get(FieldRole.Repository) is { } repository && NamesHost(repository.Value)) return null;
            return NonEmpty(Get(FieldRole.GlobalRegistry)) ?? own;
        }
    }

    /// <summary>Docker's rule: the first path component is a host when it has a '.' or ':' or is localhost.</summary>
    internal static bool NamesHost(string name)
    {
        var slash = name.IndexOf('/');
        if (slash <= 0) return false;
        var first = name[..slash];
        return first.Contains('.') || first.Contains(':') || first == "localhost";
    }

    private static ValueField? NonEmpty(ValueField? field) => field is { Value.Length: > 0 } ? field : null;
}
