using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Kube;

/// <summary>A failure reaching or using a Kubernetes API server. Carries the HTTP status and the API server's Status
/// reason (NotFound, Conflict, AlreadyExists, Forbidden, Invalid...) when there was an answer.</summary>
public class KubeException : HarborOpsException
{
    public KubeException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null,
        int? statusCode = null, string? statusReason = null)
        : base(errorId, kind, message, target, inner)
    {
        StatusCode = statusCode;
        StatusReason = statusReason;
    }

    public int? StatusCode { get; }
    /// <summary>The Status object's reason, as the API server sent it.</summary>
    public string? StatusReason { get; }

    /// <summary>A stale resourceVersion (409 Conflict): re-read and try again.</summary>
    public bool IsConflict => StatusReason == "Conflict";
    public bool IsNotFound => StatusCode == 404;
    public bool IsAlreadyExists => StatusReason == "AlreadyExists";
}

/// <summary>Stable error ids of the Kubernetes access layer. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class KubeErrorIds
{
    public const string KubeconfigNotFound = "KubeconfigNotFound";
    public const string KubeconfigInvalid = "KubeconfigInvalid";
    public const string ContextNotFound = "KubeContextNotFound";
    public const string InClusterUnavailable = "KubeInClusterUnavailable";
    public const string Unreachable = "KubeApiUnreachable";
    public const string TlsFailed = "KubeTlsFailed";
    public const string AuthenticationFailed = "KubeAuthenticationFailed";
    public const string PermissionDenied = "KubePermissionDenied";
    public const string NotFound = "KubeResourceNotFound";
    public const string Conflict = "KubeConflict";
    public const string AlreadyExists = "KubeResourceExists";
    public const string Invalid = "KubeRequestInvalid";
    public const string Timeout = "KubeTimeout";
    public const string ServerError = "KubeServerError";
}
