using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>
/// Harbor's tag retention (goharbor/harbor v2.15.2), evaluated over the artifacts the emulator holds:
/// - src/server/v2.0/handler/retention.go: RequireAuthenticated first (401); access to tag-retention in the policy's
///   project (rbac_role.go: project admin, maintainer and developer; not guests); at most 15 rules; two identical rules
///   are a 409; scope level project with an existing project id, else 400; a project that has a retention_id already is
///   400; create sets the project's retention_id metadata, delete removes it; a run is POST .../executions {dry_run}
///   answering 201 with Location .../executions/{eid}; tasks per repository; a task's log is text.
/// - src/pkg/retention/launcher.go: a repository gets a task when an enabled rule's scope selects it, with just the rules
///   that select it. src/pkg/retention/dep/client.go: the candidates are the repository's artifacts as listed (cosign
///   signatures are accessories, not candidates) with their tags, pushed time the latest of the artifact's and its tags'.
/// - src/pkg/retention/policy/alg/or/processor.go: each rule's tag selectors narrow the candidates (AND), its template
///   keeps some (rule/latestps latestPushedK, latestpl latestPulledN, daysps nDaysSinceLastPush, dayspl
///   nDaysSinceLastPull, always, latestk latestActiveK, nothing), and the union is retained.
/// - src/pkg/retention/policy/action/performer.go: everything else is deleted unless an immutable rule protects it
///   (IMMUTABLE); a dry run deletes nothing. Deleting an artifact deletes its hard-referenced accessories with it
///   (controller/artifact/controller.go deleteDeeply), so a signature is never left without its subject.
/// - src/pkg/retention/job.go logResults: the task log is a table Digest | Tag | Kind | Labels | PushedTime |
///   PulledTime | CreatedTime | Retention with RETAIN, DEL, IMMUTABLE or ERR.
/// The lab records no pulls: an artifact's pulled time is its push time.
/// </summary>
public sealed partial class HarborEmulator
{
    private static readonly Dictionary<string, (string Parameter, int Default, long Max)> CountTemplates = new()
    {
        ["latestPushedK"] = ("latestPushedK", 10, short.MaxValue), ["latestPulledN"] = ("latestPulledN", 10, short.MaxValue),
        ["latestActiveK"] = ("latestActiveK", 10, short.MaxValue),
        ["nDaysSinceLastPush"] = ("nDaysSinceLastPush", 30, 20190905), ["nDaysSinceLastPull"] = ("nDaysSinceLastPull", 30, 20190905),
    };
    private readonly List<(long Id, int ProjectId, JsonObject Policy)> _retentions = [];
    private readonly List<LabRetentionExecution> _retentionRuns = [];

    /// <summary>Sets when an artifact was pushed, as Harbor's database would have it (a fixture of known push times).</summary>
    public void SetPushTime(string repository, string digest, DateTimeOffset pushed)
    {
        lock (_gate)
        {
            var id = _artifactIds.TryGetValue((repository, digest), out var known) ? known.Id : NextId();
            if (!_repositoryIds.ContainsKey(repository)) _repositoryIds[repository] = NextId();
            _artifactIds[(repository, digest)] = (id, pushed);
        }
        ListingsChanged();
    }

