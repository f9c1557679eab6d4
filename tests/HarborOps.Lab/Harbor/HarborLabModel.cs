using System.Security.Cryptography;
using System.Text;

namespace HarborOps.Lab.Harbor;

// The emulator's in-memory Harbor database. Everything is guarded by HarborEmulator's one lock.

internal sealed class LabHarborUser
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required string Password { get; set; }
    /// <summary>An OIDC user's CLI secret; accepted as its Basic password.</summary>
    public string? CliSecret { get; set; }
    public bool SysAdmin { get; init; }
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
}

internal sealed class LabHarborGroup
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required int Type { get; init; }
    public string? LdapDn { get; init; }
}

internal sealed class LabHarborMember
{
    public required int Id { get; init; }
    public required int ProjectId { get; init; }
    public required int EntityId { get; init; }
    /// <summary>"u" or "g".</summary>
    public required string EntityType { get; init; }
    public required string EntityName { get; init; }
    public required int RoleId { get; set; }
}

internal sealed class LabHarborProject
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required int OwnerId { get; init; }
    public required string OwnerName { get; init; }
    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public List<string> AllowlistItems { get; set; } = [];
    public long? AllowlistExpiresAt { get; set; }
    public int AllowlistId { get; init; }
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset Updated { get; set; } = DateTimeOffset.UtcNow;
    public int QuotaId { get; init; }
    public long StorageLimit { get; set; } = -1;
    /// <summary>The registry endpoint a proxy-cache project mirrors; 0 for an ordinary project.</summary>
    public long RegistryId { get; init; }

    public bool Flag(string key) => Metadata.TryGetValue(key, out var v) && v == "true";
}

internal sealed record LabRobotAccess(string Resource, string Action, string Effect = "allow");

internal sealed record LabRobotPermission(string Kind, string Namespace, IReadOnlyList<LabRobotAccess> Access);

internal sealed class LabHarborRobot
{
    public required long Id { get; init; }
    /// <summary>As Harbor stores it: "name" (system) or "project+name" (project).</summary>
    public required string StoredName { get; init; }
    public required string Level { get; init; }
    /// <summary>0 for system robots.</summary>
    public required int ProjectId { get; init; }
    public string Description { get; set; } = "";
    public long Duration { get; set; }
    public bool Disabled { get; set; }
    public List<LabRobotPermission> Permissions { get; set; } = [];
    public required string CreatorType { get; init; }
    public required int CreatorRef { get; init; }
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset Updated { get; set; } = DateTimeOffset.UtcNow;
    public byte[] Salt { get; private set; } = [];
    public byte[] SecretHash { get; private set; } = [];

    public long ExpiresAt => Duration == -1 ? -1 : Created.AddDays(Duration).ToUnixTimeSeconds();

    public bool Expired(DateTimeOffset now) => ExpiresAt != -1 && ExpiresAt <= now.ToUnixTimeSeconds();

    /// <summary>Harbor keeps only a salted SHA-256 of the secret.</summary>
    public void SetSecret(string secret)
    {
        Salt = RandomNumberGenerator.GetBytes(16);
        SecretHash = Hash(Salt, secret);
    }

    public bool SecretMatches(string secret) => SecretHash.Length > 0 && CryptographicOperations.FixedTimeEquals(Hash(Salt, secret), SecretHash);

    private static byte[] Hash(byte[] salt, string secret) => SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(secret)]);
}

/// <summary>A vulnerability the test seeds for the fake scanner.</summary>
public sealed record LabVulnerability(string Id, string Severity, string Package = "libexample", string Version = "1.0.0", string? FixVersion = null,
    string Description = "", double? CvssV3 = null);

internal sealed class LabScan
{
    public required string ReportId { get; init; }
    public required DateTimeOffset Started { get; init; }
    public required DateTimeOffset Finishes { get; init; }
    public required IReadOnlyList<LabVulnerability> Vulnerabilities { get; init; }
    public required bool Fails { get; init; }

    public string Status(DateTimeOffset now) => now < Started.AddMilliseconds(1) ? "Pending" : now < Finishes ? "Running" : Fails ? "Error" : "Success";
}

/// <summary>An artifact as the emulator derives it from the real registry.</summary>
internal sealed class LabArtifact
{
    public required long Id { get; init; }
    public required long RepositoryId { get; init; }
    public required string Repository { get; init; }
    public required string Digest { get; init; }
    public required string MediaType { get; init; }
    public required long Size { get; init; }
    public required IReadOnlyList<(string Digest, long Size)> Blobs { get; init; }
    public IReadOnlyList<(string Digest, string? Os, string? Architecture)> Children { get; init; } = [];
    public string? ConfigMediaType { get; init; }
    public DateTimeOffset PushTime { get; init; }
    public List<string> Tags { get; } = [];
    /// <summary>The digest of this artifact's cosign signature manifest (from its sha256-&lt;hex&gt;.sig tag), if signed.</summary>
    public (string Digest, long Size, long Id)? Signature { get; set; }

    public bool IsIndex => MediaType is LabContent.OciIndex or LabContent.DockerManifestList;
}
