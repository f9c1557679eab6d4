using System.Net;
using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;

namespace HarborOps.Engine.Migration;

/// <summary>
/// What a copy and a parity check have in common: the sources, the destination, how repository paths map between
/// them, which tags count, and the credentials. A comparison with the same values checks exactly what the copy wrote.
/// </summary>
public abstract record RegistryScopeRequest
{
    protected RegistryScopeRequest(IReadOnlyList<string> sources, string destination)
    {
        Sources = sources ?? throw new ArgumentNullException(nameof(sources));
        Destination = destination ?? throw new ArgumentNullException(nameof(destination));
    }

    /// <summary>
    /// What to copy or compare, each one of: "registry/repo:tag" or "registry/repo@sha256:..." (one image), "registry/repo" (every
    /// tag), "registry/team/*" or "registry/team/" (every repository under a path prefix), "registry" (every repository
    /// in the catalog), "oci:dir" (every layout below a directory) or "oci:dir:tag".
    /// </summary>
    public IReadOnlyList<string> Sources { get; init; }

    /// <summary>"registry" or "registry/prefix" (the source path is appended: registry/prefix/&lt;repo&gt;), or "oci:dir".</summary>
    public string Destination { get; init; }

    /// <summary>A path appended to the destination's own path ("migrated/acr"); the source path goes below it.</summary>
    public string? DestinationPrefix { get; init; }

    /// <summary>Leading path segments removed from each source repository before mapping ("team/app" with 1 is "app").</summary>
    public int StripPrefixSegments { get; init; }

    /// <summary>
    /// Renames applied after stripping: a key names a repository or a leading path ("old-team" matches "old-team" and
    /// "old-team/app"); the longest matching key wins and its value replaces the matched part.
    /// </summary>
    public IReadOnlyDictionary<string, string> RenameRepositories { get; init; } = new Dictionary<string, string>();

    /// <summary>Wildcard patterns (* and ?) a tag must match (any of them); empty means every tag.</summary>
    public IReadOnlyList<string> IncludeTags { get; init; } = [];
    /// <summary>A regular expression a tag must match, in addition to <see cref="IncludeTags"/>.</summary>
    public string? IncludeTagRegex { get; init; }
    /// <summary>Wildcard patterns of tags to leave out.</summary>
    public IReadOnlyList<string> ExcludeTags { get; init; } = [];
    /// <summary>A regular expression of tags to leave out.</summary>
    public string? ExcludeTagRegex { get; init; }

    public NetworkCredential? SourceCredential { get; init; }
    public NetworkCredential? DestinationCredential { get; init; }
}

/// <summary>
/// Copy-RegistryImage's request: what to copy (one or more sources), where to (a registry with an optional path prefix,
/// or an OCI layout root), how repository paths map, which tags, and how the run behaves.
/// </summary>
public sealed record CopyRequest : RegistryScopeRequest
{
    public CopyRequest(IReadOnlyList<string> sources, string destination)
        : base(sources, destination)
    {
    }

    /// <summary>
    /// Opt-in platform filter ("linux/amd64", "linux/arm64/v8"; a filter without a variant matches every variant). An
    /// index with other platforms is written as a NEW index holding only the matching children, so its digest differs
    /// from the source's (<see cref="HarborOps.Models.CopyResult.SourceDigest"/> names the source's) and signatures of the
    /// source index are left behind (they sign a digest the destination does not have); the children keep their
    /// digests. A single-platform image of another platform is skipped with the reason. Empty copies every platform.
    /// </summary>
    public IReadOnlyList<string> Platforms { get; init; } = [];

    /// <summary>
    /// Only tags whose image was created at or after this time, as the source records it: the image config's
    /// <c>created</c> field (for an index, its newest child's), the same for a registry and an OCI layout. A tag whose
    /// time cannot be read is copied and its Reason says so; it is never dropped silently. Referrer tags follow their
    /// subject. From Azure Container Registry the time is the manifest's lastUpdateTime in ACR's _manifests listing (when it
    /// was pushed or last re-tagged), so older tags are skipped without reading a manifest or config.
    /// </summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Never change a destination tag that exists with another digest (reported as Skipped, reason NoClobber).</summary>
    public bool NoClobber { get; init; }
    /// <summary>Copy signatures, attestations, SBOMs and other referrers after their subject (default).</summary>
    public bool IncludeReferrers { get; init; } = true;
    /// <summary>Also copy foreign (non-distributable) layers, which registries normally fetch from their URLs.</summary>
    public bool IncludeForeignLayers { get; init; }
    /// <summary>Concurrent requests per registry host, and the scale of concurrent tags.</summary>
    public int ThrottleLimit { get; init; } = 8;
    /// <summary>Append-only file of finished blobs and manifests; a re-run after an interruption reads it to resume.</summary>
    public string? JournalPath { get; init; }
    /// <summary>Read both sides and report what would be copied, moving nothing (-WhatIf).</summary>
    public bool PlanOnly { get; init; }

