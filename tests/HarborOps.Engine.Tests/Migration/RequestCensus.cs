using System.Text;
using System.Text.RegularExpressions;
using HarborOps.Lab;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// The requests a fault proxy saw, counted by kind (method, path shape, and the answer where it changes the meaning:
/// a HEAD that found nothing, a mount that the registry declined). What the copy's request budget tests assert on.
/// </summary>
internal sealed partial class RequestCensus
{
    private readonly Dictionary<string, int> _counts;

    private RequestCensus(Dictionary<string, int> counts) => this._counts = counts;

    public static RequestCensus Of(IEnumerable<ProxiedRequest> requests) =>
        new(requests.GroupBy(KindOf).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal));

    public int Total => _counts.Values.Sum();

    public int this[string kind] => _counts.GetValueOrDefault(kind);

    /// <summary>Requests whose kind starts with <paramref name="prefix"/> ("HEAD blob", "PUT manifest").</summary>
    public int Starting(string prefix) => _counts.Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(c => c.Value);

    public string Table(string title, int tags)
    {
        var text = new StringBuilder($"{title}: {Total} requests, {(tags == 0 ? 0 : (double)Total / tags):0.00} per tag ({tags} tags)\n");
        foreach (var (kind, count) in _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
            text.AppendLine($"  {count,6}  {kind}");
        return text.ToString();
    }

    public override string ToString() => Table("requests", 0);

    public static string KindOf(ProxiedRequest request)
    {
        var path = request.PathAndQuery;
        var query = "";
        var q = path.IndexOf('?');
        if (q >= 0) (path, query) = (path[..q], path[(q + 1)..]);
        var status = request.StatusCode;
        if (path is "/v2/" or "/v2") return $"{request.Method} /v2/ ping";
        if (path == "/v2/_catalog") return $"{request.Method} catalog";
        var m = Shape().Match(path);
        if (!m.Success) return $"{request.Method} {path} -> {status}";
        var reference = m.Groups["ref"].Value;
        var what = m.Groups["kind"].Value;
        var referenceKind = reference.StartsWith("sha256:", StringComparison.Ordinal) ? "digest"
            : reference.StartsWith("sha256-", StringComparison.Ordinal) ? (reference.Contains('.') ? "cosign tag" : "referrers tag")
            : "tag";
        return (request.Method, what) switch
        {
            (_, "tags/list") => $"{request.Method} tags/list",
            ("HEAD", "manifests") => $"HEAD manifest by {referenceKind}{(status == 404 ? " (404)" : "")}",
            (_, "manifests") => $"{request.Method} manifest by {referenceKind}{(status == 404 ? " (404)" : "")}",
            ("POST", "blobs/uploads") when IsSelfMount(query, m.Groups["repo"].Value) => $"POST upload start, unless present ({(status == 201 ? "present" : status.ToString())})",
            ("POST", "blobs/uploads") when query.Contains("mount=", StringComparison.Ordinal) => $"POST upload mount ({(status == 201 ? "mounted" : status.ToString())})",
            ("POST", "blobs/uploads") when query.Contains("digest=", StringComparison.Ordinal) => $"POST upload monolithic ({status})",
            ("POST", "blobs/uploads") => "POST upload start",
            (_, "blobs/uploads") => $"{request.Method} upload session",
            (_, "blobs") => $"{request.Method} blob{(status == 404 ? " (404)" : "")}",
            (_, "referrers") => $"{request.Method} referrers ({status})",
            _ => $"{request.Method} {what}",
        };
    }

    private static bool IsSelfMount(string query, string repository) =>
        query.Split('&').Any(p => p.StartsWith("from=", StringComparison.Ordinal) && Uri.UnescapeDataString(p[5..]) == repository);

    [GeneratedRegex("^/v2/(?<repo>.+?)/(?<kind>tags/list|manifests|blobs/uploads|blobs|referrers)(/(?<ref>[^/]*))?.*$")]
    private static partial Regex Shape();
}
