namespace HarborOps.Models;

/// <summary>A repository of a registry, as Get-RegistryRepository emits it.</summary>
public sealed class RegistryRepositoryInfo
{
    /// <summary>Registry host (host[:port]) or, for an OCI layout, "oci:" and its path.</summary>
    public string Registry { get; init; } = "";
    /// <summary>Repository path inside the registry, e.g. "team/app".</summary>
    public string Repository { get; init; } = "";
    /// <summary>"registry/repository", ready to bind into -Reference of later cmdlets.</summary>
    public string Reference { get; init; } = "";
}

/// <summary>One tag of a repository, as Get-RegistryTag emits it.</summary>
public sealed class RegistryTagInfo
{
    public string Registry { get; init; } = "";
    public string Repository { get; init; } = "";
    public string Tag { get; init; } = "";
    /// <summary>Manifest digest (sha256:...) of the bytes the registry serves for the tag.</summary>
    public string Digest { get; init; } = "";
    public string MediaType { get; init; } = "";
    /// <summary>os/architecture[/variant] of each child for an index; of the image itself for a manifest when the config tells.</summary>
    public string[] Platforms { get; init; } = [];
    /// <summary>Size in bytes of the manifest plus, for an image, its config and layers.</summary>
    public long? Size { get; init; }
    /// <summary>Referrers and signatures, filled only when asked for.</summary>
    public RegistryReferrerInfo[]? Referrers { get; init; }
    /// <summary>True when a cosign signature (referrer or .sig tag) was found; null when not checked.</summary>
    public bool? Signed { get; init; }
    /// <summary>"registry/repository:tag", ready to bind into -Reference of later cmdlets.</summary>
    public string Reference { get; init; } = "";
}

/// <summary>An artifact that refers to an image: a signature, an attestation, an SBOM.</summary>
public sealed class RegistryReferrerInfo
{
    public string Digest { get; init; } = "";
    public string MediaType { get; init; } = "";
    public string? ArtifactType { get; init; }
    /// <summary>Where it was found: ReferrersApi, ReferrersTagSchema or CosignTag.</summary>
    public string Source { get; init; } = "";
    /// <summary>The tag it was found under, for the tag schema and cosign tags.</summary>
    public string? Tag { get; init; }
    public string SubjectDigest { get; init; } = "";
}

/// <summary>The credential kinds a session store entry can hold, as Get-RegistryCredential shows them (never the secret).</summary>
public sealed class RegistryCredentialInfo
{
    public string Registry { get; init; } = "";
    public string? UserName { get; init; }
    /// <summary>Basic, Token (identity/refresh token), AzureIdentity, or DockerConfig.</summary>
    public string Kind { get; init; } = "";
    public string Source { get; init; } = "";
}
