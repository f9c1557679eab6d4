using System.Net.Http.Headers;
using System.Text.Json;

namespace HarborOps.Engine.Harbor;

/// <summary>What Harbor answered one call: status, body, headers and the request id to find it in Harbor's log.</summary>
internal sealed class HarborResponse
{
    public required int Status { get; init; }
    public required byte[] Body { get; init; }
    public required HttpResponseHeaders Headers { get; init; }
    public required string RequestId { get; init; }
    public required Uri Uri { get; init; }
    public string? ContentType { get; init; }

    public string? Header(string name) => Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public T Read<T>(HarborCall call)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Body, HarborHttp.Json)
                ?? throw new JsonException("the body is null");
        }
        catch (JsonException ex)
        {
            throw HarborClient.InvalidResponse(call, Uri, RequestId, ContentType, Body, ex);
        }
    }
}
