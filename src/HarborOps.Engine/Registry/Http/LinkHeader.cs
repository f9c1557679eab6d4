namespace HarborOps.Engine.Registry.Http;

/// <summary>RFC 8288 Link headers as registries use them for paging (tags/list, _catalog, referrers).</summary>
public static class LinkHeader
{
    /// <summary>
    /// The rel="next" target resolved against the request URI, or null. Registries send it relative
    /// ("&lt;/v2/x/tags/list?last=a&amp;n=100&gt;; rel=\"next\"") or absolute; either works.
    /// </summary>
    public static Uri? FindNext(IEnumerable<string> linkHeaderValues, Uri requestUri)
    {
        foreach (var header in linkHeaderValues)
        {
            foreach (var link in SplitLinks(header))
            {
                var open = link.IndexOf('<');
                var close = link.IndexOf('>', open + 1);
                if (open < 0 || close < 0) continue;
                var target = link[(open + 1)..close].Trim();
                var parameters = link[(close + 1)..];
                if (!HasRelNext(parameters)) continue;
                if (Uri.TryCreate(requestUri, target, out var resolved)) return resolved;
            }
        }
        return null;
    }

    private static IEnumerable<string> SplitLinks(string header)
    {
        // Commas separate links but may also appear inside <...>; split only outside angle brackets and quotes.
        var depth = false; var quoted = false; var start = 0;
        for (var i = 0; i < header.Length; i++)
        {
            var c = header[i];
            if (c == '<' && !quoted) depth = true;
            else if (c == '>' && !quoted) depth = false;
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !depth && !quoted)
            {
                yield return header[start..i];
                start = i + 1;
            }
        }
        yield return header[start..];
    }

    private static bool HasRelNext(string parameters)
    {
        foreach (var part in parameters.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq < 0) continue;
            if (!part[..eq].Trim().Equals("rel", StringComparison.OrdinalIgnoreCase)) continue;
            var values = part[(eq + 1)..].Trim().Trim('"');
            if (values.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(v => v.Equals("next", StringComparison.OrdinalIgnoreCase)))
                return true;
        }
        return false;
    }
}
