using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.References;

/// <summary>Where an image reference points: a remote registry or an OCI image layout directory.</summary>
public enum ImageReferenceKind
{
    Registry,
    OciLayout,
}

/// <summary>
/// A parsed image reference with Docker's grammar ("ubuntu" is docker.io/library/ubuntu) or an OCI layout
/// reference ("oci:&lt;dir&gt;[:tag|@digest]"). Tag and Digest are null when the input did not name them, so
/// callers can tell "every tag of the repository" from "latest".
/// </summary>
public sealed record ImageReference
{
    public const string DockerHubRegistry = "docker.io";
    /// <summary>Where Docker Hub's API actually answers; docker.io and index.docker.io are names for people.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";
    public const string OciLayoutPrefix = OciLayoutReference.Prefix;
    internal const int MaxNameLength = 255;
    internal const int MaxTagLength = 128;
    private const string Example = "registry.example.com:5000/team/app:1.0 (or team/app@sha256:<64 hex>, or oci:/path/to/layout:1.0)";

    public ImageReferenceKind Kind { get; init; }
    /// <summary>Registry host[:port] as people write it ("docker.io" for Docker Hub); for a layout "oci:" and the directory.</summary>
    public string Registry { get; init; } = "";
    /// <summary>Repository path inside the registry ("library/ubuntu"); empty for an OCI layout directory.</summary>
    public string Repository { get; init; } = "";
    public string? Tag { get; init; }
    public string? Digest { get; init; }
    /// <summary>Full path of the OCI layout directory, for <see cref="ImageReferenceKind.OciLayout"/>.</summary>
    public string? LayoutPath { get; init; }

    /// <summary>Host the HTTP API is reached at (registry-1.docker.io for Docker Hub).</summary>
    public string ApiHost => Kind == ImageReferenceKind.Registry ? ToApiHost(Registry) : "";

    /// <summary>The tag or digest to fetch: digest wins, then tag, then "latest".</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    /// <summary>"registry/repository" or "oci:dir", without tag or digest.</summary>
    public string RepositoryReference => Kind == ImageReferenceKind.OciLayout ? Registry : $"{Registry}/{Repository}";

    public ImageReference WithTag(string? tag) => this with { Tag = tag, Digest = null };
    public ImageReference WithDigest(string digest) => this with { Digest = digest };

    public override string ToString()
    {
        var text = RepositoryReference;
        if (Tag is not null) text += ":" + Tag;
        if (Digest is not null) text += "@" + Digest;
        return text;
    }

    // Docker distribution/reference grammar, anchored; see reference/regexp.go.
    private const string PathComponent = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    private const string DomainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static readonly Regex DomainPattern = new($"^(?:{DomainComponent}(?:\\.{DomainComponent})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly Regex PathPattern = new($"^{PathComponent}(?:/{PathComponent})*\\z", RegexOptions.CultureInvariant);
    // \z, not $: "$" also matches before a final newline, and tags and digests from a registry end up in URLs.
    private static readonly Regex TagPattern = new("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex DigestPattern = new("^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})\\z", RegexOptions.CultureInvariant);
    private static readonly Regex AnyDigestShape = new("^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-zA-Z=_-]+$", RegexOptions.CultureInvariant);

    public static bool IsValidTag(string tag) => TagPattern.IsMatch(tag);
    public static bool IsValidDigest(string digest) => DigestPattern.IsMatch(digest);

    /// <summary>The repository grammar and length a reference to it must meet, so a listed name that fails it could never be named by a user either.</summary>
    public static bool IsValidRepository(string registry, string repository) =>
        registry.Length + 1 + repository.Length <= MaxNameLength && PathPattern.IsMatch(repository);

    /// <summary>Parses an image reference; throws <see cref="RegistryException"/> with id ReferenceInvalid saying what is wrong.</summary>
    public static ImageReference Parse(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
            throw Invalid(input ?? "", "it is empty");
        var text = input.Trim();
        if (OciLayoutReference.IsLayout(text))
            return ParseLayout(input, OciLayoutReference.Split(text));
        if (text.Contains("://", StringComparison.Ordinal))
            throw Invalid(input, "a reference has no URL scheme; drop the \"" + text[..(text.IndexOf("://", StringComparison.Ordinal) + 3)] + "\" prefix");
        if (text.Any(char.IsWhiteSpace))
            throw Invalid(input, "it contains white space");

        string? digest = null;
        var at = text.IndexOf('@');
        if (at >= 0)
        {
            digest = text[(at + 1)..];
            text = text[..at];
            ValidateDigest(input, digest);
        }

        string? tag = null;
        var lastSlash = text.LastIndexOf('/');
        var lastColon = text.LastIndexOf(':');
        if (lastColon > lastSlash)
        {
            tag = text[(lastColon + 1)..];
            text = text[..lastColon];
            if (tag.Length == 0)
                throw Invalid(input, "the tag after ':' is empty");
            if (tag.Length > MaxTagLength)
                throw Invalid(input, $"the tag is {tag.Length} characters long; at most {MaxTagLength} are allowed");
            if (!TagPattern.IsMatch(tag))
                throw Invalid(input, $"the tag '{tag}' may only contain letters, digits, '_', '.' and '-' and must not start with '.' or '-'");
        }

        if (text.Length == 0)
            throw Invalid(input, "the repository name is missing");

        var (registry, repository) = SplitDomain(input, text);
        ValidateRepository(input, registry, repository);
        return new ImageReference { Kind = ImageReferenceKind.Registry, Registry = registry, Repository = repository, Tag = tag, Digest = digest };
    }

    public static bool TryParse(string? input, out ImageReference? reference)
    {
        try { reference = Parse(input); return true; }
        catch (RegistryException) { reference = null; return false; }
    }

