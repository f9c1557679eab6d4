using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarborOps.Lab;

/// <summary>
/// The OCI 1.1 referrers API in front of a registry that has none (Distribution 2.8): manifests with a subject pushed
/// through the proxy are remembered and listed per subject digest.
/// </summary>
public sealed partial class FaultProxy
{
    private string? RememberReferrer(string path, byte[] manifest, string? contentType)
    {
        var match = ManifestPath().Match(path);
        if (!match.Success) return null;
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(manifest);
        }
        catch (JsonException)
        {
            return null;
        }
        if (parsed is not JsonObject root || root["subject"]?["digest"]?.GetValue<string>() is not string subject) return null;
        var digest = LabContent.DigestOf(manifest);
        var descriptor = new JsonObject
        {
            ["mediaType"] = root["mediaType"]?.GetValue<string>() ?? contentType ?? LabContent.OciManifest,
            ["digest"] = digest,
            ["size"] = manifest.Length,
        };
        var artifactType = root["artifactType"]?.GetValue<string>() ?? root["config"]?["mediaType"]?.GetValue<string>();
        if (artifactType is not null) descriptor["artifactType"] = artifactType;
        if (root["annotations"] is JsonObject annotations) descriptor["annotations"] = annotations.DeepClone();
        var list = _referrers.GetOrAdd($"{match.Groups["name"].Value}@{subject}", _ => []);
        lock (list)
        {
            list.RemoveAll(d => d["digest"]!.GetValue<string>() == digest);
            list.Add(descriptor);
        }
        return subject;
    }

    private void ForgetReferrer(string repository, string digest)
    {
        foreach (var (key, list) in _referrers)
            if (key.StartsWith(repository + "@", StringComparison.Ordinal))
                lock (list) list.RemoveAll(d => d["digest"]!.GetValue<string>() == digest);
    }

    private async Task ServeReferrersAsync(HttpContext context, string repository, string digest)
    {
        // Access is the registry's call: ask it for the repository's tag list with the client's credentials and pass
        // any refusal (401 with its challenge, 403, 404 NAME_UNKNOWN) through unchanged.
        using (var probe = CreateUpstreamRequest(context, $"/v2/{repository}/tags/list", null))
        using (var check = await _upstreamClient.SendAsync(probe, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted))
        {
            if (!check.IsSuccessStatusCode)
            {
                context.Response.StatusCode = (int)check.StatusCode;
                CopyResponseHeaders(check, context.Response);
                await using var refusal = await check.Content.ReadAsStreamAsync(context.RequestAborted);
                await refusal.CopyToAsync(context.Response.Body, context.RequestAborted);
                return;
            }
        }
        var artifactType = context.Request.Query["artifactType"].ToString();
        var manifests = new JsonArray();
        if (_referrers.TryGetValue($"{repository}@{digest}", out var list))
            lock (list)
                foreach (var descriptor in list)
                    if (artifactType.Length == 0 || descriptor["artifactType"]?.GetValue<string>() == artifactType)
                        manifests.Add(descriptor.DeepClone());
        if (artifactType.Length > 0) context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = LabContent.OciIndex, ["manifests"] = manifests };
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = LabContent.OciIndex;
        await context.Response.WriteAsync(index.ToJsonString(), context.RequestAborted);
    }
}
