using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Http;

/// <summary>One entry of a registry's {"errors":[{"code","message","detail"}]} body.</summary>
public sealed record RegistryErrorEntry(string Code, string Message);

/// <summary>
/// The error body of a failed registry response, parsed defensively: registries send the OCI JSON, vendor codes,
/// or plain text / HTML from a front door. The raw text (cut short) is kept for messages. This is where server text
/// enters our messages, so this is where the credentials the request carried are cut out of it.
/// </summary>
public sealed class RegistryErrorBody
{
    private const int MaxRawChars = 300;
    private static readonly JsonWriterOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public IReadOnlyList<RegistryErrorEntry> Errors { get; private init; } = [];
    public string RawText { get; private init; } = "";

    public string? FirstCode => Errors.Count > 0 ? Errors[0].Code : null;
    public bool HasCode(string code) => Errors.Any(e => string.Equals(e.Code, code, StringComparison.OrdinalIgnoreCase));

    /// <summary>Registry messages joined for a user: "CODE: message; ..." or the start of the raw text.</summary>
    public string Describe()
    {
        if (Errors.Count > 0)
            return string.Join("; ", Errors.Select(e => e.Message.Length > 0 ? $"{e.Code}: {e.Message}" : e.Code));
        return RawText;
    }

    internal static RegistryErrorBody Parse(byte[]? body, SentSecrets sent)
    {
        if (body is null || body.Length == 0) return new RegistryErrorBody();
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 64 * 1024));
        try
        {
            using var doc = JsonDocument.Parse(body);
            var errors = new List<RegistryErrorEntry>();
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("errors", out var array) && array.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in array.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Object) continue;
                    var code = e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
                    var message = e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
                    errors.Add(new RegistryErrorEntry(sent.Scrub(code).ToUpperInvariant(), sent.Scrub(message)));
                }
            }
            // JSON may escape any character (\u0061 for a), which would hide a secret from a search of the raw text:
            // the text kept is the document written out again with its strings unescaped.
            return new RegistryErrorBody { Errors = errors, RawText = Shorten(sent.Scrub(Unescaped(doc.RootElement))) };
        }
        catch (JsonException)
        {
            return new RegistryErrorBody { RawText = Shorten(sent.Scrub(text)) };
        }
    }

    private static string Shorten(string text)
    {
        var raw = text.Length > MaxRawChars ? text[..MaxRawChars] + "..." : text;
        return raw.ReplaceLineEndings(" ").Trim();
    }

    private static string Unescaped(JsonElement root)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Readable)) Write(writer, root);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray()) Write(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
