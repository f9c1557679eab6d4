using System.Security.Cryptography;
using System.Text;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>How a resolved credential authenticates.</summary>
public enum RegistryCredentialKind
{
    Anonymous,
    /// <summary>User name and password (or robot secret, or ACR null-GUID + token), sent as Basic.</summary>
    Basic,
    /// <summary>An OAuth2 refresh/identity token, used in the refresh_token grant.</summary>
    RefreshToken,
    /// <summary>Entra ID through Azure.Identity, exchanged for an ACR refresh token.</summary>
    AzureIdentity,
}

/// <summary>
/// A credential chosen for one registry, with where it came from (for messages). The secret is internal and never
/// appears in ToString; <see cref="Fingerprint"/> tells credentials apart in caches without revealing them.
/// </summary>
public sealed class RegistryCredential
{
    public static readonly RegistryCredential Anonymous = new(RegistryCredentialKind.Anonymous, null, null, "anonymous");

    internal RegistryCredential(RegistryCredentialKind kind, string? userName, string? secret, string source, AzureIdentityRefreshTokenProvider? azure = null)
    {
        Kind = kind;
        UserName = userName;
        Secret = secret;
        Source = source;
        Azure = azure;
        Fingerprint = kind == RegistryCredentialKind.AzureIdentity
            ? "azure:" + azure!.Id
            : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}\0{userName}\0{secret}")))[..16];
    }

    public RegistryCredentialKind Kind { get; }
    public string? UserName { get; }
    internal string? Secret { get; }
    /// <summary>Where it came from: "-Credential", "session store", "docker config /root/.docker/config.json", "docker-credential-pass".</summary>
    public string Source { get; }
    internal AzureIdentityRefreshTokenProvider? Azure { get; }
    internal string Fingerprint { get; }

    /// <summary>Who is authenticating, for messages: "user 'bob' (from session store)".</summary>
    public string Describe() => Kind switch
    {
        RegistryCredentialKind.Anonymous => "anonymous access",
        RegistryCredentialKind.Basic => $"user '{UserName}' (from {Source})",
        RegistryCredentialKind.RefreshToken => $"an identity token (from {Source})",
        RegistryCredentialKind.AzureIdentity => $"Azure identity (from {Source})",
        _ => Source,
    };

    public override string ToString() => Describe();
}
