using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Rotation;

/// <summary>A pull-secret, workload or rotation failure about one namespace or workload (the <see cref="HarborOpsException.Target"/>).</summary>
public sealed class PullSecretException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null)
    : HarborOpsException(errorId, kind, message, target, inner);

/// <summary>Stable error ids of pull secrets, workload restarts and rotation. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class PullSecretErrorIds
{
    public const string CredentialInvalid = "PullSecretCredentialInvalid";
    public const string NamespaceNotFound = "PullSecretNamespaceNotFound";
    public const string WrongType = "PullSecretWrongType";
    public const string NotManaged = "PullSecretNotManaged";
    public const string ProjectsUnknown = "PullSecretProjectsUnknown";
    public const string ConflictRetriesExhausted = "PullSecretConflict";
    public const string VerificationFailed = "PullSecretVerificationFailed";
    public const string ServiceAccountNotFound = "PullSecretServiceAccountNotFound";
    public const string RolloutStalled = "WorkloadRolloutStalled";
    public const string RolloutTimeout = "WorkloadRolloutTimeout";
}
