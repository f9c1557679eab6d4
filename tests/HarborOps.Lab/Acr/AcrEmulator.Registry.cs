using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Acr;

/// <summary>What the emulator knows about a manifest (immutable per digest).</summary>
internal sealed record AcrManifestFacts(string Digest, string MediaType, long Size, long ImageSize, string? ConfigMediaType, string? Os, string? Architecture,
    IReadOnlyList<(string Digest, string? Os, string? Architecture)> References);

public sealed partial class AcrEmulator
{
    private static readonly string[] ManifestTypes = [LabContent.OciManifest, LabContent.OciIndex, LabContent.DockerManifest, LabContent.DockerManifestList];

    [GeneratedRegex("^/v2/(?<repo>.+)/manifests/(?<ref>[^/]+)$")]
    private static partial Regex ManifestPath();
    [GeneratedRegex("^/v2/(?<repo>.+)/blobs/uploads(/.*)?$")]
    private static partial Regex UploadPath();
    [GeneratedRegex("^/v2/(?<repo>.+)/blobs/(?<digest>[^/]+)$")]
    private static partial Regex BlobPath();
    [GeneratedRegex("^/v2/(?<repo>.+)/tags/list$")]
    private static partial Regex TagsPath();
    [GeneratedRegex("^(?<repo>.+)/_tags(/(?<tag>[^/]+))?$")]
    private static partial Regex AcrTagsPath();
    [GeneratedRegex("^(?<repo>.+)/_manifests(/(?<digest>[^/]+))?$")]
    private static partial Regex AcrManifestsPath();

    private static string Scope(string repository, string action) => $"repository:{repository}:{action}";

    // ---------------------------------------------------------------- /v2/

    private async Task V2Async(HttpContext context, string path, string rawTarget)
    {
        var method = context.Request.Method;
        var caller = Authenticate(context);
        if (path is "/v2" or "/v2/")
        {
            // The ping authenticates: anonymous callers get the challenge that tells them where the token service is.
            if (caller.Problem is not null || !caller.Presented) { await ChallengeAsync(context, caller, null); return; }
            context.Response.StatusCode = 200;
            await context.Response.WriteAsJsonAsync(new { });
            return;
        }

        string repository;
        string action;
        var extra = new List<LabAccess>();
        if (path == "/v2/_catalog")
        {
            if (!caller.Allows("registry", "catalog", "*")) { await ChallengeAsync(context, caller, "registry:catalog:*"); return; }
            await ForwardAsync(context, rawTarget, new LabAccess("registry", "catalog", ["*"]));
            return;
        }
        if (ManifestPath().Match(path) is { Success: true } manifest)
        {
            repository = manifest.Groups["repo"].Value;
            action = method is "GET" or "HEAD" ? "pull" : method == "DELETE" ? "delete" : "push";
        }
        else if (UploadPath().Match(path) is { Success: true } upload)
        {
            repository = upload.Groups["repo"].Value;
            action = "push";
            if (context.Request.Query["from"].ToString() is { Length: > 0 } from) extra.Add(new LabAccess("repository", from, ["pull"]));
        }
        else if (BlobPath().Match(path) is { Success: true } blob)
        {
            repository = blob.Groups["repo"].Value;
            action = method is "GET" or "HEAD" ? "pull" : "delete";
        }
        else if (TagsPath().Match(path) is { Success: true } tags)
        {
            repository = tags.Groups["repo"].Value;
            action = "metadata_read";
        }
        else if (ReferrersPath().Match(path) is { Success: true } referrers)
        {
            repository = referrers.Groups["repo"].Value;
            action = "pull";
        }
        else
        {
            await ErrorAsync(context, 404, "NOT_FOUND", $"no route {path}");
            return;
        }
        if (!caller.Allows("repository", repository, action)) { await ChallengeAsync(context, caller, Scope(repository, action)); return; }
        if (ReferrersPath().IsMatch(path)) { await ReferrersAsync(context, repository, path); return; }
        // A cross-repository mount from a repository the caller cannot pull is an ordinary upload (ACR, like Distribution).
        extra.RemoveAll(e => !caller.Allows("repository", e.Name, "pull"));

        if (ManifestPath().Match(path) is { Success: true } target)
        {
            var reference = target.Groups["ref"].Value;
            var refused = await ChangeRefusedAsync(repository, reference, method, context.RequestAborted);
            if (refused) { await ErrorAsync(context, 403, "DENIED", DisallowedMessage); return; }
        }

        var backendActions = action == "metadata_read" ? new[] { "pull" } : action == "push" ? new[] { "pull", "push" } : new[] { action };
        var pushed = method == "PUT" && ManifestPath().IsMatch(path) ? await TakeManifestPutAsync(context) : null;
        var status = await ForwardAsync(context, rawTarget, [new LabAccess("repository", repository, backendActions), .. extra]);
        if (ManifestPath().Match(path) is { Success: true } written)
        {
            var reference = written.Groups["ref"].Value;
            if (method == "PUT" && status == 201)
            {
                var digest = context.Response.Headers["Docker-Content-Digest"].ToString();
                if (!reference.StartsWith("sha256:", StringComparison.Ordinal))
                {
                    // The push says where the tag now points, so a listing right after needs no read of the registry.
                    if (digest.Length > 0 && context.Request.ContentType is { Length: > 0 } mediaType)
                        _tagDigests[(repository, reference)] = (digest, MediaTypeOf(mediaType));
                    else
                        _tagDigests.TryRemove((repository, reference), out _);
                    Touch(repository, reference);
                }
                if (digest.Length > 0) Touch(repository, digest);
                if (pushed is not null) RememberReferrer(repository, pushed, context.Request.ContentType);
            }
            else if (method == "DELETE" && status is 202 or 200)
            {
                foreach (var key in _tagDigests.Keys.Where(k => k.Repository == repository)) _tagDigests.TryRemove(key, out _);
                ForgetReferrer(repository, reference);
            }
        }
    }

