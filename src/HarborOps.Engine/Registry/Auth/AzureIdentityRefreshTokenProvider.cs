using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>
/// ACR's Entra flow (research §2.2): an Entra access token for the ACR audience, exchanged at /oauth2/exchange for an
/// ACR refresh token, which the token service then trades for access tokens in the OAuth2 refresh_token grant.
/// Refresh tokens are cached per service until shortly before their JWT exp; one exchange runs at a time.
/// </summary>
public sealed class AzureIdentityRefreshTokenProvider
{
    /// <summary>ACR's Entra audience; the same in every cloud.</summary>
    public const string AcrScope = "https://containerregistry.azure.net/.default";
    private static readonly TimeSpan RefreshBeforeExpiry = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan UnknownLifetime = TimeSpan.FromMinutes(5);
    private static int NextId;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, (string Token, DateTimeOffset RefreshAt)> _cache = new(StringComparer.Ordinal);

    public AzureIdentityRefreshTokenProvider(TokenCredential? credential, string? tenantId)
    {
        Credential = credential ?? CreateDefaultCredential(Environment.GetEnvironmentVariable);
        TenantId = tenantId;
        Id = Interlocked.Increment(ref NextId);
    }

    public TokenCredential Credential { get; }
    public string? TenantId { get; }
    internal int Id { get; }
    public string CredentialTypeName => Credential.GetType().Name;

    /// <summary>Entra hosts of the public and sovereign clouds, which MSAL's instance discovery knows.</summary>
    private static readonly string[] KnownAuthorityHosts =
        ["login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us", "login.microsoftonline.de", "login.windows.net", "login.microsoft.com", "sts.windows.net"];

    /// <summary>
    /// DefaultAzureCredential as Azure.Identity configures it from the environment, with one adjustment: when
    /// AZURE_AUTHORITY_HOST names an authority outside the Microsoft clouds (Azure Stack, a private or test authority),
    /// instance discovery is turned off, because it asks login.microsoftonline.com to vouch for that host, which it
    /// cannot; where that host is unreachable, every sign-in would first wait for the attempt to time out.
    /// </summary>
    internal static DefaultAzureCredential CreateDefaultCredential(Func<string, string?> getVariable) => new(DefaultCredentialOptions(getVariable));

    internal static DefaultAzureCredentialOptions DefaultCredentialOptions(Func<string, string?> getVariable)
    {
        var authority = getVariable("AZURE_AUTHORITY_HOST");
        var isPrivate = Uri.TryCreate(authority, UriKind.Absolute, out var host)
            && !KnownAuthorityHosts.Contains(host.Host, StringComparer.OrdinalIgnoreCase);
        return new DefaultAzureCredentialOptions { DisableInstanceDiscovery = isPrivate };
    }

    /// <summary>
    /// An ACR refresh token for the registry's token service (from cache when still fresh): an Entra token of this
    /// identity, traded by <paramref name="exchange"/> (the registry's /oauth2/exchange, which the caller reaches).
    /// </summary>
    internal async Task<string> GetRefreshTokenAsync(string registry, string service, Func<string, CancellationToken, Task<string>> exchange,
        CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cache.TryGetValue(service, out var cached) && cached.RefreshAt > DateTimeOffset.UtcNow)
                return cached.Token;

            AccessToken entra;
            try
            {
                entra = await Credential.GetTokenAsync(new TokenRequestContext([AcrScope], tenantId: TenantId), cancellationToken).ConfigureAwait(false);
            }
            catch (AuthenticationFailedException ex)
            {
                throw new RegistryException(RegistryErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                    $"Could not get an Entra ID token for '{registry}' through {CredentialTypeName}: {ex.Message.Split('\n')[0]} Sign in (az login, Connect-AzAccount, a managed or workload identity) or pass another credential to Set-RegistryCredential -AzureIdentity.",
                    registry, ex);
            }

            var refresh = await exchange(entra.Token, cancellationToken).ConfigureAwait(false);
            var expires = JwtExpiry(refresh);
            var refreshAt = expires is { } exp ? exp - RefreshBeforeExpiry : DateTimeOffset.UtcNow + UnknownLifetime;
            _cache[service] = (refresh, refreshAt);
            return refresh;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The exp claim of a JWT, without validating it (the registry does that); null when it is not a JWT.</summary>
    internal static DateTimeOffset? JwtExpiry(string token)
    {
        var parts = token.Split('.');
        if (parts.Length < 2) return null;
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            if (doc.RootElement.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds))
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
        // An opaque token (not base64url JSON) is allowed: it has no expiry to read, and callers fall back to a lifetime
        // of their own (the spec's default, or a short one for a refresh token).
        catch (FormatException) { }
        catch (JsonException) { }
        catch (InvalidOperationException) { }
        return null;
    }
}