    private Task? RouteRetentionAsync(ApiCall c)
    {
        var s = c.Segments;
        if (s.Length == 0 || s[0] != "retentions" || (s.Length > 1 && s[1] == "metadatas")) return null;
        if (c.Who.IsAnonymous) return FailAsync(c, 401, "UNAUTHORIZED", "unauthorized");
        if (c.Is("POST", "retentions")) return CreateRetentionAsync(c);
        if (s.Length < 2) return null;
        (long Id, int ProjectId, JsonObject Policy)? found;
        lock (_gate) found = long.TryParse(s[1], out var id) && _retentions.FirstOrDefault(r => r.Id == id) is { Policy: not null } r ? r : null;
        // handler/retention.go answers a missing policy on these operations as BadRequestError(err) (400), on GET as the error itself.
        if (found is null) return FailAsync(c, c.Method == "GET" && s.Length == 2 ? 404 : 400, c.Method == "GET" && s.Length == 2 ? "NOT_FOUND" : "BAD_REQUEST", $"retention policy {s[1]} not found");
        LabHarborProject? project;
        lock (_gate) project = _projects.FirstOrDefault(p => p.Id == found.Value.ProjectId);
        if (project is null) return FailAsync(c, 404, "NOT_FOUND", $"project {found.Value.ProjectId} not found");
        var action = c.Method switch { "GET" => s.Length == 2 || s.Length == 6 ? "read" : "list", "PUT" or "POST" or "PATCH" => "update", _ => "delete" };
        if (!CanRetain(c.Who, project, action)) return DenyAsync(c);
        if (c.Is("GET", "retentions", "*")) return ReplyAsync(c, 200, found.Value.Policy);
        if (c.Is("PUT", "retentions", "*")) return UpdateRetentionAsync(c, found.Value.Id, project);
        if (c.Is("DELETE", "retentions", "*")) return DeleteRetentionAsync(c, found.Value.Id, project);
        if (c.Is("POST", "retentions", "*", "executions")) return RunRetentionAsync(c, found.Value.Id, found.Value.Policy, project);
        if (c.Is("GET", "retentions", "*", "executions")) return ListRetentionRunsAsync(c, found.Value.Id);
        if (s.Length >= 4 && s[2] == "executions")
        {
            LabRetentionExecution? run;
            lock (_gate) run = _retentionRuns.FirstOrDefault(r => r.PolicyId == found.Value.Id && r.Id.ToString(CultureInfo.InvariantCulture) == s[3]);
            if (run is null) return FailAsync(c, 404, "NOT_FOUND", $"execution {s[3]} not found in policy {found.Value.Id}");
            if (c.Is("GET", "retentions", "*", "executions", "*", "tasks")) return ReplyPagedAsync(c, run.Tasks.Select(t => t.Json()).ToList());
            if (c.Is("GET", "retentions", "*", "executions", "*", "tasks", "*"))
                return run.Tasks.FirstOrDefault(t => t.Id.ToString(CultureInfo.InvariantCulture) == s[5]) is { } task
                    ? WriteAsync(c, 200, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(task.Log), null)
                    : FailAsync(c, 404, "NOT_FOUND", $"task {s[5]} not found in execution {run.Id}");
        }
        return null;
    }

    /// <summary>rbac_role.go: tag-retention belongs to project admins (1), developers (2) and maintainers (4).</summary>
    private bool CanRetain(Identity who, LabHarborProject project, string action) =>
        who.Robot is not null ? Can(who, project, "tag-retention", action) : who.SysAdmin || RoleOf(who, project) is 1 or 2 or 4;

    private async Task CreateRetentionAsync(ApiCall c)
    {
        var body = ParseBody(c) as JsonObject ?? [];
        var reference = body["scope"]?["ref"] is JsonValue r && r.TryGetValue<int>(out var pid) ? pid : 0;
        LabHarborProject? project;
        lock (_gate) project = _projects.FirstOrDefault(p => p.Id == reference);
        if (PolicyProblem(body) is { } problem) { await FailAsync(c, problem.Status, problem.Status == 409 ? "CONFLICT" : "BAD_REQUEST", problem.Message); return; }
        if (project is not null && !CanRetain(c.Who, project, "create")) { await DenyAsync(c); return; }
        if (Str(body["scope"], "level") != "project") { await FailAsync(c, 400, "BAD_REQUEST", $"scope {Str(body["scope"], "level")} is not support"); return; }
        if (project is null) { await FailAsync(c, 400, "BAD_REQUEST", $"invalid Project id {reference}"); return; }
        long id;
        lock (_gate)
        {
            if (project.Metadata.TryGetValue("retention_id", out var old) && old.Length > 0) id = 0;
            else
            {
                id = NextId();
                _retentions.Add((id, project.Id, Normalized(body, id)));
                project.Metadata["retention_id"] = id.ToString(CultureInfo.InvariantCulture);
            }
        }
        if (id == 0) { await FailAsync(c, 400, "BAD_REQUEST", $"project {project.Id} already has retention policy {project.Metadata["retention_id"]}"); return; }
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/retentions/{id}" });
    }

    private async Task UpdateRetentionAsync(ApiCall c, long id, LabHarborProject project)
    {
        var body = ParseBody(c) as JsonObject ?? [];
        if (PolicyProblem(body) is { } problem) { await FailAsync(c, problem.Status, problem.Status == 409 ? "CONFLICT" : "BAD_REQUEST", problem.Message); return; }
        body["scope"] = new JsonObject { ["level"] = "project", ["ref"] = project.Id };
        lock (_gate)
        {
            var index = _retentions.FindIndex(r => r.Id == id);
            _retentions[index] = (id, project.Id, Normalized(body, id));
        }
        await ReplyAsync(c, 200, null);
    }

    private async Task DeleteRetentionAsync(ApiCall c, long id, LabHarborProject project)
    {
        lock (_gate)
        {
            _retentions.RemoveAll(r => r.Id == id);
            project.Metadata.Remove("retention_id");
        }
        await ReplyAsync(c, 200, null);
    }