    /// <summary>
    /// ACR's locks: readEnabled=false refuses pulls (of the tag, or of the manifest by tag or digest), writeEnabled=false
    /// refuses pushes over a tag and deleteEnabled=false deletes.
    /// </summary>
    private async Task<bool> ChangeRefusedAsync(string repository, string reference, string method, CancellationToken ct)
    {
        Func<AcrChangeableAttributes, bool> refuses = method switch
        {
            "GET" or "HEAD" => a => !a.ReadEnabled,
            "DELETE" => a => !a.DeleteEnabled,
            _ => a => !a.WriteEnabled,
        };
        if (refuses(AttributesOf(repository, reference))) return true;
        if (reference.StartsWith("sha256:", StringComparison.Ordinal)) return false;
        var target = await TagDigestAsync(repository, reference, ct);
        return target is { } known && refuses(AttributesOf(repository, known.Digest));
    }

    /// <summary>Forwards to Distribution with an internal token; returns the status it answered.</summary>
    private async Task<int> ForwardAsync(HttpContext context, string rawTarget, params LabAccess[] access)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_registry.BaseUri, rawTarget.TrimStart('/')));
        foreach (var (name, values) in request.Headers)
        {
            if (name is "Host" or "Connection" or "Transfer-Encoding" or "Authorization" || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)) continue;
            forward.Headers.TryAddWithoutValidation(name, values.ToArray());
        }
        forward.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BackendToken(access));
        // Distribution builds upload Locations from Host: keep the client's (the front), so they point back at it.
        forward.Headers.Host = request.Host.Value;
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(request.Body);
            if (request.ContentType is not null) forward.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            if (request.ContentLength is { } length) forward.Content.Headers.ContentLength = length;
        }
        using var response = await Backend.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (name is "Transfer-Encoding" or "Connection" or "WWW-Authenticate") continue;
            context.Response.Headers[name] = values.ToArray();
        }
        if (request.Method != "HEAD")
            await using (var body = await response.Content.ReadAsStreamAsync(context.RequestAborted))
                await body.CopyToAsync(context.Response.Body, context.RequestAborted);
        return (int)response.StatusCode;
    }

    // ---------------------------------------------------------------- the emulator's view of the registry

    private HttpRequestMessage BackendRequest(HttpMethod method, string path, params LabAccess[] access)
    {
        var message = new HttpRequestMessage(method, new Uri(_registry.BaseUri, path));
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BackendToken(access));
        return message;
    }

    private static LabAccess Pull(string repository) => new("repository", repository, ["pull"]);

    private async Task<List<string>> CatalogAsync(CancellationToken ct) =>
        (await LabRegistryClient.ReadCatalogAsync(Backend, path => BackendRequest(HttpMethod.Get, path, new LabAccess("registry", "catalog", ["*"])), ct))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Tags of a repository, or null when the repository does not exist.</summary>
    private async Task<List<string>?> TagsAsync(string repository, CancellationToken ct)
    {
        using var response = await Backend.SendAsync(BackendRequest(HttpMethod.Get, $"v2/{repository}/tags/list", Pull(repository)), ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await LabRegistryClient.EnsureSuccessAsync(response, $"listing tags of {repository}", ct);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>The digest and media type a tag points at (cached; every write goes through the emulator, which drops the entry).</summary>
    private async Task<(string Digest, string MediaType)?> TagDigestAsync(string repository, string tag, CancellationToken ct)
    {
        if (_tagDigests.TryGetValue((repository, tag), out var cached)) return cached;
        var request = BackendRequest(HttpMethod.Head, $"v2/{repository}/manifests/{tag}", Pull(repository));
        foreach (var type in ManifestTypes) request.Headers.Accept.ParseAdd(type);
        using var response = await Backend.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await LabRegistryClient.EnsureSuccessAsync(response, $"reading {repository}:{tag}", ct);
        var resolved = (response.Headers.GetValues("Docker-Content-Digest").First(), response.Content.Headers.ContentType?.MediaType ?? "");
        _tagDigests[(repository, tag)] = resolved;
        return resolved;
    }

    private async Task<AcrManifestFacts?> FactsAsync(string repository, string digest, CancellationToken ct)
    {
        if (_manifestFacts.TryGetValue(digest, out var known)) return known;
        var request = BackendRequest(HttpMethod.Get, $"v2/{repository}/manifests/{digest}", Pull(repository));
        foreach (var type in ManifestTypes) request.Headers.Accept.ParseAdd(type);
        using var response = await Backend.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await LabRegistryClient.EnsureSuccessAsync(response, $"reading {repository}@{digest}", ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var root = JsonNode.Parse(bytes)!;
        var mediaType = root["mediaType"]?.GetValue<string>() ?? response.Content.Headers.ContentType?.MediaType ?? LabContent.OciManifest;
        AcrManifestFacts facts;
        if (root["manifests"] is JsonArray children)
        {
            var references = children.Select(c => (c!["digest"]!.GetValue<string>(), c["platform"]?["os"]?.GetValue<string>(), c["platform"]?["architecture"]?.GetValue<string>())).ToList();
            facts = new AcrManifestFacts(digest, mediaType, bytes.Length, bytes.Length + children.Sum(c => c!["size"]!.GetValue<long>()), null, null, null, references);
        }
        else
        {
            var config = root["config"];
            var layers = root["layers"] as JsonArray ?? [];
            var configMediaType = config?["mediaType"]?.GetValue<string>();
            string? os = null, architecture = null;
            if (configMediaType is LabContent.OciConfig or LabContent.DockerConfig && config?["digest"]?.GetValue<string>() is { } configDigest)
            {
                using var blob = await Backend.SendAsync(BackendRequest(HttpMethod.Get, $"v2/{repository}/blobs/{configDigest}", Pull(repository)), ct);
                if (blob.IsSuccessStatusCode)
                {
                    var configJson = JsonNode.Parse(await blob.Content.ReadAsByteArrayAsync(ct));
                    os = configJson?["os"]?.GetValue<string>();
                    architecture = configJson?["architecture"]?.GetValue<string>();
                }
            }
            var imageSize = bytes.Length + (config?["size"]?.GetValue<long>() ?? 0) + layers.Sum(l => l!["size"]!.GetValue<long>());
            facts = new AcrManifestFacts(digest, mediaType, bytes.Length, imageSize, configMediaType, os, architecture, []);
        }
        _manifestFacts[digest] = facts;
        return facts;
    }

    // ---------------------------------------------------------------- /acr/v1/

    private async Task AcrV1Async(HttpContext context, string rest)
    {
        var caller = Authenticate(context);
        var method = context.Request.Method;
        var ct = context.RequestAborted;
        if (rest == "_catalog")
        {
            if (!caller.Allows("registry", "catalog", "*")) { await ChallengeAsync(context, caller, "registry:catalog:*"); return; }
            var names = await CatalogAsync(ct);
            var (page, next) = Page(context, names, n => n, "/acr/v1/_catalog");
            if (next is not null) context.Response.Headers["Link"] = next;
            await context.Response.WriteAsJsonAsync(new { repositories = page });
            return;
        }
        Match match;
        var isTags = (match = AcrTagsPath().Match(rest)).Success;
        if (!isTags) match = AcrManifestsPath().Match(rest);
        if (!match.Success) { await ErrorAsync(context, 404, "NOT_FOUND", $"no route /acr/v1/{rest}"); return; }
        var repository = match.Groups["repo"].Value;
        var item = isTags ? match.Groups["tag"].Value : match.Groups["digest"].Value;
        var action = method == "GET" ? "metadata_read" : method == "PATCH" ? "metadata_write" : method == "DELETE" ? "delete" : "";
        if (action.Length == 0) { context.Response.StatusCode = 405; return; }
        if (!caller.Allows("repository", repository, action)) { await ChallengeAsync(context, caller, Scope(repository, action)); return; }

        var tags = await TagsAsync(repository, ct);
        if (tags is null)
        {
            await ErrorAsync(context, 404, "NAME_UNKNOWN", "repository name not known to registry", new { name = repository });
            return;
        }
        var resolved = await ForEachAsync(tags, async tag => (Tag: tag, Target: await TagDigestAsync(repository, tag, ct)));
        var tagRecords = resolved.Where(r => r.Target is not null).Select(r => (r.Tag, r.Target!.Value.Digest, r.Target.Value.MediaType)).ToList();

        if (method == "PATCH")
        {
            var reference = item;
            if (reference.Length == 0 || (isTags ? !tagRecords.Any(t => t.Tag == reference) : !tagRecords.Any(t => t.Digest == reference) && await FactsAsync(repository, reference, ct) is null))
            {
                await ErrorAsync(context, 404, isTags ? "TAG_UNKNOWN" : "MANIFEST_UNKNOWN", $"{reference} not found");
                return;
            }
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: ct);
            var current = AttributesOf(repository, reference);
            bool Flag(string name, bool fallback) => body?[name] is JsonValue v ? v.GetValue<bool>() : fallback;
            SetAttributes(repository, reference, new AcrChangeableAttributes(Flag("deleteEnabled", current.DeleteEnabled), Flag("writeEnabled", current.WriteEnabled),
                Flag("readEnabled", current.ReadEnabled), Flag("listEnabled", current.ListEnabled)));
        }
        else if (method == "DELETE")
        {
            await ErrorAsync(context, 405, "UNSUPPORTED", "the lab ACR emulator deletes through /v2/ only");
            return;
        }

        if (isTags)
        {
            var entries = tagRecords
                .Where(t => item.Length > 0 ? t.Tag == item : AttributesOf(repository, t.Tag).ListEnabled)
                .Where(t => context.Request.Query["digest"].ToString() is not { Length: > 0 } only || t.Digest == only)
                .Select(t => (Key: t.Tag, Times: TimesOf(repository, t.Tag), Json: (object)TagJson(repository, t.Tag, t.Digest)))
                .ToList();
            if (item.Length > 0)
            {
                if (entries.Count == 0) { await ErrorAsync(context, 404, "TAG_UNKNOWN", $"the specified tag does not exist: {item}"); return; }
                await context.Response.WriteAsJsonAsync(new { registry = Service, imageName = repository, tag = entries[0].Json });
                return;
            }
            var (page, next) = Page(context, Order(context, entries), e => e.Key, $"/acr/v1/{repository}/_tags");
            if (next is not null) context.Response.Headers["Link"] = next;
            await context.Response.WriteAsJsonAsync(new { registry = Service, imageName = repository, tags = page.Select(e => e.Json) });
            return;
        }

        // Manifests: every tagged digest, and the children of indexes (untagged, as ACR lists them too). Only the indexes
        // and the manifests of the page asked for are read, so paging through thousands of tags stays quick.
        var byDigest = tagRecords.GroupBy(t => t.Digest).ToDictionary(g => g.Key, g => g.Select(t => t.Tag).Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var indexes = tagRecords.Where(t => t.MediaType is LabContent.OciIndex or LabContent.DockerManifestList).Select(t => t.Digest).Distinct().ToList();
        foreach (var index in await ForEachAsync(indexes, digest => FactsAsync(repository, digest, ct)))
            foreach (var child in index?.References ?? []) byDigest.TryAdd(child.Digest, []);
        var manifests = byDigest
            .Where(kv => item.Length > 0 ? kv.Key == item : AttributesOf(repository, kv.Key).ListEnabled)
            .Select(kv => (Key: kv.Key, Times: ManifestTimes(repository, kv.Key, kv.Value), Json: (object)kv.Value))
            .ToList();
        var (manifestPage, manifestNext) = item.Length > 0 ? (manifests, null) : Page(context, Order(context, manifests), m => m.Key, $"/acr/v1/{repository}/_manifests");
        var described = await ForEachAsync(manifestPage, async m => await FactsAsync(repository, m.Key, ct) is { } facts ? ManifestJson(repository, facts, (List<string>)m.Json) : null);
        if (item.Length > 0)
        {
            if (described.FirstOrDefault() is not { } single) { await ErrorAsync(context, 404, "MANIFEST_UNKNOWN", $"manifest {item} not found"); return; }
            await context.Response.WriteAsJsonAsync(new { registry = Service, imageName = repository, manifest = single });
            return;
        }
        if (manifestNext is not null) context.Response.Headers["Link"] = manifestNext;
        await context.Response.WriteAsJsonAsync(new { registry = Service, imageName = repository, manifests = described.OfType<object>() });
    }

    private static string MediaTypeOf(string contentType) => contentType.Split(';')[0].Trim();

    /// <summary>Runs the emulator's own reads of the registry 16 at a time, keeping the input order.</summary>
    private static async Task<TResult[]> ForEachAsync<T, TResult>(IEnumerable<T> items, Func<T, Task<TResult>> read)
    {
        using var limiter = new SemaphoreSlim(16);
        return await Task.WhenAll(items.Select(async item =>
        {
            await limiter.WaitAsync();
            try { return await read(item); }
            finally { limiter.Release(); }
        }));
    }

    /// <summary>A manifest's times: when it was first pushed, and when a push last touched it (also a push of a tag onto it).</summary>
    private (DateTimeOffset Created, DateTimeOffset Updated) ManifestTimes(string repository, string digest, List<string> tags) => TimesOf(repository, digest);

    private static List<(string Key, (DateTimeOffset Created, DateTimeOffset Updated) Times, object Json)> Order(HttpContext context,
        List<(string Key, (DateTimeOffset Created, DateTimeOffset Updated) Times, object Json)> items) =>
        context.Request.Query["orderby"].ToString() switch
        {
            "timedesc" => items.OrderByDescending(i => i.Times.Updated).ThenBy(i => i.Key, StringComparer.Ordinal).ToList(),
            "timeasc" => items.OrderBy(i => i.Times.Updated).ThenBy(i => i.Key, StringComparer.Ordinal).ToList(),
            _ => items.OrderBy(i => i.Key, StringComparer.Ordinal).ToList(),
        };

    /// <summary>
    /// ACR's paging: n (capped), last (the key after which the page starts, in the listing's order), and a relative
    /// Link rel="next" that carries orderby along.
    /// </summary>
    private (List<T> Page, string? Link) Page<T>(HttpContext context, List<T> ordered, Func<T, string> key, string path)
    {
        var query = context.Request.Query;
        var n = int.TryParse(query["n"], out var requested) && requested > 0 ? Math.Min(requested, _options.MaxPageSize) : _options.MaxPageSize;
        var last = query["last"].ToString();
        var start = 0;
        if (last.Length > 0)
        {
            var at = ordered.FindIndex(i => key(i) == last);
            // A last that is not in the listing starts after where it would sort (ACR's lexical continuation).
            start = at >= 0 ? at + 1 : ordered.FindIndex(i => string.CompareOrdinal(key(i), last) > 0) is var after and >= 0 ? after : ordered.Count;
        }
        var page = ordered.Skip(start).Take(n).ToList();
        string? link = null;
        if (start + page.Count < ordered.Count)
        {
            var orderby = query["orderby"].ToString();
            link = $"<{path}?last={Uri.EscapeDataString(key(page[^1]))}&n={n}&orderby={Uri.EscapeDataString(orderby)}>; rel=\"next\"";
        }
        return (page, link);
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);

    private static object AttributesJson(AcrChangeableAttributes a) =>
        new { deleteEnabled = a.DeleteEnabled, writeEnabled = a.WriteEnabled, readEnabled = a.ReadEnabled, listEnabled = a.ListEnabled };

    private object TagJson(string repository, string tag, string digest)
    {
        var (created, updated) = TimesOf(repository, tag);
        return new
        {
            name = tag, digest, createdTime = Time(created), lastUpdateTime = Time(updated), signed = false,
            changeableAttributes = AttributesJson(AttributesOf(repository, tag)),
        };
    }

    private object ManifestJson(string repository, AcrManifestFacts facts, List<string> tags)
    {
        var (created, updated) = ManifestTimes(repository, facts.Digest, tags);
        var json = new Dictionary<string, object?>
        {
            ["digest"] = facts.Digest,
            ["imageSize"] = facts.ImageSize,
            ["createdTime"] = Time(created),
            ["lastUpdateTime"] = Time(updated),
            ["mediaType"] = facts.MediaType,
            ["changeableAttributes"] = AttributesJson(AttributesOf(repository, facts.Digest)),
        };
        // The swagger's platform fields are enums and not nullable: a config or an index entry without a platform has none.
        if (!string.IsNullOrEmpty(facts.Architecture)) json["architecture"] = facts.Architecture;
        if (!string.IsNullOrEmpty(facts.Os)) json["os"] = facts.Os;
        if (facts.ConfigMediaType is not null) json["configMediaType"] = facts.ConfigMediaType;
        if (tags.Count > 0) json["tags"] = tags;
        if (facts.References.Count > 0)
            json["references"] = facts.References.Select(r => PlatformJson(r.Digest, r.Architecture, r.Os)).ToArray();
        return json;
    }

    private static Dictionary<string, string> PlatformJson(string digest, string? architecture, string? os) =>
        new[] { ("digest", digest), ("architecture", architecture), ("os", os) }.Where(p => !string.IsNullOrEmpty(p.Item2)).ToDictionary(p => p.Item1, p => p.Item2!);

    // ---------------------------------------------------------------- /_lab/ control API (for other processes, like Pester)

    private async Task ControlAsync(HttpContext context, string path)
    {
        var ct = context.RequestAborted;
        switch (context.Request.Method, path)
        {
            case ("GET", "counts"):
                await context.Response.WriteAsJsonAsync(new { exchanges = ExchangeCount, tokenRequests = TokenRequestCount, entraTokenRequests = Entra.TokenRequestCount }, cancellationToken: ct);
                return;
            case ("DELETE", "counts"):
                ClearRecords();
                Entra.ClearRecords();
                context.Response.StatusCode = 204;
                return;
            case ("POST", "attributes"):
                var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: ct);
                var repository = body?["repository"]?.GetValue<string>();
                var reference = body?["reference"]?.GetValue<string>();
                if (string.IsNullOrEmpty(repository) || string.IsNullOrEmpty(reference))
                {
                    await ErrorAsync(context, 400, "BAD_REQUEST", "need repository and reference (a tag or a digest)");
                    return;
                }
                var current = AttributesOf(repository, reference);
                bool Flag(string name, bool fallback) => body?[name] is JsonValue v ? v.GetValue<bool>() : fallback;
                SetAttributes(repository, reference, new AcrChangeableAttributes(Flag("deleteEnabled", current.DeleteEnabled), Flag("writeEnabled", current.WriteEnabled),
                    Flag("readEnabled", current.ReadEnabled), Flag("listEnabled", current.ListEnabled)));
                context.Response.StatusCode = 204;
                return;
            case ("POST", "times"):
                var times = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: ct);
                if (times?["repository"]?.GetValue<string>() is not { } repo || times["reference"]?.GetValue<string>() is not { } item
                    || !DateTimeOffset.TryParse(times["createdTime"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt)
                    || !DateTimeOffset.TryParse(times["lastUpdateTime"]?.GetValue<string>() ?? times["createdTime"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var updatedAt))
                {
                    await ErrorAsync(context, 400, "BAD_REQUEST", "need repository, reference and createdTime (ISO 8601), optionally lastUpdateTime");
                    return;
                }
                SetTimes(repo, item, createdAt, updatedAt);
                context.Response.StatusCode = 204;
                return;
            case ("POST", "anonymous-pull"):
                var flag = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: ct);
                AnonymousPull = flag?["enabled"] is JsonValue enabled && enabled.GetValue<bool>();
                context.Response.StatusCode = 204;
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }
}
