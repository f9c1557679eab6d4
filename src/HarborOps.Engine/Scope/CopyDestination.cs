using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;

namespace HarborOps.Engine.Scope;

/// <summary>A parsed destination: a store (registry or layout root) and the path prefix every repository lands under.</summary>
public sealed record CopyDestination(string Registry, string Prefix, string Text)
{
    private static readonly Regex PathPattern = new("^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant);

    public static CopyDestination Parse(string text, string? extraPrefix = null) => ParseCore(text).WithExtraPrefix(extraPrefix);

    /// <summary>This destination with <paramref name="extraPrefix"/> (-DestinationPrefix) folded into its path and text; itself without one.</summary>
    public CopyDestination WithExtraPrefix(string? extraPrefix)
    {
        var extra = extraPrefix?.Trim().Trim('/') ?? "";
        if (extra.Length == 0) return this;
        if (!PathPattern.IsMatch(extra))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"The destination prefix '{extraPrefix}' is not a valid repository path: lowercase letters, digits and single separators ('.', '_', '-') between '/'-separated parts.", extraPrefix);
        return this with { Prefix = Prefix.Length == 0 ? extra : $"{Prefix}/{extra}", Text = $"{Text.TrimEnd('/')}/{extra}" };
    }

    private static CopyDestination ParseCore(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                "The copy destination is empty. Give a registry (harbor.example.com), a registry and prefix (harbor.example.com/migrated), or oci:<directory>.", text);
        var trimmed = text.Trim().TrimEnd('/');
        if (OciLayoutReference.IsLayout(trimmed))
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
