using System.Globalization;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// Harbor's garbage collection (goharbor/harbor v2.15.2 src/server/v2.0/handler/gc.go): the schedule, a run now (type
/// Manual, with dry_run as Harbor offers), its history with the freed bytes the job checks in (src/controller/gc/callback.go
/// gcCheckIn puts freed_space, purged_blobs and purged_manifests into the run's job_parameters), and waiting for a run.
/// Everything needs a system administrator (or a system robot with garbage-collection permissions).
/// </summary>
public sealed partial class HarborClient
{
    /// <summary>The schedule types Harbor's handler accepts for a recurring GC, and the cron its portal sends for the named ones.</summary>
    public static readonly IReadOnlyDictionary<string, string?> GarbageCollectionSchedules = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
    {
        ["None"] = null, ["Hourly"] = "0 0 * * * *", ["Daily"] = "0 0 0 * * *", ["Weekly"] = "0 0 0 * * 0", ["Custom"] = null,
    };

    public async Task<HarborGarbageCollectionSchedule> GetGarbageCollectionScheduleAsync(CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, "system/gc/schedule") { Description = "reading the garbage collection schedule" };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        // No schedule: 200 with no body (handler/gc.go GetGCSchedule on a not-found schedule).
        if (response.Body.Length == 0) return new HarborGarbageCollectionSchedule { Harbor = Connection.Url.ToString() };
        var dto = response.Read<GcHistoryDto>(call);
        var parameters = GcParameters(dto.JobParameters);
        return new HarborGarbageCollectionSchedule
        {
            Harbor = Connection.Url.ToString(), Schedule = dto.Schedule?.Type ?? "None", Cron = dto.Schedule?.Cron,
            NextRun = dto.Schedule?.NextScheduledTime is { Year: > 1 } next ? next : null,
            DryRun = Flag(parameters, "dry_run"), DeleteUntagged = Flag(parameters, "delete_untagged"), Workers = (int)(Number(parameters, "workers") ?? 0),
        };
    }

    /// <summary>Replaces the schedule (None removes it). Hourly, Daily and Weekly get the cron Harbor's portal sends; Custom needs one.</summary>
    public async Task<HarborGarbageCollectionSchedule> SetGarbageCollectionScheduleAsync(string schedule, string? cron, bool deleteUntagged, int? workers, bool dryRun,
        CancellationToken cancellationToken)
    {
        var type = GarbageCollectionSchedules.Keys.FirstOrDefault(k => string.Equals(k, schedule, StringComparison.OrdinalIgnoreCase))
            ?? throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                $"'{schedule}' is not a garbage collection schedule; use {string.Join(", ", GarbageCollectionSchedules.Keys)}.", schedule);
        cron = string.IsNullOrWhiteSpace(cron) ? GarbageCollectionSchedules[type] : cron.Trim();
        if (type == "Custom" && cron is null)
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                "A Custom schedule needs -Cron: six fields, seconds first and 0 (for example '0 0 2 * * 6' for Saturdays at 02:00).", schedule);
        if (cron is not null && type != "None" && cron.Split(' ', StringSplitOptions.RemoveEmptyEntries) is var fields && (fields.Length != 6 || fields[0] != "0"))
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument,
                $"Harbor's cron has six fields with the seconds first and 0 ('0 0 2 * * 6' is Saturdays at 02:00); '{cron}' is not one.", cron);
        await SendAsync(new HarborCall(HttpMethod.Put, "system/gc/schedule")
        {
            Body = GcRequest(type, type == "None" ? null : cron, deleteUntagged, workers, dryRun),
            Target = type, Description = $"setting the garbage collection schedule to {type}",
        }, cancellationToken).ConfigureAwait(false);
        return await GetGarbageCollectionScheduleAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a garbage collection now; a dry run only reports what it would free.</summary>
    public async Task<HarborGarbageCollectionInfo> StartGarbageCollectionAsync(bool dryRun, bool deleteUntagged, int? workers, CancellationToken cancellationToken)
    {
        var response = await SendAsync(new HarborCall(HttpMethod.Post, "system/gc/schedule")
        {
            Body = GcRequest("Manual", null, deleteUntagged, workers, dryRun), Target = "garbage collection",
            Description = dryRun ? "starting a garbage collection dry run" : "starting a garbage collection",
        }, cancellationToken).ConfigureAwait(false);
        return await GetGarbageCollectionAsync(IdFromLocation(response, "garbage collection"), cancellationToken).ConfigureAwait(false);
    }

    public async Task<HarborGarbageCollectionInfo> GetGarbageCollectionAsync(long id, CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, $"system/gc/{id}")
        {
            Target = id, Description = $"reading garbage collection {id}", NotFoundId = HarborErrorIds.GarbageCollectionNotFound,
            NotFoundMessage = $"Harbor at {Connection.Url} has no garbage collection run {id}; Get-HarborGarbageCollection lists them",
        };
        return ToGarbageCollection((await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<GcHistoryDto>(call));
    }

    /// <summary>The run history, newest first.</summary>
    public async Task<IReadOnlyList<HarborGarbageCollectionInfo>> ListGarbageCollectionsAsync(CancellationToken cancellationToken)
    {
        var runs = new List<HarborGarbageCollectionInfo>();
        await foreach (var dto in ListAsync<GcHistoryDto>(new HarborCall(HttpMethod.Get, "system/gc?sort=-creation_time")
        { Description = "listing garbage collection runs" }, cancellationToken).ConfigureAwait(false))
            runs.Add(ToGarbageCollection(dto));
        return runs.OrderByDescending(r => r.Id).ToList();
    }

    /// <summary>The run's job log as Harbor keeps it (text).</summary>
    public async Task<string> GetGarbageCollectionLogAsync(long id, CancellationToken cancellationToken)
    {
        var response = await SendAsync(new HarborCall(HttpMethod.Get, $"system/gc/{id}/log")
        {
            Target = id, Description = $"reading the log of garbage collection {id}", NotFoundId = HarborErrorIds.GarbageCollectionNotFound,
        }, cancellationToken).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(response.Body);
    }

    /// <summary>Polls a run until it finishes, reporting its status and last log line; a run still going at the timeout is an error.</summary>
    public async Task<HarborGarbageCollectionInfo> WaitForGarbageCollectionAsync(long id, TimeSpan timeout, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var activity = $"Waiting for garbage collection {id}";
        while (true)
        {
            var run = await GetGarbageCollectionAsync(id, cancellationToken).ConfigureAwait(false);
            var lastLine = LastLogLine(await GetGarbageCollectionLogAsync(id, cancellationToken).ConfigureAwait(false));
            progress?.Report(new OperationProgress(activity, $"{run.Status}{(lastLine is null ? "" : ": " + lastLine)}", null, run.IsFinished ? 1 : 0, 1, run.IsFinished));
            if (run.IsFinished) return run;
            if (DateTimeOffset.UtcNow >= deadline)
                throw new HarborException(HarborErrorIds.GarbageCollectionTimeout, FailureKind.Timeout,
                    $"Garbage collection {id} was still {run.Status} after {timeout.TotalSeconds:0} s. It goes on in Harbor; check it later with Get-HarborGarbageCollection -Id {id}.", id);
            await Task.Delay(Options.ScanPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The error for a run that ended in Error or Stopped, with the last line of its log.</summary>
    public async Task<HarborException> GarbageCollectionFailureAsync(HarborGarbageCollectionInfo run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var lastLine = LastLogLine(await GetGarbageCollectionLogAsync(run.Id, cancellationToken).ConfigureAwait(false));
        return new HarborException(HarborErrorIds.GarbageCollectionFailed, FailureKind.ServerError,
            $"Garbage collection {run.Id} ended {run.Status}{(lastLine is null ? "" : ": " + lastLine)}. Its full log: Get-HarborGarbageCollection -Id {run.Id} -Log; jobservice's log has the rest.",
            run.Id);
    }

    private static string? LastLogLine(string log) =>
        log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() is { Length: > 0 } line
            ? line.Length > 300 ? line[..300] : line : null;

    private static GcScheduleReqDto GcRequest(string type, string? cron, bool deleteUntagged, int? workers, bool dryRun)
    {
        if (workers is < 1 or > 10)
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, $"Harbor runs garbage collection with 1 to 10 workers, not {workers}.", workers);
        var parameters = new Dictionary<string, object> { ["delete_untagged"] = deleteUntagged, ["dry_run"] = dryRun };
        if (workers is { } count) parameters["workers"] = count;
        return new GcScheduleReqDto { Schedule = new GcScheduleObjDto { Type = type, Cron = cron }, Parameters = parameters };
    }

    private HarborGarbageCollectionInfo ToGarbageCollection(GcHistoryDto dto)
    {
        var parameters = GcParameters(dto.JobParameters);
        return new HarborGarbageCollectionInfo
        {
            Harbor = Connection.Url.ToString(), Id = dto.Id, Status = dto.JobStatus ?? "",
            Trigger = CultureInfo.InvariantCulture.TextInfo.ToTitleCase((dto.JobKind ?? "").ToLowerInvariant()),
            DryRun = Flag(parameters, "dry_run"), DeleteUntagged = Flag(parameters, "delete_untagged"), Workers = (int)(Number(parameters, "workers") ?? 0),
            FreedBytes = Number(parameters, "freed_space"), PurgedBlobs = Number(parameters, "purged_blobs"), PurgedManifests = Number(parameters, "purged_manifests"),
            StartTime = dto.CreationTime, UpdateTime = dto.UpdateTime,
        };
    }

    /// <summary>job_parameters is a JSON object inside a string; anything else reads as no parameters.</summary>
    private static Dictionary<string, JsonElement> GcParameters(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return [];
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static bool Flag(Dictionary<string, JsonElement> values, string key) => values.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.True;

    private static long? Number(Dictionary<string, JsonElement> values, string key) =>
        values.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}

internal sealed class GcHistoryDto
{
    public long Id { get; set; }
    public string? JobName { get; set; }
    public string? JobKind { get; set; }
    public string? JobParameters { get; set; }
    public string? JobStatus { get; set; }
    public GcScheduleObjDto? Schedule { get; set; }
    public DateTimeOffset? CreationTime { get; set; }
    public DateTimeOffset? UpdateTime { get; set; }
}

internal sealed class GcScheduleObjDto
{
    public string? Type { get; set; }
    public string? Cron { get; set; }
    public DateTimeOffset? NextScheduledTime { get; set; }
}

internal sealed class GcScheduleReqDto
{
    public GcScheduleObjDto? Schedule { get; set; }
    public Dictionary<string, object>? Parameters { get; set; }
}
