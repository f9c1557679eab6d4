using HarborOps.Models;

namespace HarborOps.Engine.CutOver;

/// <summary>What a value is to its image: a whole reference, or one part of a reference split over several keys.</summary>
internal enum FieldRole
{
    /// <summary>"registry/repository[:tag][@digest]" in one value.</summary>
    Full,
    /// <summary>A registry host (Helm's image.registry), maybe with a path.</summary>
    Registry,
    /// <summary>A repository, maybe with its registry when no registry key exists.</summary>
    Repository,
    Tag,
    Digest,
    /// <summary>global.imageRegistry: the registry every split image of the chart is pulled from.</summary>
    GlobalRegistry,
    /// <summary>Kustomize's images[].name: the image name to match in the resources (no tag).</summary>
    KustomizeName,
    /// <summary>Kustomize's images[].newName: the name the matched images get (no tag).</summary>
    KustomizeNewName,
}

/// <summary>
/// One value in a file: its role, its readable key path, where it sits (a character span of the file's text, inside any quotes) and whether
/// that span holds exactly the value (no escapes, no folding), which is when it can be replaced in place.
/// </summary>
internal sealed record ValueField(FieldRole Role, string Name, string Value, int Start, int Length, bool Editable, bool Templated);

/// <summary>An image reference found in a file: its form, where (a readable path of keys) and the values it is made of.</summary>
internal sealed record ReferenceSite(ImageReferenceForm Form, string Field, IReadOnlyList<ValueField> Fields)
{
    public ValueField? Get(FieldRole role) => Fields.FirstOrDefault(f => f.Role == role);

    /// <summary>The field a person looks at first: the whole value, the repository, or the kustomize name.</summary>
    public ValueField Primary =>
        Get(FieldRole.Full) ?? Get(FieldRole.Repository) ?? Get(FieldRole.KustomizeNewName) ?? Get(FieldRole.KustomizeName) ?? Fields[0];

    /// <summary>False for global.imageRegistry on its own: it names a registry, not an image.</summary>
    public bool IsImage => Form != ImageReferenceForm.HelmGlobalRegistry;

    /// <summary>The registry the split parts are pulled from: global.imageRegistry wins over image.registry, as Bitnami charts do.</summary>
    public ValueField? EffectiveRegistry => NonEmpty(Get(FieldRole.GlobalRegistry)) ?? NonEmpty(Get(FieldRole.Registry));

    private static ValueField? NonEmpty(ValueField? field) => field is { Value.Length: > 0 } ? field : null;
}
