namespace HarborOps.Engine.Manifests;

/// <summary>The manifest and config media types the engine knows (registry-protocol research §1.4).</summary>
public static class MediaTypes
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    /// <summary>OCI 1.1 release-candidate artifact manifest; dropped from 1.1 final but still stored by some registries.</summary>
    public const string OciArtifactManifest = "application/vnd.oci.artifact.manifest.v1+json";
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string CosignSignatureLayer = "application/vnd.dev.cosign.simplesigning.v1+json";
    /// <summary>The artifactType cosign gives a signature it stores as an OCI 1.1 referrer.</summary>
    public const string CosignSignatureArtifact = "application/vnd.dev.cosign.artifact.sig.v1+json";
    public const string NotationSignature = "application/vnd.cncf.notary.signature";

    /// <summary>
    /// Every manifest type in one Accept header: a registry that is offered fewer may convert (schema1, or the amd64 child
    /// of an index), which changes the bytes and so the digest.
    /// </summary>
    public static readonly string[] AcceptedManifestTypes = [OciIndex, DockerManifestList, OciManifest, DockerManifest, OciArtifactManifest];

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;
    public static bool IsImageManifest(string mediaType) => mediaType is OciManifest or DockerManifest or OciArtifactManifest;
    public static bool IsManifest(string mediaType) => IsIndex(mediaType) || IsImageManifest(mediaType);
    public static bool IsSchema1(string mediaType) => mediaType is DockerSchema1 or DockerSchema1Signed;

    /// <summary>Content-Type without parameters, lower case.</summary>
    public static string Normalize(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return "";
        var semi = contentType.IndexOf(';');
        return (semi >= 0 ? contentType[..semi] : contentType).Trim().ToLowerInvariant();
    }

    /// <summary>Content types that say nothing about which manifest it is, so the body's mediaType decides.</summary>
    public static bool IsGeneric(string mediaType) => mediaType is "" or "application/json" or "text/plain" or "application/octet-stream" or "binary/octet-stream";
}
