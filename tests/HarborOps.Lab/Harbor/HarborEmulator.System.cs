using System.Text.Json.Nodes;

namespace HarborOps.Lab.Harbor;

/// <summary>
/// Harbor's health and storage endpoints (goharbor/harbor v2.15.2):
/// - GET /health: src/server/v2.0/handler/health.go with src/controller/health/controller.go. No authentication (the
///   swagger: "This path does not require authentication"); one entry per registered checker
///   (src/controller/health/checker.go: core, database, jobservice, portal, redis, registry, registryctl, and trivy when
///   configured), sorted by name, "healthy"/"unhealthy", error only when unhealthy (json:"error,omitempty"), and the
///   overall status "healthy" only when no component has an error.
/// - GET /systeminfo/volumes: src/server/v2.0/handler/systeminfo.go GetVolumes, RequireSystemAccess(read,
///   system-volumes): 401 anonymous, 403 for anyone but a system admin; one Storage entry (total/free of the local disk).
/// </summary>
public sealed partial class HarborEmulator
{
    private static readonly string[] HealthComponents = ["core", "database", "jobservice", "portal", "redis", "registry", "registryctl", "trivy"];
    private readonly Dictionary<string, string> _unhealthy = new(StringComparer.Ordinal);
    private (ulong Total, ulong Free) _volume = (100UL * 1024 * 1024 * 1024, 60UL * 1024 * 1024 * 1024);

    /// <summary>Makes a component report unhealthy with this error (Harbor's checker text), or healthy again with null.</summary>
    public void SetComponentHealth(string component, string? error)
    {
        if (!HealthComponents.Contains(component)) throw new ArgumentException($"Harbor has no health checker named '{component}'", nameof(component));
        lock (_gate)
        {
            if (error is null) _unhealthy.Remove(component);
            else _unhealthy[component] = error;
        }
    }

    /// <summary>The local disk /systeminfo/volumes reports.</summary>
    public void SetVolume(ulong total, ulong free)
    {
        lock (_gate) _volume = (total, free);
    }

    private Task? RouteSystemAsync(ApiCall c) =>
        c.Is("GET", "health") ? HealthAsync(c)
        : c.Is("GET", "systeminfo", "volumes") ? VolumesAsync(c)
        : null;

    private Task HealthAsync(ApiCall c)
    {
        List<Dictionary<string, string>> components;
        lock (_gate)
            components = HealthComponents.Order(StringComparer.Ordinal).Select(name =>
            {
                var component = new Dictionary<string, string> { ["name"] = name, ["status"] = _unhealthy.ContainsKey(name) ? "unhealthy" : "healthy" };
                if (_unhealthy.TryGetValue(name, out var error)) component["error"] = error;
                return component;
            }).ToList();
        return ReplyAsync(c, 200, new { Status = components.Any(x => x.ContainsKey("error")) ? "unhealthy" : "healthy", Components = components });
    }

    private Task VolumesAsync(ApiCall c)
    {
        if (!c.Who.SysAdmin) return FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", c.Who.IsAnonymous ? "unauthorized" : "forbidden");
        lock (_gate) return ReplyAsync(c, 200, new { Storage = new[] { new { Total = _volume.Total, Free = _volume.Free } } });
    }

    /// <summary>/_lab/health {component, error}: what the lab's checker reports (error null or absent: healthy);
    /// /_lab/gc/fail {reason}: the next garbage collection run ends in Error.</summary>
    private bool TryControlSystem(string path, JsonNode? body)
    {
        switch (path)
        {
            case "health":
                SetComponentHealth(Str(body, "component") ?? "", Str(body, "error"));
                return true;
            case "gc/fail":
                FailNextGarbageCollection(Str(body, "reason") ?? "garbage collection failed");
                return true;
            default:
                return false;
        }
    }
}
