using System.Collections.Concurrent;
using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Models;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>Credentials the user set for this session, per registry host. Never exposes a secret in ToString or listings.</summary>
public sealed class RegistryCredentialStore
{
    private const string SessionSource = "session store";
    private readonly ConcurrentDictionary<string, RegistryCredential> _entries = new(StringComparer.Ordinal);

    public RegistryCredentialStore() : this(null) { }

    internal RegistryCredentialStore(DockerConfigCredentials? dockerConfig) { DockerConfig = dockerConfig; }

    internal DockerConfigCredentials? DockerConfig { get; }

    /// <summary>
    /// Uses a user name and password (or robot secret) for a registry. A user name of "&lt;token&gt;" or an empty one
    /// marks the password as an identity (refresh) token, as docker credential helpers do.
    /// </summary>
    public void Set(string registry, NetworkCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var key = Key(registry);
        if (string.IsNullOrEmpty(credential.Password))
            throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.InvalidArgument,
                $"The credential for '{key}' has an empty password; give the password, token or robot secret.", key);
        _entries[key] = string.IsNullOrEmpty(credential.UserName) || credential.UserName == "<token>"
            ? new RegistryCredential(RegistryCredentialKind.RefreshToken, null, credential.Password, SessionSource)
            : new RegistryCredential(RegistryCredentialKind.Basic, credential.UserName, credential.Password, SessionSource);
    }

    /// <summary>Marks a registry (ACR) to authenticate through Azure.Identity (DefaultAzureCredential unless given).</summary>
    public void SetAzureIdentity(string registry, Azure.Core.TokenCredential? credential = null, string? tenantId = null)
    {
        var key = Key(registry);
        _entries[key] = new RegistryCredential(RegistryCredentialKind.AzureIdentity, null, null, SessionSource,
            new AzureIdentityRefreshTokenProvider(credential, tenantId));
    }

    public bool Remove(string registry) => _entries.TryRemove(Key(registry), out _);

    /// <summary>The session's entries: registry, user name and kind; never the secret.</summary>
    public IReadOnlyList<RegistryCredentialInfo> List() => List(includeDockerConfig: false);

    /// <summary>The session's entries and, when asked, what the docker config holds (session entries win).</summary>
    public IReadOnlyList<RegistryCredentialInfo> List(bool includeDockerConfig)
    {
        var result = _entries.Select(e => new RegistryCredentialInfo
        {
            Registry = e.Key,
            UserName = e.Value.UserName,
            Kind = e.Value.Kind switch
            {
                RegistryCredentialKind.Basic => "Basic",
                RegistryCredentialKind.RefreshToken => "Token",
                RegistryCredentialKind.AzureIdentity => "AzureIdentity",
                _ => e.Value.Kind.ToString(),
            },
            Source = e.Value.Kind == RegistryCredentialKind.AzureIdentity ? $"{SessionSource} ({e.Value.Azure!.CredentialTypeName})" : SessionSource,
        }).ToList();
        if (includeDockerConfig && DockerConfig is not null)
            result.AddRange(DockerConfig.List().Where(d => !_entries.ContainsKey(d.Registry)));
        return result.OrderBy(r => r.Registry, StringComparer.Ordinal).ToArray();
    }

    internal RegistryCredential? Find(string registry) => _entries.GetValueOrDefault(registry);

    public override string ToString() => $"RegistryCredentialStore ({_entries.Count} registries)";

    private static string Key(string registry)
    {
        var normalized = ImageReference.NormalizeRegistry(registry);
        if (normalized.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal))
            throw new RegistryException(RegistryErrorIds.ReferenceInvalid, FailureKind.InvalidArgument,
                $"'{registry}' is an OCI layout directory; layouts need no credentials.", registry);
        return normalized;
    }
}
