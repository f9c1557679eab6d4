using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Whether a registry no Harbor session names is a Harbor, so its artifact listing may stand in for a HEAD per tag.
/// Only a registry whose Bearer challenge (the one the authenticator already met) names Harbor's token service is asked:
/// Harbor's v2auth middleware answers every unauthorised /v2/ request with
/// <c>Bearer realm="&lt;ext&gt;/service/token",service="harbor-registry"</c> (goharbor/harbor
/// src/server/middleware/v2auth/auth.go, challenge: <c>token.Registry</c>, which src/core/service/token/creator.go sets to
/// "harbor-registry"). Such a registry is asked GET /api/v2.0/systeminfo once per run, without credentials: Harbor
/// answers it to anyone (src/server/v2.0/handler/systeminfo.go GetSystemInfo: auth_mode and the other public fields to
/// an anonymous caller, the protected ones only when signed in). A registry that challenges otherwise (Distribution's own
/// token service, ACR, Docker Hub) or not at all is never sent anything under /api/.
/// </summary>
internal sealed class HarborDetection(RegistryHttpPipeline pipeline)
{
    /// <summary>The service Harbor's registry names in its Bearer challenge (src/core/service/token/creator.go Registry).</summary>
    public const string HarborTokenService = "harbor-registry";

    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _probes = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// True when the registry challenged as Harbor does and its systeminfo says Harbor; false for any other registry
    /// (ACR by its name, before any request), and for one whose challenge is not known yet.
    /// </summary>
    public Task<bool> IsHarborAsync(string registry, CancellationToken cancellationToken)
    {
        if (pipeline.IsAcr(registry) || !string.Equals(pipeline.BearerServiceOf(registry), HarborTokenService, StringComparison.Ordinal))
            return Task.FromResult(false);
        return _probes.GetOrAdd(registry, r => new Lazy<Task<bool>>(() => ProbeAsync(r, cancellationToken))).Value;
    }

    /// <summary>The password credential the run's registry requests carry, which Harbor's API takes as Basic.</summary>
    public Task<NetworkCredential?> RegistryCredentialAsync(string registry, NetworkCredential? explicitCredential, CancellationToken cancellationToken) =>
        pipeline.PasswordCredentialAsync(registry, explicitCredential, cancellationToken);

    private async Task<bool> ProbeAsync(string registry, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await pipeline.SendAsync(new RegistryRequest(HttpMethod.Get, registry, "/api/v2.0/systeminfo")
            {
                // Anonymous on purpose: what Harbor shows anyone is enough to know it, and no credential goes to an API
                // before the answer says whose API it is.
                Authenticate = false,
                SendsRequestId = true,
                Accept = ["application/json"],
                Target = registry,
                Description = $"Harbor's system information on '{registry}'",
                AcceptStatus = status => status is >= 400 and < 500,
                MaxBodyBytes = 1024 * 1024,
            }, cancellationToken).ConfigureAwait(false);
            return response.IsSuccess && IsHarborSystemInfo(response.Body);
        }
        catch (RegistryException)
        {
            // A server error or a dropped connection on the probe: the registry API answers as for any registry.
            return false;
        }
    }

    /// <summary>Harbor's GeneralInfo (swagger): an object whose auth_mode is a string, shown to any caller.</summary>
    private static bool IsHarborSystemInfo(byte[]? body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body ?? []);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("auth_mode", out var mode) && mode.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
