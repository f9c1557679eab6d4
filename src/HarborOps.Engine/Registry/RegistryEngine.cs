using System.Net;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>Settings of the process-wide registry engine.</summary>
public sealed record RegistryEngineOptions
{
    /// <summary>Hosts (host[:port]) reached over plain HTTP. Loopback hosts always are.</summary>
    public IReadOnlyCollection<string> PlainHttpHosts { get; init; } = [];
    /// <summary>Docker config.json consulted for credentials; null means $DOCKER_CONFIG/config.json or ~/.docker/config.json.</summary>
    public string? DockerConfigPath { get; init; }
    /// <summary>Retries of a throttled or transient request before it fails.</summary>
    public int MaxRetries { get; init; } = 5;
    /// <summary>Longest wait the engine accepts from a Retry-After header before it gives up on that request.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Concurrent connections per registry host.</summary>
    public int MaxConnectionsPerHost { get; init; } = 16;
}

/// <summary>Get-RegistryRepository's request. Registry is host[:port], or "oci:" followed by a layout directory.</summary>
public sealed record GetRepositoriesRequest(string Registry)
{
    /// <summary>Only repositories under this path prefix ("team/" or "team").</summary>
    public string? Prefix { get; init; }
    public NetworkCredential? Credential { get; init; }
}

/// <summary>Get-RegistryTag's request. Reference is "host/repo", "host/repo:tag" or "host/repo@digest", or an "oci:" layout reference.</summary>
public sealed record GetTagsRequest(string Reference)
{
    /// <summary>Wildcard patterns (* and ?) a tag must match; empty means every tag.</summary>
    public IReadOnlyList<string> TagPatterns { get; init; } = [];
    /// <summary>Also discover referrers (API, tag schema) and cosign .sig/.att/.sbom tags of each digest.</summary>
    public bool IncludeReferrers { get; init; }
    public NetworkCredential? Credential { get; init; }
}

/// <summary>
/// The registry engine the cmdlets use: one per process, so one connection pool and one token cache
/// serve every cmdlet of a session.
/// </summary>
public sealed partial class RegistryEngine : IDisposable
{
    private static readonly Lazy<RegistryEngine> SharedEngine = new(() => new RegistryEngine(new RegistryEngineOptions()));

    /// <summary>The engine of this process, used by the cmdlets.</summary>
    public static RegistryEngine Shared => SharedEngine.Value;

    /// <summary>Credentials set for this session (Set-RegistryCredential); consulted before the docker config.</summary>
    public RegistryCredentialStore Credentials { get; } = new();

    public IAsyncEnumerable<RegistryRepositoryInfo> GetRepositoriesAsync(GetRepositoriesRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        => throw new NotImplementedException("engine helper implements this");

    public IAsyncEnumerable<RegistryTagInfo> GetTagsAsync(GetTagsRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        => throw new NotImplementedException("engine helper implements this");
}

/// <summary>Credentials the user set for this session, per registry host. Never exposes a secret in ToString or listings.</summary>
public sealed class RegistryCredentialStore
{
    public void Set(string registry, NetworkCredential credential) => throw new NotImplementedException();
    /// <summary>Marks a registry (ACR) to authenticate through Azure.Identity (DefaultAzureCredential unless given).</summary>
    public void SetAzureIdentity(string registry, Azure.Core.TokenCredential? credential = null, string? tenantId = null) => throw new NotImplementedException();
    public bool Remove(string registry) => throw new NotImplementedException();
    public IReadOnlyList<RegistryCredentialInfo> List() => throw new NotImplementedException();
}

public sealed partial class RegistryEngine
{
    public RegistryEngine(RegistryEngineOptions options) { Options = options; }
    public RegistryEngineOptions Options { get; }
    public void Dispose() { }
}
