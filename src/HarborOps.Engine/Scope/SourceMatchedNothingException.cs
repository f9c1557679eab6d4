using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Scope;

/// <summary>
/// -FailOnEmpty: the sources of a copy or a comparison selected no tag at all. A typo in "registry/team/*" expands to
/// no repository and is otherwise a successful run that did nothing (and a comparison that finds no difference), so a
/// CI step would pass. Terminating, and thrown after the summary was written.
/// </summary>
public sealed class SourceMatchedNothingException(string source)
    : HarborOpsException(ScopeErrorIds.SourceMatchedNothing, FailureKind.NotFound, Describe(source), source)
{
    public override bool IsTerminating => true;

    /// <summary>The sentence the warning and the error share: which source, and the three things that make it empty.</summary>
    public static string Describe(string source) =>
        $"{source} matched no tags. Check the repository path (a 'registry/prefix/*' source matches the repositories the registry's catalog lists under that prefix, "
        + "and names are case-sensitive), the -Include/-Exclude filters and their regular expressions, and that the source credential may list the catalog and the tags.";
}
