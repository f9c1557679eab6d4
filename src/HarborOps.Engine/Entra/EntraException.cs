using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Entra;

/// <summary>Stable ids of Entra ID (Microsoft Graph) failures; documented in about_HarborOps_Errors.</summary>
public static class EntraErrorIds
{
    public const string OptionsInvalid = "EntraOptionsInvalid";
    public const string AuthenticationFailed = "EntraAuthenticationFailed";
    public const string PermissionDenied = "EntraPermissionDenied";
    public const string GroupNotFound = "EntraGroupNotFound";
    public const string GroupAmbiguous = "EntraGroupAmbiguous";
    public const string Throttled = "EntraThrottled";
    public const string Unreachable = "EntraUnreachable";
    public const string RequestFailed = "EntraRequestFailed";
}

/// <summary>A failure talking to Entra ID: the token endpoint or Microsoft Graph. Target is the group, user or endpoint concerned.</summary>
public sealed class EntraException : HarborOpsException
{
    public EntraException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null, int? statusCode = null, string? graphErrorCode = null)
        : base(errorId, kind, message, target, inner)
    {
        StatusCode = statusCode;
        GraphErrorCode = graphErrorCode;
    }

    /// <summary>Graph's HTTP status, when Graph answered.</summary>
    public int? StatusCode { get; }

    /// <summary>Graph's error code (Request_ResourceNotFound, Authorization_RequestDenied...), when Graph answered.</summary>
    public string? GraphErrorCode { get; }

    /// <summary>A refused permission stops the run like a refused credential: every later call would fail the same way.</summary>
    public override bool IsTerminating => base.IsTerminating || Kind is FailureKind.PermissionDenied || ErrorId == EntraErrorIds.Unreachable;
}
