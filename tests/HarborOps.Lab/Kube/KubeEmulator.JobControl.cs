using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace HarborOps.Lab.Kube;

/// <summary>
/// The lab's hands on Jobs: end the running pod of an index as its container would (an exit code and the termination
/// message the kubelet reads from terminationMessagePath, cut to its 4096 bytes), or set a Job's or a pod's status
/// outright, hostile values included, for tests of what reads them. A Job whose status was set by hand is left alone
/// by the controller from then on.
/// </summary>
public sealed partial class KubeEmulator
{
    /// <summary>Ends the running pod of <paramref name="index"/> with <paramref name="exitCode"/> and <paramref name="message"/>
    /// as its termination message; the controller then counts it (success, per-index retry, or the failure policy's action).
    /// Returns the pod's name.</summary>
    public string FinishJobIndex(string ns, string job, int index, int exitCode, string? message = null, string? condition = null)
    {
        lock (_gate)
        {
            var owner = Find(KubeResourceType.Jobs, ns, job);
            var text = index.ToString(CultureInfo.InvariantCulture);
            var pod = OwnedPods(ns, [UidOf(owner)])
                .FirstOrDefault(p => p["metadata"]?["labels"]?[CompletionIndexKey]?.GetValue<string>() == text
                    && p["status"]?["phase"]?.GetValue<string>() is not ("Succeeded" or "Failed"))
                ?? throw new InvalidOperationException($"Job {ns}/{job} has no running pod for index {index} (is it done, or beyond parallelism?)");
            var next = (JsonObject)pod.DeepClone();
            var status = PodStatus(next, ready: true, succeeded: exitCode == 0);
            var now = Now();
            if (exitCode != 0) status["phase"] = "Failed";
            foreach (var container in (status["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var terminated = new JsonObject
                {
                    ["exitCode"] = exitCode, ["reason"] = exitCode == 0 ? "Completed" : exitCode == 137 ? "OOMKilled" : "Error",
                    ["startedAt"] = pod["status"]?["startTime"]?.DeepClone() ?? now, ["finishedAt"] = now,
                    ["containerID"] = "containerd://" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(NameOf(pod)))).ToLowerInvariant(),
                };
                if (!string.IsNullOrEmpty(message)) terminated["message"] = KubeletMessage(message);
                container["state"] = new JsonObject { ["terminated"] = terminated };
                container["ready"] = false;
                container["started"] = false;
            }
            if (condition is not null)
                ((JsonArray)status["conditions"]!).Add(new JsonObject { ["type"] = condition, ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = "EvictionByEvictionAPI", ["message"] = "Eviction API: evicting" });
            next["status"] = status;
            Store(KubeResourceType.Pods, next, "MODIFIED");
            _dirty.Add(Key(KubeResourceType.Jobs, ns, job));
            return NameOf(pod);
        }
    }

    /// <summary>The kubelet keeps at most the first 4096 bytes of the termination message file (never half a character here).</summary>
    private static string KubeletMessage(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        if (bytes.Length <= MaxTerminationMessageBytes) return message;
        var cut = MaxTerminationMessageBytes;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80) cut--;
        return Encoding.UTF8.GetString(bytes, 0, cut);
    }

    /// <summary>Sets a Job's status as given (what a controller, or a hostile one, could write) and stops reconciling it.</summary>
    public void SetJobStatus(string ns, string name, JsonObject status)
    {
        lock (_gate)
        {
            var next = (JsonObject)Find(KubeResourceType.Jobs, ns, name).DeepClone();
            next["status"] = status.DeepClone();
            _frozenJobs.Add(Key(KubeResourceType.Jobs, ns, name));
            Store(KubeResourceType.Jobs, next, "MODIFIED");
        }
    }

    /// <summary>Sets a pod's status as given (what a kubelet, or a hostile one, could report).</summary>
    public void SetPodStatus(string ns, string name, JsonObject status)
    {
        lock (_gate)
        {
            var next = (JsonObject)Find(KubeResourceType.Pods, ns, name).DeepClone();
            next["status"] = status.DeepClone();
            Store(KubeResourceType.Pods, next, "MODIFIED");
        }
    }
}
