using System.Text;
using System.Text.Json;

namespace HarborOps.Engine.Registry.Http;

/// <summary>One entry of a registry's {"errors":[{"code","message","detail"}]} body.</summary>
public sealed record RegistryErrorEntry(string Code, string Message);

/// <summary>
/// The error body of a failed registry response, parsed defensively: registries send the OCI JSON, vendor codes,
/// or plain text / HTML from a front door. The raw text (cut short) is kept for messages.
/// </summary>
public sealed class RegistryErrorBody
{
    private const int MaxRawChars = 300;

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

    public static RegistryErrorBody Parse(byte[]? body)
    {
        if (body is null || body.Length == 0) return new RegistryErrorBody();
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 64 * 1024));
        var raw = text.Length > MaxRawChars ? text[..MaxRawChars] + "..." : text;
        raw = raw.ReplaceLineEndings(" ").Trim();
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
                    errors.Add(new RegistryErrorEntry(code.ToUpperInvariant(), message));
                }
            }
            return new RegistryErrorBody { Errors = errors, RawText = raw };
        }
        catch (JsonException)
        {
            return new RegistryErrorBody { RawText = raw };
        }
    }
}
