using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>What the API server says about itself: /version, and the legacy discovery of its groups and resources.</summary>
public sealed partial class KubeEmulator
{
    private JsonObject VersionInfo()
    {
        var version = _options.GitVersion.TrimStart('v').Split('.');
        return new JsonObject
        {
            ["major"] = version[0], ["minor"] = version[1], ["gitVersion"] = _options.GitVersion, ["gitCommit"] = "0000000000000000000000000000000000000000",
            ["gitTreeState"] = "clean", ["buildDate"] = "2026-01-01T00:00:00Z", ["goVersion"] = "go1.23.8", ["compiler"] = "gc", ["platform"] = "linux/amd64",
        };
    }

    /// <summary>Legacy discovery (kubectl falls back to it when the server does not answer the aggregated form).</summary>
    private static JsonObject? Discovery(string path)
    {
        path = path.TrimEnd('/');
        if (path == "/api")
            return new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1"), ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = "127.0.0.1:6443" }) };
        var groups = KubeResourceType.All.Where(t => t.Group.Length > 0).Select(t => t.Group).Distinct().ToList();
        if (path == "/apis")
            return new JsonObject
            {
                ["kind"] = "APIGroupList", ["apiVersion"] = "v1",
                ["groups"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject
                {
                    ["name"] = g,
                    ["versions"] = new JsonArray(new JsonObject { ["groupVersion"] = $"{g}/v1", ["version"] = "v1" }),
                    ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{g}/v1", ["version"] = "v1" },
                }).ToArray()),
            };
        string? groupVersion = path == "/api/v1" ? "v1" : path.StartsWith("/apis/", StringComparison.Ordinal) && path.Count(c => c == '/') == 3 ? path["/apis/".Length..] : null;
        if (groupVersion is null) return null;
        var types = KubeResourceType.All.Where(t => t.ApiVersion == groupVersion).ToList();
        if (types.Count == 0) return null;
        var resources = new JsonArray();
        foreach (var t in types)
        {
            resources.Add(new JsonObject
            {
                ["name"] = t.Plural, ["singularName"] = t.Singular, ["namespaced"] = t.Namespaced, ["kind"] = t.Kind,
                ["verbs"] = new JsonArray(KubeResourceType.AllVerbs.Select(v => (JsonNode)v).ToArray()),
                ["shortNames"] = new JsonArray(t.ShortNames.Select(s => (JsonNode)s).ToArray()),
                ["storageVersionHash"] = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(t.Qualified)))[..11],
            });
            if (t.IsWorkload || t == KubeResourceType.Jobs || t == KubeResourceType.CronJobs || t == KubeResourceType.ReplicaSets || t == KubeResourceType.Namespaces)
                resources.Add(new JsonObject { ["name"] = $"{t.Plural}/status", ["singularName"] = "", ["namespaced"] = t.Namespaced, ["kind"] = t.Kind, ["verbs"] = new JsonArray("get", "patch", "update") });
            if (t == KubeResourceType.Pods)
                resources.Add(new JsonObject { ["name"] = "pods/ephemeralcontainers", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "Pod", ["verbs"] = new JsonArray("get", "patch", "update") });
        }
        return new JsonObject { ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = groupVersion, ["resources"] = resources };
    }

    // ---------------------------------------------------------------- resources
}
