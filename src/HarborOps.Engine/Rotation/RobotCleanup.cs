using System.Globalization;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Kube;
using HarborOps.Models;

namespace HarborOps.Engine.Rotation;

/// <summary>What became of a robot the rotation no longer uses.</summary>
public enum CleanupVerdict
{
    Deleted,
    /// <summary>Harbor has no such robot any more: nothing to delete, nothing to track.</summary>
    Gone,
    /// <summary>Not deleted now; still tracked, so a later run decides again.</summary>
    Kept,
    /// <summary>Not the rotation's to delete, ever: no longer tracked.</summary>
    Released,
}

public sealed record CleanupDecision(CleanupVerdict Verdict, KeptRobot? Kept = null);

/// <summary>
/// Deletes the robots a namespace's rotation no longer uses, and only those it may: a robot goes only when the
/// namespace's secret recorded that the rotation created it for this namespace (not merely a name a user could also
/// choose), Harbor's robot still is the one recorded, and no managed pull secret in any namespace holds it. Anything
/// less keeps the robot with the reason. One instance per cleanup pass: it reads the cluster's secrets once, on first
/// need, so create a new one after the namespace's own secret changed.
/// </summary>
public sealed class RobotCleanup(KubeCluster cluster, HarborClient harbor, string namespaceName, string robotNamePrefix)
{
    private RobotHolders? _holders;

    /// <summary>Whether a robot's short name (without Harbor's prefix and project) is one the rotation gives this
    /// namespace's robots: {prefix}-{namespace}-{UTC time}.</summary>
    public static bool NamedFor(string shortName, string namespaceName, string robotNamePrefix)
    {
        ArgumentNullException.ThrowIfNull(shortName);
        var name = shortName;
        var stem = $"{robotNamePrefix}-{namespaceName}-";
        return name.StartsWith(stem, StringComparison.Ordinal) && name.Length > stem.Length && name[stem.Length..].All(char.IsAsciiDigit);
    }

    /// <summary>A robot an interrupted run created: its origin is proven by the plan (the secret recorded its name first).</summary>
    public async Task<CleanupDecision> OrphanAsync(HarborRobotInfo orphan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orphan);
        if (await HeldAsync(orphan.Name, cancellationToken).ConfigureAwait(false) is { } held) return new CleanupDecision(CleanupVerdict.Kept, held);
        return await DeleteAsync(orphan.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A retired robot whose grace period has passed.</summary>
    public async Task<CleanupDecision> RetiredAsync(RetiredRobot retired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retired);
        if (!retired.CreatedByRotation || !NamedFor(harbor.ShortRobotName(retired.Name), namespaceName, robotNamePrefix))
            return Released(retired.Name,
                $"the rotation did not create it for namespace '{namespaceName}' (it came from New-HarborRobot, another tool or cluster, or was retired before HarborOps recorded origins), so the rotation never deletes it; delete it with Remove-HarborRobot once nothing uses it, or let it expire");
        HarborRobotInfo robot;
        try
        {
            robot = await harbor.FindRobotAsync(retired.Id.ToString(CultureInfo.InvariantCulture), null, cancellationToken).ConfigureAwait(false);
        }
        catch (HarborException ex) when (ex.Kind == FailureKind.NotFound)
        {
            return new CleanupDecision(CleanupVerdict.Gone);
        }
        if (!string.Equals(robot.Name, retired.Name, StringComparison.Ordinal))
            return Released(retired.Name, $"Harbor's robot {retired.Id} is now '{robot.Name}', not the robot the secret recorded, so it is not the rotation's to delete");
        if (await HeldAsync(retired.Name, cancellationToken).ConfigureAwait(false) is { } held) return new CleanupDecision(CleanupVerdict.Kept, held);
        return await DeleteAsync(retired.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Why the robot must stay because a pull secret may hold it, or null when none does.</summary>
    private async Task<KeptRobot?> HeldAsync(string robotName, CancellationToken cancellationToken)
    {
        _holders ??= await RobotHolders.ReadAsync(cluster, cancellationToken).ConfigureAwait(false);
        if (_holders.Unreadable is { } unreadable)
            return new KeptRobot { Name = robotName, Reason = KeptRobotReason.HoldersUnknown, Detail = $"{unreadable}; it is kept until a run can check" };
        var held = _holders.Of(robotName);
        if (held.Count == 0) return null;
        var named = string.Join(", ", held.Take(5)) + (held.Count > 5 ? $" and {held.Count - 5} more" : "");
        return new KeptRobot
        {
            Name = robotName, Reason = KeptRobotReason.HeldElsewhere,
            Detail = $"pull secret(s) {named} still hold it; the first run after none does deletes it",
        };
    }

    /// <summary>A robot that is already gone is what deleting wanted.</summary>
    private async Task<CleanupDecision> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        try
        {
            await harbor.DeleteRobotAsync(id, cancellationToken).ConfigureAwait(false);
            return new CleanupDecision(CleanupVerdict.Deleted);
        }
        catch (HarborException ex) when (ex.Kind == FailureKind.NotFound)
        {
            return new CleanupDecision(CleanupVerdict.Gone);
        }
    }

    private static CleanupDecision Released(string name, string detail) =>
        new(CleanupVerdict.Released, new KeptRobot { Name = name, Reason = KeptRobotReason.NotCreatedByRotation, Detail = detail });
}
