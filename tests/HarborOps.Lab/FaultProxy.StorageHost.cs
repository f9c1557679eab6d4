using Microsoft.Extensions.Primitives;

namespace HarborOps.Lab;

/// <summary>
/// The blob storage host a registry redirects blob GETs to (as ACR and Harbor on S3 do): a second listener that serves
/// what the redirect grants, and refuses a request that carries the registry's Authorization when told to.
/// </summary>
public sealed partial class FaultProxy
{
    private async Task RedirectToStorageAsync(HttpContext context)
    {
        var request = context.Request;
        var pathAndQuery = request.Path.Value + request.QueryString.Value;
        // Like a real registry, check access before handing out a storage URL: a client without a valid token gets the
        // registry's 401 challenge, not a redirect.
        using (var probe = CreateUpstreamRequest(context, pathAndQuery, null))
        {
            probe.Method = HttpMethod.Head;
            using var check = await _upstreamClient.SendAsync(probe, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            if (!check.IsSuccessStatusCode)
            {
                context.Response.StatusCode = (int)check.StatusCode;
                CopyResponseHeaders(check, context.Response);
                context.Response.Headers.ContentLength = 0;
                return;
            }
        }
        var grant = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var authorization = request.Headers.Authorization.ToString();
        _storageGrants[grant] = (pathAndQuery, authorization.Length > 0 ? authorization : null);
        var digest = pathAndQuery[(pathAndQuery.LastIndexOf('/') + 1)..];
        context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
        context.Response.Headers.Location = new Uri(StorageHostUri, $"storage/blobs/{digest}?grant={grant}").AbsoluteUri;
        context.Response.Headers.ContentLength = 0;
    }

    private async Task ServeStorageAsync(HttpContext context, InjectedFault? fault)
    {
        var request = context.Request;
        if (fault?.Rule.Kind == FaultKind.Status)
        {
            await WriteStatusFaultAsync(context, fault.Rule);
            return;
        }
        if (fault?.Rule is { Kind: FaultKind.Slow, AfterBytes: <= 0 } slow) await Task.Delay(slow.Delay, context.RequestAborted);
        if (request.Method is not ("GET" or "HEAD"))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        if (StorageHostRejectsAuthorization && request.Headers.Authorization.Count > 0)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(
                "InvalidArgument: only one auth mechanism allowed; this storage URL is presigned and an Authorization header was sent too",
                context.RequestAborted);
            return;
        }
        if (!_storageGrants.TryGetValue(request.Query["grant"].ToString(), out var grant))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        using var upstreamRequest = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(Upstream, grant.UpstreamPathAndQuery));
        if (grant.Authorization is not null) upstreamRequest.Headers.TryAddWithoutValidation("Authorization", grant.Authorization);
        if (request.Headers.Range.Count > 0) upstreamRequest.Headers.TryAddWithoutValidation("Range", (IEnumerable<string?>)request.Headers.Range);
        using var response = await _upstreamClient.SendAsync(upstreamRequest, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Content.Headers.NonValidated)
            context.Response.Headers[header.Key] = new StringValues(header.Value.ToArray());
        if (request.Method == "HEAD") return;
        await using var body = ShapedResponseBody(context, await response.Content.ReadAsStreamAsync(context.RequestAborted));
        await CopyBodyAsync(context, body, fault?.Rule);
    }
}
