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
