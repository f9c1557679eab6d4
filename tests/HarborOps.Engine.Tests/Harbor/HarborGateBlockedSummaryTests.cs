using HarborOps.Engine.Harbor;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>The warning Set-HarborProject gives before tightening gates that would block artifacts.</summary>
public sealed class HarborGateBlockedSummaryTests
{
    private static HarborGateFinding Blocked(int i) => new()
    {
        Project = "team-a", Repository = $"team-a/app{i}", Digest = $"sha256:{i}{new string('0', 63)}", Reasons = ["Vulnerable", "Unsigned"],
    };

    [Fact]
    public void A_few_blocked_artifacts_are_each_named_by_repository_short_digest_and_reasons()
    {
        var summary = HarborGateBlockedSummary.Of("team-a", [Blocked(1), Blocked(2)]);
        Assert.Equal("The new gates of project 'team-a' would refuse pulls of 2 artifact(s): "
            + "team-a/app1@sha256:100000000000 (Vulnerable, Unsigned); team-a/app2@sha256:200000000000 (Vulnerable, Unsigned).", summary);
    }

    [Fact]
    public void Beyond_five_the_rest_are_counted_and_Test_HarborProjectGate_named()
    {
        var summary = HarborGateBlockedSummary.Of("team-a", [.. Enumerable.Range(1, 7).Select(Blocked)]);
        Assert.StartsWith("The new gates of project 'team-a' would refuse pulls of 7 artifact(s): team-a/app1@", summary, StringComparison.Ordinal);
        Assert.Contains("team-a/app5@", summary);
        Assert.DoesNotContain("team-a/app6@", summary);
        Assert.EndsWith("; and 2 more (Test-HarborProjectGate lists them all).", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_digest_is_shown_whole()
    {
        var finding = new HarborGateFinding { Repository = "team-a/app", Digest = "sha256:abc", Reasons = ["NeverScanned"] };
        Assert.Equal("The new gates of project 'team-a' would refuse pulls of 1 artifact(s): team-a/app@sha256:abc (NeverScanned).",
            HarborGateBlockedSummary.Of("team-a", [finding]));
    }
}
