using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Graph;

/// <summary>
/// The lab's control of the directory over HTTP (/_lab/ on the Graph listener), for Pester and the lab host: users,
/// groups, directory roles, administrative units and their members, apps and their permissions, throttling, and the
/// exchanges Graph answered. Not part of Graph.
/// </summary>
public sealed partial class GraphEmulator
{
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
                        var members = Members(body).ToList();
                        // newUsers: that many generated users as direct members (a big group without a thousand calls).
                        var newUsers = body?["newUsers"]?.GetValue<int>() ?? 0;
                        for (var i = 0; i < newUsers; i++) members.Add(AddUser($"Lab User {id[..8]} {i:D4}", $"user{i:D4}.{id[..8]}@lab.example"));
                        AddMembers(id, members);
                        await JsonAsync(context, 201, new JsonObject { ["id"] = id });
                        return;
                    }
                case ("POST", [var kind and ("directoryRoles" or "administrativeUnits")]):
                    {
                        // A user's transitiveMemberOf lists roles and administrative units too; a groups-claim count must not.
                        var name = Required(body, "displayName");
                        var givenId = body?["id"]?.GetValue<string>();
                        var id = kind == "directoryRoles" ? AddDirectoryRole(name, givenId) : AddAdministrativeUnit(name, givenId);
                        AddMembers(id, Members(body));
                        await JsonAsync(context, 201, new JsonObject { ["id"] = id });
                        return;
                    }
                case ("POST", ["groups" or "directoryRoles" or "administrativeUnits", var containerId, "members"]):
                    AddMembers(containerId, Members(body));
                    await JsonAsync(context, 200, new JsonObject());
                    return;
                case ("DELETE", ["groups" or "directoryRoles" or "administrativeUnits", var containerId, "members", var memberId]):
                    RemoveMember(containerId, memberId);
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

    private static IEnumerable<string> Members(JsonObject? body) => body?["members"]?.AsArray().Select(m => m!.GetValue<string>()) ?? [];

    private static string Required(JsonObject? body, string name) =>
        body?[name]?.GetValue<string>() is { Length: > 0 } value ? value : throw new ArgumentException($"'{name}' is required");
}
