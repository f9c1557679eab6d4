namespace HarborOps.Models;

/// <summary>Where and how an image reference is written.</summary>
public enum ImageReferenceForm
{
    /// <summary>image of a container, init container or ephemeral container in a Kubernetes manifest (any workload kind).</summary>
    Container,
    /// <summary>Another image field of a Kubernetes object (a custom resource's spec.image).</summary>
    Manifest,
    /// <summary>An image string in a Helm values file (image: registry/repository:tag).</summary>
    HelmValue,
    /// <summary>An image split over registry, repository, tag and digest keys in a Helm values file.</summary>
    HelmSplit,
    /// <summary>global.imageRegistry of a Helm values file: the registry every split image of the chart uses.</summary>
    HelmGlobalRegistry,
    /// <summary>An image: line of a Helm chart template (Go template text, not YAML).</summary>
    HelmTemplate,
    /// <summary>An images: entry of a kustomization (name, newName, newTag, digest).</summary>
    Kustomize,
    /// <summary>A Helm parameter of an ArgoCD Application or ApplicationSet (image, image.repository, ...).</summary>
    ArgoParameter,
    /// <summary>An image in the inline Helm values (values or valuesObject) of an ArgoCD Application or ApplicationSet.</summary>
    ArgoValues,
    /// <summary>A FROM line (or COPY --from, or an ARG default naming a registry image) of a Dockerfile.</summary>
    Dockerfile,
}

/// <summary>One image reference in a file, as Get-ImageReference reports it.</summary>
public sealed class ImageReferenceInfo
{
    /// <summary>Full path of the file.</summary>
    public string Path { get; init; } = "";
    /// <summary>1-based line of the reference (for a split image: of its repository value).</summary>
    public int Line { get; init; }
    public int Column { get; init; }
    public ImageReferenceForm Kind { get; init; }
    /// <summary>The keys leading to the value ("spec.template.spec.containers[0].image", "image", "FROM").</summary>
    public string Field { get; init; } = "";
    /// <summary>The reference as the file writes it (split parts joined).</summary>
    public string Text { get; init; } = "";
    /// <summary>The full normalized reference ("docker.io/library/nginx:1.27"); null when templated or not a valid reference.</summary>
    public string? Reference { get; init; }
    public string? Registry { get; init; }
    public string? Repository { get; init; }
    public string? Tag { get; init; }
    public string? Digest { get; init; }
    /// <summary>Some part holds a template expression ({{ }} or a Dockerfile $variable): it is only known at deploy time.</summary>
    public bool Templated { get; init; }
}

/// <summary>What Update-ImageReference did with one value.</summary>
public enum ImageReferenceAction
{
    /// <summary>The value was replaced in the file.</summary>
    Rewritten,
    /// <summary>-WhatIf: the value would be replaced.</summary>
    Planned,
    /// <summary>The value holds a template expression and was left as it is; check it by hand.</summary>
    Templated,
    /// <summary>The value names the old registry but cannot be replaced in place (escapes, a folded block); change it by hand.</summary>
    Skipped,
}

/// <summary>One changed (or reported) value, as Update-ImageReference emits it.</summary>
public sealed class ImageReferenceChange
{
    public string Path { get; init; } = "";
    public int Line { get; init; }
    public int Column { get; init; }
    public ImageReferenceForm Kind { get; init; }
    /// <summary>The keys leading to the value, and for a split image which part ("image.registry").</summary>
    public string Field { get; init; } = "";
    public string OldValue { get; init; } = "";
    public string NewValue { get; init; } = "";
    public ImageReferenceAction Action { get; init; }
    /// <summary>The whole reference after the change (split parts joined); binds into Test-RegistryImage.</summary>
    public string? Reference { get; init; }
    /// <summary>Why a value was reported rather than changed, or what -PinDigest could not do.</summary>
    public string? Note { get; init; }
}

/// <summary>Whether a referenced image exists in its registry, as Test-RegistryImage reports it.</summary>
public enum RegistryImageState
{
    Exists,
    Missing,
    /// <summary>The reference holds a template expression and cannot be checked.</summary>
    Templated,
}

/// <summary>One existence check of Test-RegistryImage.</summary>
public sealed class RegistryImageStatus
{
    public string Reference { get; init; } = "";
    public RegistryImageState State { get; init; }
    public bool Exists => State == RegistryImageState.Exists;
    /// <summary>Digest of the manifest the registry serves for the reference.</summary>
    public string? Digest { get; init; }
    public string? MediaType { get; init; }
    /// <summary>The file the reference came from, when piped from Get-ImageReference.</summary>
    public string? Path { get; init; }
    public int? Line { get; init; }
}
