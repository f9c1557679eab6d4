using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// Redirects followed by hand, so that credentials only go to the <see cref="Origin"/> they were issued for (the
/// pipeline attaches them per attempt, by origin) and an https registry never continues over plain http.
/// </summary>
internal sealed class RegistryRedirects(Func<Uri, bool> isPlainHttpAllowed)
{
    private const int MaxRedirects = 5;

    /// <summary>True when the response was a redirect and the call now points at its target.</summary>
    public bool TryFollow(RegistryCall call, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location) return false;
        var request = call.Request;
        var uri = call.Uri;
        if (++call.Redirects > MaxRedirects)
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                $"'{uri.Authority}' redirected {request.Description} more than {MaxRedirects} times; giving up.", call.Target, statusCode: status);
        var next = new Uri(uri, location);
        if (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp)
            throw new RegistryException(RegistryErrorIds.RequestFailed, FailureKind.ServerError,
                $"'{uri.Authority}' redirected {request.Description} to a '{next.Scheme}' URL, which is not followed.", call.Target, statusCode: status);
        if (status == 303 || (status is 301 or 302 && call.Method == HttpMethod.Post)) call.Method = HttpMethod.Get;
        if (request.BodySecrets.Count > 0 && call.Method != HttpMethod.Get && call.Method != HttpMethod.Head && Origin.Of(next) != call.AuthorizationOrigin)
            throw new RegistryException(RegistryErrorIds.InsecureRedirect, FailureKind.InvalidData,
                $"'{uri.Authority}' redirected {request.Description} to {next.GetLeftPart(UriPartial.Path)}, another origin; the request carries credentials, so it is not sent there.",
                call.Target, statusCode: status);
        call.Uri = next;
        return true;
    }

    /// <summary>
    /// An https registry's request never continues over plain http (a redirect, an upload Location, a next-page link),
    /// unless the user allowed that host for plain http: whatever it carries, and what comes back, would travel in clear text.
    /// </summary>
    public void RefuseDowngrade(RegistryCall call)
    {
        var uri = call.Uri;
        if (uri.Scheme != Uri.UriSchemeHttp || call.RegistryUri.Scheme != Uri.UriSchemeHttps || isPlainHttpAllowed(uri)) return;
        throw new RegistryException(RegistryErrorIds.InsecureRedirect, FailureKind.InvalidData,
            $"Registry '{call.Request.Registry}' (https) sent {call.Request.Description} to plain http ({uri.GetLeftPart(UriPartial.Path)}); refusing to continue in clear text. If '{uri.Authority}' is a trusted plain-HTTP endpoint, add it to the {RegistryHttpOptions.PlainHttpHostsVariable} environment variable before the first HarborOps command of the session.",
            call.Target);
    }
}
