using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>
/// The pull gates a project would have after a change, and whether the change tightens them: switching on the
/// vulnerability gate, lowering its severity threshold, or switching on the cosign requirement. Only a tightening change
/// can newly refuse pulls (Harbor's 412), so only it needs the project's artifacts checked before it is made.
/// </summary>
public sealed record HarborGateChange(HarborGatePolicy Policy, bool Tightens)
{
    /// <summary>The gates <paramref name="current"/> would have with <paramref name="settings"/> applied (unset values keep
    /// the project's own; Harbor's default severity is critical).</summary>
    public static HarborGateChange Of(HarborProjectInfo current, HarborProjectSettings settings)
    {
        var preventVulnerable = settings.PreventVulnerable ?? current.PreventVulnerable;
        var requireCosign = settings.RequireCosignSignature ?? current.RequireCosignSignature;
        var currentSeverity = current.Severity ?? "critical";
        var severity = settings.Severity is null ? currentSeverity : HarborClient.NormalizeSeverity(settings.Severity);
        var tightens = (preventVulnerable && (!current.PreventVulnerable || HarborClient.SeverityRank(severity) < HarborClient.SeverityRank(currentSeverity)))
            || (requireCosign && !current.RequireCosignSignature);
        return new HarborGateChange(new HarborGatePolicy(preventVulnerable, severity, requireCosign), tightens);
    }
}
