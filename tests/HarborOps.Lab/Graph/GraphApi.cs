using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Graph;

/// <summary>
/// Graph's v1.0 routes the lab serves, as published (tests/contracts/graph/graph-v1.0-openapi.yaml): groups by displayName
/// filter, a group by id, a group's members and transitiveMembers, a user's transitiveMemberOf uncast (groups, directory
/// roles and administrative units) or cast to groups, and their $count under ConsistencyLevel: eventual; with @odata.type,
/// $select, $top and @odata.nextLink paging.
/// </summary>
public sealed partial class GraphEmulator
{
    private static readonly string[] SelectableProperties = ["id", "displayName", "userPrincipalName"];
    private const int DefaultPageSize = 100;
    private static readonly Regex DisplayNameFilter = new("^displayName eq '((?:[^']|'')*)'$", RegexOptions.CultureInvariant);

    private async Task HandleGraphAsync(HttpContext context)
    {
        var request = context.Request;
        context.Items[nameof(GraphEmulator)] = this;
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
                context.Response.Headers.RetryAfter = Invariant(_throttleRetryAfterSeconds);
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
                if (!await RequireRoleAsync(context, roles, GraphPermissions.ListGroups) || !await RequireQueryAsync(context, "$filter", "$select", "$top")) return;
                await ListGroupsAsync(context, roles);
                return;
            case ["groups", var id]:
                if (!await RequireRoleAsync(context, roles, GraphPermissions.GetGroup) || !await RequireQueryAsync(context, "$select")) return;
                if (await FindAsync(context, id, LabObjectKinds.Group) is { } group) await JsonAsync(context, 200, Project(group, Select(context), entity: true, readable: true));
                return;
            case ["groups", var id, var relation and ("members" or "transitiveMembers")]:
                var transitive = relation == "transitiveMembers";
                if (!await RequireRoleAsync(context, roles, transitive ? GraphPermissions.ListTransitiveMembers : GraphPermissions.ListMembers)
                    || !await RequireQueryAsync(context, "$select", "$top", "$skiptoken")) return;
                if (await FindAsync(context, id, LabObjectKinds.Group) is { } parent)
                    await PageAsync(context, roles, transitive ? _directory.TransitiveMembers(parent) : _directory.DirectMembers(parent), "directoryObjects", $"{GraphEndpoint}v1.0/groups/{parent.Id}/{relation}");
                return;
            case ["users", var id, "transitiveMemberOf", .. var rest] when TransitiveMemberOfView(rest) is var (cast, count):
                await TransitiveMemberOfAsync(context, roles, id, cast, count);
                return;
            default:
                await GraphErrorAsync(context, 400, "BadRequest", $"Resource not found for the segment '{segments.Last()}'.");
                return;
        }
    }

    /// <summary>
    /// What follows transitiveMemberOf: nothing, $count, an OData cast to group, or the cast and $count. The cast is
    /// spelt with the namespace (microsoft.graph.group, as the docs write it) or its CSDL alias (graph.group, as the SDKs send it).
    /// </summary>
    private static (bool Cast, bool Count)? TransitiveMemberOfView(string[] rest) => rest switch
    {
        [] => (false, false),
        ["$count"] => (false, true),
        [var cast] when IsGroupCast(cast) => (true, false),
        [var cast, "$count"] when IsGroupCast(cast) => (true, true),
        _ => null,
    };

    private static bool IsGroupCast(string segment) => segment is "microsoft.graph.group" or "graph.group";

    private async Task TransitiveMemberOfAsync(HttpContext context, IReadOnlyList<string> roles, string id, bool cast, bool count)
    {
        if (!await RequireRoleAsync(context, roles, GraphPermissions.ListUserTransitiveMemberOf)) return;
        if (count ? !await RequireQueryAsync(context) : !await RequireQueryAsync(context, "$select", "$top", "$skiptoken")) return;
        if (count && context.Request.Headers["ConsistencyLevel"] != "eventual")
        {
            // $count on directory objects is an advanced query (https://learn.microsoft.com/graph/aad-advanced-queries).
            await GraphErrorAsync(context, 400, "Request_BadRequest", "Count is not currently supported.");
            return;
        }
        if (await FindAsync(context, id, LabObjectKinds.User) is not { } user) return;
        var memberships = _directory.TransitiveMemberOf(user).Where(o => !cast || o.Kind == LabObjectKinds.Group).ToList();
        if (!count)
        {
            var suffix = cast ? "/graph.group" : "";
            await PageAsync(context, roles, memberships, cast ? "groups" : "directoryObjects", $"{GraphEndpoint}v1.0/users/{user.Id}/transitiveMemberOf{suffix}");
            return;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(Invariant(memberships.Count));
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

    private static async Task<bool> RequireRoleAsync(HttpContext context, IReadOnlyList<string> roles, GraphCallPermissions call)
    {
        if (call.AllowedBy(roles)) return true;
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
        var found = _directory.Find(id, kind);
        if (found is null)
            await GraphErrorAsync(context, 404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
        return found;
    }

    private async Task ListGroupsAsync(HttpContext context, IReadOnlyList<string> roles)
    {
        var filter = context.Request.Query["$filter"].ToString();
        var match = DisplayNameFilter.Match(filter);
        if (!match.Success)
        {
            await GraphErrorAsync(context, 400, "Request_UnsupportedQuery", $"Unsupported Query. The lab filters groups by \"displayName eq '...'\" only, not '{filter}'.");
            return;
        }
        var groups = _directory.GroupsNamed(match.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal));
        await PageAsync(context, roles, groups, "groups", $"{GraphEndpoint}v1.0/groups");
    }

    private async Task PageAsync(HttpContext context, IReadOnlyList<string> roles, List<LabDirectoryObject> items, string entitySet, string selfUrl)
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
        var page = new JsonArray(items.Skip(offset).Take(top).Select(o => (JsonNode)Project(o, select, entity: false, GraphPermissions.CanRead(roles, o.Kind))).ToArray());
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
    private static string SkipToken(int offset) => "RFNwdAIA" + LabTokenService.Base64UrlEncode(Encoding.UTF8.GetBytes("lab-offset:" + Invariant(offset)));

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

    /// <summary>
    /// An object as Graph serializes it: in a collection with @odata.type; an object the caller may not read keeps only
    /// @odata.type and id, every other property it would have sent null (permissions-overview, "Limited information
    /// returned for inaccessible member objects").
    /// </summary>
    private static JsonObject Project(LabDirectoryObject o, string[]? select, bool entity, bool readable)
    {
        var json = new JsonObject();
        if (!entity) json["@odata.type"] = "#microsoft.graph." + o.Kind;
        bool Wanted(string property) => select is null || select.Contains(property, StringComparer.Ordinal);
        if (Wanted("id")) json["id"] = o.Id;
        if (Wanted("displayName")) json["displayName"] = readable ? o.DisplayName : null;
        // directoryObject $select: properties the type does not have are simply absent.
        if (o.Kind == LabObjectKinds.User && Wanted("userPrincipalName")) json["userPrincipalName"] = readable ? o.UserPrincipalName : null;
        if (o.Kind == LabObjectKinds.Group && select is null) json["securityEnabled"] = readable ? true : null;
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
        // Only Graph's own answers carry the emulator (the /_lab control's do not): they are what a broken-response test breaks.
        if (context.Items[nameof(GraphEmulator)] is GraphEmulator emulator) emulator.ApplyBreak(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
