using System.Diagnostics;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// One logical request on its way through the pipeline's handlers: where it goes now (redirects move it), what it
/// carried (for scrubbing), and what its retries have met so far (for the final message).
/// </summary>
internal sealed class RegistryCall
{
    private readonly Origin _registryOrigin;

    public RegistryCall(RegistryRequest request, Uri registryUri, IRequestAuthorization? auth)
    {
        Request = request;
        RegistryUri = registryUri;
        Uri = request.AbsoluteUri ?? new Uri(registryUri, request.PathAndQuery);
        // Challenge auth belongs to the registry's origin; a fixed Authorization (a token realm's Basic) to the URL it was made for.
        _registryOrigin = Origin.Of(registryUri);
        AuthorizationOrigin = Origin.Of(Uri);
        Method = request.Method;
        Auth = auth;
        Sent = new SentSecrets().AddAll(request.BodySecrets).AddAuthorization(request.Authorization);
        auth?.AddSecretsTo(Sent);
    }

    public RegistryRequest Request { get; }
    public Uri RegistryUri { get; }
    /// <summary>Where the next attempt goes.</summary>
    public Uri Uri { get; set; }
    public HttpMethod Method { get; set; }
    public Origin AuthorizationOrigin { get; }
    public IRequestAuthorization? Auth { get; }
    /// <summary>Everything secret the request carried so far.</summary>
    public SentSecrets Sent { get; }

    /// <summary>The host whose wait window the next attempt keeps (Harbor's /api and /v2 share it).</summary>
    public string Host => Uri.Authority;
    public bool AtRegistry => Origin.Of(Uri) == _registryOrigin;
    public object Target => Request.Target ?? Request.Registry;

    public int Retries { get; set; }
    public int Redirects { get; set; }
    public Stopwatch Started { get; } = Stopwatch.StartNew();
    public TimeSpan? LastRetryAfter { get; set; }
    public string LastProblem { get; set; } = "";

    public bool BodyReplayable => Request.Content is null || Request.ContentReplayable;

    public RegistryResponse Respond(HttpResponseMessage response, byte[]? body) => new(response, body, Uri, Sent);
}
