using System.Globalization;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// Tag retention per project (goharbor/harbor v2.15.2 src/server/v2.0/handler/retention.go): the project's retention_id
/// metadata names its policy; rules use the templates of src/pkg/retention/policy/rule (latestPushedK, latestPulledN,
/// nDaysSinceLastPush, nDaysSinceLastPull, always) with doublestar tag selectors (matches/excludes) and a repository
/// scope (repoMatches/repoExcludes) from src/lib/selector/selectors/doublestar; a run's dry run deletes nothing and its
/// task logs (src/pkg/retention/job.go logResults) mark each artifact RETAIN, DEL, IMMUTABLE or ERR.
/// Signatures: retention's candidates are the listed artifacts, which leave accessories out (src/pkg/retention/dep
/// client.go), and deleting an artifact deletes its hard-referenced accessories (src/controller/artifact/controller.go
/// deleteDeeply), so a signature goes with its subject and stays with it; each result says so for its signatures.
/// </summary>
public sealed partial class HarborClient
{
    /// <summary>The templates Harbor offers (handler/retention.go rentenitionMetadataPayload) and whether they take a number.</summary>
    public static readonly IReadOnlyDictionary<string, bool> RetentionTemplates = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["latestPushedK"] = true, ["latestPulledN"] = true, ["nDaysSinceLastPush"] = true, ["nDaysSinceLastPull"] = true, ["always"] = false,
    };

    /// <summary>The project's policy, or null when it has none.</summary>
    public async Task<HarborRetentionPolicy?> GetRetentionPolicyAsync(string project, CancellationToken cancellationToken)
    {
        var id = await RetentionIdAsync(project, cancellationToken).ConfigureAwait(false);
        if (id is null) return null;
        var call = new HarborCall(HttpMethod.Get, $"retentions/{id}")
        {
            Target = project, Description = $"reading the retention policy of project '{project}'", NotFoundId = HarborErrorIds.RetentionPolicyNotFound,
        };
        var dto = (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<RetentionPolicyDto>(call);
        return new HarborRetentionPolicy
        {
            Harbor = Connection.Url.ToString(), Project = project, Id = dto.Id, Rules = (dto.Rules ?? []).Select(ToRule).ToArray(),
        };
    }

    /// <summary>Creates the project's policy, or replaces its rules when it has one; the rules are checked before anything is sent.</summary>
    public async Task<HarborRetentionPolicy> SetRetentionPolicyAsync(string project, IReadOnlyList<HarborRetentionRule> rules, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.Count is 0 or > 15)
            throw new HarborException(HarborErrorIds.RetentionRuleInvalid, FailureKind.InvalidArgument,
                $"A retention policy has 1 to 15 rules; {rules.Count} were given. Give -KeepLatest, -KeepDays or -KeepTag.", project);
        foreach (var rule in rules) CheckRule(project, rule);
        var dto = await GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false);
        var body = new RetentionPolicyDto
        {
            Algorithm = "or", Rules = rules.Select(ToDto).ToList(),
            // No cron: HarborOps runs retention on demand; Harbor schedules only when settings.cron is not empty
            // (src/controller/retention/controller.go CreateRetention).
            Trigger = new RetentionTriggerDto { Kind = "Schedule", Settings = [], References = [] },
            Scope = new RetentionScopeDto { Level = "project", Ref = dto.ProjectId },
        };
        var existing = dto.Metadata?.GetValueOrDefault("retention_id");
        if (string.IsNullOrEmpty(existing))
            await SendAsync(new HarborCall(HttpMethod.Post, "retentions")
            {
                Body = body, Target = project, Description = $"creating the retention policy of project '{project}'", BadRequestId = HarborErrorIds.RetentionRuleInvalid,
            }, cancellationToken).ConfigureAwait(false);
        else
            await SendAsync(new HarborCall(HttpMethod.Put, $"retentions/{existing}")
            {
                Body = body, Target = project, Description = $"replacing the retention rules of project '{project}'", BadRequestId = HarborErrorIds.RetentionRuleInvalid,
            }, cancellationToken).ConfigureAwait(false);
        return await GetRetentionPolicyAsync(project, cancellationToken).ConfigureAwait(false)
            ?? throw new HarborException(HarborErrorIds.RetentionPolicyNotFound, FailureKind.ServerError,
                $"Harbor accepted the retention policy of project '{project}' but the project names none afterwards.", project);
    }

    /// <summary>Runs the project's policy (a dry run deletes nothing), waits for it, and returns what it did to each artifact.</summary>
    public async Task<IReadOnlyList<HarborRetentionResult>> RunRetentionAsync(string project, bool dryRun, TimeSpan timeout, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken)
    {
        var id = await RetentionIdAsync(project, cancellationToken).ConfigureAwait(false)
            ?? throw new HarborException(HarborErrorIds.RetentionPolicyNotFound, FailureKind.NotFound,
                $"Project '{project}' has no retention policy; make one with Set-HarborRetentionPolicy -Project {project}.", project);
        var started = await SendAsync(new HarborCall(HttpMethod.Post, $"retentions/{id}/executions")
        {
            Body = new Dictionary<string, bool> { ["dry_run"] = dryRun }, Target = project,
            Description = dryRun ? $"starting a retention dry run of project '{project}'" : $"running the retention policy of project '{project}'",
        }, cancellationToken).ConfigureAwait(false);
        var executionId = IdFromLocation(started, "retention execution");
        var execution = await WaitForRetentionAsync(project, id, executionId, timeout, progress, cancellationToken).ConfigureAwait(false);
        if (execution.Status is "Error" or "Failed" or "Stopped")
            throw new HarborException(HarborErrorIds.RetentionFailed, FailureKind.ServerError,
                $"Retention execution {executionId} of project '{project}' ended {execution.Status}; its task logs in Harbor's portal have the cause.", project);
        var signatures = await SignaturesAsync(project, cancellationToken).ConfigureAwait(false);
        var results = new List<HarborRetentionResult>();
        await foreach (var task in ListAsync<RetentionTaskDto>(new HarborCall(HttpMethod.Get, $"retentions/{id}/executions/{executionId}/tasks")
        { Target = project, Description = $"listing the tasks of retention execution {executionId}" }, cancellationToken).ConfigureAwait(false))
        {
            var log = await SendAsync(new HarborCall(HttpMethod.Get, $"retentions/{id}/executions/{executionId}/tasks/{task.Id}")
            { Target = project, Description = $"reading the log of retention task {task.Id}" }, cancellationToken).ConfigureAwait(false);
            foreach (var row in RetentionLogRows(System.Text.Encoding.UTF8.GetString(log.Body)))
            {
                var signed = signatures.GetValueOrDefault((task.Repository ?? "", row.Digest)) ?? [];
                results.Add(new HarborRetentionResult
                {
                    Harbor = Connection.Url.ToString(), Project = project, Repository = task.Repository ?? "", Digest = row.Digest, Tags = row.Tags,
                    PushTime = row.Pushed, Action = row.Action, DryRun = dryRun, Signatures = signed, ExecutionId = executionId,
                    SignatureNote = signed.Length == 0 ? null
                        : row.Action == "Delete" ? $"{(dryRun ? "would be" : "was")} deleted with the artifact: Harbor deletes an artifact's signatures with it, so none is left without its image"
                        : "kept with the artifact: signatures are never retention candidates of their own",
                });
            }
        }
        return results.OrderBy(r => r.Repository, StringComparer.Ordinal).ThenByDescending(r => r.PushTime).ToList();
    }

    private async Task<RetentionExecutionDto> WaitForRetentionAsync(string project, long policyId, long executionId, TimeSpan timeout,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            RetentionExecutionDto? execution = null;
            await foreach (var e in ListAsync<RetentionExecutionDto>(new HarborCall(HttpMethod.Get, $"retentions/{policyId}/executions")
            { Target = project, Description = $"listing the retention executions of project '{project}'" }, cancellationToken).ConfigureAwait(false))
                if (e.Id == executionId) { execution = e; break; }
            var status = execution?.Status ?? "Pending";
            var finished = status is not ("Pending" or "Running" or "Scheduled");
            progress?.Report(new OperationProgress($"Retention of project '{project}'", status, null, finished ? 1 : 0, 1, finished));
            if (finished && execution is not null) return execution;
            if (DateTimeOffset.UtcNow >= deadline)
                throw new HarborException(HarborErrorIds.Unreachable, FailureKind.Timeout,
                    $"Retention execution {executionId} of project '{project}' was still {status} after {timeout.TotalSeconds:0} s; it goes on in Harbor.", project);
            await Task.Delay(Options.ScanPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The table rows of a retention task log: | digest | tags | kind | labels | pushed | pulled | created | mark |.</summary>
    internal static IEnumerable<(string Digest, string[] Tags, DateTimeOffset? Pushed, string Action)> RetentionLogRows(string log)
    {
        foreach (var line in log.Split('\n'))
        {
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length < 8 || !cells[0].StartsWith("sha256:", StringComparison.Ordinal)) continue;
            var action = cells[7] switch { "RETAIN" => "Retain", "DEL" => "Delete", "IMMUTABLE" => "Immutable", "ERR" => "Error", var other => other };
            DateTimeOffset? pushed = DateTimeOffset.TryParseExact(cells[4], "yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var p) ? p : null;
            yield return (cells[0], cells[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), pushed, action);
        }
    }

    /// <summary>(repository without project, digest) to the digests of its signature accessories.</summary>
    private async Task<Dictionary<(string, string), string[]>> SignaturesAsync(string project, CancellationToken cancellationToken)
    {
        var signatures = new Dictionary<(string, string), string[]>();
        foreach (var repository in await ListRepositoriesAsync(project, cancellationToken).ConfigureAwait(false))
            await foreach (var dto in ListAsync<ArtifactDto>(new HarborCall(HttpMethod.Get,
                $"projects/{ProjectSegment(project)}/repositories/{RepositorySegment(repository)}/artifacts?with_tag=false&with_accessory=true")
            { Target = $"{project}/{repository}", Description = $"listing the artifacts of '{project}/{repository}'" }, cancellationToken).ConfigureAwait(false))
                if (dto.Accessories is { Count: > 0 } accessories)
                    signatures[(repository, dto.Digest)] = accessories.Where(a => a.Type?.StartsWith("signature", StringComparison.Ordinal) == true && a.Digest is not null)
                        .Select(a => a.Digest!).ToArray();
        return signatures;
    }

    private async Task<long?> RetentionIdAsync(string project, CancellationToken cancellationToken)
    {
        var dto = await GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false);
        return long.TryParse(dto.Metadata?.GetValueOrDefault("retention_id"), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    private static void CheckRule(string project, HarborRetentionRule rule)
    {
        if (!RetentionTemplates.TryGetValue(rule.Template, out var counted))
            throw new HarborException(HarborErrorIds.RetentionRuleInvalid, FailureKind.InvalidArgument,
                $"'{rule.Template}' is not a Harbor retention template; use {string.Join(", ", RetentionTemplates.Keys)}.", project);
        if (counted && rule.Value is not (>= 0 and < short.MaxValue))
            throw new HarborException(HarborErrorIds.RetentionRuleInvalid, FailureKind.InvalidArgument,
                $"The {rule.Template} rule needs a number from 0 to {short.MaxValue - 1}, not {rule.Value?.ToString(CultureInfo.InvariantCulture) ?? "none"}.", project);
        if (string.IsNullOrWhiteSpace(rule.Repositories) || string.IsNullOrWhiteSpace(rule.Tags))
            throw new HarborException(HarborErrorIds.RetentionRuleInvalid, FailureKind.InvalidArgument,
                "A retention rule needs a repository pattern and a tag pattern (** for all).", project);
    }

    private static RetentionRuleDto ToDto(HarborRetentionRule rule) => new()
    {
        Disabled = rule.Disabled, Action = "retain", Template = rule.Template,
        Params = rule.Value is { } value && RetentionTemplates[rule.Template] ? new Dictionary<string, JsonElement> { [rule.Template] = JsonSerializer.SerializeToElement(value) } : [],
        TagSelectors = [new SelectorDto { Kind = "doublestar", Decoration = rule.ExcludeTags ? "excludes" : "matches", Pattern = rule.Tags,
            Extras = rule.Untagged is { } untagged ? JsonSerializer.Serialize(new Dictionary<string, bool> { ["untagged"] = untagged }) : null }],
        ScopeSelectors = new Dictionary<string, List<SelectorDto>>
        {
            ["repository"] = [new SelectorDto { Kind = "doublestar", Decoration = rule.ExcludeRepositories ? "repoExcludes" : "repoMatches", Pattern = rule.Repositories }],
        },
    };

    private static HarborRetentionRule ToRule(RetentionRuleDto dto)
    {
        var tag = dto.TagSelectors?.FirstOrDefault();
        var scope = dto.ScopeSelectors?.GetValueOrDefault("repository")?.FirstOrDefault();
        bool? untagged = null;
        if (!string.IsNullOrEmpty(tag?.Extras))
        {
            try { untagged = JsonDocument.Parse(tag.Extras).RootElement.TryGetProperty("untagged", out var u) && u.ValueKind is JsonValueKind.True or JsonValueKind.False ? u.GetBoolean() : null; }
            catch (JsonException) { untagged = null; }
        }
        return new HarborRetentionRule
        {
            Template = dto.Template ?? "", Disabled = dto.Disabled,
            Value = dto.Params is not null && dto.Template is not null && dto.Params.TryGetValue(dto.Template, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null,
            Tags = tag?.Pattern ?? "**", ExcludeTags = tag?.Decoration == "excludes", Untagged = untagged,
            Repositories = scope?.Pattern ?? "**", ExcludeRepositories = scope?.Decoration == "repoExcludes",
        };
    }
}
