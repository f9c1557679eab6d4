using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>
/// Harbor's tag immutability (goharbor/harbor v2.15.2):
/// - src/server/v2.0/handler/immutable.go: /projects/{p}/immutabletagrules list/create/update/delete, each
///   RequireProjectAccess(..., immutable-tag), which src/common/rbac/project/rbac_role.go grants project admins and
///   maintainers only; create answers 201 with Location .../immutabletagrules/{id}; a rule of another project is 404.
/// - src/pkg/immutable/match/rule/match.go: a tag is immutable when an enabled rule's first repository selector selects
///   its repository (name without the project) and its first tag selector selects the tag, untagged never.
/// - src/server/middleware/immutable/pushmf.go: a manifest PUT to a tag that exists and is immutable is refused, 412
///   PRECONDITION "Failed to process request due to '&lt;repo&gt;:&lt;tag&gt;' configured as immutable."; a first push of
///   a matching tag goes through.
/// - src/controller/tag/controller.go Delete (which artifact deletes go through, controller/artifact deleteDeeply ->
///   DeleteTags): 412 "the tag &lt;tag&gt; configured as immutable, cannot be deleted".
/// </summary>
public sealed partial class HarborEmulator
{
    private readonly List<LabImmutableRule> _immutableRules = [];

    private Task? RouteImmutableAsync(ApiCall c, LabHarborProject project)
    {
        var s = c.Segments;
        if (s.Length < 3 || s[2] != "immutabletagrules") return null;
        if (c.Is("GET", "projects", "*", "immutabletagrules")) return ListImmutableRulesAsync(c, project);
        if (c.Is("POST", "projects", "*", "immutabletagrules")) return CreateImmutableRuleAsync(c, project);
        if (c.Is("DELETE", "projects", "*", "immutabletagrules", "*")) return DeleteImmutableRuleAsync(c, project, s[3]);
        return null;
    }

    /// <summary>rbac_role.go: immutable-tag belongs to project admins (1) and maintainers (4); system admins and robots granted it.</summary>
    private bool CanImmutable(Identity who, LabHarborProject project, string action) =>
        who.Robot is not null ? Can(who, project, "immutable-tag", action) : who.SysAdmin || RoleOf(who, project) is 1 or 4;

    private Task DenyAsync(ApiCall c) =>
        FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", c.Who.IsAnonymous ? "unauthorized" : "forbidden");

    private async Task ListImmutableRulesAsync(ApiCall c, LabHarborProject project)
    {
        if (!CanImmutable(c.Who, project, "list")) { await DenyAsync(c); return; }
        List<object> rules;
        lock (_gate) rules = _immutableRules.Where(r => r.ProjectId == project.Id).OrderBy(r => r.Id).Select(r => (object)r.Json()).ToList();
        await ReplyPagedAsync(c, rules);
    }

    private async Task CreateImmutableRuleAsync(ApiCall c, LabHarborProject project)
    {
        if (!CanImmutable(c.Who, project, "create")) { await DenyAsync(c); return; }
        var body = ParseBody(c) as JsonObject;
        var tagSelectors = body?["tag_selectors"] as JsonArray;
        var repositorySelectors = body?["scope_selectors"]?["repository"] as JsonArray;
        // pkg/immutable/model/rule.go: action, template, tag_selectors and scope_selectors are Required.
        if (string.IsNullOrEmpty(Str(body, "action")) || string.IsNullOrEmpty(Str(body, "template")) || tagSelectors is not { Count: > 0 } || repositorySelectors is not { Count: > 0 })
        {
            await FailAsync(c, 400, "BAD_REQUEST", "action, template, tag_selectors and scope_selectors are required");
            return;
        }
        LabImmutableRule rule;
        lock (_gate)
        {
            rule = new LabImmutableRule
            {
                Id = NextId(), ProjectId = project.Id, Disabled = body!["disabled"] is JsonValue d && d.TryGetValue<bool>(out var disabled) && disabled,
                Priority = body["priority"] is JsonValue p && p.TryGetValue<int>(out var priority) ? priority : 0, Action = Str(body, "action")!, Template = Str(body, "template")!,
                TagSelector = Selector(tagSelectors[0]), RepositorySelector = Selector(repositorySelectors[0]),
            };
            _immutableRules.Add(rule);
        }
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/{c.Path.TrimEnd('/')}/{rule.Id}" });
    }