    /// <summary>The destination is a Harbor: check (and with CreateMissingProjects create) its projects before pushing.</summary>
    public HarborDestination? Harbor { get; init; }
}

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
        if (trimmed.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.OrdinalIgnoreCase))
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

/// <summary>A parsed destination: a store (registry or layout root) and the path prefix every repository lands under.</summary>
public sealed record CopyDestination(string Registry, string Prefix, string Text)
{
    private static readonly Regex PathPattern = new("^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant);

    public static CopyDestination Parse(string text, string? extraPrefix = null)
    {
        var parsed = ParseCore(text);
        var extra = extraPrefix?.Trim().Trim('/') ?? "";
        if (extra.Length == 0) return parsed;
        if (!PathPattern.IsMatch(extra))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"The destination prefix '{extraPrefix}' is not a valid repository path: lowercase letters, digits and single separators ('.', '_', '-') between '/'-separated parts.", extraPrefix);
        return parsed with { Prefix = parsed.Prefix.Length == 0 ? extra : $"{parsed.Prefix}/{extra}", Text = $"{parsed.Text.TrimEnd('/')}/{extra}" };
    }

    private static CopyDestination ParseCore(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                "The copy destination is empty. Give a registry (harbor.example.com), a registry and prefix (harbor.example.com/migrated), or oci:<directory>.", text);
        var trimmed = text.Trim().TrimEnd('/');
        if (trimmed.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.OrdinalIgnoreCase))
            return new CopyDestination(ImageReference.NormalizeRegistry(trimmed), "", trimmed);
        var schemeEnd = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0) trimmed = trimmed[(schemeEnd + 3)..];
        var slash = trimmed.IndexOf('/');
        var registry = ImageReference.NormalizeRegistry(slash < 0 ? trimmed : trimmed[..slash]);
        var prefix = slash < 0 ? "" : trimmed[(slash + 1)..];
        if (prefix.Length > 0 && !PathPattern.IsMatch(prefix))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{text}' is not a valid destination: the path prefix '{prefix}' must be lowercase letters, digits and single separators ('.', '_', '-') between '/'-separated parts, with no tag or digest.", text);
        return new CopyDestination(registry, prefix, text);
    }
}

/// <summary>Maps a source repository to its destination: strip leading segments, apply renames, prepend the prefix.</summary>
public sealed class RepositoryMapper
{
    private readonly int strip;
    private readonly KeyValuePair<string, string>[] renames;
    private readonly string prefix;

    public RepositoryMapper(int stripPrefixSegments, IReadOnlyDictionary<string, string> renames, string prefix)
    {
        if (stripPrefixSegments < 0)
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"StripPrefixSegments is {stripPrefixSegments}; it counts leading path segments to remove and cannot be negative.");
        strip = stripPrefixSegments;
        this.renames = renames.Select(r => KeyValuePair.Create(r.Key.Trim('/'), r.Value.Trim('/')))
            .OrderByDescending(r => r.Key.Length).ToArray();
        this.prefix = prefix.Trim('/');
    }

    /// <summary>The destination repository for <paramref name="sourceRepository"/>; throws MappingInvalid when nothing is left of it.</summary>
    public string Map(string sourceRepository)
    {
        var parts = sourceRepository.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (strip > 0 && parts.Length <= strip)
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"Stripping {strip} leading path segment(s) from repository '{sourceRepository}' leaves no name. Lower StripPrefixSegments or copy that repository separately.", sourceRepository);
        var path = string.Join('/', parts.Skip(strip));
        foreach (var (from, to) in renames)
        {
            if (path == from) { path = to; break; }
            if (from.Length == 0 || path.StartsWith(from + "/", StringComparison.Ordinal))
            {
                path = from.Length == 0 ? $"{to}/{path}" : to + path[from.Length..];
                break;
            }
        }
        path = path.Trim('/');
        var mapped = prefix.Length == 0 ? path : path.Length == 0 ? prefix : $"{prefix}/{path}";
        return mapped;
    }
}

