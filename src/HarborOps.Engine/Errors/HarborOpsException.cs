namespace HarborOps.Engine.Errors;

/// <summary>What kind of failure an engine exception is; the cmdlets map it to an ErrorCategory.</summary>
public enum FailureKind
{
    InvalidArgument,
    NotFound,
    AuthenticationFailed,
    PermissionDenied,
    ConnectionFailed,
    Throttled,
    InvalidData,
    Conflict,
    Timeout,
    Canceled,
    NotSupported,
    ServerError,
}

/// <summary>
/// The one exception hierarchy of the engine. Every failure that reaches a user carries a stable
/// <see cref="ErrorId"/> (documented in about_HarborOps_Errors), a <see cref="Kind"/> and the item it
/// concerns (<see cref="Target"/>: an image reference, a namespace, a robot), never the caller.
/// Messages must name the thing and the fix, and must never contain a secret.
/// </summary>
public class HarborOpsException : Exception
{
    public HarborOpsException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }
    public FailureKind Kind { get; }
    public object? Target { get; }

    /// <summary>Configuration and authentication failures stop the whole run; per-item failures do not.</summary>
    public virtual bool IsTerminating => Kind is FailureKind.InvalidArgument or FailureKind.AuthenticationFailed or FailureKind.Canceled;
}
