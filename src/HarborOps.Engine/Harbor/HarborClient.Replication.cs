using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>A registry endpoint to create: Harbor's adapter type, its URL and an optional credential.</summary>
public sealed record HarborRegistryEndpointRequest(string Name, string Type, Uri Url)
{
    public NetworkCredential? Credential { get; init; }
    /// <summary>Do not verify the endpoint's TLS certificate.</summary>
    public bool Insecure { get; init; }
    public string? Description { get; init; }
}

/// <summary>A pull replication policy to create: from a registry endpoint into this Harbor.</summary>
public sealed record HarborPullReplicationRequest(string Name, long SourceRegistryId)
{
    /// <summary>Doublestar pattern of source repositories ("team/**", "{api,web}"); null replicates every repository.</summary>
    public string? NameFilter { get; init; }
    /// <summary>Doublestar pattern of tags ("v1.*"); null replicates every tag.</summary>
    public string? TagFilter { get; init; }
    /// <summary>Widen the tag filter so cosign's sha256-*.sig tags come along with the tags it selects (default).</summary>
    public bool KeepSignatureTags { get; init; } = true;
    /// <summary>The destination project (and path) the repositories land under; null keeps the source paths.</summary>
    public string? DestinationNamespace { get; init; }
    /// <summary>Leading path components of the source repository replaced by the namespace; -1 is Harbor's legacy (all but the last).</summary>
    public int DestinationNamespaceReplaceCount { get; init; } = -1;
    /// <summary>Overwrite destination tags that differ.</summary>
    public bool Override { get; init; } = true;
    public string? Description { get; init; }
}

public sealed partial class HarborClient
{
    /// <summary>The tag pattern of cosign signatures, added to a tag filter so that signatures are not left behind.</summary>
    public const string SignatureTagPattern = "sha256-*.sig";

    // ---------------------------------------------------------------- registry endpoints

    public async Task<HarborRegistryEndpointInfo> CreateRegistryEndpointAsync(HarborRegistryEndpointRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new RegistryDto
        {
            Name = request.Name, Type = request.Type, Url = request.Url.ToString().TrimEnd('/'), Insecure = request.Insecure, Description = request.Description,
            Credential = request.Credential is null ? null
                : new RegistryCredentialDto { Type = "basic", AccessKey = request.Credential.UserName, AccessSecret = request.Credential.Password },
        };
        var response = await SendAsync(new HarborCall(HttpMethod.Post, "registries")
        {
            Body = body, Target = request.Name, Description = $"creating registry endpoint '{request.Name}'",
            ConflictId = HarborErrorIds.RegistryEndpointExists,
            ConflictHint = $"A registry endpoint named '{request.Name}' exists already; Get-HarborRegistryEndpoint shows it.",
        }, cancellationToken).ConfigureAwait(false);
        return await GetRegistryEndpointAsync(IdFromLocation(response, request.Name), cancellationToken).ConfigureAwait(false);
    }

    public async Task<HarborRegistryEndpointInfo> GetRegistryEndpointAsync(long id, CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, $"registries/{id}")
        {
            Target = id, Description = $"reading registry endpoint {id}", NotFoundId = HarborErrorIds.RegistryEndpointNotFound,
            NotFoundMessage = $"Registry endpoint {id} does not exist on {Connection.Url}. Get-HarborRegistryEndpoint lists them.",
        };
        return ToRegistryEndpointInfo((await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<RegistryDto>(call));
    }

