using System.Management.Automation;
using System.Net;
using System.Security;
using HarborOps.Engine.Entra;
using HarborOps.Engine.Errors;

namespace HarborOps.Commands;

/// <summary>
/// Base of the cmdlets that read Entra ID groups through Microsoft Graph: how to sign in (Azure.Identity, as
/// Set-RegistryCredential -UseAzureIdentity does for ACR) and where Graph and the authority are. Only these cmdlets touch
/// the engine's Entra types, so Microsoft.Graph loads when one of them runs and never at import. Parameter types stay
/// plain: a cmdlet's property types load at import, before the engine can resolve.
/// </summary>
public abstract class EntraCommandBase : HarborCommandBase
{
    /// <summary>The Entra tenant (id or domain); by default the credential's own (DefaultAzureCredential) — required with -ClientSecret or -CertificatePath.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TenantId { get; set; }

    /// <summary>The app registration's client id (with -ClientSecret or -CertificatePath), or a user-assigned managed identity's client id (with -ManagedIdentity).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientId { get; set; }

    /// <summary>Sign in as the app registration -ClientId with this client secret (ClientSecretCredential).</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? ClientSecret { get; set; }

    /// <summary>Sign in as the app registration -ClientId with this certificate: a PEM or PFX file holding the private key (ClientCertificateCredential).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificatePath { get; set; }

    /// <summary>Sign in as the host's managed identity (system-assigned, or user-assigned with -ClientId).</summary>
    [Parameter]
    public SwitchParameter ManagedIdentity { get; set; }

    /// <summary>Microsoft Graph's base URL: https://graph.microsoft.com (the default), a national cloud's Graph, or a test double.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? GraphEndpoint { get; set; }

    /// <summary>The Entra authority host: https://login.microsoftonline.com (the default), a national cloud's, or a test double.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AuthorityHost { get; set; }

    private string? _certificateFullPath;

    /// <summary>Resolves -CertificatePath against the PowerShell location (pipeline thread only).</summary>
    protected void ResolveEntraPaths()
        => _certificateFullPath = CertificatePath is null ? null : GetUnresolvedProviderPathFromPSPath(CertificatePath);

    /// <summary>A Graph directory client for this command's sign-in; Graph's request log goes to the verbose stream.</summary>
    protected EntraDirectory CreateDirectory()
    {
        var chosen = new List<string>();
        if (ClientSecret is not null) chosen.Add("-ClientSecret");
        if (CertificatePath is not null) chosen.Add("-CertificatePath");
        if (ManagedIdentity) chosen.Add("-ManagedIdentity");
        if (chosen.Count > 1)
            throw new EntraException(EntraErrorIds.OptionsInvalid, FailureKind.InvalidArgument, $"Choose one way to sign in to Entra ID, not {string.Join(" and ", chosen)}.");
        var options = new EntraConnectionOptions
        {
            CredentialKind = ClientSecret is not null ? EntraCredentialKind.ClientSecret
                : CertificatePath is not null ? EntraCredentialKind.ClientCertificate
                : ManagedIdentity ? EntraCredentialKind.ManagedIdentity
                : EntraCredentialKind.Default,
            TenantId = TenantId, ClientId = ClientId, CertificatePath = _certificateFullPath ?? CertificatePath,
            ClientSecret = ClientSecret is null ? null : new NetworkCredential("", ClientSecret).Password,
            GraphEndpoint = ParseUrl(GraphEndpoint, "-GraphEndpoint") ?? EntraConnectionOptions.PublicGraphEndpoint,
            AuthorityHost = ParseUrl(AuthorityHost, "-AuthorityHost"),
        };
        return new EntraDirectory(options, WriteVerbose);
    }

    private static Uri? ParseUrl(string? value, string parameter)
    {
        if (value is null) return null;
        return Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var uri)
            ? uri
            : throw new EntraException(EntraErrorIds.OptionsInvalid, FailureKind.InvalidArgument, $"{parameter} '{value}' is not an absolute URL; give one such as https://graph.microsoft.com.", value);
    }
}