    /// <summary>The policy as Harbor stores it: rule ids their index (checkRuleConflict), the algorithm "or".</summary>
    private static JsonObject Normalized(JsonObject body, long id)
    {
        var rules = new JsonArray();
        foreach (var (rule, index) in (body["rules"] as JsonArray ?? []).Select((r, i) => (r!.DeepClone().AsObject(), i)))
        {
            rule["id"] = index;
            rules.Add(rule);
        }
        return new JsonObject
        {
            ["id"] = id, ["algorithm"] = Str(body, "algorithm") ?? "or", ["rules"] = rules,
            ["trigger"] = body["trigger"]?.DeepClone() ?? new JsonObject { ["kind"] = "Schedule", ["settings"] = new JsonObject() },
            ["scope"] = body["scope"]?.DeepClone(),
        };
    }

    /// <summary>handler/retention.go's checks and the rule templates' Valid functions (rule/*/evaluator.go).</summary>
    private static (int Status, string Message)? PolicyProblem(JsonObject body)
    {
        var rules = body["rules"] as JsonArray ?? [];
        if (rules.Count > 15) return (400, "only 15 rules are allowed at most");
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = 0; n < rules.Count; n++)
        {
            var rule = rules[n]!.DeepClone().AsObject();
            rule.Remove("id");
            var key = rule.ToJsonString();
            if (seen.TryGetValue(key, out var old)) return (409, $"rule {n} is conflict with rule {old}");
            seen[key] = n;
            var template = Str(rule, "template") ?? "";
            if (Str(rule, "action") != "retain") return (400, $"rule {n}: action '{Str(rule, "action")}' is not supported; retain is");
            if (CountTemplates.TryGetValue(template, out var counted))
            {
                if (rule["params"]?[counted.Parameter] is { } value)
                {
                    if (value is not JsonValue v || !v.TryGetValue<long>(out var number)) return (400, $"{counted.Parameter} type error");
                    if (number < 0) return (400, $"{counted.Parameter} is less than zero");
                    if (number >= counted.Max) return (400, $"{counted.Parameter} is too large");
                }
            }
            else if (template is not ("always" or "nothing")) return (400, $"rule {n}: template '{template}' does not exist");
            foreach (var selector in rule["tag_selectors"] as JsonArray ?? [])
                if (Str(selector, "kind") != "doublestar" || !LabSelector.TagDecorations.Contains(Str(selector, "decoration")))
                    return (400, $"rule {n}: tag selector {selector?.ToJsonString()} is not a doublestar matches/excludes selector");
            foreach (var selector in rule["scope_selectors"]?["repository"] as JsonArray ?? [])
                if (Str(selector, "kind") != "doublestar" || !LabSelector.RepositoryDecorations.Contains(Str(selector, "decoration")))
                    return (400, $"rule {n}: repository selector {selector?.ToJsonString()} is not a doublestar repoMatches/repoExcludes selector");
        }
        return null;
    }

    private async Task RunRetentionAsync(ApiCall c, long policyId, JsonObject policy, LabHarborProject project)
    {
        var dryRun = ParseBody(c)?["dry_run"] is JsonValue d && d.TryGetValue<bool>(out var flag) && flag;
        var started = DateTimeOffset.UtcNow;
        var run = new LabRetentionExecution { Id = 0, PolicyId = policyId, DryRun = dryRun, Started = started };
        var rules = (policy["rules"] as JsonArray ?? []).Where(r => r?["disabled"] is not JsonValue dis || !dis.GetValue<bool>()).ToList();
        var artifacts = await ArtifactsAsync(project, null, c.Context.RequestAborted);
        foreach (var group in artifacts.GroupBy(a => a.Repository).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var name = group.Key[(project.Name.Length + 1)..];
            // launcher.go: only rules whose first repository selector selects this repository apply to it.
            var applying = rules.Where(r => (r!["scope_selectors"]?["repository"] as JsonArray)?.FirstOrDefault() is { } scope && LabSelector.SelectsRepository(scope, name)).ToList();
            if (applying.Count == 0) continue;
            var candidates = group.ToList();
            var retained = new HashSet<string>(StringComparer.Ordinal);
            foreach (var rule in applying)
            {
                IEnumerable<LabArtifact> selected = candidates;
                foreach (var selector in rule!["tag_selectors"] as JsonArray ?? []) selected = selected.Where(a => LabSelector.SelectsTags(selector, a.Tags)).ToList();
                retained.UnionWith(Keep(rule, selected.ToList(), started).Select(a => a.Digest));
            }
            var rows = new List<(LabArtifact Artifact, string Mark)>();
            foreach (var artifact in candidates)
            {
                var mark = retained.Contains(artifact.Digest) ? "RETAIN" : artifact.Tags.Any(t => IsImmutable(project, name, t)) ? "IMMUTABLE" : "DEL";
                if (mark == "DEL" && !dryRun)
                {
                    await TrashArtifactAsync(artifact, c.Context.RequestAborted);
                    if (artifact.Signature is { } signature) await _backing.DeleteManifestAsync(artifact.Repository, signature.Digest, c.Context.RequestAborted);
                    await _backing.DeleteManifestAsync(artifact.Repository, artifact.Digest, c.Context.RequestAborted);
                }
                rows.Add((artifact, mark));
            }
            lock (_gate)
                run.Tasks.Add(new LabRetentionTask
                {
                    Id = NextId(), Repository = name, Started = started, Total = candidates.Count,
                    Retained = rows.Count(r => r.Mark != "DEL"), Log = RetentionLog(project.Name, name, dryRun, rows),
                });
        }
        lock (_gate)
        {
            run.Id = NextId();
            foreach (var task in run.Tasks) task.ExecutionId = run.Id;
            run.Finished = DateTimeOffset.UtcNow;
            _retentionRuns.Add(run);
        }
        ListingsChanged();
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/retentions/{policyId}/executions/{run.Id}" });
    }

    /// <summary>The rule templates of src/pkg/retention/policy/rule/*/evaluator.go (time in whole seconds, as Candidate keeps it).</summary>
    private static IEnumerable<LabArtifact> Keep(JsonNode rule, List<LabArtifact> selected, DateTimeOffset now)
    {
        var template = Str(rule, "template") ?? "";
        long Param(string name, int fallback) => rule["params"]?[name] is JsonValue v && v.TryGetValue<long>(out var n) && n >= 0 ? n : fallback;
        static long Seconds(LabArtifact a) => a.PushTime.ToUnixTimeSeconds();
        return template switch
        {
            "always" => selected,
            "nothing" => [],
            "latestPushedK" or "latestPulledN" or "latestActiveK" => selected.OrderByDescending(Seconds).Take((int)Param(template, 10)),
            "nDaysSinceLastPush" or "nDaysSinceLastPull" => selected.Where(a => Seconds(a) >= now.AddHours(-24 * Param(template, 30)).ToUnixTimeSeconds()),
            _ => [],
        };
    }

    private static string RetentionLog(string project, string repository, bool dryRun, List<(LabArtifact Artifact, string Mark)> rows)
    {
        static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture);
        var now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var log = new StringBuilder();
        log.AppendLine($"{now} [INFO] [/pkg/retention/job.go:84]: Run retention process.");
        log.AppendLine($" Repository: {project}/{repository} ");
        log.AppendLine(" Rule Algorithm: or ");
        log.AppendLine($" Dry Run: {dryRun.ToString().ToLowerInvariant()}");
        log.AppendLine($"{now} [INFO] [/pkg/retention/job.go:102]: Load {rows.Count} candidates from repository {project}/{repository}");
        log.AppendLine($"{now} [INFO] [/pkg/retention/job.go:209]: ");
        log.AppendLine("| Digest | Tag | Kind | Labels | PushedTime | PulledTime | CreatedTime | Retention |");
        log.AppendLine("|--------|-----|------|--------|------------|------------|-------------|-----------|");
        foreach (var (artifact, mark) in rows)
        {
            var pushed = T(artifact.PushTime);
            log.AppendLine($"| {artifact.Digest} | {string.Join(',', artifact.Tags)} | image |  | {pushed} | {pushed} | {pushed} | {mark} |");
        }
        return log.ToString();
    }

    private async Task ListRetentionRunsAsync(ApiCall c, long policyId)
    {
        List<object> runs;
        lock (_gate) runs = _retentionRuns.Where(r => r.PolicyId == policyId).OrderByDescending(r => r.Id).Select(r => r.Json()).ToList();
        await ReplyPagedAsync(c, runs);
    }
}