    /// <summary>Registry endpoints whose name matches the wildcard pattern (every one when null), by name.</summary>
    public async Task<IReadOnlyList<HarborRegistryEndpointInfo>> ListRegistryEndpointsAsync(string? namePattern, CancellationToken cancellationToken)
    {
        var filter = namePattern is null ? null : Wildcard(namePattern);
        var list = new List<HarborRegistryEndpointInfo>();
        await foreach (var dto in ListAsync<RegistryDto>(new HarborCall(HttpMethod.Get, "registries") { Description = "listing registry endpoints" }, cancellationToken).ConfigureAwait(false))
            if (filter is null || filter.IsMatch(dto.Name ?? "")) list.Add(ToRegistryEndpointInfo(dto));
        return list.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    private HarborRegistryEndpointInfo ToRegistryEndpointInfo(RegistryDto dto) => new()
    {
        Harbor = Connection.Url.ToString(), Id = dto.Id, Name = dto.Name ?? "", Type = dto.Type ?? "", Url = dto.Url ?? "", Insecure = dto.Insecure,
        AccessKey = dto.Credential?.AccessKey is { Length: > 0 } key ? key : null, Status = dto.Status, Description = dto.Description, CreationTime = dto.CreationTime,
    };

    // ---------------------------------------------------------------- policies

    /// <summary>The tag filter Harbor stores: the user's pattern, widened by the signature tags when they are kept.</summary>
    public static string? EffectiveTagFilter(string? tagFilter, bool keepSignatureTags) =>
        string.IsNullOrEmpty(tagFilter) || tagFilter is "*" or "**" || !keepSignatureTags ? (string.IsNullOrEmpty(tagFilter) ? null : tagFilter)
        : $"{{{tagFilter.Trim('{', '}')},{SignatureTagPattern}}}";

    public async Task<HarborReplicationPolicyInfo> CreatePullReplicationPolicyAsync(HarborPullReplicationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Name))
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, "A replication policy needs a name.");
        var filters = new List<ReplicationFilterDto>();
        if (!string.IsNullOrEmpty(request.NameFilter)) filters.Add(new ReplicationFilterDto { Type = "name", Value = request.NameFilter });
        if (EffectiveTagFilter(request.TagFilter, request.KeepSignatureTags) is { } tags) filters.Add(new ReplicationFilterDto { Type = "tag", Value = tags, Decoration = "matches" });
        var body = new ReplicationPolicyDto
        {
            Name = request.Name, Description = request.Description, SrcRegistry = new RegistryDto { Id = request.SourceRegistryId },
            DestNamespace = request.DestinationNamespace, DestNamespaceReplaceCount = request.DestinationNamespaceReplaceCount,
            Trigger = new ReplicationTriggerDto { Type = "manual" }, Filters = filters, Override = request.Override, Enabled = true, Deletion = false,
        };
        var response = await SendAsync(new HarborCall(HttpMethod.Post, "replication/policies")
        {
            Body = body, Target = request.Name, Description = $"creating replication policy '{request.Name}'",
            ConflictId = HarborErrorIds.ReplicationPolicyExists,
            ConflictHint = $"A replication policy named '{request.Name}' exists already.",
        }, cancellationToken).ConfigureAwait(false);
        return await GetReplicationPolicyAsync(IdFromLocation(response, request.Name), cancellationToken).ConfigureAwait(false);
    }

    public async Task<HarborReplicationPolicyInfo> GetReplicationPolicyAsync(long id, CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, $"replication/policies/{id}")
        {
            Target = id, Description = $"reading replication policy {id}", NotFoundId = HarborErrorIds.ReplicationPolicyNotFound,
            NotFoundMessage = $"Replication policy {id} does not exist on {Connection.Url}.",
        };
        return ToPolicyInfo((await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<ReplicationPolicyDto>(call));
    }

    /// <summary>The policy of that name; throws ReplicationPolicyNotFound naming it otherwise.</summary>
    public async Task<HarborReplicationPolicyInfo> FindReplicationPolicyAsync(string name, CancellationToken cancellationToken)
    {
        await foreach (var dto in ListAsync<ReplicationPolicyDto>(new HarborCall(HttpMethod.Get, $"replication/policies?name={Uri.EscapeDataString(name)}")
        { Description = $"finding replication policy '{name}'" }, cancellationToken).ConfigureAwait(false))
            if (dto.Name == name) return ToPolicyInfo(dto);
        throw new HarborException(HarborErrorIds.ReplicationPolicyNotFound, FailureKind.NotFound,
            $"There is no replication policy named '{name}' on {Connection.Url}. New-HarborReplicationPolicy creates one.", name);
    }

    private HarborReplicationPolicyInfo ToPolicyInfo(ReplicationPolicyDto dto) => new()
    {
        Harbor = Connection.Url.ToString(), Id = dto.Id, Name = dto.Name ?? "", SourceRegistry = dto.SrcRegistry?.Name, SourceRegistryId = dto.SrcRegistry?.Id,
        DestinationNamespace = dto.DestNamespace, DestinationNamespaceReplaceCount = dto.DestNamespaceReplaceCount,
        NameFilter = dto.Filters?.FirstOrDefault(f => f.Type == "name")?.Value?.ToString(),
        TagFilter = dto.Filters?.FirstOrDefault(f => f.Type == "tag")?.Value?.ToString(),
        Trigger = dto.Trigger?.Type, Override = dto.Override, Enabled = dto.Enabled, CreationTime = dto.CreationTime,
    };

    // ---------------------------------------------------------------- executions

    public async Task<HarborReplicationExecutionInfo> StartReplicationAsync(long policyId, CancellationToken cancellationToken)
    {
        var response = await SendAsync(new HarborCall(HttpMethod.Post, "replication/executions")
        {
            Body = new StartReplicationDto { PolicyId = policyId }, Target = policyId, Description = $"starting replication policy {policyId}",
            NotFoundId = HarborErrorIds.ReplicationPolicyNotFound, NotFoundMessage = $"Replication policy {policyId} does not exist on {Connection.Url}.",
        }, cancellationToken).ConfigureAwait(false);
        return await GetReplicationExecutionAsync(IdFromLocation(response, policyId.ToString(System.Globalization.CultureInfo.InvariantCulture)), false, cancellationToken).ConfigureAwait(false);
    }

    public async Task<HarborReplicationExecutionInfo> GetReplicationExecutionAsync(long id, bool withTasks, CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, $"replication/executions/{id}")
        {
            Target = id, Description = $"reading replication execution {id}", NotFoundId = HarborErrorIds.ReplicationExecutionNotFound,
            NotFoundMessage = $"Replication execution {id} does not exist on {Connection.Url}. Get-HarborReplicationExecution -Policy lists a policy's runs.",
        };
        var dto = (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<ReplicationExecutionDto>(call);
        var tasks = withTasks ? await ListReplicationTasksAsync(id, cancellationToken).ConfigureAwait(false) : [];
        return ToExecutionInfo(dto, tasks);
    }

    /// <summary>A policy's executions, newest first.</summary>
    public async Task<IReadOnlyList<HarborReplicationExecutionInfo>> ListReplicationExecutionsAsync(long policyId, CancellationToken cancellationToken)
    {
        var list = new List<HarborReplicationExecutionInfo>();
        await foreach (var dto in ListAsync<ReplicationExecutionDto>(new HarborCall(HttpMethod.Get, $"replication/executions?policy_id={policyId}")
        { Description = $"listing the executions of replication policy {policyId}" }, cancellationToken).ConfigureAwait(false))
            list.Add(ToExecutionInfo(dto, []));
        return list.OrderByDescending(e => e.Id).ToList();
    }

    public async Task<HarborReplicationTaskInfo[]> ListReplicationTasksAsync(long executionId, CancellationToken cancellationToken)
    {
        var list = new List<HarborReplicationTaskInfo>();
        await foreach (var dto in ListAsync<ReplicationTaskDto>(new HarborCall(HttpMethod.Get, $"replication/executions/{executionId}/tasks")
        { Description = $"listing the tasks of replication execution {executionId}" }, cancellationToken).ConfigureAwait(false))
            list.Add(new HarborReplicationTaskInfo
            {
                Id = dto.Id, ExecutionId = dto.ExecutionId, Status = dto.Status ?? "", Operation = dto.Operation, ResourceType = dto.ResourceType,
                Source = dto.SrcResource, Destination = dto.DstResource, StartTime = dto.StartTime, EndTime = dto.EndTime,
            });
        return list.OrderBy(t => t.Id).ToArray();
    }

    /// <summary>Polls an execution until it finishes (reporting task counts), then returns it with its tasks.</summary>
    public async Task<HarborReplicationExecutionInfo> WaitForReplicationAsync(long executionId, TimeSpan timeout, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var activity = $"Waiting for replication execution {executionId}";
        while (true)
        {
            var execution = await GetReplicationExecutionAsync(executionId, false, cancellationToken).ConfigureAwait(false);
            var done = execution.Succeed + execution.Failed + execution.Stopped;
            progress?.Report(new OperationProgress(activity, $"{execution.Status}: {done} of {execution.Total} tasks finished, {execution.Failed} failed",
                null, done, Math.Max(execution.Total, done), execution.IsFinished));
            if (execution.IsFinished) return await GetReplicationExecutionAsync(executionId, true, cancellationToken).ConfigureAwait(false);
            if (DateTimeOffset.UtcNow >= deadline)
                throw new HarborException(HarborErrorIds.ReplicationTimeout, FailureKind.Timeout,
                    $"Replication execution {executionId} was still {execution.Status} after {timeout.TotalSeconds:0} s ({done} of {execution.Total} tasks finished). It goes on in Harbor; check it later with Get-HarborReplicationExecution -Id {executionId}.",
                    executionId);
            await Task.Delay(Options.ScanPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private HarborReplicationExecutionInfo ToExecutionInfo(ReplicationExecutionDto dto, HarborReplicationTaskInfo[] tasks) => new()
    {
        Harbor = Connection.Url.ToString(), Id = dto.Id, PolicyId = dto.PolicyId, Status = dto.Status ?? "", StatusText = dto.StatusText, Trigger = dto.Trigger,
        StartTime = dto.StartTime, EndTime = dto.EndTime, Total = dto.Total, Succeed = dto.Succeed, Failed = dto.Failed, InProgress = dto.InProgress,
        Stopped = dto.Stopped, Tasks = tasks,
    };

    private static long IdFromLocation(HarborResponse response, string what)
    {
        var idText = response.Header("Location")?.TrimEnd('/').Split('/').LastOrDefault();
        return long.TryParse(idText, out var id) ? id
            : throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.ServerError,
                $"Harbor created '{what}' but its answer had no usable Location header (X-Request-Id {response.RequestId}).", what);
    }
}

internal sealed class RegistryDto
{
    public long Id { get; set; }
    public string? Name { get; set; }
    public string? Type { get; set; }
    public string? Url { get; set; }
    public bool Insecure { get; set; }
    public string? Description { get; set; }
    public string? Status { get; set; }
    public RegistryCredentialDto? Credential { get; set; }
    public DateTimeOffset? CreationTime { get; set; }
}

internal sealed class RegistryCredentialDto
{
    public string? Type { get; set; }
    public string? AccessKey { get; set; }
    public string? AccessSecret { get; set; }
}

internal sealed class ReplicationFilterDto
{
    public string? Type { get; set; }
    /// <summary>A string for name and tag filters (a label filter has a list, read back as a JsonElement).</summary>
    public object? Value { get; set; }
    public string? Decoration { get; set; }
}

internal sealed class ReplicationTriggerDto
{
    public string? Type { get; set; }
}

internal sealed class ReplicationPolicyDto
{
    public long Id { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public RegistryDto? SrcRegistry { get; set; }
    public RegistryDto? DestRegistry { get; set; }
    public string? DestNamespace { get; set; }
    public int? DestNamespaceReplaceCount { get; set; }
    public ReplicationTriggerDto? Trigger { get; set; }
    public List<ReplicationFilterDto>? Filters { get; set; }
    public bool Override { get; set; }
    public bool Enabled { get; set; }
    public bool Deletion { get; set; }
    public DateTimeOffset? CreationTime { get; set; }
}

internal sealed class StartReplicationDto
{
    public long PolicyId { get; set; }
}

internal sealed class ReplicationExecutionDto
{
    public long Id { get; set; }
    public long PolicyId { get; set; }
    public string? Status { get; set; }
    public string? StatusText { get; set; }
    public string? Trigger { get; set; }
    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    public int Total { get; set; }
    public int Failed { get; set; }
    public int Succeed { get; set; }
    public int InProgress { get; set; }
    public int Stopped { get; set; }
}

internal sealed class ReplicationTaskDto
{
    public long Id { get; set; }
    public long ExecutionId { get; set; }
    public string? Status { get; set; }
    public string? Operation { get; set; }
    public string? ResourceType { get; set; }
    public string? SrcResource { get; set; }
    public string? DstResource { get; set; }
    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
}
