using System.Management.Automation;
using HarborOps.Engine.Errors;

namespace HarborOps.Infrastructure;

/// <summary>
/// The one mapping from a failure to an <see cref="ErrorRecord"/>: every cmdlet goes through it, so error
/// ids, categories and targets are the same everywhere and match about_HarborOps_Errors.
/// </summary>
internal static class ErrorRecordFactory
{
    /// <summary>Error id of any failure that is not a <see cref="HarborOpsException"/> (a bug: please report it).</summary>
    public const string UnexpectedErrorId = "HarborOpsUnexpectedError";

    public static ErrorRecord Create(Exception exception, object? fallbackTarget, out bool isTerminating)
    {
        if (exception is HarborOpsException harborOps)
        {
            isTerminating = harborOps.IsTerminating;
            return new ErrorRecord(harborOps, harborOps.ErrorId, ToCategory(harborOps.Kind), harborOps.Target ?? fallbackTarget);
        }

        isTerminating = true;
        var unexpected = new ErrorRecord(exception, UnexpectedErrorId, ErrorCategory.NotSpecified, fallbackTarget);
        unexpected.ErrorDetails = new ErrorDetails($"HarborOps failed unexpectedly: {exception.Message}")
        {
            RecommendedAction = "This is a HarborOps defect; report it with the command you ran ($Error[0] | Format-List * -Force).",
        };
        return unexpected;
    }

    public static ErrorCategory ToCategory(FailureKind kind) => kind switch
    {
        FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FailureKind.NotFound => ErrorCategory.ObjectNotFound,
        FailureKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        FailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
        FailureKind.ConnectionFailed => ErrorCategory.ConnectionError,
        FailureKind.Throttled => ErrorCategory.LimitsExceeded,
        FailureKind.InvalidData => ErrorCategory.InvalidData,
        FailureKind.Conflict => ErrorCategory.ResourceExists,
        FailureKind.Timeout => ErrorCategory.OperationTimeout,
        FailureKind.Canceled => ErrorCategory.OperationStopped,
        FailureKind.NotSupported => ErrorCategory.NotImplemented,
        FailureKind.ServerError => ErrorCategory.ResourceUnavailable,
        _ => ErrorCategory.NotSpecified,
    };
}
