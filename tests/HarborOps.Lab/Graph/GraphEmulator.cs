using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HarborOps.Lab.Entra;

namespace HarborOps.Lab.Graph;

/// <summary>One request Graph answered, for tests that check what a client sent (Entra's are in <see cref="EntraEmulator.Requests"/>).</summary>
public sealed record GraphExchange(string Listener, string Method, string Path, string Query, int Status);

/// <summary>
/// Microsoft Graph for the lab, over TLS on loopback, behind the lab's <see cref="EntraEmulator"/> (one tenant for Graph
/// and ACR, as in Azure). It answers the v1.0 subset HarborOps uses (groups by displayName filter, group by id, members
/// and transitiveMembers with @odata.type, $select, $top and @odata.nextLink paging, a user's transitiveMemberOf/$count
/// under ConsistencyLevel: eventual), validates the token (Entra's signature, audience, expiry, tenant) and the roles it
/// carries, and answers wrong paths, options and ids with Graph's error bodies. 429s with Retry-After are injected on
/// demand. Strict on purpose: a client that sends what Graph would refuse fails here too.
/// </summary>
public sealed class GraphEmulator : IAsyncDisposable
{
    public const string DefaultClientId = "7a0c4b6e-2f2d-4a8e-9d8b-1c2f3e4d5a6b";
    /// <summary>The application permissions HarborOps documents: enough to read groups, their members and users' memberships.</summary>
    public static readonly IReadOnlyList<string> HarborOpsRoles = ["GroupMember.Read.All", "User.ReadBasic.All"];
    private static readonly string[] GroupReadRoles = ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"];
    private static readonly string[] UserReadRoles = ["User.ReadBasic.All", "User.Read.All", "Directory.Read.All"];
    private static readonly string[] SelectableProperties = ["id", "displayName", "userPrincipalName"];
    private const int DefaultPageSize = 100;
    private static readonly Regex DisplayNameFilter = new("^displayName eq '((?:[^']|'')*)'$", RegexOptions.CultureInvariant);

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, LabDirectoryObject> _objects = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<GraphExchange> _exchanges = [];
    private readonly List<string> _failures = [];
    private int _throttleRemaining;
    private int _throttleRetryAfterSeconds;

