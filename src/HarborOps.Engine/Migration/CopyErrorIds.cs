using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>Stable error ids of the copy engine. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class CopyErrorIds
{
    public const string MappingInvalid = ScopeErrorIds.MappingInvalid;
    public const string JournalInvalid = "CopyJournalInvalid";
    /// <summary>-JournalPath names a file with content that is not a copy journal: refused and left as it is.</summary>
    public const string JournalNotAJournal = "CopyJournalNotAJournal";
    /// <summary>Another run (in this process or another) has the journal open.</summary>
    public const string JournalInUse = "CopyJournalInUse";
    public const string HarborProjectMissing = "CopyHarborProjectMissing";
}
