using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace HarborOps.Lab;

/// <summary>
/// RS256 JWTs for the lab's Entra and ACR emulators: signed with a lab certificate, and verified the way the real
/// services verify what they are handed (signature, issuer, audience, expiry), so a client that sends the wrong token
/// fails here as it would there.
/// </summary>
public static class LabJwt
{
    public static string Sign(X509Certificate2 certificate, IReadOnlyDictionary<string, object> claims)
    {
        var header = new Dictionary<string, object> { ["typ"] = "JWT", ["alg"] = "RS256", ["kid"] = certificate.Thumbprint };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        using var rsa = certificate.GetRSAPrivateKey()!;
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    /// <summary>
    /// The claims of a token this certificate signed, when it is also from <paramref name="issuer"/>, for
    /// <paramref name="audience"/> and not expired; otherwise null and the reason.
    /// </summary>
    public static JsonElement? Validate(string token, X509Certificate2 certificate, string issuer, string audience, out string problem)
    {
        problem = "";
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            problem = "not a JWT";
            return null;
        }
        try
        {
            using var rsa = certificate.GetRSAPublicKey()!;
            if (!rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                problem = "signature does not verify";
                return null;
            }
            using var document = JsonDocument.Parse(FromBase64Url(parts[1]));
            var claims = document.RootElement.Clone();
            // Audience before issuer, as Microsoft.IdentityModel's JsonWebTokenHandler checks them.
            if (!claims.TryGetProperty("aud", out var aud) || aud.GetString() != audience)
            {
                problem = $"wrong audience (want {audience})";
                return null;
            }
            if (!claims.TryGetProperty("iss", out var iss) || iss.GetString() != issuer)
            {
                problem = "wrong issuer";
                return null;
            }
            if (!claims.TryGetProperty("exp", out var exp) || !exp.TryGetInt64(out var seconds) || DateTimeOffset.FromUnixTimeSeconds(seconds) <= DateTimeOffset.UtcNow)
            {
                problem = "expired";
                return null;
            }
            return claims;
        }
        catch (Exception e) when (e is FormatException or JsonException or CryptographicException)
        {
            problem = "malformed: " + e.Message;
            return null;
        }
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }
}
