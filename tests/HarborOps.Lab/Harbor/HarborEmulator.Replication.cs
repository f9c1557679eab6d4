using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Harbor;

/// <summary>A registry endpoint as Harbor stores it (/registries).</summary>
internal sealed class LabRegistryEndpoint
{
    public required long Id { get; init; }
    public required string Name { get; set; }
    public required string Url { get; set; }
    public required string Type { get; init; }
    public bool Insecure { get; set; }
    public string Description { get; set; } = "";
    public string? AccessKey { get; set; }
    public string? AccessSecret { get; set; }
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
}

internal sealed record LabReplicationFilter(string Type, string Value, string? Decoration);

internal sealed class LabReplicationPolicy
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public required long SourceRegistryId { get; init; }
    public string DestinationNamespace { get; init; } = "";
    public int ReplaceCount { get; init; } = -1;
    public List<LabReplicationFilter> Filters { get; init; } = [];
    public bool Override { get; init; } = true;
    public bool Enabled { get; init; } = true;
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
}

internal sealed class LabReplicationTask
{
    public required long Id { get; init; }
    public required long ExecutionId { get; init; }
    public required string Source { get; init; }
    public required string Destination { get; init; }
    public string Status { get; set; } = "Pending";
    public DateTimeOffset Start { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? End { get; set; }
}

internal sealed class LabReplicationExecution
{
    public required long Id { get; init; }
    public required long PolicyId { get; init; }
    public string Status { get; set; } = "InProgress";
    public string StatusText { get; set; } = "";
    public DateTimeOffset Start { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? End { get; set; }
    public List<LabReplicationTask> Tasks { get; } = [];
}

/// <summary>
/// Harbor's replication for pull policies: registry endpoints, policies with name and tag filters (doublestar globs with
/// {a,b}), and executions whose tasks (one per source repository) really copy each selected tag with skopeo from the
/// endpoint into this Harbor's /v2/, creating the destination project when missing, as Harbor's jobservice does.
/// </summary>
public sealed partial class HarborEmulator
{
    // The adapter types Harbor 2.15 registers (replication/adapters).
    private static readonly string[] AdapterTypes =
        ["harbor", "docker-hub", "docker-registry", "azure-acr", "github-ghcr", "aws-ecr", "google-gcr", "quay", "gitlab", "jfrog-artifactory", "alibaba-acr", "huawei-SWR", "tencent-tcr", "volcengine-cr", "dtr"];

    private readonly List<LabRegistryEndpoint> _registryEndpoints = [];
    private readonly List<LabReplicationPolicy> _replicationPolicies = [];
    private readonly List<LabReplicationExecution> _replicationExecutions = [];
    private readonly List<Task> _replicationRuns = [];

    private Task? RouteReplicationAsync(ApiCall c)
    {
        var s = c.Segments;
        if (c.Is("GET", "registries")) return ListRegistryEndpointsAsync(c);
        if (c.Is("POST", "registries")) return CreateRegistryEndpointAsync(c);
        if (c.Is("GET", "registries", "*")) return GetRegistryEndpointAsync(c, s[1]);
        if (c.Is("GET", "replication", "policies")) return ListReplicationPoliciesAsync(c);
        if (c.Is("POST", "replication", "policies")) return CreateReplicationPolicyAsync(c);
        if (c.Is("GET", "replication", "policies", "*")) return GetReplicationPolicyAsync(c, s[2]);
        if (c.Is("POST", "replication", "executions")) return StartReplicationAsync(c);
        if (c.Is("GET", "replication", "executions")) return ListReplicationExecutionsAsync(c);
        if (c.Is("GET", "replication", "executions", "*")) return GetReplicationExecutionAsync(c, s[2]);
        if (c.Is("GET", "replication", "executions", "*", "tasks")) return ListReplicationTasksAsync(c, s[2]);
        return null;
    }

    private Task? RequireReplicationAdmin(ApiCall c) =>
        c.Who.IsAnonymous ? FailAsync(c, 401, "UNAUTHORIZED", "unauthorized")
        : !c.Who.SysAdmin ? FailAsync(c, 403, "FORBIDDEN", "forbidden") : null;

