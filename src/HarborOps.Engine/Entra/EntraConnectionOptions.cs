using HarborOps.Engine.Errors;

namespace HarborOps.Engine.Entra;

/// <summary>Which Azure.Identity credential signs in to Entra ID for Microsoft Graph.</summary>
public enum EntraCredentialKind
{
    /// <summary>DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI... (as -UseAzureIdentity for ACR).</summary>
    Default,
    /// <summary>An app registration's client secret (ClientSecretCredential).</summary>
    ClientSecret,
    /// <summary>An app registration's certificate, a PEM or PFX file (ClientCertificateCredential).</summary>
    ClientCertificate,
    /// <summary>The host's managed identity, system-assigned or user-assigned by client id (ManagedIdentityCredential).</summary>
    ManagedIdentity,
}

/// <summary>
/// Where Graph and the Entra authority are and who signs in. A class, not a record: a record's generated ToString
/// would print the client secret.
/// </summary>
public sealed class EntraConnectionOptions
{
    /// <summary>Microsoft Graph in the public cloud; national clouds and the lab give their own.</summary>
    public static readonly Uri PublicGraphEndpoint = new("https://graph.microsoft.com/");

    public EntraCredentialKind CredentialKind { get; init; } = EntraCredentialKind.Default;
    public string? TenantId { get; init; }
    public string? ClientId { get; init; }
    /// <summary>Only for <see cref="EntraCredentialKind.ClientSecret"/>; never logged or shown.</summary>
    public string? ClientSecret { get; init; }
    public string? CertificatePath { get; init; }
    public Uri GraphEndpoint { get; init; } = PublicGraphEndpoint;
    /// <summary>The Entra authority (https://login.microsoftonline.com/ by default; national clouds, Azure Stack or the lab otherwise).</summary>
    public Uri? AuthorityHost { get; init; }
    /// <summary>Page size asked of Graph for member listings (Graph allows 1..999).</summary>
    public int PageSize { get; init; } = 999;
    /// <summary>How often Graph's retry handler retries a 429/503/504 (it waits what Retry-After says).</summary>
    public int MaxRetries { get; init; } = 5;
    /// <summary>How many users' group counts are asked of Graph at once.</summary>
    public int MaxConcurrency { get; init; } = 8;

    /// <summary>The HTTP handler under both Azure.Identity and Graph; the engine tests give one that trusts the lab's CA.</summary>
    internal HttpMessageHandler? TransportHandler { get; init; }

    /// <summary>Checks the combination before any network call, so a wrong set of parameters fails naming the fix.</summary>
    public void Validate()
    {
        static EntraException Invalid(string message) => new(EntraErrorIds.OptionsInvalid, FailureKind.InvalidArgument, message);
        if (!GraphEndpoint.IsAbsoluteUri || GraphEndpoint.Scheme != Uri.UriSchemeHttps)
            throw Invalid($"The Graph endpoint '{GraphEndpoint}' must be an absolute https:// URL such as https://graph.microsoft.com.");
        if (AuthorityHost is { } authority && (!authority.IsAbsoluteUri || authority.Scheme != Uri.UriSchemeHttps))
            throw Invalid($"The authority host '{authority}' must be an absolute https:// URL such as https://login.microsoftonline.com.");
        if (PageSize is < 1 or > 999) throw Invalid($"The Graph page size {PageSize} must be between 1 and 999.");
        switch (CredentialKind)
        {
            case EntraCredentialKind.ClientSecret when string.IsNullOrEmpty(TenantId) || string.IsNullOrEmpty(ClientId) || string.IsNullOrEmpty(ClientSecret):
                throw Invalid("A client secret sign-in needs -TenantId, -ClientId and -ClientSecret.");
            case EntraCredentialKind.ClientCertificate when string.IsNullOrEmpty(TenantId) || string.IsNullOrEmpty(ClientId) || string.IsNullOrEmpty(CertificatePath):
                throw Invalid("A certificate sign-in needs -TenantId, -ClientId and -CertificatePath.");
            case EntraCredentialKind.ClientCertificate when !File.Exists(CertificatePath):
                throw Invalid($"The certificate file '{CertificatePath}' does not exist; give the path of a PEM or PFX file with the private key.");
        }
    }

    public override string ToString() =>
        $"{CredentialKind} credential{(ClientId is null ? "" : $" for client {ClientId}")}{(TenantId is null ? "" : $" in tenant {TenantId}")}, Graph {GraphEndpoint}";
}
