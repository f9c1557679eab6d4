using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>
/// Harbor's garbage collection (goharbor/harbor v2.15.2):
/// - src/server/v2.0/handler/gc.go: every operation RequireSystemAccess(..., garbage-collection) (401 anonymous, 403
///   otherwise unless a system robot holds the permission); kick(): Manual starts a run now (201, Location
///   /api/v2.0/system/gc/{id}), None deletes the schedule, Hourly/Daily/Weekly/Custom need a valid cron
///   (utils.ValidateCronString: six fields, the seconds field 0) and replace the schedule; workers must be an integer in
///   1..10 ("Error: Invalid number of workers"); dry_run and delete_untagged count only as JSON booleans.
/// - model/gc.go: a run is a GCHistory with job_name GARBAGE_COLLECTION, job_kind the trigger (MANUAL, SCHEDULE),
///   schedule.type the trigger in title case, job_parameters the execution's extra attributes as a JSON string without
///   redis_url_reg (CleanExtraAttrs); the schedule is a GCHistory whose job_kind is its cron. No schedule: 200, no body.
/// - src/controller/gc/callback.go gcCheckIn: a run's result (freed_space bytes, purged_blobs, purged_manifests) lands in
///   its extra attributes, so job_parameters carries it once the job checks in (src/jobservice/job/impl/gc
///   garbage_collection.go saveGCRes: the mark phase's estimate for a dry run, the sweep's actual figures otherwise).
/// The lab's collector works on what Harbor's does, the artifact trash (artifacts deleted through the emulator:
/// repository deletes, /v2/ manifest deletes, retention): the blobs of trashed manifests that no remaining artifact
/// references are freed. Blob files are left on the registry's disk; the lab registry never needs the space.
/// </summary>
public sealed partial class HarborEmulator
{
    private const string GcJobName = "GARBAGE_COLLECTION";
    private readonly List<LabGcRun> _gcRuns = [];
    private readonly List<(string Repository, string Digest, IReadOnlyList<(string Digest, long Size)> Blobs)> _artifactTrash = [];
    private LabGcSchedule? _gcSchedule;
    private string? _failNextGc;

    /// <summary>How long a lab GC run stays Running.</summary>
    public TimeSpan GcDuration { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>The next GC run ends in Error with this message in its log, as a jobservice failure would.</summary>
    public void FailNextGarbageCollection(string reason)
    {
        lock (_gate) _failNextGc = reason;
    }

    /// <summary>Harbor's artifact_trash: a deleted artifact's manifest and blobs (and its signature's) wait there for the next GC.</summary>
    private async Task TrashArtifactAsync(LabArtifact artifact, CancellationToken ct)
    {
        var signature = artifact.Signature is { } s ? await _backing.ManifestAsync(artifact.Repository, s.Digest, ct) : null;
        lock (_gate)
        {
            _artifactTrash.Add((artifact.Repository, artifact.Digest, artifact.Blobs));
            if (artifact.Signature is { } sig) _artifactTrash.Add((artifact.Repository, sig.Digest, signature?.Blobs ?? [(sig.Digest, sig.Size)]));
        }
    }

    private Task? RouteGcAsync(ApiCall c)
    {
        var s = c.Segments;
        if (s.Length < 2 || s[0] != "system" || s[1] != "gc") return null;
        if (c.Is("GET", "system", "gc")) return ListGcAsync(c);
        if (c.Is("GET", "system", "gc", "schedule")) return GetGcScheduleAsync(c);
        if (c.Is("POST", "system", "gc", "schedule") || c.Is("PUT", "system", "gc", "schedule")) return KickGcAsync(c);
        if (s.Length >= 3 && s[2] != "schedule")
        {
            if (!long.TryParse(s[2], out var id)) return FailAsync(c, 400, "BAD_REQUEST", $"parsing gc_id: {s[2]} is not an integer");
            if (c.Is("GET", "system", "gc", "*")) return GetGcAsync(c, id);
            if (c.Is("PUT", "system", "gc", "*")) return StopGcAsync(c, id);
            if (c.Is("GET", "system", "gc", "*", "log")) return GcLogAsync(c, id);
        }
        return null;
    }

    private Task? RequireGc(ApiCall c, string action) =>
        Can(c.Who, null, "garbage-collection", action) ? null
        : FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", c.Who.IsAnonymous ? "unauthorized" : "forbidden");

    private async Task KickGcAsync(ApiCall c)
    {
        if (RequireGc(c, c.Method == "POST" ? "create" : "update") is { } denied) { await denied; return; }
        var body = ParseBody(c) as JsonObject;
        var type = Str(body?["schedule"], "type");
        var cron = Str(body?["schedule"], "cron") ?? "";
        if (type is null) { await FailAsync(c, 400, "BAD_REQUEST", "schedule is required"); return; }
        var parameters = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["delete_untagged"] = false, ["delete_tag"] = false, ["dry_run"] = false, ["workers"] = 0, ["time_window"] = 2,
        };
        if (body?["parameters"] is JsonObject given)
        {
            foreach (var key in new[] { "delete_untagged", "delete_tag", "dry_run" })
                if (given[key] is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False) parameters[key] = flag.GetValue<bool>();
            if (given["workers"] is JsonValue workers && workers.GetValueKind() == JsonValueKind.Number)
            {
                if (!workers.TryGetValue<int>(out var count))
                {
                    await FailAsync(c, 400, "BAD_REQUEST", "workers should be integer format");
                    return;
                }
                if (count is <= 0 or > 10)
                {
                    await FailAsync(c, 400, "BAD_REQUEST", $"Error: Invalid number of workers:{count}. Workers must be greater than 0 and less than or equal to 10.");
                    return;
                }
                parameters["workers"] = count;
            }
        }
        long id = 0;
        switch (type)
        {
            case "Manual":
                id = await StartGcAsync("MANUAL", parameters, c.Context.RequestAborted);
                break;
            case "None":
                lock (_gate) _gcSchedule = null;
                break;
            case "Hourly" or "Daily" or "Weekly" or "Custom":
                if (CronProblem(cron) is { } problem)
                {
                    await FailAsync(c, 400, "BAD_REQUEST", $"invalid cron string for scheduled gc: {cron}, error: {problem}");
                    return;
                }
                lock (_gate) _gcSchedule = new LabGcSchedule(NextId(), type, cron, parameters, DateTimeOffset.UtcNow);
                break;
        }
        if (c.Method == "PUT") { await ReplyAsync(c, 200, null); return; }
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/system/gc/{id}" });
    }

