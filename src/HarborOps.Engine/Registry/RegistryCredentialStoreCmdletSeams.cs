namespace HarborOps.Engine.Registry;

/// <summary>
/// Calls the cmdlets need whose signatures name no third-party type: the cmdlet assembly must not
/// reference Azure.Core (a guard test enforces it), so it cannot bind to an overload that mentions
/// TokenCredential even when passing null.
/// </summary>
public static class RegistryCredentialStoreCmdletSeams
{
    /// <summary>Azure identity (DefaultAzureCredential) for an ACR, optionally in one tenant.</summary>
    public static void SetAzureIdentity(this RegistryCredentialStore store, string registry, string? tenantId)
        => store.SetAzureIdentity(registry, credential: null, tenantId);

    /// <summary>Use the registry's entry of the given docker config.json (auths or credential helper).</summary>
    public static void SetDockerConfig(this RegistryCredentialStore store, string registry, string dockerConfigPath)
        => throw new NotImplementedException("engine helper: RegistryCredentialStore needs a docker-config entry kind");
}
