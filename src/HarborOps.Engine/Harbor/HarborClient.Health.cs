using System.Text.Json.Serialization;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// Harbor's health and system information (goharbor/harbor v2.15.2 src/server/v2.0/handler/health.go and
/// systeminfo.go): /health answers anyone; /systeminfo hides the version and URLs from anonymous callers;
/// /systeminfo/volumes is for system administrators only.
/// </summary>
public sealed partial class HarborClient
{
    public async Task<HarborHealthInfo> GetHealthAsync(CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get, "health") { Description = "reading Harbor's health" };
        var dto = (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<HealthDto>(call);
        if (string.IsNullOrEmpty(dto.Status))
            throw new HarborException(HarborErrorIds.ResponseInvalid, FailureKind.InvalidData,
                $"{Connection.Url} answered /api/v2.0/health without an overall status; check that the URL points at Harbor.", Connection.Url.ToString());
        return new HarborHealthInfo
        {
            Harbor = Connection.Url.ToString(), Status = dto.Status,
            IsHealthy = string.Equals(dto.Status, "healthy", StringComparison.OrdinalIgnoreCase),
            Components = (dto.Components ?? []).Select(c => new HarborComponentHealth { Name = c.Name ?? "", Status = c.Status ?? "", Error = c.Error })
                .OrderBy(c => c.Name, StringComparer.Ordinal).ToArray(),
        };
    }

    /// <summary>Version, auth mode and URLs from /systeminfo, and the local volume from /systeminfo/volumes when the caller may read it.</summary>
    public async Task<HarborSystemInfo> GetSystemInfoAsync(CancellationToken cancellationToken)
    {
        var infoCall = new HarborCall(HttpMethod.Get, "systeminfo") { Description = "reading the system information" };
        var info = (await SendAsync(infoCall, cancellationToken).ConfigureAwait(false)).Read<SystemInfoDto>(infoCall);
        var volumesCall = new HarborCall(HttpMethod.Get, "systeminfo/volumes")
        {
            Description = "reading the storage volume", AcceptStatus = s => s == 403,
        };
        var volumes = await SendAsync(volumesCall, cancellationToken).ConfigureAwait(false);
        ulong? total = null, free = null;
        string? note = null;
        if (volumes.Status == 403)
            note = $"Storage totals need a system administrator; '{Connection.UserName}' is not one (HTTP 403).";
        else if (volumes.Read<VolumesDto>(volumesCall).Storage?.FirstOrDefault() is { } storage)
            (total, free) = (storage.Total, storage.Free);
        return new HarborSystemInfo
        {
            Harbor = Connection.Url.ToString(), HarborVersion = info.HarborVersion, AuthMode = info.AuthMode, RegistryUrl = info.RegistryUrl,
            ExternalUrl = info.ExternalUrl, StorageProvider = info.RegistryStorageProviderName, ReadOnly = info.ReadOnly,
            StorageTotalBytes = total, StorageFreeBytes = free, StorageNote = note,
        };
    }
}

internal sealed class HealthDto
{
    public string? Status { get; set; }
    public List<ComponentHealthDto>? Components { get; set; }
}

internal sealed class ComponentHealthDto
{
    public string? Name { get; set; }
    public string? Status { get; set; }
    public string? Error { get; set; }
}

internal sealed class SystemInfoDto
{
    public string? HarborVersion { get; set; }
    public string? ExternalUrl { get; set; }
    public string? RegistryUrl { get; set; }
    public string? AuthMode { get; set; }
    public string? RegistryStorageProviderName { get; set; }
    public bool? ReadOnly { get; set; }
}

internal sealed class VolumesDto
{
    public List<StorageDto>? Storage { get; set; }
}

internal sealed class StorageDto
{
    [JsonPropertyName("total")]
    public ulong Total { get; set; }
    [JsonPropertyName("free")]
    public ulong Free { get; set; }
}