    /// <summary>
    /// Normalizes a registry given on its own (Get-RegistryRepository -Registry): host[:port], a URL of it, or "oci:dir".
    /// Returns the canonical registry name (docker.io for Docker Hub, "oci:&lt;full path&gt;" for layouts).
    /// </summary>
    public static string NormalizeRegistry(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                "The registry is empty. Give a host such as registry.example.com or 127.0.0.1:5000, or oci:<directory>.", input);
        var text = input.Trim();
        if (OciLayoutReference.IsLayout(text))
        {
            var dir = OciLayoutReference.DirectoryOf(text);
            if (dir.Length == 0)
                throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                    "'oci:' needs a directory after it, e.g. oci:/srv/images.", input);
            return OciLayoutPrefix + Path.GetFullPath(dir);
        }
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0) text = text[(schemeEnd + 3)..];
        text = text.TrimEnd('/');
        var slash = text.IndexOf('/');
        if (slash >= 0) text = text[..slash]; // "https://index.docker.io/v1/" names Docker Hub
        if (!DomainPattern.IsMatch(text))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{input}' is not a valid registry host: use host or host:port, e.g. registry.example.com or 127.0.0.1:5000.", input);
        return ToCanonicalRegistry(text);
    }

    /// <summary>docker.io, index.docker.io and registry-1.docker.io are one registry; everything else is lowercased as DNS is case-insensitive.</summary>
    public static string ToCanonicalRegistry(string host)
    {
        var lower = host.ToLowerInvariant();
        return lower is "index.docker.io" or "registry-1.docker.io" or "docker.io" ? DockerHubRegistry : lower;
    }

    public static string ToApiHost(string registry) => registry == DockerHubRegistry ? DockerHubApiHost : registry;

    private static (string Registry, string Repository) SplitDomain(string input, string name)
    {
        var slash = name.IndexOf('/');
        string registry, repository;
        if (slash < 0)
        {
            registry = DockerHubRegistry;
            repository = name;
        }
        else
        {
            var first = name[..slash];
            // Docker's rule: the first component is a host when it has a '.' or ':', is "localhost", or has upper case.
            var isDomain = first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsUpper);
            if (isDomain)
            {
                if (!DomainPattern.IsMatch(first))
                    throw Invalid(input, $"'{first}' is not a valid registry host (use host or host:port with letters, digits, '-' and '.')");
                registry = ToCanonicalRegistry(first);
                repository = name[(slash + 1)..];
            }
            else
            {
                registry = DockerHubRegistry;
                repository = name;
            }
        }
        if (registry == DockerHubRegistry && !repository.Contains('/'))
            repository = "library/" + repository;
        return (registry, repository);
    }

    private static void ValidateRepository(string input, string registry, string repository)
    {
        if (repository.Length == 0)
            throw Invalid(input, "the repository name is missing after the registry host");
        if (repository != repository.ToLowerInvariant() && PathPattern.IsMatch(repository.ToLowerInvariant()))
            throw Invalid(input, $"the repository name must be lowercase ('{repository.ToLowerInvariant()}')");
        if (!PathPattern.IsMatch(repository))
        {
            var bad = repository.Split('/').FirstOrDefault(c => !Regex.IsMatch(c, $"^{PathComponent}$"));
            var why = bad is null ? "it has an empty path component"
                : bad.Length == 0 ? "it has an empty path component ('//' or a trailing '/')"
                : $"the path component '{bad}' may only contain lowercase letters, digits and single separators ('.', '_', '__', '-') between them";
            throw Invalid(input, why);
        }
        var total = registry.Length + 1 + repository.Length;
        if (total > MaxNameLength)
            throw Invalid(input, $"the name is {total} characters long; registry and repository together may have at most {MaxNameLength}");
    }

    private static void ValidateDigest(string input, string digest)
    {
        if (digest.Length == 0)
            throw Invalid(input, "the digest after '@' is empty");
        if (DigestPattern.IsMatch(digest)) return;
        if (digest.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
            throw Invalid(input, $"a sha256 digest is 'sha256:' followed by 64 lowercase hex digits; '{digest}' is not");
        if (digest.StartsWith("sha512:", StringComparison.OrdinalIgnoreCase))
            throw Invalid(input, $"a sha512 digest is 'sha512:' followed by 128 lowercase hex digits; '{digest}' is not");
        if (AnyDigestShape.IsMatch(digest))
            throw Invalid(input, $"the digest algorithm of '{digest}' is not supported (use sha256 or sha512)");
        throw Invalid(input, $"'{digest}' is not a digest (expected algorithm:hex, e.g. sha256:<64 hex>)");
    }

    private static ImageReference ParseLayout(string input, OciLayoutReference layout)
    {
        if (layout.Directory.Length == 0 && layout.Tag is null && layout.Digest is null)
            throw Invalid(input, "'oci:' needs a layout directory after it");
        if (layout.Digest is not null)
            ValidateDigest(input, layout.Digest);
        if (layout.Tag is not null && !TagPattern.IsMatch(layout.Tag))
            throw Invalid(input, $"the tag '{layout.Tag}' may only contain letters, digits, '_', '.' and '-' (at most {MaxTagLength}) and must not start with '.' or '-'");
        if (layout.Directory.Length == 0)
            throw Invalid(input, "'oci:' needs a layout directory before the tag or digest");
        var full = Path.GetFullPath(layout.Directory);
        return new ImageReference
        {
            Kind = ImageReferenceKind.OciLayout,
            Registry = OciLayoutPrefix + full,
            Repository = "",
            LayoutPath = full,
            Tag = layout.Tag,
            Digest = layout.Digest,
        };
    }

    private static RegistryException Invalid(string input, string why) =>
        new(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
            $"'{input}' is not a valid image reference: {why}. Example: {Example}.", input);
}