    // ---------------------------------------------------------------- registries

    private static object RegistryJson(LabRegistryEndpoint r) => new
    {
        r.Id, r.Name, r.Url, r.Type, r.Insecure, r.Description, Status = "healthy",
        // Harbor never gives a stored secret back.
        Credential = new { Type = r.AccessKey is null ? "" : "basic", AccessKey = r.AccessKey ?? "", AccessSecret = r.AccessSecret is null ? "" : "*****" },
        CreationTime = Time(r.Created), UpdateTime = Time(r.Created),
    };

    private async Task CreateRegistryEndpointAsync(ApiCall c)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        var body = ParseBody(c);
        var name = Str(body, "name") ?? "";
        var url = Str(body, "url") ?? "";
        var type = Str(body, "type") ?? "";
        if (name.Length == 0) { await FailAsync(c, 400, "BAD_REQUEST", "name is required"); return; }
        if (!AdapterTypes.Contains(type)) { await FailAsync(c, 400, "BAD_REQUEST", $"adapter factory for {type} not found"); return; }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")) { await FailAsync(c, 400, "BAD_REQUEST", $"invalid url {url}"); return; }
        LabRegistryEndpoint endpoint;
        lock (_gate)
        {
            if (_registryEndpoints.Any(r => r.Name == name)) endpoint = null!;
            else
            {
                var credential = body?["credential"];
                endpoint = new LabRegistryEndpoint
                {
                    Id = NextId(), Name = name, Url = url.TrimEnd('/'), Type = type, Description = Str(body, "description") ?? "",
                    Insecure = body?["insecure"] is JsonValue i && i.TryGetValue<bool>(out var insecure) && insecure,
                    AccessKey = Str(credential, "access_key") is { Length: > 0 } key ? key : null,
                    AccessSecret = Str(credential, "access_secret") is { Length: > 0 } secret ? secret : null,
                };
                _registryEndpoints.Add(endpoint);
            }
        }
        if (endpoint is null) { await FailAsync(c, 409, "CONFLICT", $"the registry whose name is {name} already exists"); return; }
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/registries/{endpoint.Id}" });
    }

    private async Task ListRegistryEndpointsAsync(ApiCall c)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        var name = c.Query("name");
        List<object> rows;
        lock (_gate) rows = _registryEndpoints.Where(r => name is null || r.Name.Contains(name, StringComparison.Ordinal)).OrderBy(r => r.Id).Select(RegistryJson).ToList();
        await ReplyPagedAsync(c, rows);
    }

