using System.Globalization;
using System.Text.Json;
using HarborOps.Engine.Harbor;

namespace HarborOps.Engine.Rotation;

/// <summary>The label and annotation keys HarborOps writes on the pull secrets it manages.</summary>
public static class PullSecretKeys
{
    /// <summary>The well-known label (a label, so that managed secrets can be listed with a selector).</summary>
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "harborops";
    public const string ManagedSelector = ManagedByLabel + "=" + ManagedByValue;

    private const string Prefix = "harborops.io/";
    public const string Registry = Prefix + "registry";
    /// <summary>The login (robot$project+name) the secret holds. An annotation: '$' and '+' are not allowed in label values.</summary>
    public const string Robot = Prefix + "robot";
    public const string RobotId = Prefix + "robot-id";
    public const string RotatedAt = Prefix + "rotated-at";
    public const string ExpiresAt = Prefix + "expires-at";
    /// <summary>The Harbor projects the namespace pulls from: what the next robot is granted.</summary>
    public const string Projects = Prefix + "projects";
    /// <summary>Robots the secret held before, with when they were replaced: deleted once the grace period has passed.</summary>
    public const string RetiredRobots = Prefix + "retired-robots";
    public const string VerifiedAt = Prefix + "verified-at";
    public const string RestartedAt = Prefix + "restarted-at";
    /// <summary>
    /// The short name of the robot a run is about to create for this secret, written before Harbor is asked: if the run
    /// dies before the secret holds it, this record (not a name a user could also choose) proves the robot is the rotation's.
    /// </summary>
    public const string CreatingRobot = Prefix + "creating-robot";
    /// <summary>The short name of the robot the secret holds when the rotation created it for this namespace: its proof of origin.</summary>
    public const string CreatedRobot = Prefix + "created-robot";
}

/// <summary>
/// A robot a pull secret no longer holds, kept alive until <see cref="RetiredAt"/> plus the grace period.
/// <see cref="CreatedByRotation"/>: the secret recorded that the rotation created it for this namespace; only such a
/// robot may ever be deleted by the rotation.
/// </summary>
public sealed record RetiredRobot(long Id, string Name, DateTimeOffset RetiredAt, bool CreatedByRotation = false);

/// <summary>
/// The rotation's memory, kept in the managed secret's annotations, so that a run that died at any step can be
/// finished by the next one: the secret is the only thing written atomically together with the credential it records.
/// </summary>
public sealed record PullSecretState
{
    public string? Registry { get; init; }
    public string? Robot { get; init; }
    public long? RobotId { get; init; }
    public DateTimeOffset? RotatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public IReadOnlyList<string> Projects { get; init; } = [];
    public IReadOnlyList<RetiredRobot> RetiredRobots { get; init; } = [];
    /// <summary>When the credential the secret holds last pulled from Harbor (for the robot it names).</summary>
    public DateTimeOffset? VerifiedAt { get; init; }
    /// <summary>When workloads were last restarted for this credential; older than <see cref="RotatedAt"/> means a restart is owed.</summary>
    public DateTimeOffset? RestartedAt { get; init; }
    /// <summary>See <see cref="PullSecretKeys.CreatingRobot"/>.</summary>
    public string? CreatingRobot { get; init; }
    /// <summary>See <see cref="PullSecretKeys.CreatedRobot"/>.</summary>
    public string? CreatedRobot { get; init; }

    /// <summary>Whether the secret records that the rotation created the robot it holds, reading the held full name with
    /// Harbor's robot name prefix (<paramref name="harborRobotNamePrefix"/>; null when unknown).</summary>
    public bool HoldsCreatedRobot(string? harborRobotNamePrefix) =>
        Robot is not null && CreatedRobot is not null && HarborRobotName.ShortNameOf(Robot, harborRobotNamePrefix) == CreatedRobot;

    public static PullSecretState FromAnnotations(IDictionary<string, string>? annotations)
    {
        if (annotations is null) return new PullSecretState();
        string? Get(string key) => annotations.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
        return new PullSecretState
        {
            Registry = Get(PullSecretKeys.Registry),
            Robot = Get(PullSecretKeys.Robot),
            RobotId = long.TryParse(Get(PullSecretKeys.RobotId), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : null,
            RotatedAt = Time(Get(PullSecretKeys.RotatedAt)),
            ExpiresAt = Time(Get(PullSecretKeys.ExpiresAt)),
            Projects = (Get(PullSecretKeys.Projects) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            RetiredRobots = ReadRetired(Get(PullSecretKeys.RetiredRobots)),
            VerifiedAt = Time(Get(PullSecretKeys.VerifiedAt)),
            RestartedAt = Time(Get(PullSecretKeys.RestartedAt)),
            CreatingRobot = Get(PullSecretKeys.CreatingRobot),
            CreatedRobot = Get(PullSecretKeys.CreatedRobot),
        };
    }

    /// <summary>The annotations this state is written as; null values remove a key.</summary>
    public IReadOnlyDictionary<string, string?> ToAnnotations() => new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        [PullSecretKeys.Registry] = Registry,
        [PullSecretKeys.Robot] = Robot,
        [PullSecretKeys.RobotId] = RobotId?.ToString(CultureInfo.InvariantCulture),
        [PullSecretKeys.RotatedAt] = Format(RotatedAt),
        [PullSecretKeys.ExpiresAt] = Format(ExpiresAt),
        [PullSecretKeys.Projects] = Projects.Count == 0 ? null : string.Join(",", Projects),
        [PullSecretKeys.RetiredRobots] = RetiredRobots.Count == 0 ? null
            : JsonSerializer.Serialize(RetiredRobots.Select(r => new RetiredRobotJson { Id = r.Id, Name = r.Name, RetiredAt = Format(r.RetiredAt)!, CreatedByRotation = r.CreatedByRotation ? true : null })),
        [PullSecretKeys.VerifiedAt] = Format(VerifiedAt),
        [PullSecretKeys.RestartedAt] = Format(RestartedAt),
        [PullSecretKeys.CreatingRobot] = CreatingRobot,
        [PullSecretKeys.CreatedRobot] = CreatedRobot,
    };

    /// <summary>Seconds are what annotations keep; round-trips exactly.</summary>
    public static string? Format(DateTimeOffset? time) => time?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Time(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time : null;

    private static IReadOnlyList<RetiredRobot> ReadRetired(string? json)
    {
        if (json is null) return [];
        try
        {
            return (JsonSerializer.Deserialize<List<RetiredRobotJson>>(json) ?? [])
                .Where(r => r.Id > 0 && !string.IsNullOrEmpty(r.Name))
                .Select(r => new RetiredRobot(r.Id, r.Name, Time(r.RetiredAt) ?? DateTimeOffset.MinValue, r.CreatedByRotation == true))
                .ToList();
        }
        catch (JsonException)
        {
            // A hand-edited annotation must not stop the rotation; the robots it named are found again by name.
            return [];
        }
    }

    private sealed class RetiredRobotJson
    {
        [System.Text.Json.Serialization.JsonPropertyName("id")] public long Id { get; set; }
        [System.Text.Json.Serialization.JsonPropertyName("name")] public string Name { get; set; } = "";
        [System.Text.Json.Serialization.JsonPropertyName("retiredAt")] public string RetiredAt { get; set; } = "";
        // Absent (null) on robots retired before HarborOps recorded origins: those are never deleted.
        [System.Text.Json.Serialization.JsonPropertyName("createdByRotation")]
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public bool? CreatedByRotation { get; set; }
    }
}