    private static JsonObject Selector(JsonNode? node) => new()
    {
        ["kind"] = Str(node, "kind") ?? "doublestar", ["decoration"] = Str(node, "decoration") ?? "", ["pattern"] = Str(node, "pattern") ?? "",
    };

    private async Task DeleteImmutableRuleAsync(ApiCall c, LabHarborProject project, string idText)
    {
        if (!CanImmutable(c.Who, project, "delete")) { await DenyAsync(c); return; }
        bool removed;
        lock (_gate) removed = long.TryParse(idText, out var id) && _immutableRules.RemoveAll(r => r.Id == id && r.ProjectId == project.Id) > 0;
        await (removed ? ReplyAsync(c, 200, null) : FailAsync(c, 404, "NOT_FOUND", $"immutable rule {idText} not found in project {project.Id}"));
    }

    /// <summary>match.go: does an enabled rule of the project make this tag of this repository (name without project) immutable?</summary>
    private bool IsImmutable(LabHarborProject project, string repository, string tag)
    {
        lock (_gate)
            return _immutableRules.Any(r => r.ProjectId == project.Id && !r.Disabled
                && LabSelector.SelectsRepository(r.RepositorySelector, repository) && LabSelector.SelectsTags(r.TagSelector, [tag], untaggedOverride: false));
    }

    /// <summary>The 412 message for a /v2/ manifest PUT over an existing immutable tag or a DELETE of an artifact with one; null to go on.</summary>
    private async Task<string?> ImmutableRefusalAsync(string method, string repository, string reference, CancellationToken ct)
    {
        if (method is not ("PUT" or "DELETE")) return null;
        LabHarborProject? project;
        lock (_gate) project = _projects.FirstOrDefault(p => repository.StartsWith(p.Name + "/", StringComparison.Ordinal));
        if (project is null) return null;
        var name = repository[(project.Name.Length + 1)..];
        if (method == "PUT")
        {
            if (reference.StartsWith("sha256:", StringComparison.Ordinal) || !IsImmutable(project, name, reference)) return null;
            var existing = await FindArtifactAsync(project, repository, reference, ct);
            return existing is null ? null : $"Failed to process request due to '{name}:{reference}' configured as immutable.";
        }
        var artifact = await FindArtifactAsync(project, repository, reference, ct);
        var immutableTag = artifact?.Tags.FirstOrDefault(t => IsImmutable(project, name, t));
        if (immutableTag is not null) return $"the tag {immutableTag} configured as immutable, cannot be deleted";
        if (artifact is not null) await TrashArtifactAsync(artifact, ct);
        return null;
    }
}

internal sealed class LabImmutableRule
{
    public required long Id { get; init; }
    public required int ProjectId { get; init; }
    public bool Disabled { get; init; }
    public int Priority { get; init; }
    public required string Action { get; init; }
    public required string Template { get; init; }
    public required JsonObject TagSelector { get; init; }
    public required JsonObject RepositorySelector { get; init; }

    /// <summary>handler/model/immutable.go ToSwagger: the selectors without extras.</summary>
    public JsonObject Json() => new()
    {
        ["id"] = Id, ["priority"] = Priority, ["disabled"] = Disabled, ["action"] = Action, ["template"] = Template,
        ["tag_selectors"] = new JsonArray(TagSelector.DeepClone()),
        ["scope_selectors"] = new JsonObject { ["repository"] = new JsonArray(RepositorySelector.DeepClone()) },
    };
}
