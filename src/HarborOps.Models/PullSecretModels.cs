namespace HarborOps.Models;

/// <summary>What Sync-PullSecret did (or, with -WhatIf, would do) to one namespace's pull secret.</summary>
public enum PullSecretAction
{
    /// <summary>The secret did not exist and was written.</summary>
    Created,
    /// <summary>The secret held another credential (or lacked HarborOps' annotations) and was rewritten.</summary>
    Updated,
    /// <summary>A same-named secret of another type was deleted and written anew (-Force).</summary>
    Replaced,
    /// <summary>The secret already held this credential; nothing was written to it.</summary>
    Unchanged,
    /// <summary>-WhatIf, or the write was declined: nothing was written.</summary>
    Planned,
    /// <summary>The namespace failed; its error record says why.</summary>
    Failed,
}

/// <summary>One namespace of Sync-PullSecret.</summary>
public sealed record PullSecretSyncResult
{
    public string Namespace { get; init; } = "";
    public string SecretName { get; init; } = "";
    public string Registry { get; init; } = "";
    /// <summary>The login the secret holds (robot$project+name for a Harbor robot).</summary>
    public string UserName { get; init; } = "";
    public PullSecretAction Action { get; init; }
    /// <summary>ServiceAccounts whose imagePullSecrets gained the secret (those that already listed it are not named).</summary>
    public string[] ServiceAccountsUpdated { get; init; } = [];
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Why the namespace was skipped or failed; empty otherwise.</summary>
    public string? Message { get; init; }
}

/// <summary>Where a restarted workload's rollout ended.</summary>
public enum WorkloadRolloutState
{
    /// <summary>The restart was written; -Wait was not asked for.</summary>
    Restarted,
    /// <summary>Every replica runs the restarted template (what kubectl rollout status reports as "successfully rolled out").</summary>
    RolledOut,
    /// <summary>The Deployment exceeded its progressDeadlineSeconds, or the wait ran out of -Timeout.</summary>
    Stalled,
    /// <summary>-WhatIf: the workload would be restarted.</summary>
    Planned,
    /// <summary>The restart could not be written; the error record says why.</summary>
    Failed,
}

/// <summary>One Deployment, StatefulSet or DaemonSet of Restart-Workload.</summary>
public sealed record WorkloadRestartResult
{
    public string Namespace { get; init; } = "";
    /// <summary>Deployment, StatefulSet or DaemonSet.</summary>
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    /// <summary>Why it was chosen: "secret team-pull", "registry harbor.example.com", "serviceaccount default".</summary>
    public string Reason { get; init; } = "";
    public WorkloadRolloutState State { get; init; }
    /// <summary>The restartedAt value written to the pod template.</summary>
    public DateTimeOffset? RestartedAt { get; init; }
    /// <summary>The last rollout status line, in kubectl's words.</summary>
    public string? Status { get; init; }
}

/// <summary>What the rotation runbook did to one namespace, in order.</summary>
public sealed record PullSecretRotationResult
{
    public string Namespace { get; init; } = "";
    public string SecretName { get; init; } = "";
    /// <summary>The robot the secret holds after this run.</summary>
    public string? Robot { get; init; }
    /// <summary>The robot the secret held before this run (null for a first run).</summary>
    public string? PreviousRobot { get; init; }
    /// <summary>True when a new credential was written in this run.</summary>
    public bool Rotated { get; init; }
    /// <summary>True when the credential in the secret pulled from Harbor in this run.</summary>
    public bool Verified { get; init; }
    /// <summary>Robots deleted in this run (their grace period had passed, or they never reached a secret).</summary>
    public string[] RobotsDeleted { get; init; } = [];
    /// <summary>Older robots this run did not delete (until their grace period ends, or for a reason in <see cref="KeptRobots"/>).</summary>
    public string[] RobotsKept { get; init; } = [];
    /// <summary>Each robot of <see cref="RobotsKept"/> with why it was kept.</summary>
    public KeptRobot[] KeptRobots { get; init; } = [];
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>When the next run will rotate (the current robot's age reaches the rotation period).</summary>
    public DateTimeOffset? NextRotation { get; init; }
    /// <summary>Each step taken (or planned with -WhatIf), in order: "created robot ...", "wrote secret", "verified pull", ...</summary>
    public string[] Changes { get; init; } = [];
    /// <summary>True when nothing was changed because of -WhatIf.</summary>
    public bool WhatIf { get; init; }
    /// <summary>Set when the namespace failed; its error record has the details.</summary>
    public string? Error { get; init; }
}

/// <summary>Why the rotation kept a robot it no longer uses.</summary>
public enum KeptRobotReason
{
    /// <summary>Its grace period has not passed yet; a later run deletes it.</summary>
    GracePeriod,
    /// <summary>The rotation did not create it for this namespace (New-HarborRobot, another tool, or an older HarborOps that recorded no origin); it is never deleted by the rotation.</summary>
    NotCreatedByRotation,
    /// <summary>Another managed pull secret still holds it; a run after that secret lets go of it deletes it.</summary>
    HeldElsewhere,
    /// <summary>The secrets of every namespace could not be read (RBAC), so whether one still holds it is unknown.</summary>
    HoldersUnknown,
}

/// <summary>A robot a rotation run did not delete, and why. Never carries a secret.</summary>
public sealed record KeptRobot
{
    public string Name { get; init; } = "";
    public KeptRobotReason Reason { get; init; }
    /// <summary>The reason in words, naming what holds it or what the cluster identity lacks.</summary>
    public string Detail { get; init; } = "";

    public override string ToString() => $"{Name}: {Detail}";
}

/// <summary>One namespace's pull secret as Get-PullSecretStatus sees it.</summary>
public sealed record PullSecretStatus
{
    public string Namespace { get; init; } = "";
    public string SecretName { get; init; } = "";
    /// <summary>False when the namespace has no such secret.</summary>
    public bool Exists { get; init; }
    /// <summary>True when HarborOps manages it (its managed-by label).</summary>
    public bool Managed { get; init; }
    public string? Registry { get; init; }
    /// <summary>The login the secret holds.</summary>
    public string? Robot { get; init; }
    public DateTimeOffset? RotatedAt { get; init; }
    /// <summary>Whole days since the credential was written.</summary>
    public int? AgeDays { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Whole days until the credential expires (negative once expired); null when it never expires.</summary>
    public int? DaysLeft { get; init; }
    /// <summary>True when the credential logged in to the registry and pulled a manifest just now; null when not tried (-NoVerify).</summary>
    public bool? Authenticates { get; init; }
    /// <summary>What the pull check found: the image it pulled, or why it failed.</summary>
    public string? Detail { get; init; }
    /// <summary>True when DaysLeft is at most -ExpiringWithinDays, or the credential no longer authenticates: the alert flag.</summary>
    public bool NeedsAttention { get; init; }
}
