using System.Net;
using System.Net.Http.Headers;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>
/// One logical call to a registry. The pipeline may send it several times (auth, redirects, retries), so the body is a
/// factory; a body that cannot be replayed makes transient failures final instead of silently sending less.
/// </summary>
internal sealed class RegistryRequest
{
    public RegistryRequest(HttpMethod method, string registry, string pathAndQuery)
    {
        Method = method;
        Registry = registry;
        PathAndQuery = pathAndQuery;
    }

    public HttpMethod Method { get; }
    /// <summary>Canonical registry name (docker.io, 127.0.0.1:5000); decides scheme, API host and credentials.</summary>
    public string Registry { get; }
    public string PathAndQuery { get; }
    /// <summary>An absolute URL to call instead of <see cref="PathAndQuery"/> (a Link next page, an upload Location, a token realm).</summary>
    public Uri? AbsoluteUri { get; init; }
    /// <summary>
    /// Send a fresh X-Request-Id with each attempt: Harbor's API logs its calls under it, as the Harbor client's calls
    /// are. The registry API has no such habit, so the pipeline sends none unless asked.
    /// </summary>
    public bool SendsRequestId { get; init; }
    /// <summary>Token scopes the call needs, e.g. repository:team/app:pull.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public IReadOnlyList<string>? Accept { get; init; }
    public Func<HttpContent>? Content { get; init; }
    public bool ContentReplayable { get; init; } = true;
    public RangeHeaderValue? Range { get; init; }
    /// <summary>Registry challenge-driven auth; false for token and exchange endpoints.</summary>
    public bool Authenticate { get; init; } = true;
    /// <summary>A fixed Authorization for the request's own origin (token endpoint Basic); never sent to a redirect target elsewhere.</summary>
    public AuthenticationHeaderValue? Authorization { get; init; }
    /// <summary>Credentials the <see cref="Content"/> carries (a token form's refresh or access token): cut out of any
    /// server text, and the body never follows a redirect to another origin.</summary>
    public IReadOnlyList<string> BodySecrets { get; init; } = [];
    /// <summary>False where a request that timed out will not do better on a retry, and each wait would be paid again by
    /// every caller behind it (a token service that hangs).</summary>
    public bool RetryTimeouts { get; init; } = true;
    public NetworkCredential? Credential { get; init; }
    /// <summary>The item the call is about, for exception Target and messages (an image reference, a repository).</summary>
    public object? Target { get; init; }
    /// <summary>What the call does, for messages: "the tag list of 127.0.0.1:5000/team/app".</summary>
    public string Description { get; init; } = "the request";
    /// <summary>Non-success statuses the caller handles itself (HEAD 404, referrers fallbacks).</summary>
    public Func<int, bool>? AcceptStatus { get; init; }
    /// <summary>Read the whole body inside the retry loop (manifests, lists); false leaves the stream to the caller (blobs).</summary>
    public bool BufferBody { get; init; } = true;
    public long MaxBodyBytes { get; init; } = 16 * 1024 * 1024;
    /// <summary>The error id of a 404 whose body names no known code.</summary>
    public string NotFoundErrorId { get; init; } = RegistryErrorIds.RequestFailed;
}

/// <summary>A response the pipeline returns: success or a status the request accepted.</summary>
internal sealed class RegistryResponse : IDisposable
{
    public RegistryResponse(HttpResponseMessage message, byte[]? body, Uri requestUri, SentSecrets sent)
    {
        Message = message;
        Body = body;
        RequestUri = requestUri;
        Sent = sent;
    }

    /// <summary>The credentials the request carried, to be cut out of whatever the server said.</summary>
    private SentSecrets Sent { get; }

    /// <summary>A non-success body as text fit for a message: parsed, with the request's credentials cut out.</summary>
    public RegistryErrorBody ErrorBody => RegistryErrorBody.Parse(Body, Sent);

    public HttpResponseMessage Message { get; }
    public byte[]? Body { get; }
    /// <summary>The URI that finally answered (after redirects): Link headers resolve against it.</summary>
    public Uri RequestUri { get; }
    public int StatusCode => (int)Message.StatusCode;
    public bool IsSuccess => Message.IsSuccessStatusCode;

    public string? Header(string name)
    {
        if (Message.Headers.TryGetValues(name, out var values)) return values.FirstOrDefault();
        if (Message.Content.Headers.TryGetValues(name, out var contentValues)) return contentValues.FirstOrDefault();
        return null;
    }

    public IEnumerable<string> Headers(string name) =>
        Message.Headers.TryGetValues(name, out var values) ? values : [];

    public string? ContentType => Message.Content.Headers.ContentType?.MediaType;
    public long? ContentLength => Message.Content.Headers.ContentLength;

    public void Dispose() => Message.Dispose();
}
