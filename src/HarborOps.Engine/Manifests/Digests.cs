using System.Security.Cryptography;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;

namespace HarborOps.Engine.Manifests;

/// <summary>Content digests ("sha256:&lt;hex&gt;") as the OCI spec defines them.</summary>
public static class Digests
{
    public static string Sha256(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();

    /// <summary>Computes a digest with the algorithm the expected digest names (sha256 or sha512).</summary>
    public static string Compute(string algorithmOf, ReadOnlySpan<byte> content) =>
        AlgorithmOf(algorithmOf) == "sha512"
            ? "sha512:" + Convert.ToHexString(SHA512.HashData(content)).ToLowerInvariant()
            : Sha256(content);

    public static string AlgorithmOf(string digest)
    {
        var colon = digest.IndexOf(':');
        return colon > 0 ? digest[..colon].ToLowerInvariant() : "sha256";
    }

    public static string EncodedOf(string digest) => digest[(digest.IndexOf(':') + 1)..];

    public static IncrementalHash CreateHash(string digest) =>
        AlgorithmOf(digest) switch
        {
            "sha256" => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
            "sha512" => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
            var other => throw new RegistryException(RegistryErrorIds.DigestMismatch, FailureKind.NotSupported,
                $"Digest algorithm '{other}' of {digest} is not supported; only sha256 and sha512 are.", digest),
        };

    /// <summary>Throws unless <paramref name="digest"/> is a well-formed sha256/sha512 digest (it ends up in URLs and file paths).</summary>
    public static void Validate(string digest, object? target = null)
    {
        if (!ImageReference.IsValidDigest(digest))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{digest}' is not a valid digest: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>.", target ?? digest);
    }

    /// <summary>The referrers tag-schema tag of a digest: "sha256-&lt;hex&gt;" (OCI distribution spec 1.1).</summary>
    public static string ToTagSchemaTag(string digest)
    {
        var alg = AlgorithmOf(digest);
        var enc = EncodedOf(digest);
        if (alg.Length > 32) alg = alg[..32];
        if (enc.Length > 64) enc = enc[..64];
        return alg + "-" + enc;
    }
}
