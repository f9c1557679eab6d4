using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Scope;

/// <summary>An os/architecture[/variant] a -Platform filter names; parsed once per run.</summary>
public sealed record PlatformFilter(string Os, string Architecture, string? Variant)
{
    /// <summary>Parses "os/arch[/variant]"; throws CopyMappingInvalid naming the expected form.</summary>
    public static PlatformFilter Parse(string text)
    {
        var parts = (text ?? "").Trim().ToLowerInvariant().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new HarborOpsException(ScopeErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"Platform '{text}' is not os/architecture[/variant]; write it like linux/amd64 or linux/arm64/v8.", text);
        return new PlatformFilter(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    /// <summary>
    /// True when <paramref name="platform"/> is this one. arm64 without a variant is v8 (the OCI image spec's only
    /// arm64 variant that registries commonly omit).
    /// </summary>
    public bool Matches(OciPlatform? platform)
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
