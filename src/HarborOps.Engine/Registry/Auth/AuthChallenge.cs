using System.Text;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>One challenge of a WWW-Authenticate header: a scheme and its parameters (realm, service, scope, error).</summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);
    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);
    public string? Realm => Parameters.GetValueOrDefault("realm");
    public string? Service => Parameters.GetValueOrDefault("service");
    /// <summary>Scopes the server asked for; a scope value may hold several space-separated scopes.</summary>
    public IReadOnlyList<string> Scopes => Parameters.TryGetValue("scope", out var s) ? s.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
    public string? Error => Parameters.GetValueOrDefault("error");

    /// <summary>
    /// Parses every challenge of the given WWW-Authenticate header values (RFC 7235: a header may carry several
    /// challenges, parameters are comma separated and may be quoted with backslash escapes; names are case-insensitive).
    /// </summary>
    public static IReadOnlyList<AuthChallenge> Parse(IEnumerable<string> headerValues)
    {
        var result = new List<AuthChallenge>();
        foreach (var value in headerValues)
            ParseOne(value, result);
        return result;
    }

    private static void ParseOne(string text, List<AuthChallenge> result)
    {
        var i = 0;
        string? scheme = null;
        Dictionary<string, string>? parameters = null;
        while (i < text.Length)
        {
            SkipSeparators(text, ref i);
            if (i >= text.Length) break;
            var token = ReadToken(text, ref i);
            if (token.Length == 0) { i++; continue; }
            SkipSpaces(text, ref i);
            if (i < text.Length && text[i] == '=' && scheme is not null)
            {
                i++;
                SkipSpaces(text, ref i);
                var value = i < text.Length && text[i] == '"' ? ReadQuoted(text, ref i) : ReadToken(text, ref i);
                parameters![token.ToLowerInvariant()] = value;
            }
            else
            {
                // A bare token starts a new challenge (token68 forms are not used by registries).
                if (scheme is not null) result.Add(new AuthChallenge(scheme, parameters!));
                scheme = token;
                parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            }
        }
        if (scheme is not null) result.Add(new AuthChallenge(scheme, parameters!));
    }

    private static void SkipSpaces(string s, ref int i) { while (i < s.Length && s[i] is ' ' or '\t') i++; }
    private static void SkipSeparators(string s, ref int i) { while (i < s.Length && s[i] is ' ' or '\t' or ',') i++; }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or '\t' or ',' or '=' or '"')) i++;
        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var sb = new StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length) i++;
            sb.Append(s[i]);
            i++;
        }
        if (i < s.Length) i++; // closing quote
        return sb.ToString();
    }
}
