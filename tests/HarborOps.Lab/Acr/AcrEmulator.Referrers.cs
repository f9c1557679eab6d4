using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Acr;

/// <summary>
/// ACR's OCI 1.1 referrers API, which the Distribution 2.8 behind the emulator lacks (it answers 404), served by the
/// emulator from the manifests with a <c>subject</c> pushed through it.
/// <list type="bullet">
/// <item>ACR: signatures, SBOMs and other supply-chain artifacts are pushed as manifests with a <c>subject</c>, usually
/// untagged, and discovered through the OCI 1.1 referrers API ("Discovering artifact references", "Sign the SBOM":
/// MicrosoftDocs/azure-docs articles/container-registry/container-registry-manage-artifact.md, commit 0695fa7c71d0).</item>
/// <item>The answer, per opencontainers/distribution-spec v1.1.1 spec.md "Listing Referrers" (commit a139cc42): 200 with
/// an image index (Content-Type application/vnd.oci.image.index.v1+json) of the descriptors of the manifests in that
/// repository whose subject is the digest; each descriptor carries the manifest's artifactType, else its config's
/// mediaType (an index without one has none), and the manifest's annotations; no referrers is an empty list, never a 404;
/// a malformed digest is a 400 (and no answer is a 404, even for a repository without content); the artifactType
/// filter is applied and said so in <c>OCI-Filters-Applied</c>.</item>
/// <item>"Pushing Manifests with Subject": a registry supporting the API answers the PUT of a manifest with a subject
/// with <c>OCI-Subject: &lt;subject digest&gt;</c>, which tells clients not to maintain the tag-schema index.</item>
/// <item>Access is that of the repository's content: the route needs pull, like a manifest GET (V2Async).</item>
/// </list>
/// </summary>
public sealed partial class AcrEmulator
{
    /// <summary>Manifests above ACR's and Distribution's 4 MiB manifest limit are refused by the registry anyway.</summary>
    private const int MaxManifestBytes = 4 * 1024 * 1024;
    private readonly ConcurrentDictionary<(string Repository, string Subject), List<JsonObject>> _referrers = new();

    [GeneratedRegex("^/v2/(?<repo>.+)/referrers/(?<digest>[^/]+)$")]
    private static partial Regex ReferrersPath();

    // distribution-spec: a digest is algorithm ":" encoded; the registries' algorithms are sha256 and sha512.
    [GeneratedRegex("^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")]
    private static partial Regex ValidDigest();

    /// <summary>
    /// A hostile answer for tests: lists <paramref name="descriptor"/> as given among the referrers of
    /// <paramref name="subjectDigest"/> (a digest or size that lies, a manifest without that subject), as a broken or
    /// malicious registry might.
    /// </summary>
    public void ListReferrer(string repository, string subjectDigest, JsonObject descriptor)
    {
        var list = _referrers.GetOrAdd((repository, subjectDigest), _ => []);
        lock (list) list.Add((JsonObject)descriptor.DeepClone());
    }

    /// <summary>
    /// Reads the body of a manifest PUT so the emulator can see its subject while the registry stores it, and puts it back
    /// for the forward; a PUT that stores a manifest with a subject is answered with OCI-Subject.
    /// </summary>
    private async Task<byte[]> TakeManifestPutAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var bytes = buffer.ToArray();
        context.Request.Body = new MemoryStream(bytes, writable: false);
        context.Request.ContentLength = bytes.Length;
        context.Request.Headers.TransferEncoding = default;
        if (bytes.Length <= MaxManifestBytes && SubjectOf(bytes) is { } subject)
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode == StatusCodes.Status201Created) context.Response.Headers["OCI-Subject"] = subject;
                return Task.CompletedTask;
            });
        return bytes;
    }

    private static JsonObject? ParseManifest(byte[] manifest)
    {
        try { return JsonNode.Parse(manifest) as JsonObject; }
        catch (JsonException) { return null; }
    }

    private static string? SubjectOf(byte[] manifest) =>
        ParseManifest(manifest)?["subject"]?["digest"] is JsonValue digest && digest.TryGetValue<string>(out var subject) ? subject : null;

    /// <summary>A manifest the registry stored (201): listed among its subject's referrers when it has one.</summary>
    private void RememberReferrer(string repository, byte[] manifest, string? contentType)
    {
        if (ParseManifest(manifest) is not { } root || SubjectOf(manifest) is not { } subject) return;
        var digest = LabContent.DigestOf(manifest);
        var descriptor = new JsonObject
        {
            ["mediaType"] = root["mediaType"]?.GetValue<string>() ?? (contentType is null ? LabContent.OciManifest : MediaTypeOf(contentType)),
            ["digest"] = digest,
            ["size"] = manifest.Length,
        };
        var isIndex = root["manifests"] is JsonArray;
        var artifactType = root["artifactType"]?.GetValue<string>() is { Length: > 0 } declared ? declared : isIndex ? null : root["config"]?["mediaType"]?.GetValue<string>();
        if (artifactType is not null) descriptor["artifactType"] = artifactType;
        if (root["annotations"] is JsonObject annotations) descriptor["annotations"] = annotations.DeepClone();
        var list = _referrers.GetOrAdd((repository, subject), _ => []);
        lock (list)
        {
            list.RemoveAll(d => d["digest"]!.GetValue<string>() == digest);
            list.Add(descriptor);
        }
    }

    /// <summary>A manifest deleted by digest is no referrer any more.</summary>
    private void ForgetReferrer(string repository, string digest)
    {
        foreach (var (key, list) in _referrers)
            if (key.Repository == repository)
                lock (list) list.RemoveAll(d => d["digest"]?.GetValue<string>() == digest);
    }

    /// <summary>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt; for a caller already allowed to pull from the repository.</summary>
    private async Task ReferrersAsync(HttpContext context, string repository, string path)
    {
        var digest = ReferrersPath().Match(path).Groups["digest"].Value;
        if (context.Request.Method != "GET")
        {
            await ErrorAsync(context, 405, "UNSUPPORTED", "The operation is unsupported.");
            return;
        }
        if (!ValidDigest().IsMatch(digest))
        {
            await ErrorAsync(context, 400, "DIGEST_INVALID", "provided digest did not match uploaded content", new { digest });
            return;
        }
        // "If the registry supports the referrers API, the registry MUST NOT return a 404 Not Found to a referrers API
        // request": a repository without content has no referrers either, and a client reading a 404 as "no referrers
        // API" would fall back to the tag schema for the whole registry.
        var artifactType = context.Request.Query["artifactType"].ToString();
        var manifests = new JsonArray();
        if (_referrers.TryGetValue((repository, digest), out var list))
            lock (list)
                foreach (var descriptor in list)
                    if (artifactType.Length == 0 || descriptor["artifactType"]?.GetValue<string>() == artifactType)
                        manifests.Add(descriptor.DeepClone());
        if (artifactType.Length > 0) context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = LabContent.OciIndex;
        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = LabContent.OciIndex, ["manifests"] = manifests };
        await context.Response.WriteAsync(index.ToJsonString(), context.RequestAborted);
    }
}
