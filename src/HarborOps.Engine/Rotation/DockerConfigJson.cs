using System.Net;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;

namespace HarborOps.Engine.Rotation;

/// <summary>
/// The <c>.dockerconfigjson</c> payload of a <c>kubernetes.io/dockerconfigjson</c> secret: one registry entry with
/// username, password and the base64 "user:password" auth the kubelet reads. The plain secret exists only inside
/// these methods and the bytes they return, which go straight into the Secret's data.
/// </summary>
public static class DockerConfigJson
{
    public const string SecretType = "kubernetes.io/dockerconfigjson";
    public const string DataKey = ".dockerconfigjson";

    /// <summary>The payload for one registry (host[:port], as the kubelet matches image references against it).</summary>
    public static byte[] Build(string registry, string userName, SecureString secret)
    {
        var host = NormalizeRegistry(registry);
        if (string.IsNullOrWhiteSpace(userName) || userName.Contains(':'))
            throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
                $"The user name '{userName}' cannot go into a pull secret: it must be non-empty and free of ':' (the auth field joins user and password with ':').", registry);
        var password = Reveal(secret);
        if (password.Length == 0)
            throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
                $"The credential for '{userName}' has an empty secret; pass the robot credential New-HarborRobot returned, or a PSCredential with its password.", registry);
        var entry = new JsonObject
        {
            ["username"] = userName,
            ["password"] = password,
            ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(userName + ":" + password)),
        };
        var document = new JsonObject { ["auths"] = new JsonObject { [host] = entry } };
        return Encoding.UTF8.GetBytes(document.ToJsonString());
    }

    /// <summary>The login the payload holds for <paramref name="registry"/>, or null when it holds none (or is not JSON).</summary>
    public static NetworkCredential? Read(byte[]? payload, string registry)
    {
        var host = NormalizeRegistry(registry);
        foreach (var (key, entry) in Entries(payload))
        {
            if (SameRegistry(key, host)) return Login(entry);
        }
        return null;
    }

    /// <summary>The user names of every registry entry: which robots a secret holds, learnt without keeping a password.</summary>
    public static IReadOnlyList<string> UserNames(byte[]? payload) =>
        Entries(payload).Select(e => Login(e.Entry)?.UserName).OfType<string>().ToList();

    private static IEnumerable<(string Key, JsonObject Entry)> Entries(byte[]? payload)
    {
        if (payload is null || payload.Length == 0) return [];
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(payload);
        }
        catch (JsonException)
        {
            return [];
        }
        if (root?["auths"] is not JsonObject auths) return [];
        return auths.Where(a => a.Value is JsonObject).Select(a => (a.Key, (JsonObject)a.Value!)).ToList();
    }

    private static NetworkCredential? Login(JsonObject entry)
    {
        var user = entry["username"]?.GetValue<string>();
        var password = entry["password"]?.GetValue<string>();
        if ((user is null || password is null) && entry["auth"]?.GetValue<string>() is { } auth)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            }
            catch (FormatException)
            {
                return null;
            }
            var colon = decoded.IndexOf(':');
            if (colon < 0) return null;
            (user, password) = (decoded[..colon], decoded[(colon + 1)..]);
        }
        return user is null || password is null ? null : new NetworkCredential(user, password);
    }

    /// <summary>True when the payload holds exactly this login for this registry and nothing else: then writing it again changes nothing.</summary>
    public static bool Holds(byte[]? payload, string registry, string userName, SecureString secret)
    {
        if (payload is null) return false;
        try
        {
            if (JsonNode.Parse(payload)?["auths"] is not JsonObject { Count: 1 }) return false;
        }
        catch (JsonException)
        {
            return false;
        }
        var held = Read(payload, registry);
        return held is not null && held.UserName == userName && held.Password == Reveal(secret);
    }

    /// <summary>The registry's host[:port] as a pull secret keys it: no scheme, no path, Docker Hub's historical key.</summary>
    public static string NormalizeRegistry(string registry)
    {
        var value = registry.Trim();
        if (value.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
                throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
                    $"'{registry}' is not a registry: give host[:port], such as harbor.example.com.", registry);
            value = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        }
        value = value.TrimEnd('/');
        if (value.Length == 0 || value.Contains('/'))
            throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
                $"'{registry}' is not a registry: give host[:port] without a repository path, such as harbor.example.com.", registry);
        return ImageReference.NormalizeRegistry(value) == ImageReference.DockerHubRegistry ? "https://index.docker.io/v1/" : value.ToLowerInvariant();
    }

    private static bool SameRegistry(string key, string host)
    {
        var candidate = key.Trim();
        if (candidate.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(candidate, UriKind.Absolute, out var uri))
        {
            if (candidate == host) return true;
            candidate = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        }
        return string.Equals(candidate.TrimEnd('/'), host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The SecureString's characters, for the payload only.</summary>
    internal static string Reveal(SecureString secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(pointer) ?? "";
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }
}
