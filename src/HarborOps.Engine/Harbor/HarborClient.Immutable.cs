using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// Tag immutability rules (goharbor/harbor v2.15.2 src/server/v2.0/handler/immutable.go, project admins and maintainers):
/// a tag matched by an enabled rule cannot be pushed over or deleted (src/server/middleware/immutable/pushmf.go,
/// src/controller/tag/controller.go), which also keeps retention from deleting it (retention marks it IMMUTABLE).
/// </summary>
public sealed partial class HarborClient
{
    public async Task<IReadOnlyList<HarborImmutableTagRule>> ListImmutableTagRulesAsync(string project, CancellationToken cancellationToken)
    {
        var rules = new List<HarborImmutableTagRule>();
        await foreach (var dto in ListAsync<RetentionRuleDto>(new HarborCall(HttpMethod.Get, $"projects/{ProjectSegment(project)}/immutabletagrules")
        {
            ProjectByName = true, Target = project, Description = $"listing the immutable tag rules of project '{project}'", NotFoundId = HarborErrorIds.ProjectNotFound,
            NotFoundMessage = $"Project '{project}' does not exist on {Connection.Url} or is hidden from '{Connection.UserName}'",
        }, cancellationToken).ConfigureAwait(false))
        {
            var tag = dto.TagSelectors?.FirstOrDefault();
            var scope = dto.ScopeSelectors?.GetValueOrDefault("repository")?.FirstOrDefault();
            rules.Add(new HarborImmutableTagRule
            {
                Harbor = Connection.Url.ToString(), Project = project, Id = dto.Id, Disabled = dto.Disabled,
                Tags = tag?.Pattern ?? "", ExcludeTags = tag?.Decoration == "excludes",
                Repositories = scope?.Pattern ?? "", ExcludeRepositories = scope?.Decoration == "repoExcludes",
            });
        }
        return rules.OrderBy(r => r.Id).ToList();
    }

    /// <summary>Makes tags matching <paramref name="tags"/> in repositories matching <paramref name="repositories"/> immutable (doublestar patterns).</summary>
    public async Task<HarborImmutableTagRule> CreateImmutableTagRuleAsync(string project, string repositories, string tags, bool excludeRepositories, bool excludeTags,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(repositories) || string.IsNullOrWhiteSpace(tags))
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, "An immutable tag rule needs a repository pattern and a tag pattern (** for all).", project);
        var response = await SendAsync(new HarborCall(HttpMethod.Post, $"projects/{ProjectSegment(project)}/immutabletagrules")
        {
            ProjectByName = true, Target = project, Description = $"creating an immutable tag rule in project '{project}'", NotFoundId = HarborErrorIds.ProjectNotFound,
            Body = new RetentionRuleDto
            {
                Action = "immutable", Template = "immutable_template",
                TagSelectors = [new SelectorDto { Kind = "doublestar", Decoration = excludeTags ? "excludes" : "matches", Pattern = tags }],
                ScopeSelectors = new Dictionary<string, List<SelectorDto>>
                {
                    ["repository"] = [new SelectorDto { Kind = "doublestar", Decoration = excludeRepositories ? "repoExcludes" : "repoMatches", Pattern = repositories }],
                },
            },
        }, cancellationToken).ConfigureAwait(false);
        var id = IdFromLocation(response, "immutable tag rule");
        return (await ListImmutableTagRulesAsync(project, cancellationToken).ConfigureAwait(false)).FirstOrDefault(r => r.Id == id)
            ?? throw new HarborException(HarborErrorIds.ImmutableTagRuleNotFound, FailureKind.ServerError, $"Harbor created immutable tag rule {id} in '{project}' but does not list it.", project);
    }

    public async Task DeleteImmutableTagRuleAsync(string project, long id, CancellationToken cancellationToken) =>
        await SendAsync(new HarborCall(HttpMethod.Delete, $"projects/{ProjectSegment(project)}/immutabletagrules/{id}")
        {
            ProjectByName = true, Target = id, Description = $"deleting immutable tag rule {id} of project '{project}'", NotFoundId = HarborErrorIds.ImmutableTagRuleNotFound,
            NotFoundMessage = $"Project '{project}' has no immutable tag rule {id}; Get-HarborImmutableTagRule -Project {project} lists them",
        }, cancellationToken).ConfigureAwait(false);
}

internal sealed class RetentionPolicyDto
{
    public long Id { get; set; }
    public string? Algorithm { get; set; }
    public List<RetentionRuleDto>? Rules { get; set; }
    public RetentionTriggerDto? Trigger { get; set; }
    public RetentionScopeDto? Scope { get; set; }
}

internal sealed class RetentionTriggerDto
{
    public string? Kind { get; set; }
    public Dictionary<string, string>? Settings { get; set; }
    public Dictionary<string, string>? References { get; set; }
}

internal sealed class RetentionScopeDto
{
    public string? Level { get; set; }
    public int Ref { get; set; }
}

/// <summary>A RetentionRule or ImmutableRule (the swagger's two definitions have the same shape).</summary>
internal sealed class RetentionRuleDto
{
    public long Id { get; set; }
    public int Priority { get; set; }
    public bool Disabled { get; set; }
    public string? Action { get; set; }
    public string? Template { get; set; }
    public Dictionary<string, System.Text.Json.JsonElement>? Params { get; set; }
    public List<SelectorDto>? TagSelectors { get; set; }
    public Dictionary<string, List<SelectorDto>>? ScopeSelectors { get; set; }
}

internal sealed class SelectorDto
{
    public string? Kind { get; set; }
    public string? Decoration { get; set; }
    public string? Pattern { get; set; }
    public string? Extras { get; set; }
}

internal sealed class RetentionExecutionDto
{
    public long Id { get; set; }
    public long PolicyId { get; set; }
    public string? Status { get; set; }
    public bool DryRun { get; set; }
}

internal sealed class RetentionTaskDto
{
    public long Id { get; set; }
    public string? Repository { get; set; }
    public string? Status { get; set; }
    public int Total { get; set; }
    public int Retained { get; set; }
}
