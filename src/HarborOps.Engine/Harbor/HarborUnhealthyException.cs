using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// Harbor reported itself unhealthy to a caller that asked to fail on it (Get-HarborHealth -FailOnUnhealthy). Terminating:
/// a monitor runs pwsh -c 'Get-HarborHealth -FailOnUnhealthy', and only a terminating error gives it a non-zero exit code.
/// </summary>
public sealed class HarborUnhealthyException(HarborHealthInfo health)
    : HarborException(HarborErrorIds.Unhealthy, FailureKind.ServerError, Describe(health), health.Harbor)
{
    public HarborHealthInfo Health { get; } = health;

    public override bool IsTerminating => true;

    private static string Describe(HarborHealthInfo health)
    {
        var failing = health.Components.Where(c => !c.IsHealthy).Select(c => string.IsNullOrEmpty(c.Error) ? c.Name : $"{c.Name} ({c.Error})").ToList();
        return $"Harbor at {health.Harbor} is {health.Status}: {(failing.Count == 0 ? "no component named the cause" : string.Join("; ", failing))}. " +
            "Check those components' containers and logs (docker compose ps, or kubectl get pods in Harbor's namespace).";
    }
}
