using System.Globalization;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>Harbor's /quotas: one storage quota per project.</summary>
public sealed partial class HarborEmulator
{
    // ---------------------------------------------------------------- quotas

    private async Task<object> QuotaJsonAsync(LabHarborProject project, CancellationToken ct)
    {
        var used = UsedStorage(await ArtifactsAsync(project, null, ct));
        return new
        {
            Id = project.QuotaId, Ref = new Dictionary<string, object> { ["id"] = project.Id, ["name"] = project.Name, ["owner_name"] = project.OwnerName },
            Hard = new Dictionary<string, long> { ["storage"] = project.StorageLimit }, Used = new Dictionary<string, long> { ["storage"] = used },
            CreationTime = Time(project.Created), UpdateTime = Time(project.Updated),
        };
    }

    private async Task ListQuotasAsync(ApiCall c)
    {
        if (!Can(c.Who, null, "quota", "list")) { await FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden"); return; }
        List<LabHarborProject> projects;
        lock (_gate) projects = _projects.Where(p => c.Query("reference_id") is not { } rid || p.Id.ToString(CultureInfo.InvariantCulture) == rid).ToList();
        var rows = new List<(object Json, long Used, long Hard, string Name)>();
        foreach (var project in projects)
        {
            var used = UsedStorage(await ArtifactsAsync(project, null, c.Context.RequestAborted));
            rows.Add((await QuotaJsonAsync(project, c.Context.RequestAborted), used, project.StorageLimit, project.Name));
        }
        var sort = c.Query("sort") ?? "";
        IEnumerable<(object Json, long Used, long Hard, string Name)> sorted = sort.TrimStart('-') switch
        {
            "used.storage" => sort.StartsWith('-') ? rows.OrderByDescending(r => r.Used) : rows.OrderBy(r => r.Used),
            "hard.storage" => sort.StartsWith('-') ? rows.OrderByDescending(r => r.Hard) : rows.OrderBy(r => r.Hard),
            _ => rows.OrderBy(r => r.Name, StringComparer.Ordinal),
        };
        await ReplyPagedAsync(c, sorted.Select(r => r.Json).ToList());
    }

    private async Task GetQuotaAsync(ApiCall c, string id)
    {
        LabHarborProject? project;
        lock (_gate) project = _projects.FirstOrDefault(p => p.QuotaId.ToString(CultureInfo.InvariantCulture) == id);
        if (project is null) { await FailAsync(c, 404, "NOT_FOUND", $"quota {id} not found"); return; }
        if (!Can(c.Who, null, "quota", "read")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        await ReplyAsync(c, 200, await QuotaJsonAsync(project, c.Context.RequestAborted));
    }

    private async Task UpdateQuotaAsync(ApiCall c, string id)
    {
        LabHarborProject? project;
        lock (_gate) project = _projects.FirstOrDefault(p => p.QuotaId.ToString(CultureInfo.InvariantCulture) == id);
        if (project is null) { await FailAsync(c, 404, "NOT_FOUND", $"quota {id} not found"); return; }
        if (!Can(c.Who, null, "quota", "update")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var hard = ParseBody(c)?["hard"]?["storage"];
        if (hard is not JsonValue value || !value.TryGetValue<long>(out var limit) || (limit < 1 && limit != -1))
        {
            await FailAsync(c, 400, "BAD_REQUEST", "hard.storage must be -1 or a positive number of bytes");
            return;
        }
        lock (_gate) project.StorageLimit = limit;
        await ReplyAsync(c, 200, null);
    }
}
