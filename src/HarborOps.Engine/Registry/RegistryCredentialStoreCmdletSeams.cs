using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Auth;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Calls the cmdlets need whose signatures name no third-party type: the cmdlet assembly must not
/// reference Azure.Core (a guard test enforces it), so it cannot bind to an overload that mentions
/// TokenCredential, even passing null.
/// </summary>
public static class RegistryCredentialStoreCmdletSeams
{
    /// <summary>Azure identity (DefaultAzureCredential) for an ACR, optionally in one tenant.</summary>
    public static void SetAzureIdentity(this RegistryCredentialStore store, string registry, string? tenantId)
        => store.SetAzureIdentity(registry, credential: null, tenantId);

    /// <summary>
    /// Copies the registry's entry of a docker config.json (auths, or a credential helper, run once now) into the
    /// session store, so later calls do not depend on the file or the helper.
    /// </summary>
    public static async Task SetFromDockerConfigAsync(this RegistryCredentialStore store, string registry, string dockerConfigPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
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
        store.Set(host, new NetworkCredential(userName, credential.Secret));
    }
}
