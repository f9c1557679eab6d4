namespace HarborOps.Engine.Scope;

/// <summary>
/// Stable error ids of a copy's scope (shared by copy, parity and reference rewriting). Documented in
/// about_HarborOps_Errors; never renamed: the id keeps the "Copy" name it had before the scope had a folder of its own.
/// </summary>
public static class ScopeErrorIds
{
    /// <summary>A repository mapping, tag filter or platform filter that cannot be applied.</summary>
    public const string MappingInvalid = "CopyMappingInvalid";
    /// <summary>-FailOnEmpty: the sources selected no tag (a typo in a path or prefix, filters that exclude everything).</summary>
    public const string SourceMatchedNothing = "SourceMatchedNothing";
}
