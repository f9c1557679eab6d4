namespace HarborOps.Engine.Errors;

/// <summary>A failure talking to an OCI registry. Carries the HTTP status, the registry's own error code and, when throttled, the wait it asked for.</summary>
public class RegistryException : HarborOpsException
{
    public RegistryException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null,
        int? statusCode = null, string? registryErrorCode = null)
        : base(errorId, kind, message, target, inner)
    {
        StatusCode = statusCode;
        RegistryErrorCode = registryErrorCode;
    }

    /// <summary>HTTP status of the failing response, when there was one.</summary>
    public int? StatusCode { get; }

    /// <summary>The registry's own error code (MANIFEST_UNKNOWN, DENIED, TOOMANYREQUESTS...), when it sent one.</summary>
    public string? RegistryErrorCode { get; }

    /// <summary>For throttling and server errors: how long the registry last asked the client to wait, when it said so.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>Stable error ids of the registry engine. Documented in about_HarborOps_Errors; never renamed.</summary>
public static class RegistryErrorIds
{
    public const string ReferenceInvalid = "RegistryReferenceInvalid";
    public const string HostUnreachable = "RegistryHostUnreachable";
    public const string AuthenticationFailed = "RegistryAuthenticationFailed";
    public const string PermissionDenied = "RegistryPermissionDenied";
    public const string RepositoryNotFound = "RegistryRepositoryNotFound";
    public const string ManifestNotFound = "RegistryManifestNotFound";
    public const string BlobNotFound = "RegistryBlobNotFound";
    public const string Throttled = "RegistryThrottled";
    public const string DigestMismatch = "RegistryDigestMismatch";
    public const string UnsupportedMediaType = "RegistryUnsupportedMediaType";
    public const string CatalogUnsupported = "RegistryCatalogUnsupported";
    public const string ServerError = "RegistryServerError";
    public const string RequestFailed = "RegistryRequestFailed";
    public const string PolicyViolation = "RegistryPolicyViolation";
    /// <summary>The source locks the item against reads (ACR readEnabled=false): reported per item, never fatal.</summary>
    public const string ReadDisabled = "RegistryItemReadDisabled";
    public const string LayoutInvalid = "OciLayoutInvalid";
    public const string CredentialStoreInvalid = "RegistryCredentialConfigInvalid";
    public const string Timeout = "RegistryTimeout";
    public const string ManifestInvalid = "RegistryManifestInvalid";
    public const string TokenServiceInvalid = "RegistryTokenServiceInvalid";
    /// <summary>A registry listed a tag that breaks the tag grammar (a path, a newline, too long): reported per tag, never used in a URL or path.</summary>
    public const string TagNameInvalid = "RegistryTagNameInvalid";
    /// <summary>An https registry redirected a request, or pointed an upload, to plain http on a host not allowed for it.</summary>
    public const string InsecureRedirect = "RegistryInsecureRedirect";
    /// <summary>A paged listing linked back to a page it had already sent.</summary>
    public const string PagingLoop = "RegistryPagingLoop";
    /// <summary>A registry's catalog listed a repository name that breaks the repository grammar: reported per repository, never used in a URL or path.</summary>
    public const string RepositoryNameInvalid = "RegistryRepositoryNameInvalid";
}
