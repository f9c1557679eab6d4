using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Entra;

/// <summary>
/// A certificate client assertion checked as Entra does (learn.microsoft.com/entra/identity-platform/certificate-credentials):
/// the jwt-bearer type, a JWT signed (RS256 or PS256) by the key of a certificate registered on the app (named by x5t
/// or x5t#S256), iss and sub the client id, aud the token endpoint, and not expired.
/// </summary>
internal static class EntraClientAssertion
{
    /// <summary>Null when the assertion is good, else Entra's reason.</summary>
    public static string? Problem(IFormCollection form, EntraApplication app, string tokenEndpoint)
    {
        if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            return $"The client_assertion_type '{form["client_assertion_type"]}' is not supported.";
        if (app.Certificate is null) return $"Client assertion failed signature validation: app '{app.ClientId}' has no certificate credential.";
        var parts = form["client_assertion"].ToString().Split('.');
        if (parts.Length != 3) return "Client assertion is not a well-formed JWT.";
        JsonObject header, claims;
        try
        {
            header = JsonNode.Parse(LabJwt.FromBase64Url(parts[0]))!.AsObject();
            claims = JsonNode.Parse(LabJwt.FromBase64Url(parts[1]))!.AsObject();
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return "Client assertion is not a well-formed JWT.";
        }
        var thumbprintSha1 = LabJwt.Base64Url(app.Certificate.GetCertHash());
        var thumbprintSha256 = LabJwt.Base64Url(app.Certificate.GetCertHash(HashAlgorithmName.SHA256));
        if (header["x5t"]?.GetValue<string>() != thumbprintSha1 && header["x5t#S256"]?.GetValue<string>() != thumbprintSha256)
            return "Client assertion contains an invalid signature: the key was not found among the app's certificates.";
        var padding = header["alg"]?.GetValue<string>() switch { "RS256" => RSASignaturePadding.Pkcs1, "PS256" => RSASignaturePadding.Pss, _ => null };
        using var rsa = app.Certificate.GetRSAPublicKey();
        if (padding is null || rsa is null || !rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), LabJwt.FromBase64Url(parts[2]), HashAlgorithmName.SHA256, padding))
            return "Client assertion failed signature validation.";
        if (claims["aud"]?.GetValue<string>() != tokenEndpoint) return $"The audience '{claims["aud"]}' of the client assertion is not the token endpoint {tokenEndpoint}.";
        if (claims["iss"]?.GetValue<string>() != app.ClientId || claims["sub"]?.GetValue<string>() != app.ClientId) return "The client assertion's iss and sub must be the client id.";
        // MSAL writes exp as a string ("1764131234"), which Entra accepts as well as a number.
        var expText = claims["exp"] is JsonValue expValue ? expValue.ToJsonString().Trim('"') : null;
        if (!long.TryParse(expText, NumberStyles.None, CultureInfo.InvariantCulture, out var exp) || exp < DateTimeOffset.UtcNow.ToUnixTimeSeconds()) return "The client assertion is expired or has no exp.";
        return null;
    }
}