    private async Task GetRegistryEndpointAsync(ApiCall c, string id)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        LabRegistryEndpoint? endpoint;
        lock (_gate) endpoint = _registryEndpoints.FirstOrDefault(r => r.Id.ToString(CultureInfo.InvariantCulture) == id);
        if (endpoint is null) { await FailAsync(c, 404, "NOT_FOUND", $"registry {id} not found"); return; }
        await ReplyAsync(c, 200, RegistryJson(endpoint));
    }

    // ---------------------------------------------------------------- policies

    private object PolicyJson(LabReplicationPolicy p)
    {
        LabRegistryEndpoint? source;
        lock (_gate) source = _registryEndpoints.FirstOrDefault(r => r.Id == p.SourceRegistryId);
        return new
        {
            p.Id, p.Name, p.Description,
            SrcRegistry = source is null ? null : RegistryJson(source),
            DestRegistry = new { Id = 0, Name = "Local", Url = BaseUri.ToString().TrimEnd('/'), Type = "harbor", Insecure = false, Status = "healthy" },
            DestNamespace = p.DestinationNamespace, DestNamespaceReplaceCount = p.ReplaceCount,
            Trigger = new { Type = "manual", TriggerSettings = new { Cron = "" } },
            Filters = p.Filters.Select(f => new { f.Type, f.Value, f.Decoration }).ToArray(),
            ReplicateDeletion = false, Deletion = false, p.Override, p.Enabled,
            CreationTime = Time(p.Created), UpdateTime = Time(p.Created), Speed = 0, CopyByChunk = false, SingleActiveReplication = false,
        };
    }

    private async Task CreateReplicationPolicyAsync(ApiCall c)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        var body = ParseBody(c);
        var name = Str(body, "name") ?? "";
        if (name.Length == 0) { await FailAsync(c, 400, "BAD_REQUEST", "name is required"); return; }
        var sourceId = body?["src_registry"]?["id"] is JsonValue sid && sid.TryGetValue<long>(out var s) ? s : 0;
        var destinationId = body?["dest_registry"]?["id"] is JsonValue did && did.TryGetValue<long>(out var d) ? d : 0;
        if (sourceId == 0 || destinationId != 0)
        {
            await FailAsync(c, 400, "BAD_REQUEST", "the emulator replicates pull policies only: src_registry is a registry endpoint and dest_registry the local Harbor");
            return;
        }
        var destinationNamespace = Str(body, "dest_namespace") ?? "";
        if (destinationNamespace.Length > 0 && !Regex.IsMatch(destinationNamespace, "^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$"))
        {
            await FailAsync(c, 400, "BAD_REQUEST", $"invalid destination namespace: {destinationNamespace}");
            return;
        }
        var filters = new List<LabReplicationFilter>();
        foreach (var f in body?["filters"] as JsonArray ?? [])
        {
            var type = Str(f, "type") ?? "";
            if (type is not ("name" or "tag" or "label" or "resource")) { await FailAsync(c, 400, "BAD_REQUEST", $"invalid filter type: {type}"); return; }
            var value = f?["value"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
            if (value is null) { await FailAsync(c, 400, "BAD_REQUEST", $"{type} filter needs a string value"); return; }
            filters.Add(new LabReplicationFilter(type, value, Str(f, "decoration")));
        }
        LabReplicationPolicy policy;
        lock (_gate)
        {
            if (!_registryEndpoints.Any(r => r.Id == sourceId)) policy = null!;
            else if (_replicationPolicies.Any(p => p.Name == name)) policy = new LabReplicationPolicy { Id = -1, Name = name, SourceRegistryId = sourceId };
            else
            {
                policy = new LabReplicationPolicy
                {
                    Id = NextId(), Name = name, Description = Str(body, "description") ?? "", SourceRegistryId = sourceId,
                    DestinationNamespace = destinationNamespace,
                    ReplaceCount = body?["dest_namespace_replace_count"] is JsonValue rc && rc.TryGetValue<int>(out var count) ? count : -1,
                    Filters = filters,
                    Override = body?["override"] is not JsonValue o || !o.TryGetValue<bool>(out var over) || over,
                    Enabled = body?["enabled"] is not JsonValue e || !e.TryGetValue<bool>(out var enabled) || enabled,
                };
                _replicationPolicies.Add(policy);
            }
        }
        if (policy is null) { await FailAsync(c, 400, "BAD_REQUEST", $"registry {sourceId} not found"); return; }
        if (policy.Id == -1) { await FailAsync(c, 409, "CONFLICT", $"policy {name} already exists"); return; }
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/replication/policies/{policy.Id}" });
    }

    private async Task ListReplicationPoliciesAsync(ApiCall c)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        var name = c.Query("name");
        List<LabReplicationPolicy> policies;
        lock (_gate) policies = _replicationPolicies.Where(p => name is null || p.Name.Contains(name, StringComparison.Ordinal)).OrderBy(p => p.Id).ToList();
        await ReplyPagedAsync(c, policies.Select(PolicyJson).ToList());
    }

    private async Task GetReplicationPolicyAsync(ApiCall c, string id)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        LabReplicationPolicy? policy;
        lock (_gate) policy = _replicationPolicies.FirstOrDefault(p => p.Id.ToString(CultureInfo.InvariantCulture) == id);
        if (policy is null) { await FailAsync(c, 404, "NOT_FOUND", $"policy {id} not found"); return; }
        await ReplyAsync(c, 200, PolicyJson(policy));
    }

    // ---------------------------------------------------------------- executions

    private static object ExecutionJson(LabReplicationExecution e)
    {
        int Count(params string[] statuses) => e.Tasks.Count(t => statuses.Contains(t.Status));
        return new
        {
            e.Id, e.PolicyId, e.Status, e.StatusText, Trigger = "manual", StartTime = Time(e.Start), EndTime = e.End is { } end ? Time(end) : null,
            Total = e.Tasks.Count, Failed = Count("Failed"), Succeed = Count("Succeed"), InProgress = Count("Pending", "InProgress"), Stopped = Count("Stopped"),
        };
    }

    private async Task StartReplicationAsync(ApiCall c)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        var policyId = ParseBody(c)?["policy_id"] is JsonValue v && v.TryGetValue<long>(out var id) ? id : 0;
        LabReplicationPolicy? policy;
        LabRegistryEndpoint? source = null;
        LabReplicationExecution? execution = null;
        lock (_gate)
        {
            policy = _replicationPolicies.FirstOrDefault(p => p.Id == policyId);
            if (policy is not null && policy.Enabled)
            {
                source = _registryEndpoints.First(r => r.Id == policy.SourceRegistryId);
                execution = new LabReplicationExecution { Id = NextId(), PolicyId = policy.Id };
                _replicationExecutions.Add(execution);
                _replicationRuns.Add(Task.Run(() => RunReplicationAsync(policy, source, execution)));
            }
        }
        if (policy is null) { await FailAsync(c, 404, "NOT_FOUND", $"policy {policyId} not found"); return; }
        if (execution is null) { await FailAsync(c, 412, "PRECONDITION", $"the policy {policy.Name} is disabled"); return; }
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/replication/executions/{execution.Id}" });
    }

    private async Task ListReplicationExecutionsAsync(ApiCall c)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        var policyId = c.Query("policy_id");
        List<object> rows;
        lock (_gate)
            rows = _replicationExecutions.Where(e => policyId is null || e.PolicyId.ToString(CultureInfo.InvariantCulture) == policyId)
                .OrderByDescending(e => e.Id).Select(ExecutionJson).ToList();
        await ReplyPagedAsync(c, rows);
    }

    private async Task GetReplicationExecutionAsync(ApiCall c, string id)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        object? row;
        lock (_gate) row = _replicationExecutions.FirstOrDefault(e => e.Id.ToString(CultureInfo.InvariantCulture) == id) is { } e ? ExecutionJson(e) : null;
        if (row is null) { await FailAsync(c, 404, "NOT_FOUND", $"execution {id} not found"); return; }
        await ReplyAsync(c, 200, row);
    }

    private async Task ListReplicationTasksAsync(ApiCall c, string id)
    {
        if (RequireReplicationAdmin(c) is { } denied) { await denied; return; }
        List<object>? rows;
        lock (_gate)
            rows = _replicationExecutions.FirstOrDefault(e => e.Id.ToString(CultureInfo.InvariantCulture) == id)?.Tasks.Select(t => (object)new
            {
                t.Id, t.ExecutionId, t.Status, JobId = $"job-{t.Id}", Operation = "copy", ResourceType = "image",
                SrcResource = t.Source, DstResource = t.Destination, StartTime = Time(t.Start), EndTime = t.End is { } end ? Time(end) : null,
            }).ToList();
        if (rows is null) { await FailAsync(c, 404, "NOT_FOUND", $"execution {id} not found"); return; }
        await ReplyPagedAsync(c, rows);
    }

    /// <summary>Harbor's doublestar match: ** crosses '/', * and ? do not, {a,b} is either.</summary>
    internal static bool GlobMatches(string pattern, string text)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var ch = pattern[i];
            if (ch == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*') { regex.Append(".*"); i++; }
            else if (ch == '*') regex.Append("[^/]*");
            else if (ch == '?') regex.Append("[^/]");
            else if (ch == '{') regex.Append("(?:");
            else if (ch == '}') regex.Append(')');
            else if (ch == ',') regex.Append('|');
            else regex.Append(Regex.Escape(ch.ToString()));
        }
        return Regex.IsMatch(text, regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }

    private static bool Selected(IEnumerable<LabReplicationFilter> filters, string type, string value) =>
        filters.Where(f => f.Type == type).All(f => GlobMatches(f.Value, value) != (f.Decoration == "excludes"));

    private static string DestinationOf(LabReplicationPolicy policy, string repository)
    {
        if (policy.DestinationNamespace.Length == 0) return repository;
        var parts = repository.Split('/');
        var kept = policy.ReplaceCount < 0 ? parts[^1..] : parts.Skip(policy.ReplaceCount).ToArray();
        return kept.Length == 0 ? policy.DestinationNamespace : $"{policy.DestinationNamespace}/{string.Join('/', kept)}";
    }

    private async Task RunReplicationAsync(LabReplicationPolicy policy, LabRegistryEndpoint source, LabReplicationExecution execution)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            if (source.AccessKey is not null)
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{source.AccessKey}:{source.AccessSecret}")));
            using var catalog = JsonDocument.Parse(await http.GetStringAsync($"{source.Url}/v2/_catalog?n=1000"));
            var repositories = catalog.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!)
                .Where(r => Selected(policy.Filters, "name", r)).Order(StringComparer.Ordinal).ToList();
            var work = new List<(LabReplicationTask Task, string Repository, List<string> Tags, string Destination)>();
            foreach (var repository in repositories)
            {
                using var tagList = JsonDocument.Parse(await http.GetStringAsync($"{source.Url}/v2/{repository}/tags/list"));
                var tags = tagList.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)
                    .Where(t => Selected(policy.Filters, "tag", t)).Order(StringComparer.Ordinal).ToList();
                if (tags.Count == 0) continue;
                var destination = DestinationOf(policy, repository);
                lock (_gate)
                {
                    var task = new LabReplicationTask
                    {
                        Id = NextId(), ExecutionId = execution.Id,
                        Source = $"{repository}:[{string.Join(',', tags)}]", Destination = $"{destination}:[{string.Join(',', tags)}]",
                    };
                    execution.Tasks.Add(task);
                    work.Add((task, repository, tags, destination));
                }
            }
            var sourceHost = new Uri(source.Url).Authority;
            foreach (var (task, repository, tags, destination) in work)
            {
                lock (_gate) { task.Status = "InProgress"; task.Start = DateTimeOffset.UtcNow; }
                EnsureReplicationProject(destination.Split('/')[0]);
                var ok = true;
                foreach (var tag in tags)
                {
                    var arguments = new List<string> { "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false" };
                    if (source.AccessKey is not null) arguments.AddRange(["--src-creds", $"{source.AccessKey}:{source.AccessSecret}"]);
                    arguments.AddRange([$"docker://{sourceHost}/{repository}:{tag}", $"docker://{Host}/{destination}:{tag}"]);
                    var result = await LabSkopeo.RunAsync(AdminEndpoint, arguments);
                    if (result.ExitCode != 0) ok = false;
                }
                lock (_gate) { task.Status = ok ? "Succeed" : "Failed"; task.End = DateTimeOffset.UtcNow; }
            }
            lock (_gate)
            {
                var failed = execution.Tasks.Count(t => t.Status == "Failed");
                execution.Status = failed == 0 ? "Succeed" : "Failed";
                execution.StatusText = failed == 0 ? "" : $"{failed} task(s) failed";
                execution.End = DateTimeOffset.UtcNow;
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                execution.Status = "Failed";
                execution.StatusText = ex.Message;
                execution.End = DateTimeOffset.UtcNow;
            }
        }
    }

    /// <summary>Harbor creates a missing destination project for a replication: private, default metadata, owned by the admin.</summary>
    private void EnsureReplicationProject(string name)
    {
        lock (_gate)
        {
            if (_projects.Any(p => p.Name == name)) return;
            var owner = _users.First(u => u.SysAdmin);
            var project = new LabHarborProject { Id = NextId(), Name = name, OwnerId = owner.Id, OwnerName = owner.Name, AllowlistId = NextId(), QuotaId = NextId() };
            project.Metadata["public"] = "false";
            _projects.Add(project);
        }
    }
}
