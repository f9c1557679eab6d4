using HarborOps.Engine.Harbor;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

public sealed class HarborGateChangeTests
{
    private static HarborProjectInfo Project(bool preventVulnerable = false, string? severity = null, bool cosign = false) =>
        new() { Name = "team-a", PreventVulnerable = preventVulnerable, Severity = severity, RequireCosignSignature = cosign };

    [Theory]
    // Switching a gate on, or lowering the severity threshold, can newly refuse pulls.
    [InlineData(false, null, false, true, null, null, true)]
    [InlineData(false, null, false, null, null, true, true)]
    [InlineData(true, "critical", false, null, "High", null, true)]
    // Keeping, loosening or switching off cannot.
    [InlineData(true, "high", false, null, "Critical", null, false)]
    [InlineData(true, "high", true, false, null, false, false)]
    [InlineData(true, "high", true, null, null, null, false)]
    [InlineData(false, null, false, null, "Low", null, false)]
    public void Only_a_change_that_switches_a_gate_on_or_lowers_the_threshold_tightens(bool prevent, string? severity, bool cosign,
        bool? newPrevent, string? newSeverity, bool? newCosign, bool tightens)
    {
        var change = HarborGateChange.Of(Project(prevent, severity, cosign),
            new HarborProjectSettings { PreventVulnerable = newPrevent, Severity = newSeverity, RequireCosignSignature = newCosign });
        Assert.Equal(tightens, change.Tightens);
    }

    [Fact]
    public void Unset_values_keep_the_projects_own_and_the_default_severity_is_critical()
    {
        var change = HarborGateChange.Of(Project(cosign: true), new HarborProjectSettings { PreventVulnerable = true });
        Assert.Equal(new HarborGatePolicy(true, "critical", true), change.Policy);
    }
}