    private async Task<long> StartGcAsync(string trigger, SortedDictionary<string, object> parameters, CancellationToken ct)
    {
        List<LabHarborProject> projects;
        lock (_gate) projects = _projects.ToList();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var project in projects)
            foreach (var artifact in await ArtifactsAsync(project, null, ct))
            {
                // An artifact's blobs include its manifest and, for an index, its children's.
                referenced.UnionWith(artifact.Blobs.Select(b => b.Digest));
                if (artifact.Signature is { } signature)
                {
                    referenced.Add(signature.Digest);
                    if (await _backing.ManifestAsync(artifact.Repository, signature.Digest, ct) is { } manifest) referenced.UnionWith(manifest.Blobs.Select(b => b.Digest));
                }
            }
        lock (_gate)
        {
            var dryRun = parameters["dry_run"] is true;
            var freeable = _artifactTrash.SelectMany(t => t.Blobs)
                .Where(b => !referenced.Contains(b.Digest)).DistinctBy(b => b.Digest).ToList();
            var manifests = _artifactTrash.Select(t => t.Digest).Where(d => !referenced.Contains(d)).Distinct().Count();
            if (!dryRun) _artifactTrash.Clear();
            var now = DateTimeOffset.UtcNow;
            var run = new LabGcRun
            {
                Id = NextId(), Trigger = trigger, Started = now, Finishes = now + GcDuration, Parameters = new(parameters),
                FreedBytes = freeable.Sum(b => b.Item2), PurgedBlobs = freeable.Count - manifests, PurgedManifests = manifests, Failure = _failNextGc,
            };
            _failNextGc = null;
            _gcRuns.Add(run);
            return run.Id;
        }
    }

    private object GcRunJson(LabGcRun run, DateTimeOffset now)
    {
        var status = run.Status(now);
        var attributes = new SortedDictionary<string, object>(run.Parameters, StringComparer.Ordinal);
        if (status == "Success")
        {
            attributes["freed_space"] = run.FreedBytes;
            attributes["purged_blobs"] = run.PurgedBlobs;
            attributes["purged_manifests"] = run.PurgedManifests;
        }
        return new
        {
            Id = run.Id, JobName = GcJobName, JobKind = run.Trigger, JobParameters = JsonSerializer.Serialize(attributes), JobStatus = status, Deleted = false,
            Schedule = new { Type = CultureInfo.InvariantCulture.TextInfo.ToTitleCase(run.Trigger.ToLowerInvariant()), Cron = "", NextScheduledTime = Time(DateTimeOffset.MinValue) },
            CreationTime = Time(run.Started), UpdateTime = Time(status is "Running" ? run.Started : run.Stopped ?? run.Finishes),
        };
    }

    private async Task ListGcAsync(ApiCall c)
    {
        if (RequireGc(c, "list") is { } denied) { await denied; return; }
        List<object> runs;
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            var ordered = c.Query("sort") is "creation_time" or "id" ? _gcRuns.OrderBy(r => r.Id) : _gcRuns.OrderByDescending(r => r.Id);
            runs = ordered.Select(r => GcRunJson(r, now)).ToList();
        }
        await ReplyPagedAsync(c, runs);
    }

    private async Task GetGcAsync(ApiCall c, long id)
    {
        if (RequireGc(c, "read") is { } denied) { await denied; return; }
        object? json;
        lock (_gate) json = _gcRuns.FirstOrDefault(r => r.Id == id) is { } run ? GcRunJson(run, DateTimeOffset.UtcNow) : null;
        await (json is null ? FailAsync(c, 404, "NOT_FOUND", $"garbage collection execution {id} not found") : ReplyAsync(c, 200, json));
    }

    private async Task StopGcAsync(ApiCall c, long id)
    {
        if (RequireGc(c, "stop") is { } denied) { await denied; return; }
        LabGcRun? run;
        lock (_gate)
        {
            run = _gcRuns.FirstOrDefault(r => r.Id == id);
            if (run is not null && run.Status(DateTimeOffset.UtcNow) == "Running") run.Stopped = DateTimeOffset.UtcNow;
        }
        await (run is null ? FailAsync(c, 404, "NOT_FOUND", $"garbage collection execution {id} not found") : ReplyAsync(c, 200, null));
    }

    private async Task GcLogAsync(ApiCall c, long id)
    {
        if (RequireGc(c, "read") is { } denied) { await denied; return; }
        string? log;
        lock (_gate) log = _gcRuns.FirstOrDefault(r => r.Id == id) is { } run ? run.Log(DateTimeOffset.UtcNow) : null;
        if (log is null) { await FailAsync(c, 404, "NOT_FOUND", $"garbage collection {id} log is not found"); return; }
        await WriteAsync(c, 200, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(log), null);
    }

    private async Task GetGcScheduleAsync(ApiCall c)
    {
        if (RequireGc(c, "read") is { } denied) { await denied; return; }
        LabGcSchedule? schedule;
        lock (_gate) schedule = _gcSchedule;
        if (schedule is null) { await ReplyAsync(c, 200, null); return; }
        await ReplyAsync(c, 200, new
        {
            Id = schedule.Id, JobName = "", JobKind = schedule.Cron, JobParameters = JsonSerializer.Serialize(schedule.Parameters), Deleted = false, JobStatus = "",
            Schedule = new { Type = schedule.Type, Cron = schedule.Cron, NextScheduledTime = Time(LabCron.Next(schedule.Cron, DateTimeOffset.UtcNow) ?? DateTimeOffset.MinValue) },
            CreationTime = Time(schedule.Created), UpdateTime = Time(schedule.Created),
        });
    }

    /// <summary>utils.ValidateCronString with Harbor's parser (seconds minutes hours day-of-month month day-of-week).</summary>
    private static string? CronProblem(string cron)
    {
        if (cron.Length == 0) return "empty cron string is invalid";
        var fields = cron.Split(' ');
        if (fields.Length != 6) return $"expected exactly 6 fields, found {fields.Length}: [{cron}]";
        if (!LabCron.Valid(fields)) return $"failed to parse cron [{cron}]";
        return fields[0] != "0" ? "the 1st field (indicating Seconds of time) of the cron setting must be 0" : null;
    }
}

