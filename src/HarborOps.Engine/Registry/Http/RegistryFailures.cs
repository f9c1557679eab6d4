using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// The one mapping of what went wrong with a registry call to a <see cref="RegistryException"/>: its error id, its kind
/// (which decides whether only the item or the whole run fails) and a message that names the fix.
/// </summary>
internal static class RegistryFailures
{
    public static RegistryException Timeout(RegistryCall call, TimeSpan requestTimeout) =>
        new(RegistryErrorIds.Timeout, FailureKind.Timeout,
            $"'{call.Uri.Authority}' did not answer {call.Request.Description} within {requestTimeout.TotalSeconds:0.#} s ({call.Retries} retries). Check the registry's health or raise the request timeout.",
            call.Target);

    public static RegistryException NameNotResolved(RegistryCall call, HttpRequestException ex) =>
        new(RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed,
            $"Registry host '{call.Uri.Host}' could not be resolved (DNS). Check the spelling of the registry in '{call.Target}' and your network or DNS settings.",
            call.Target, ex);

    public static RegistryException TlsFailed(RegistryCall call, HttpRequestException ex) =>
        new(RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed,
            $"The TLS connection to '{call.Uri.Authority}' failed ({ex.InnerException?.Message ?? ex.Message}). If the registry serves plain HTTP, add it to the HARBOROPS_PLAIN_HTTP_HOSTS environment variable (before the first HarborOps command of the session); if it uses a private CA, trust that CA on this machine.",
            call.Target, ex);

    public static RegistryException AnsweredPlainHttp(RegistryCall call, HttpRequestException ex) =>
        new(RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed,
            $"The registry at '{call.Uri.Authority}' answered plain HTTP to a TLS connection: it does not serve https there. For a lab registry that serves plain HTTP, add '{call.Uri.Authority}' to the {RegistryHttpOptions.PlainHttpHostsVariable} environment variable (before the first HarborOps command of the session), or address it as localhost; otherwise check the port.",
            call.Target, ex);

    public static RegistryException Unreachable(RegistryCall call, HttpRequestException ex) =>
        new(RegistryErrorIds.HostUnreachable, FailureKind.ConnectionFailed,
            $"Could not reach registry host '{call.Uri.Authority}' for {call.Request.Description}: {call.LastProblem} (after {call.Retries} retries over {call.Started.Elapsed.TotalSeconds:0.#} s). Check that the registry is running and reachable from this machine.",
            call.Target, ex);

    public static RegistryException KeptDropping(RegistryCall call, Exception ex) =>
        new(RegistryErrorIds.RequestFailed, FailureKind.ConnectionFailed,
            $"The connection to '{call.Uri.Authority}' kept dropping while reading {call.Request.Description} ({call.Retries} retries). Check the network and the registry's health.",
            call.Target, ex);

    public static RegistryException TooLarge(RegistryRequest request, long size) =>
        new(RegistryErrorIds.RequestFailed, FailureKind.InvalidData,
            $"The response to {request.Description} is larger than {request.MaxBodyBytes / (1024 * 1024)} MiB ({size} bytes); refusing to buffer it.",
            request.Target ?? request.Registry);

    /// <summary>A throttled or transient status that retries did not cure (or that asked for a longer wait than accepted).</summary>
    public static RegistryException ThrottledOrServerError(RegistryCall call, int status, RegistryErrorBody error, bool throttled, TimeSpan? retryAfter, string? why)
    {
        var request = call.Request;
        var uri = call.Uri;
        var elapsed = call.Started.Elapsed;
        var hint = retryAfter is { } wait ? $" It last asked to wait {wait.TotalSeconds:0.#} s (Retry-After)." : "";
        var registryText = error.Errors.Count > 0 ? $" ({error.Describe()})" : "";
        if (throttled)
            return new RegistryException(RegistryErrorIds.Throttled, FailureKind.Throttled,
                $"Registry '{uri.Authority}' is throttling requests (HTTP {status}{registryText}) and still was after {call.Retries} retries over {elapsed.TotalSeconds:0.#} s for {request.Description}{(why is null ? "" : "; " + why)}.{hint} Wait a while and run again, or lower the number of parallel requests.",
                call.Target, statusCode: status, registryErrorCode: error.FirstCode ?? "TOOMANYREQUESTS")
            { RetryAfter = retryAfter };
        return new RegistryException(RegistryErrorIds.ServerError, FailureKind.ServerError,
            $"Registry '{uri.Authority}' failed {request.Description} with HTTP {status}{registryText} and still did after {call.Retries} retries over {elapsed.TotalSeconds:0.#} s{(why is null ? "" : "; " + why)}.{hint} The registry or a proxy in front of it is unhealthy; try again later.",
            call.Target, statusCode: status, registryErrorCode: error.FirstCode)
        { RetryAfter = retryAfter };
    }

