using System.Text.RegularExpressions;
using HarborOps.Engine.Errors;
using k8s.Models;

namespace HarborOps.Engine.MigrationJobs;

/// <summary>
/// What Kubernetes would refuse, refused first with the parameter's name: object names (RFC 1123, and the Job
/// controller's pod hostnames "name-index" within 63 characters; a CronJob's name within 52, since its Jobs append
/// 11 characters: kubernetes pkg/apis/batch/validation/validation.go), a cron schedule of five fields or a macro,
/// quantities, and sources a pod can reach (no oci: directory).
/// </summary>
public static partial class MigrationJobValidation
{
    public const int MaxShards = 1000;

    public static void Validate(MigrationJobRequest request)
    {
        Label("-Namespace", request.Namespace, 63);
        var maxName = request.Schedule is null ? 63 - 1 - (request.ShardCount - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length : 52;
        Label("-Name", request.Name, maxName);
        Subdomain("-ServiceAccountName", request.ServiceAccountName);
        if (request.ShardCount is < 1 or > MaxShards) Fail("-ShardCount", $"{request.ShardCount} is not between 1 and {MaxShards}");
        if (request.BackoffLimitPerIndex is < 0 or > 100) Fail("-BackoffLimitPerIndex", $"{request.BackoffLimitPerIndex} is not between 0 and 100");
        if (string.IsNullOrWhiteSpace(request.Image) || request.Image.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            Fail("-Image", "it must be an image reference without spaces, such as harbor.example.com/tools/harborops@sha256:<digest>");
        if (request.WorkloadIdentityClientId is { } clientId && !Guid.TryParseExact(clientId, "D", out _)) Fail("-WorkloadIdentityClientId", $"\"{clientId}\" is not a client id (a GUID)");
        if (request.WorkloadIdentityTenantId is { } tenantId && !Guid.TryParseExact(tenantId, "D", out _)) Fail("-WorkloadIdentityTenantId", $"\"{tenantId}\" is not a tenant id (a GUID)");
        if (request.HarborSecretName is { } secret)
        {
            Subdomain("-HarborSecretName", secret);
            foreach (var key in new[] { request.HarborSecretUsernameKey, request.HarborSecretPasswordKey })
                if (!SecretKey().IsMatch(key)) Fail("-HarborSecretName", $"the Secret key \"{key}\" is not one Kubernetes allows ([-._a-zA-Z0-9]+)");
        }
        if (request.Schedule is { } schedule && !IsCron(schedule))
            Fail("-Schedule", $"\"{Printable(schedule)}\" is not a cron schedule (five fields such as \"0 */6 * * *\", or @hourly, @daily, @weekly, @monthly)");
        if (request.SinceWindow is { } window && window <= TimeSpan.Zero) Fail("-SinceWindow", "it must be positive");
        // Each scheduled run checks parity after its copy, and Compare-RegistryParity compares every platform.
        if (request.Schedule is not null && request.Copy.Platform is { Count: > 0 })
            Fail("-Platform", "a scheduled run checks parity after its copy, and parity compares every platform: an index -Platform "
                + "rewrote has another digest at the destination, so every run would fail. Leave out -Platform with -Schedule (the CronJob then "
                + "copies every platform), or run the filtered copy as a Job without -Schedule");
        foreach (var (parameter, quantity) in new[] { ("-CpuRequest", request.CpuRequest), ("-MemoryRequest", request.MemoryRequest), ("-CpuLimit", request.CpuLimit), ("-MemoryLimit", request.MemoryLimit) })
            if (quantity is not null && !IsQuantity(quantity)) Fail(parameter, $"\"{Printable(quantity)}\" is not a Kubernetes quantity (such as 500m, 2, 512Mi, 2Gi)");
        if (request.Copy.Source.Count == 0) Fail("-Source", "at least one source is needed");
        foreach (var source in request.Copy.Source.Append(request.Copy.Destination))
        {
            if (string.IsNullOrWhiteSpace(source)) Fail("-Source/-Destination", "a registry reference is empty");
            if (source.StartsWith("oci:", StringComparison.OrdinalIgnoreCase))
                Fail("-Source/-Destination", $"\"{Printable(source)}\" is an OCI layout directory, which a pod in the cluster cannot reach; copy it to a registry first");
        }
    }

    /// <summary>The registry hosts of the sources (what workload identity signs in to), lower-case and distinct.</summary>
    public static IReadOnlyList<string> SourceRegistries(IEnumerable<string> sources) =>
        sources.Select(s => s.Split('/', 2)[0].Split('@', 2)[0].ToLowerInvariant()).Where(h => h.Length > 0).Distinct(StringComparer.Ordinal).ToList();

    private static bool IsCron(string schedule)
    {
        if (schedule.Length > 100 || schedule.Any(char.IsControl)) return false;
        if (schedule.StartsWith('@')) return schedule is "@yearly" or "@annually" or "@monthly" or "@weekly" or "@daily" or "@midnight" or "@hourly";
        var fields = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length == 5 && fields.All(f => CronField().IsMatch(f));
    }

    private static bool IsQuantity(string text)
    {
        if (text.Length > 32) return false;
        try
        {
            _ = new ResourceQuantity(text).ToDecimal();
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    private static void Label(string parameter, string value, int max)
    {
        if (value.Length > max || !DnsLabel().IsMatch(value))
            Fail(parameter, $"\"{Printable(value)}\" must be at most {max} lower-case letters, digits and '-', starting and ending with a letter or digit");
    }

    private static void Subdomain(string parameter, string value)
    {
        if (value.Length > 253 || !DnsSubdomain().IsMatch(value))
            Fail(parameter, $"\"{Printable(value)}\" is not a Kubernetes object name (lower-case RFC 1123 subdomain)");
    }

    /// <summary>A value as it can appear in a message: control characters shown escaped, and cut.</summary>
    private static string Printable(string value)
    {
        var text = new string(value.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 80 ? text + "…" : text;
    }

    private static void Fail(string parameter, string problem) =>
        throw new MigrationJobException(MigrationJobErrorIds.Invalid, FailureKind.InvalidArgument, $"{parameter}: {problem}.", parameter);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex SecretKey();

    [GeneratedRegex(@"^[0-9A-Za-z*?/,\-]+$")]
    private static partial Regex CronField();
}
