using System.Text.Json.Serialization;

namespace HarborOps.Lab.Hostile;

/// <summary>
/// What the hostile registry does to its clients. Each mode is one attack an independent adversarial review tried against
/// HarborOps; any set of them can be on at once. The content attacks (malformed digests, hostile tag names, lying sizes)
/// need no mode: they are planted as content with <see cref="HostileRegistry.PutRawManifest"/> and friends.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<HostileMode>))]
public enum HostileMode
{
    /// <summary>A blob GET on the https listener answers 307 to <c>http://</c> on the same host name (the plain listener).</summary>
    RedirectBlobToPlainHttp,
    /// <summary>An upload start on the https listener answers 202 with a <c>Location</c> on <c>http://</c>, same host name.</summary>
    UploadLocationToPlainHttp,
    /// <summary>The Bearer challenge names a realm over plain http on another host name (<see cref="HostileRegistryOptions.OtherHostName"/>).</summary>
    PlainHttpRealmOnOtherHost,
    /// <summary>Every error body, of the registry and of the token service, echoes the Authorization header and form body it received.</summary>
    EchoCredentialsInErrors,
    /// <summary>The token service refuses every request (401) with a body that echoes what it received.</summary>
    TokenServiceRefuses,
    /// <summary>The token service accepts the connection and never answers.</summary>
    TokenServiceHangs,
    /// <summary>Manifest GETs and HEADs answer with a <c>Docker-Content-Digest</c> that is not the digest of the bytes.</summary>
    LyingContentDigest,
    /// <summary>A tag list page's <c>Link</c> points at the page itself.</summary>
    TagListLinksToItself,
    /// <summary>Manifest GETs for the tags in <see cref="HostileRegistry.ServerErrorTags"/> answer 500.</summary>
    ManifestServerError,
}
