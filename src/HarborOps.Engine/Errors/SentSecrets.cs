using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HarborOps.Engine.Errors;

/// <summary>
/// The credentials one exchange with a server carried, in each form the server could echo them back in (raw,
/// user:password, its base64, percent-, form- and JSON-escaped), so that they are cut out of the server's text before
/// that text enters a message. Servers do echo what they got ("you sent Basic YWxp..."), careless or hostile.
/// </summary>
internal sealed class SentSecrets
{
    private const string Redacted = "[redacted]";
    private readonly HashSet<string> _forms = new(StringComparer.Ordinal);

    public SentSecrets Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret)) return this;
        _forms.Add(secret);
        _forms.Add(Uri.EscapeDataString(secret));
        _forms.Add(WebUtility.UrlEncode(secret));
        _forms.Add(JsonEncodedText.Encode(secret).ToString());
        _forms.Add(JsonEncodedText.Encode(secret, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString());
        return this;
    }

    public SentSecrets AddAll(IEnumerable<string> secrets)
    {
        foreach (var secret in secrets) Add(secret);
        return this;
    }

    /// <summary>A user name and password as Basic sends them: the password, user:password and its base64.</summary>
    public SentSecrets AddBasic(string? user, string? password)
    {
        if (string.IsNullOrEmpty(password)) return this;
        var pair = $"{user}:{password}";
        return Add(password).Add(pair).Add(Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
    }

    /// <summary>An Authorization header as sent: its parameter (a bearer token, a Basic blob) and, for Basic, what it encodes.</summary>
    public SentSecrets AddAuthorization(AuthenticationHeaderValue? header)
    {
        if (header?.Parameter is not { Length: > 0 } parameter) return this;
        Add(parameter);
        if (header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
                var colon = pair.IndexOf(':');
                if (colon >= 0) AddBasic(pair[..colon], pair[(colon + 1)..]);
            }
            catch (FormatException)
            {
                // not base64: the parameter itself is all there is to cut
            }
        }
        return this;
    }

    /// <summary>The text with every known form of every secret replaced, longest first (a secret may contain a shorter one).</summary>
    public string Scrub(string text)
    {
        if (_forms.Count == 0 || text.Length == 0) return text;
        foreach (var form in _forms.OrderByDescending(f => f.Length))
            text = text.Replace(form, Redacted, StringComparison.Ordinal);
        return text;
    }
}