    private GraphEmulator(WebApplication app, EntraEmulator entra, bool ownsEntra, Uri graphEndpoint)
    {
        _app = app;
        Entra = entra;
        _ownsEntra = ownsEntra;
        GraphEndpoint = graphEndpoint;
        // Microsoft Graph's resource principal accepts v1.0 access tokens.
        entra.RegisterResource(Audience, tokenVersion: 1);
        DefaultApp = RegisterApp(DefaultClientId, "lab-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant(), HarborOpsRoles);
    }

    private readonly bool _ownsEntra;

    /// <summary>The tenant whose tokens Graph accepts.</summary>
    public EntraEmulator Entra { get; }

    public string TenantId => Entra.TenantId;
    /// <summary>https://127.0.0.1:PORT/: give it to the credential as AuthorityHost.</summary>
    public Uri AuthorityHost => Entra.AuthorityHost;
    /// <summary>https://127.0.0.1:PORT/: the Graph base, as https://graph.microsoft.com/ is for the public cloud.</summary>
    public Uri GraphEndpoint { get; }
    /// <summary>The lab CA that issued both listeners' TLS certificate (trust it, never skip the check).</summary>
    public LabCertificateAuthority CertificateAuthority => Entra.CertificateAuthority;
    public string CertificateAuthorityPem => CertificateAuthority.Pem;
    /// <summary>An app with <see cref="HarborOpsRoles"/>.</summary>
    public EntraApplication DefaultApp { get; }
    /// <summary>Graph tokens Entra issued.</summary>
    public int TokensIssued => Entra.Issued.Count(t => t.Audience == Audience);
    /// <summary>The audience Graph tokens carry and the scope a client must ask for (without "/.default").</summary>
    public string Audience => GraphEndpoint.GetLeftPart(UriPartial.Authority);

    public IReadOnlyList<GraphExchange> Exchanges { get { lock (_gate) return _exchanges.ToArray(); } }

    /// <summary>Exceptions the emulator itself threw (answered 500): a test asserts there are none.</summary>
    public IReadOnlyList<string> Failures { get { lock (_gate) return _failures.ToArray(); } }

    public static Task<GraphEmulator> StartAsync(CancellationToken ct = default) => StartAsync(null, ct);

    /// <param name="entra">The tenant to serve; null starts one for this emulator alone.</param>
    public static async Task<GraphEmulator> StartAsync(EntraEmulator? entra, CancellationToken ct = default)
    {
        var tenant = entra ?? await EntraEmulator.StartAsync(ct);
        try
        {
            var builder = LabKestrel.CreateBuilder(tlsCertificate: LabCertificateAuthority.Shared.IssueLoopbackServerCertificate());
            var app = builder.Build();
            GraphEmulator? emulator = null;
            app.Run(context => emulator!.HandleAsync(context));
            await app.StartAsync(ct);
            emulator = new GraphEmulator(app, tenant, entra is null, LabKestrel.BoundAddresses(app)[0]);
            return emulator;
        }
        catch
        {
            if (entra is null) await tenant.DisposeAsync();
            throw;
        }
    }

    /// <summary>A handler that checks the emulator's certificate against the lab CA, for in-process clients.</summary>
    public HttpMessageHandler CreateTrustingHandler() => CertificateAuthority.CreateTrustingHandler();

    // ---------------------------------------------------------------- the directory (in process; also over /_lab/)

    /// <summary>An app of the tenant with these Graph application roles.</summary>
    public EntraApplication RegisterApp(string clientId, string clientSecret, IReadOnlyList<string> roles, X509Certificate2? certificate = null) =>
        Entra.RegisterApplication(clientId, clientSecret, roles, certificate);

    public string AddUser(string displayName, string userPrincipalName, string? id = null)
    {
        lock (_gate)
        {
            var user = new LabDirectoryObject(id ?? Guid.NewGuid().ToString(), "user", displayName, userPrincipalName);
            _objects.Add(user.Id, user);
            return user.Id;
        }
    }

    public string AddGroup(string displayName, string? id = null)
    {
        lock (_gate)
        {
            var group = new LabDirectoryObject(id ?? Guid.NewGuid().ToString(), "group", displayName, null);
            _objects.Add(group.Id, group);
            return group.Id;
        }
    }

    /// <summary>Makes users or groups direct members of a group (nesting allowed; Graph's transitive views expand it).</summary>
    public void AddMembers(string groupId, IEnumerable<string> memberIds)
    {
        lock (_gate)
        {
            var group = _objects.TryGetValue(groupId, out var g) && g.Kind == "group" ? g : throw new ArgumentException($"no group {groupId}");
            foreach (var id in memberIds)
            {
                if (!_objects.ContainsKey(id)) throw new ArgumentException($"no directory object {id}");
                if (!group.Members.Contains(id, StringComparer.OrdinalIgnoreCase)) group.Members.Add(id);
            }
        }
    }

    public void RemoveMember(string groupId, string memberId)
    {
        lock (_gate)
        {
            if (_objects.TryGetValue(groupId, out var group)) group.Members.RemoveAll(m => string.Equals(m, memberId, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The next <paramref name="count"/> Graph requests get 429 with Retry-After (seconds).</summary>
    public void ThrottleNext(int count, int retryAfterSeconds)
    {
        lock (_gate)
        {
            _throttleRemaining = count;
            _throttleRetryAfterSeconds = retryAfterSeconds;
        }
    }

    // ---------------------------------------------------------------- HTTP

    private async Task HandleAsync(HttpContext context)
    {
        const string listener = "graph";
        try
        {
            if (context.Request.Path.StartsWithSegments("/_lab", out var rest)) await HandleControlAsync(context, rest.Value ?? "");
            else await HandleGraphAsync(context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An emulator bug must fail the test that hit it, with the reason, rather than look like a service outage.
            lock (_gate) _failures.Add($"{context.Request.Method} {context.Request.Path}: {ex}");
            if (!context.Response.HasStarted) context.Response.StatusCode = 500;
        }
        finally
        {
            if (!context.Request.Path.StartsWithSegments("/_lab"))
            {
                lock (_gate) _exchanges.Add(new GraphExchange(listener, context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", context.Response.StatusCode));
            }
        }
    }

    // ---- Graph (the graph listener)

    private async Task HandleGraphAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers["request-id"] = Guid.NewGuid().ToString();
        if (request.Path.Value is not { } path || !path.StartsWith("/v1.0/", StringComparison.Ordinal))
        {
            await GraphErrorAsync(context, 400, "BadRequest", $"Invalid version: {request.Path.Value?.TrimStart('/').Split('/')[0]}");
            return;
        }
        var roles = Authenticate(context, out var problem);
        if (roles is null)
        {
            await GraphErrorAsync(context, 401, "InvalidAuthenticationToken", problem!);
            return;
        }
        lock (_gate)
        {
            if (_throttleRemaining > 0)
            {
                _throttleRemaining--;
                context.Response.Headers.RetryAfter = _throttleRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                problem = "throttled";
            }
        }
        if (problem == "throttled")
        {
            await GraphErrorAsync(context, 429, "TooManyRequests", "Too many requests.");
            return;
        }

        var segments = path["/v1.0/".Length..].TrimEnd('/').Split('/');
        if (request.Method != "GET")
        {
            await GraphErrorAsync(context, 405, "Request_BadRequest", $"The HTTP method '{request.Method}' is not allowed for the lab's read-only directory.");
            return;
        }
        switch (segments)
        {
            case ["groups"]:
                if (!await RequireRoleAsync(context, roles, GroupReadRoles) || !await RequireQueryAsync(context, "$filter", "$select", "$top")) return;
                await ListGroupsAsync(context);
                return;
            case ["groups", var id]:
                if (!await RequireRoleAsync(context, roles, GroupReadRoles) || !await RequireQueryAsync(context, "$select")) return;
                if (await FindAsync(context, id, "group") is { } group) await JsonAsync(context, 200, Project(group, Select(context), "groups/$entity"));
                return;
            case ["groups", var id, var relation and ("members" or "transitiveMembers")]:
                if (!await RequireRoleAsync(context, roles, GroupReadRoles) || !await RequireQueryAsync(context, "$select", "$top", "$skiptoken")) return;
                if (await FindAsync(context, id, "group") is { } parent) await ListMembersAsync(context, parent, relation == "transitiveMembers");
                return;
            case ["users", var id, "transitiveMemberOf", "$count"]:
                if (!await RequireRoleAsync(context, roles, UserReadRoles) || !await RequireQueryAsync(context)) return;
                if (request.Headers["ConsistencyLevel"] != "eventual")
                {
                    // $count on directory objects is an advanced query.
                    await GraphErrorAsync(context, 400, "Request_BadRequest", "Count is not currently supported.");
                    return;
                }
                if (await FindAsync(context, id, "user") is { } user)
                {
                    int count;
                    lock (_gate) count = _objects.Values.Count(o => o.Kind == "group" && TransitiveMembers(o).Any(m => m.Id == user.Id));
                    context.Response.StatusCode = 200;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    await context.Response.WriteAsync(count.ToString(CultureInfo.InvariantCulture));
                }
                return;
            default:
                await GraphErrorAsync(context, 400, "BadRequest", $"Resource not found for the segment '{segments.Last()}'.");
                return;
        }
    }

    /// <summary>The roles of a valid Entra token for Graph, or null with Graph's reason.</summary>
    private IReadOnlyList<string>? Authenticate(HttpContext context, out string? problem)
    {
        problem = null;
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            problem = "Access token is empty.";
            return null;
        }
        var token = header["Bearer ".Length..];
        if (token.Split('.').Length != 3)
        {
            problem = "IDX14100: JWT is not well formed, there are no dots (.).";
            return null;
        }
        if (Entra.Validate(token, Audience, out var why) is not { } claims)
        {
            problem = why switch
            {
                "signature does not verify" => "Access token validation failure. Invalid signature.",
                "expired" => "Lifetime validation failed, the token is expired.",
                "wrong tenant" => "Access token validation failure. Invalid tenant.",
                _ when why.StartsWith("wrong audience", StringComparison.Ordinal) => "Access token validation failure. Invalid audience.",
                _ => "Access token validation failure.",
            };
            return null;
        }
        return claims.TryGetProperty("roles", out var roles) && roles.ValueKind == JsonValueKind.Array
            ? roles.EnumerateArray().Select(r => r.GetString() ?? "").ToArray()
            : [];
    }

    private static async Task<bool> RequireRoleAsync(HttpContext context, IReadOnlyList<string> roles, string[] anyOf)
    {
        if (roles.Any(r => anyOf.Contains(r, StringComparer.Ordinal))) return true;
        await GraphErrorAsync(context, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
        return false;
    }

    private static async Task<bool> RequireQueryAsync(HttpContext context, params string[] allowed)
    {
        foreach (var key in context.Request.Query.Keys)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                await GraphErrorAsync(context, 400, "BadRequest", key.StartsWith('$')
                    ? $"Query option '{key}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings."
                    : $"Unrecognized query argument specified: '{key}'.");
                return false;
            }
        }
        if (Select(context) is { } select && select.FirstOrDefault(p => !SelectableProperties.Contains(p, StringComparer.Ordinal)) is { } unknown)
        {
            await GraphErrorAsync(context, 400, "BadRequest", $"Could not find a property named '{unknown}' on type 'microsoft.graph.directoryObject'.");
            return false;
        }
        return true;
    }

    private static string[]? Select(HttpContext context) =>
        context.Request.Query.TryGetValue("$select", out var select) ? select.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null;

    private async Task<LabDirectoryObject?> FindAsync(HttpContext context, string id, string kind)
    {
        if (!Guid.TryParse(id, out _))
        {
            await GraphErrorAsync(context, 400, "Request_BadRequest", $"Invalid object identifier '{id}'.");
            return null;
        }
        LabDirectoryObject? found;
        lock (_gate) found = _objects.TryGetValue(id, out var o) && o.Kind == kind ? o : null;
        if (found is null)
            await GraphErrorAsync(context, 404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
        return found;
    }

    private async Task ListGroupsAsync(HttpContext context)
    {
        var filter = context.Request.Query["$filter"].ToString();
        var match = DisplayNameFilter.Match(filter);
        if (!match.Success)
        {
            await GraphErrorAsync(context, 400, "Request_UnsupportedQuery", $"Unsupported Query. The lab filters groups by \"displayName eq '...'\" only, not '{filter}'.");
            return;
        }
        var name = match.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal);
        List<LabDirectoryObject> groups;
        lock (_gate) groups = _objects.Values.Where(o => o.Kind == "group" && string.Equals(o.DisplayName, name, StringComparison.OrdinalIgnoreCase)).OrderBy(o => o.Id, StringComparer.Ordinal).ToList();
        await PageAsync(context, groups, "groups", $"{GraphEndpoint}v1.0/groups");
    }

    private async Task ListMembersAsync(HttpContext context, LabDirectoryObject group, bool transitive)
    {
        List<LabDirectoryObject> members;
        lock (_gate) members = (transitive ? TransitiveMembers(group) : group.Members.Select(id => _objects[id])).ToList();
        await PageAsync(context, members, "directoryObjects", $"{GraphEndpoint}v1.0/groups/{group.Id}/{(transitive ? "transitiveMembers" : "members")}");
    }

    /// <summary>Every member reached through nested groups, each once, groups included (as Graph lists them).</summary>
    private IEnumerable<LabDirectoryObject> TransitiveMembers(LabDirectoryObject group)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { group.Id };
        var queue = new Queue<LabDirectoryObject>([group]);
        while (queue.Count > 0)
        {
            foreach (var id in queue.Dequeue().Members)
            {
                if (!seen.Add(id)) continue;
                var member = _objects[id];
                yield return member;
                if (member.Kind == "group") queue.Enqueue(member);
            }
        }
    }

    private async Task PageAsync(HttpContext context, List<LabDirectoryObject> items, string entitySet, string selfUrl)
    {
        var top = DefaultPageSize;
        if (context.Request.Query.TryGetValue("$top", out var topText) && (!int.TryParse(topText, NumberStyles.None, CultureInfo.InvariantCulture, out top) || top is < 1 or > 999))
        {
            await GraphErrorAsync(context, 400, "Request_BadRequest", $"Invalid page size specified: '{topText}'. Must be between 1 and 999 inclusive.");
            return;
        }
        var offset = 0;
        if (context.Request.Query.TryGetValue("$skiptoken", out var skip) && !TryReadSkipToken(skip.ToString(), out offset))
        {
            await GraphErrorAsync(context, 400, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.");
            return;
        }
        var select = Select(context);
        var page = new JsonArray(items.Skip(offset).Take(top).Select(o => (JsonNode)Project(o, select, null)).ToArray());
        var body = new JsonObject { ["@odata.context"] = $"{GraphEndpoint}v1.0/$metadata#{entitySet}{(select is null ? "" : $"({string.Join(',', select)})")}" };
        if (offset + top < items.Count)
        {
            var query = new List<string>();
            if (select is not null) query.Add("$select=" + Uri.EscapeDataString(string.Join(',', select)));
            query.Add($"$top={top}");
            query.Add("$skiptoken=" + SkipToken(offset + top));
            body["@odata.nextLink"] = selfUrl + "?" + string.Join('&', query);
        }
        body["value"] = page;
        await JsonAsync(context, 200, body);
    }

    // Opaque like Graph's: the offset, wrapped so a client cannot make one up.
    private static string SkipToken(int offset) => "RFNwdAIA" + LabTokenService.Base64UrlEncode(Encoding.UTF8.GetBytes("lab-offset:" + offset.ToString(CultureInfo.InvariantCulture)));

    private static bool TryReadSkipToken(string token, out int offset)
    {
        offset = 0;
        if (!token.StartsWith("RFNwdAIA", StringComparison.Ordinal)) return false;
        try
        {
            var text = Encoding.UTF8.GetString(FromBase64Url(token["RFNwdAIA".Length..]));
            return text.StartsWith("lab-offset:", StringComparison.Ordinal) && int.TryParse(text["lab-offset:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static JsonObject Project(LabDirectoryObject o, string[]? select, string? contextSuffix)
    {
        var json = new JsonObject();
        if (contextSuffix is null) json["@odata.type"] = "#microsoft.graph." + o.Kind;
        bool Wanted(string property) => select is null || select.Contains(property, StringComparer.Ordinal);
        if (Wanted("id")) json["id"] = o.Id;
        if (Wanted("displayName")) json["displayName"] = o.DisplayName;
        // directoryObject $select: properties the type does not have are simply absent.
        if (o.Kind == "user" && Wanted("userPrincipalName")) json["userPrincipalName"] = o.UserPrincipalName;
        if (o.Kind == "group" && select is null) json["securityEnabled"] = true;
        return json;
    }

    private static Task GraphErrorAsync(HttpContext context, int status, string code, string message)
    {
        var requestId = context.Response.Headers["request-id"].ToString() is { Length: > 0 } id ? id : Guid.NewGuid().ToString();
        return JsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code, ["message"] = message,
                ["innerError"] = new JsonObject
                {
                    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture), ["request-id"] = requestId,
                    ["client-request-id"] = context.Request.Headers["client-request-id"].ToString() is { Length: > 0 } client ? client : requestId,
                },
            },
        });
    }

    private static async Task JsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    // ---- lab control over HTTP (/_lab/ on the Graph listener), for Pester and the lab host

    private async Task HandleControlAsync(HttpContext context, string rest)
    {
        var body = context.Request.ContentLength > 0 ? JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted))?.AsObject() : null;
        try
        {
            switch (context.Request.Method, rest.Trim('/').Split('/'))
            {
                case ("POST", ["users"]):
                    {
                        var id = AddUser(Required(body, "displayName"), Required(body, "userPrincipalName"), body?["id"]?.GetValue<string>());
                        // extraGroups: that many filler groups with the user in them, to push the user over the groups-claim limit.
                        var extra = body?["extraGroups"]?.GetValue<int>() ?? 0;
                        for (var i = 0; i < extra; i++) AddMembers(AddGroup($"filler-{id[..8]}-{i:D3}"), [id]);
                        await JsonAsync(context, 201, new JsonObject { ["id"] = id });
                        return;
                    }
                case ("POST", ["groups"]):
                    {
                        var id = AddGroup(Required(body, "displayName"), body?["id"]?.GetValue<string>());
                        var members = body?["members"]?.AsArray().Select(m => m!.GetValue<string>()).ToList() ?? [];
                        // newUsers: that many generated users as direct members (a big group without a thousand calls).
                        var newUsers = body?["newUsers"]?.GetValue<int>() ?? 0;
                        for (var i = 0; i < newUsers; i++) members.Add(AddUser($"Lab User {id[..8]} {i:D4}", $"user{i:D4}.{id[..8]}@lab.example"));
                        AddMembers(id, members);
                        await JsonAsync(context, 201, new JsonObject { ["id"] = id });
                        return;
                    }
                case ("POST", ["groups", var groupId, "members"]):
                    AddMembers(groupId, body?["members"]?.AsArray().Select(m => m!.GetValue<string>()) ?? []);
                    await JsonAsync(context, 200, new JsonObject());
                    return;
                case ("DELETE", ["groups", var groupId, "members", var memberId]):
                    RemoveMember(groupId, memberId);
                    await JsonAsync(context, 200, new JsonObject());
                    return;
                case ("POST", ["apps"]):
                    {
                        var roles = body?["roles"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [];
                        RegisterApp(Required(body, "clientId"), Required(body, "clientSecret"), roles);
                        await JsonAsync(context, 201, new JsonObject());
                        return;
                    }
                case ("POST", ["throttle"]):
                    ThrottleNext(body?["count"]?.GetValue<int>() ?? 1, body?["retryAfterSeconds"]?.GetValue<int>() ?? 1);
                    await JsonAsync(context, 200, new JsonObject());
                    return;
                case ("GET", ["exchanges"]):
                    await JsonAsync(context, 200, JsonSerializer.SerializeToNode(Exchanges)!);
                    return;
                default:
                    await JsonAsync(context, 404, new JsonObject { ["error"] = $"no lab control {context.Request.Method} /_lab{rest}" });
                    return;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or JsonException)
        {
            await JsonAsync(context, 400, new JsonObject { ["error"] = ex.Message });
        }
    }

    private static string Required(JsonObject? body, string name) =>
        body?[name]?.GetValue<string>() is { Length: > 0 } value ? value : throw new ArgumentException($"'{name}' is required");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsEntra) await Entra.DisposeAsync();
    }

    public override string ToString() => $"Graph emulator: authority {AuthorityHost}, Graph {GraphEndpoint}, tenant {TenantId}";
}

/// <summary>A user or group of the lab directory.</summary>
internal sealed class LabDirectoryObject(string id, string kind, string displayName, string? userPrincipalName)
{
    public string Id { get; } = id;
    /// <summary>"user" or "group" (the @odata.type's last segment).</summary>
    public string Kind { get; } = kind;
    public string DisplayName { get; } = displayName;
    public string? UserPrincipalName { get; } = userPrincipalName;
    /// <summary>Direct members (groups only).</summary>
    public List<string> Members { get; } = [];
}
