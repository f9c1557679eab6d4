using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// The warning given before a project's pull gates are tightened: how many artifacts the new gates would refuse, the first
/// few by repository, short digest and reasons, and where to see them all. Short enough for one warning line.
/// </summary>
public static class HarborGateBlockedSummary
{
    /// <summary>Artifacts named one by one; the rest are counted.</summary>
    public const int Shown = 5;

    /// <summary>The summary for <paramref name="project"/>; meant for a non-empty <paramref name="blocked"/>.</summary>
    public static string Of(string project, IReadOnlyList<HarborGateFinding> blocked)
    {
        ArgumentNullException.ThrowIfNull(blocked);
        return $"The new gates of project '{project}' would refuse pulls of {blocked.Count} artifact(s): "
            + string.Join("; ", blocked.Take(Shown).Select(f => $"{f.Repository}@{f.Digest[..Math.Min(19, f.Digest.Length)]} ({string.Join(", ", f.Reasons)})"))
            + (blocked.Count > Shown ? $"; and {blocked.Count - Shown} more (Test-HarborProjectGate lists them all)." : ".");
    }
}