internal sealed record LabGcSchedule(long Id, string Type, string Cron, SortedDictionary<string, object> Parameters, DateTimeOffset Created);

internal sealed class LabGcRun
{
    public required long Id { get; init; }
    public required string Trigger { get; init; }
    public required DateTimeOffset Started { get; init; }
    public required DateTimeOffset Finishes { get; init; }
    public required SortedDictionary<string, object> Parameters { get; init; }
    public required long FreedBytes { get; init; }
    public required int PurgedBlobs { get; init; }
    public required int PurgedManifests { get; init; }
    public string? Failure { get; init; }
    public DateTimeOffset? Stopped { get; set; }

    public string Status(DateTimeOffset now) =>
        Stopped is not null ? "Stopped" : now < Finishes ? "Running" : Failure is not null ? "Error" : "Success";

    /// <summary>The lines of src/jobservice/job/impl/gc/garbage_collection.go a run logs, so far.</summary>
    public string Log(DateTimeOffset now)
    {
        var dryRun = Parameters["dry_run"] is true;
        var log = new StringBuilder();
        void Line(DateTimeOffset at, string text) => log.Append(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append(" [INFO] ").AppendLine(text);
        Line(Started, $"Garbage Collection parameters: [delete_untagged: {Parameters["delete_untagged"].ToString()!.ToLowerInvariant()}, delete_tag: false, dry_run: {dryRun.ToString().ToLowerInvariant()}, time_window: 2, workers: {Parameters["workers"]}]");
        Line(Started, "start to run gc in job.");
        if (Status(now) == "Running") return log.ToString();
        if (Failure is not null)
        {
            log.Append(Finishes.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append(" [ERROR] ").AppendLine(Failure);
            return log.ToString();
        }
        Line(Finishes, $"{PurgedBlobs} blobs and {PurgedManifests} manifests eligible for deletion");
        Line(Finishes, $"The GC could free up {FreedBytes / 1024 / 1024} MB space, the size is a rough estimation.");
        if (!dryRun)
        {
            Line(Finishes, $"{PurgedBlobs} blobs and {PurgedManifests} manifests are actually deleted");
            Line(Finishes, $"The GC job actual frees up {FreedBytes / 1024 / 1024} MB space.");
        }
        Line(Finishes, "success to run gc in job.");
        return log.ToString();
    }
}
