namespace HarborOps.Engine.Harbor;

/// <summary>One logical call to Harbor's API; the client may send it more than once (retries of safe methods).</summary>
internal sealed record HarborCall(HttpMethod Method, string Path)
{
    /// <summary>Serialized as JSON (snake_case) when not null.</summary>
    public object? Body { get; init; }
    /// <summary>Sends X-Is-Resource-Name: true, so an all-digit project name is not taken for an id.</summary>
    public bool ProjectByName { get; init; }
    /// <summary>Path is relative to Harbor's base URL (the registry's /v2/) instead of the API root.</summary>
    public bool FromBase { get; init; }
    public object? Target { get; init; }
    public string Description { get; init; } = "the request";
    public string NotFoundId { get; init; } = HarborErrorIds.RequestInvalid;
    /// <summary>What a 404 means for this call, naming the thing and the fix.</summary>
    public string? NotFoundMessage { get; init; }
    public string? ConflictId { get; init; }
    public string? ConflictHint { get; init; }
    public string? PreconditionId { get; init; }
    public string? BadRequestId { get; init; }
    /// <summary>Statuses the caller handles itself.</summary>
    public Func<int, bool>? AcceptStatus { get; init; }
}