internal sealed class LabRetentionExecution
{
    public required long Id { get; set; }
    public required long PolicyId { get; init; }
    public required bool DryRun { get; init; }
    public required DateTimeOffset Started { get; init; }
    public DateTimeOffset Finished { get; set; }
    public List<LabRetentionTask> Tasks { get; } = [];

    public object Json() => new Dictionary<string, object>
    {
        ["id"] = Id, ["policy_id"] = PolicyId, ["start_time"] = Started.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["end_time"] = Finished.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), ["status"] = "Success", ["trigger"] = "MANUAL", ["dry_run"] = DryRun,
    };
}

internal sealed class LabRetentionTask
{
    public required long Id { get; init; }
    public long ExecutionId { get; set; }
    public required string Repository { get; init; }
    public required DateTimeOffset Started { get; init; }
    public required int Total { get; init; }
    public required int Retained { get; init; }
    public required string Log { get; init; }

    public object Json() => new Dictionary<string, object>
    {
        ["id"] = Id, ["execution_id"] = ExecutionId, ["repository"] = Repository, ["job_id"] = Id.ToString("x16", CultureInfo.InvariantCulture),
        ["status"] = "Success", ["status_code"] = 3, ["status_revision"] = 1, ["start_time"] = Started.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["end_time"] = Started.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), ["total"] = Total, ["retained"] = Retained,
    };
}
