using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Harbor;

/// <summary>A failure talking to Harbor's REST API. Carries the HTTP status, Harbor's error code and the X-Request-Id
/// of the failing call, which is how Harbor's own logs find it.</summary>
public class HarborException : HarborOpsException
{
    public HarborException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null,
        int? statusCode = null, string? harborErrorCode = null, string? requestId = null)
        : base(errorId, kind, message, target, inner)
    {
        StatusCode = statusCode;
        HarborErrorCode = harborErrorCode;
        RequestId = requestId;
    }

    public int? StatusCode { get; }
    /// <summary>Harbor's own code: NOT_FOUND, CONFLICT, PRECONDITION, PROJECTPOLICYVIOLATION, ...</summary>
    public string? HarborErrorCode { get; }
    /// <summary>The X-Request-Id sent with (and echoed for) the failing call.</summary>
    public string? RequestId { get; }
}

/// <summary>Stable error ids of the Harbor client. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class HarborErrorIds
{
    public const string NotConnected = "HarborNotConnected";
    public const string UrlInvalid = "HarborUrlInvalid";
    public const string Unreachable = "HarborUnreachable";
    public const string TlsFailed = "HarborTlsFailed";
    public const string AuthenticationFailed = "HarborAuthenticationFailed";
    public const string PermissionDenied = "HarborPermissionDenied";
    public const string CsrfRejected = "HarborCsrfRejected";
    public const string ProjectNotFound = "HarborProjectNotFound";
    public const string ProjectExists = "HarborProjectExists";
    public const string ProjectNotEmpty = "HarborProjectNotEmpty";
    public const string ProjectNameInvalid = "HarborProjectNameInvalid";
    public const string RobotNotFound = "HarborRobotNotFound";
    public const string RobotNameConflict = "HarborRobotNameConflict";
    public const string RobotNameInvalid = "HarborRobotNameInvalid";
    public const string RobotPermissionInvalid = "HarborRobotPermissionInvalid";
    public const string RepositoryNotFound = "HarborRepositoryNotFound";
    public const string ArtifactNotFound = "HarborArtifactNotFound";
    public const string ArtifactNotScannable = "HarborArtifactNotScannable";
    public const string ScanNotAvailable = "HarborScanNotAvailable";
    public const string ScanTimeout = "HarborScanTimeout";
    public const string MemberExists = "HarborMemberExists";
    public const string MemberNotFound = "HarborMemberNotFound";
    public const string RequestInvalid = "HarborRequestInvalid";
    public const string GroupsUnsupported = "HarborGroupsUnsupported";
    public const string LdapGroupDnRequired = "HarborLdapGroupDnRequired";
    public const string PreconditionFailed = "HarborPreconditionFailed";
    public const string Throttled = "HarborThrottled";
    public const string RegistryEndpointExists = "HarborRegistryEndpointExists";
    public const string RegistryEndpointNotFound = "HarborRegistryEndpointNotFound";
    public const string ProxyCacheTypeUnsupported = "HarborProxyCacheTypeUnsupported";
    public const string ReplicationPolicyExists = "HarborReplicationPolicyExists";
    public const string ReplicationPolicyNotFound = "HarborReplicationPolicyNotFound";
    public const string ReplicationExecutionNotFound = "HarborReplicationExecutionNotFound";
    public const string ReplicationTimeout = "HarborReplicationTimeout";
    public const string ReplicationFailed = "HarborReplicationFailed";
    public const string Unhealthy = "HarborUnhealthy";
    public const string GarbageCollectionNotFound = "HarborGarbageCollectionNotFound";
    public const string GarbageCollectionFailed = "HarborGarbageCollectionFailed";
    public const string GarbageCollectionTimeout = "HarborGarbageCollectionTimeout";
    public const string RetentionPolicyNotFound = "HarborRetentionPolicyNotFound";
    public const string RetentionRuleInvalid = "HarborRetentionRuleInvalid";
    public const string RetentionFailed = "HarborRetentionFailed";
    public const string ImmutableTagRuleNotFound = "HarborImmutableTagRuleNotFound";
    public const string UsageHistoryInvalid = "HarborUsageHistoryInvalid";
    public const string UsageHistoryBusy = "HarborUsageHistoryBusy";
    public const string ServerError = "HarborServerError";
    public const string ResponseInvalid = "HarborResponseInvalid";
}
