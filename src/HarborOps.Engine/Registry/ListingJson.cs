using System.Globalization;
using System.Text.Json;

namespace HarborOps.Engine.Registry;

/// <summary>How the bulk listings (ACR's _manifests, Harbor's artifacts) read their JSON fields: a field of the wrong type
/// or a time that does not parse counts as absent, so one odd entry does not fail the listing.</summary>
internal static class ListingJson
{
    public static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static DateTimeOffset? Time(JsonElement element, string name) =>
        String(element, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;
}