    /// <summary>A refusal no retry changes: permission, not found, policy, or anything else about this item.</summary>
    public static RegistryException Refused(RegistryCall call, int status, RegistryErrorBody error)
    {
        var request = call.Request;
        var target = call.Target;
        var registryText = error.Errors.Count > 0 ? error.Describe() : error.RawText.Length > 0 ? error.RawText : $"HTTP {status}";
        if (status == 403 || error.HasCode("DENIED"))
        {
            var who = call.Auth?.Who ?? "this client";
            return new RegistryException(RegistryErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"Registry '{request.Registry}' does not allow {who} {request.Description} ({registryText}). Ask its administrator for that permission or use another credential.",
                target, statusCode: status, registryErrorCode: error.FirstCode);
        }
        if (status == 404 || error.HasCode("NAME_UNKNOWN") || error.HasCode("MANIFEST_UNKNOWN") || error.HasCode("BLOB_UNKNOWN"))
        {
            if (error.HasCode("NAME_UNKNOWN"))
                return new RegistryException(RegistryErrorIds.RepositoryNotFound, FailureKind.NotFound,
                    $"The repository of '{target}' does not exist on registry '{request.Registry}' ({registryText}). Check the name; Get-RegistryRepository -Registry {request.Registry} lists what exists.",
                    target, statusCode: status, registryErrorCode: error.FirstCode);
            if (error.HasCode("MANIFEST_UNKNOWN") || request.NotFoundErrorId == RegistryErrorIds.ManifestNotFound)
                return new RegistryException(RegistryErrorIds.ManifestNotFound, FailureKind.NotFound,
                    $"'{target}' was not found on registry '{request.Registry}' ({registryText}). Check the tag or digest; Get-RegistryTag lists the tags of the repository.",
                    target, statusCode: status, registryErrorCode: error.FirstCode);
            if (error.HasCode("BLOB_UNKNOWN") || request.NotFoundErrorId == RegistryErrorIds.BlobNotFound)
                return new RegistryException(RegistryErrorIds.BlobNotFound, FailureKind.NotFound,
                    $"Blob {target} was not found on registry '{request.Registry}' ({registryText}); the image is incomplete there.",
                    target, statusCode: status, registryErrorCode: error.FirstCode);
            return new RegistryException(request.NotFoundErrorId == RegistryErrorIds.RequestFailed ? RegistryErrorIds.RequestFailed : request.NotFoundErrorId, FailureKind.NotFound,
                $"Registry '{request.Registry}' answered {request.Description} with not found ({registryText}).",
                target, statusCode: status, registryErrorCode: error.FirstCode);
        }
        if (status == 412)
            // Harbor answers 412 when a project policy (vulnerability gate, required cosign signature) blocks a pull:
            // that image is refused, the rest of the run is not.
            return new RegistryException(RegistryErrorIds.PolicyViolation, FailureKind.PermissionDenied,
                $"Registry '{request.Registry}' refused {request.Description} by policy ({registryText}). On Harbor this is the project's vulnerability or signature gate; Test-HarborProjectGate lists what it blocks.",
                target, statusCode: status, registryErrorCode: error.FirstCode);
        // Any other refusal concerns this request's item (a manifest the registry will not take, a size limit), not the
        // whole run, so it is not reported as bad input of the command.
        return new RegistryException(RegistryErrorIds.RequestFailed, status >= 500 ? FailureKind.ServerError : FailureKind.InvalidData,
            $"Registry '{request.Registry}' refused {request.Description} with HTTP {status} ({registryText}).",
            target, statusCode: status, registryErrorCode: error.FirstCode);
    }
}
