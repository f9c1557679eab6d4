using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Scope;

/// <summary>The tag filters of a request, and recognition of referrer tags (sha256-&lt;hex&gt;[.sig|.att|.sbom]).</summary>
public sealed class TagSelection
{
    private static readonly Regex ReferrerTagPattern = new("^(?<alg>sha256|sha512)-(?<hex>[0-9a-f]{64}|[0-9a-f]{128})(?<suffix>\\.(?:sig|att|sbom))?\\z", RegexOptions.CultureInvariant);
    private readonly Regex[] _include;
    private readonly Regex? _includeRegex;
    private readonly Regex[] _exclude;
    private readonly Regex? _excludeRegex;

    public TagSelection(RegistryScopeRequest request)
    {
        _include = request.IncludeTags.Where(p => !string.IsNullOrEmpty(p)).Select(Wildcard.ToRegex).ToArray();
        _exclude = request.ExcludeTags.Where(p => !string.IsNullOrEmpty(p)).Select(Wildcard.ToRegex).ToArray();
        _includeRegex = Compile(request.IncludeTagRegex, "IncludeTagRegex");
        _excludeRegex = Compile(request.ExcludeTagRegex, "ExcludeTagRegex");
    }

    public bool HasIncludeFilter => _include.Length > 0 || _includeRegex is not null;

    public bool Matches(string tag) =>
        (_include.Length == 0 || _include.Any(p => p.IsMatch(tag)))
        && (_includeRegex is null || _includeRegex.IsMatch(tag))
        && !_exclude.Any(p => p.IsMatch(tag))
        && (_excludeRegex is null || !_excludeRegex.IsMatch(tag));

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
            throw new HarborOpsException(ScopeErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"{name} '{pattern}' is not a valid regular expression: {ex.Message}", pattern, ex);
        }
    }
}
