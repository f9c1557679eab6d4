using HarborOps.Engine.Errors;
using HarborOps.Engine.References;

namespace HarborOps.Engine.Scope;

/// <summary>What a source string names.</summary>
public enum CopySourceKind
{
    /// <summary>One tag or digest.</summary>
    Image,
    /// <summary>Every tag of one repository.</summary>
    Repository,
    /// <summary>Every repository under a path prefix.</summary>
    Prefix,
    /// <summary>Every repository of a registry (its catalog) or of an OCI layout root.</summary>
    Registry,
}

/// <summary>A parsed source: where (registry or "oci:dir"), which repository or prefix, and tag or digest for one image.</summary>
public sealed record CopySource(CopySourceKind Kind, string Registry, string Repository, string? Tag, string? Digest, string Text)
{
    /// <summary>Parses one source string (see <see cref="RegistryScopeRequest.Sources"/>); throws ReferenceInvalid saying what is wrong.</summary>
    public static CopySource Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                "A copy source is empty. Give registry/repository[:tag], registry/prefix/*, a registry host, or oci:<directory>.", text);
        var trimmed = text.Trim();
        if (OciLayoutReference.IsLayout(trimmed))
        {
            var layout = ImageReference.Parse(trimmed);
            return layout.Tag is null && layout.Digest is null
                ? new CopySource(CopySourceKind.Registry, layout.Registry, "", null, null, trimmed)
                : new CopySource(CopySourceKind.Image, layout.Registry, "", layout.Tag, layout.Digest, trimmed);
        }
        if (trimmed.EndsWith("/*", StringComparison.Ordinal) || trimmed.EndsWith('/'))
        {
            var withoutWildcard = trimmed.TrimEnd('*').TrimEnd('/');
            var slash = withoutWildcard.IndexOf('/');
            if (slash < 0)
                return new CopySource(CopySourceKind.Registry, ImageReference.NormalizeRegistry(withoutWildcard), "", null, null, trimmed);
            var prefix = ImageReference.Parse(withoutWildcard);
            if (prefix.Tag is not null || prefix.Digest is not null)
                throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                    $"'{text}' is a path prefix with a tag or digest in it; write registry/prefix/* for every repository under the prefix.", text);
            return new CopySource(CopySourceKind.Prefix, prefix.Registry, prefix.Repository, null, null, trimmed);
        }
        if (LooksLikeRegistryHost(trimmed))
            return new CopySource(CopySourceKind.Registry, ImageReference.NormalizeRegistry(trimmed), "", null, null, trimmed);
        var reference = ImageReference.Parse(trimmed);
        return reference.Tag is null && reference.Digest is null
            ? new CopySource(CopySourceKind.Repository, reference.Registry, reference.Repository, null, null, trimmed)
            : new CopySource(CopySourceKind.Image, reference.Registry, reference.Repository, reference.Tag, reference.Digest, trimmed);
    }

    /// <summary>
    /// "127.0.0.1:5000", "registry.example.com", "localhost:5000" are registries; "redis:7" and "ubuntu" are Docker Hub
    /// images (Docker's own rule: a host has a '.' or is localhost, and a port is numeric).
    /// </summary>
    private static bool LooksLikeRegistryHost(string text)
    {
        if (text.Contains('/') || text.Contains('@')) return false;
        var colon = text.LastIndexOf(':');
        var host = colon >= 0 ? text[..colon] : text;
        var port = colon >= 0 ? text[(colon + 1)..] : null;
        if (port is not null && (port.Length == 0 || !port.All(char.IsAsciiDigit))) return false;
        return host.Contains('.') || host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.StartsWith('[');
    }
}
