using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Http;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>
/// ACR's /oauth2/exchange: an Entra access token traded for an ACR refresh token (research §2.2). Apart from the
/// identity that holds the Entra token, so that the credential and its identity need nothing of the HTTP pipeline.
/// </summary>
internal static class AcrTokenExchange
{
    public static async Task<string> ExchangeAsync(RegistryHttpPipeline pipeline, AzureIdentityRefreshTokenProvider identity, string registry, string service,
        string entraToken, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "access_token"),
            new("service", service),
        };
        if (!string.IsNullOrEmpty(identity.TenantId)) form.Add(new("tenant", identity.TenantId));
        form.Add(new("access_token", entraToken));
        var request = new RegistryRequest(HttpMethod.Post, registry, "/oauth2/exchange")
        {
            Content = () => new FormUrlEncodedContent(form),
            BodySecrets = [entraToken],
            RetryTimeouts = false,
            Authenticate = false,
            Accept = ["application/json"],
            Target = registry,
            Description = $"the ACR token exchange of '{registry}'",
            AcceptStatus = status => status is 400 or 401 or 403,
        };
        using var response = await pipeline.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            var body = response.ErrorBody;
            throw new RegistryException(RegistryErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                $"'{registry}' refused to exchange the Entra ID token of {identity.CredentialTypeName} for a registry token (HTTP {response.StatusCode}: {body.Describe()}). Check that the identity has a role such as AcrPull on the registry and that the tenant is right.",
                registry, statusCode: response.StatusCode, registryErrorCode: body.FirstCode);
        }
        string? refresh = null;
        try
        {
            using var doc = JsonDocument.Parse(response.Body ?? []);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("refresh_token", out var r) && r.ValueKind == JsonValueKind.String)
                refresh = r.GetString();
        }
        catch (JsonException) { } // not JSON: reported just below as an unusable exchange answer
        if (string.IsNullOrEmpty(refresh))
            throw new RegistryException(RegistryErrorIds.TokenServiceInvalid, FailureKind.InvalidData,
                $"The ACR token exchange of '{registry}' answered without a refresh_token.", registry);
        return refresh;
    }
}
