using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>
/// The session's registry credentials as the credential cmdlets set, list and remove them. Its signatures name neither
/// a third-party type nor the authentication internals: the cmdlet assembly must not reference Azure.Core (a guard test
/// enforces it), so it cannot bind to an overload that mentions TokenCredential, even passing null; and cmdlets leave
/// the credential store itself to the engine (architecture rule).
/// </summary>
public sealed class SessionCredentials
{
    private readonly RegistryCredentialStore _store;

    internal SessionCredentials(RegistryCredentialStore store) => this._store = store;

    /// <inheritdoc cref="RegistryCredentialStore.Set"/>
    public void Set(string registry, NetworkCredential credential) => _store.Set(registry, credential);

    /// <summary>Azure identity (DefaultAzureCredential) for an ACR, optionally in one tenant.</summary>
    public void SetAzureIdentity(string registry, string? tenantId) => _store.SetAzureIdentity(registry, credential: null, tenantId);

    public bool Remove(string registry) => _store.Remove(registry);

    /// <summary>The session's entries: registry, user name and kind; never the secret.</summary>
    public IReadOnlyList<RegistryCredentialInfo> List() => _store.List();

    /// <summary>
    /// Copies the registry's entry of a docker config.json (auths, or a credential helper, run once now) into the
    /// session store, so later calls do not depend on the file or the helper.
    /// </summary>
    public async Task SetFromDockerConfigAsync(string registry, string dockerConfigPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(dockerConfigPath))
        {
            throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.InvalidArgument,
                $"The docker config file '{dockerConfigPath}' does not exist. Give the path of a config.json (usually ~/.docker/config.json).", dockerConfigPath);
        }

        string host = ImageReference.NormalizeRegistry(registry);
        RegistryCredential? credential = await new DockerConfigCredentials(dockerConfigPath).ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        if (credential is null || string.IsNullOrEmpty(credential.Secret))
        {
            throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.InvalidArgument,
                $"The docker config file '{dockerConfigPath}' has no credential for '{host}'. Run 'docker login {host}' with that config, or use -Credential.", registry);
        }

        // An identity token is stored as such: Set treats an empty user name as one.
        string userName = credential.Kind == RegistryCredentialKind.RefreshToken ? "" : credential.UserName ?? "";
        _store.Set(host, new NetworkCredential(userName, credential.Secret));
    }
}
