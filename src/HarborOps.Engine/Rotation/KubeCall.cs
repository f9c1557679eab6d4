using System.Net;
using HarborOps.Engine.Errors;
using k8s.Autorest;

namespace HarborOps.Engine.Rotation;

/// <summary>A 404 from the API server, for callers that treat "absent" as an answer.</summary>
public sealed class KubeNotFoundException(string message, object? target, Exception inner)
    : HarborOpsException("KubeObjectNotFound", FailureKind.NotFound, message, target, inner);

/// <summary>A 409 from the API server: the object changed since it was read (or already exists); read again and retry.</summary>
public sealed class KubeConflictException(string message, object? target, Exception inner)
    : HarborOpsException("KubeConflict", FailureKind.Conflict, message, target, inner);

/// <summary>
/// Runs one API-server call and turns its failures into engine exceptions that name the verb and resource
/// (the RBAC rule a least-privilege role needs) and the namespace, never the request body.
/// </summary>
internal static class KubeCall
{
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, string verb, string resource, string? namespaceName, string doing, string? notFoundMessage = null)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            throw Map(ex, verb, resource, namespaceName, doing, notFoundMessage);
        }
        catch (HttpRequestException ex)
        {
            throw new PullSecretException("KubeUnreachable", FailureKind.ConnectionFailed,
                $"The Kubernetes API server could not be reached while {doing}: {ex.Message}. Check the kubeconfig's server address and the network path.",
                namespaceName, ex);
        }
    }

    private static HarborOpsException Map(HttpOperationException ex, string verb, string resource, string? namespaceName, string doing, string? notFoundMessage)
    {
        var status = ex.Response?.StatusCode ?? 0;
        var where = namespaceName is null ? "" : $" in namespace '{namespaceName}'";
        return status switch
        {
            HttpStatusCode.NotFound => new KubeNotFoundException(notFoundMessage ?? $"Not found while {doing}{where}.", namespaceName, ex),
            HttpStatusCode.Conflict => new KubeConflictException($"Conflict while {doing}{where}: the object changed or already exists.", namespaceName, ex),
            HttpStatusCode.Forbidden => new PullSecretException("KubePermissionDenied", FailureKind.PermissionDenied,
                $"The cluster credential may not {verb} {resource}{where} ({doing}). Grant the verb '{verb}' on '{resource}' in its Role/ClusterRole.", namespaceName, ex),
            HttpStatusCode.Unauthorized => new PullSecretException("KubeAuthenticationFailed", FailureKind.AuthenticationFailed,
                $"The Kubernetes API server rejected the credential while {doing}. Refresh the kubeconfig's token or certificate.", namespaceName, ex),
            _ => new PullSecretException("KubeRequestFailed", FailureKind.ServerError,
                $"The Kubernetes API server answered {(int)status} while {doing}{where}.", namespaceName, ex),
        };
    }
}