/// <summary>The tag filters of a request, and recognition of referrer tags (sha256-&lt;hex&gt;[.sig|.att|.sbom]).</summary>
public sealed class TagSelection
{
    private static readonly Regex ReferrerTagPattern = new("^(?<alg>sha256|sha512)-(?<hex>[0-9a-f]{64}|[0-9a-f]{128})(?<suffix>\\.(?:sig|att|sbom))?\\z", RegexOptions.CultureInvariant);
    private readonly Regex[] include;
    private readonly Regex? includeRegex;
    private readonly Regex[] exclude;
    private readonly Regex? excludeRegex;

    public TagSelection(RegistryScopeRequest request)
    {
        include = request.IncludeTags.Where(p => !string.IsNullOrEmpty(p)).Select(Wildcard.ToRegex).ToArray();
        exclude = request.ExcludeTags.Where(p => !string.IsNullOrEmpty(p)).Select(Wildcard.ToRegex).ToArray();
        includeRegex = Compile(request.IncludeTagRegex, "IncludeTagRegex");
        excludeRegex = Compile(request.ExcludeTagRegex, "ExcludeTagRegex");
    }

    public bool HasIncludeFilter => include.Length > 0 || includeRegex is not null;

    public bool Matches(string tag) =>
        (include.Length == 0 || include.Any(p => p.IsMatch(tag)))
        && (includeRegex is null || includeRegex.IsMatch(tag))
        && !exclude.Any(p => p.IsMatch(tag))
        && (excludeRegex is null || !excludeRegex.IsMatch(tag));

    /// <summary>The subject digest a referrer tag names (the tag-schema index or a cosign .sig/.att/.sbom tag), else null.</summary>
    public static string? SubjectOfReferrerTag(string tag)
    {
        var match = ReferrerTagPattern.Match(tag);
        return match.Success ? $"{match.Groups["alg"].Value}:{match.Groups["hex"].Value}" : null;
    }

    private static Regex? Compile(string? pattern, string name)
    {
        if (string.IsNullOrEmpty(pattern)) return null;
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"{name} '{pattern}' is not a valid regular expression: {ex.Message}", pattern, ex);
        }
    }
}

/// <summary>An os/architecture[/variant] a -Platform filter names; parsed once per run.</summary>
public sealed record PlatformFilter(string Os, string Architecture, string? Variant)
{
    /// <summary>Parses "os/arch[/variant]"; throws CopyMappingInvalid naming the expected form.</summary>
    public static PlatformFilter Parse(string text)
    {
        var parts = (text ?? "").Trim().ToLowerInvariant().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new HarborOpsException(CopyErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"Platform '{text}' is not os/architecture[/variant]; write it like linux/amd64 or linux/arm64/v8.", text);
        return new PlatformFilter(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    /// <summary>
    /// True when <paramref name="platform"/> is this one. arm64 without a variant is v8 (the OCI image spec's only
    /// arm64 variant that registries commonly omit).
    /// </summary>
    public bool Matches(Manifests.OciPlatform? platform)
    {
        if (platform is null) return false;
        if (!string.Equals(platform.Os, Os, StringComparison.OrdinalIgnoreCase) || !string.Equals(platform.Architecture, Architecture, StringComparison.OrdinalIgnoreCase))
            return false;
        if (Variant is null) return true;
        var variant = string.IsNullOrEmpty(platform.Variant) && Architecture == "arm64" ? "v8" : platform.Variant;
        return string.Equals(variant, Variant, StringComparison.OrdinalIgnoreCase);
    }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}

/// <summary>Stable error ids of the copy engine. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class CopyErrorIds
{
    public const string MappingInvalid = "CopyMappingInvalid";
    public const string JournalInvalid = "CopyJournalInvalid";
    /// <summary>-JournalPath names a file with content that is not a copy journal: refused and left as it is.</summary>
    public const string JournalNotAJournal = "CopyJournalNotAJournal";
    /// <summary>Another run (in this process or another) has the journal open.</summary>
    public const string JournalInUse = "CopyJournalInUse";
    public const string HarborProjectMissing = "CopyHarborProjectMissing";
}
