using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Sets a project's tag retention rules: keep the last N, keep by age, keep tags by pattern.</summary>
/// <remarks>
/// <para>Set-HarborRetentionPolicy writes the project's policy (creating it, or replacing its rules). Each parameter
/// given becomes one rule over the repositories -Repository selects and the tags -Tag selects: -KeepLatest N keeps the
/// N most recently pushed artifacts (Harbor's latestPushedK), -KeepDays N keeps those pushed within N days
/// (nDaysSinceLastPush), -KeepTag keeps every artifact with a tag matching each pattern (always). An artifact any
/// rule keeps is kept; every other artifact of a repository a rule looks at is deleted when the policy runs, unless an
/// immutable tag protects it. Patterns are doublestar: * within a name, ** across '/', {a,b} alternatives.</para>
/// <para>Signatures: Harbor's retention never treats a cosign signature as an artifact of its own; it deletes an
/// artifact's signatures with it and keeps them with it, so no rule written here can leave a signature without its
/// image or an image without its signature. Test-HarborRetentionPolicy shows this per artifact.</para>
/// <para>Run Test-HarborRetentionPolicy afterwards to see exactly what would be deleted. Needs a project admin,
/// maintainer or developer.</para>
/// </remarks>
/// <example>
/// <code>Set-HarborRetentionPolicy -Project team-a -KeepLatest 10 -KeepDays 30 -KeepTag 'v*', 'release-*'</code>
/// <para>Keep the 10 newest artifacts, anything pushed in the last 30 days, and every release tag.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject team-* | Set-HarborRetentionPolicy -KeepLatest 20 -WhatIf</code>
/// <para>What the rule would be for each team project, without writing it.</para>
/// </example>
/// <errors>
/// <error id="HarborRetentionRuleInvalid">No rule given, more than 15, a number out of range, or a rule Harbor refuses.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from the caller.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Guests may not change retention policies.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Set, "HarborRetentionPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Set-HarborRetentionPolicy.md")]
[OutputType(typeof(HarborRetentionPolicy))]
public sealed class SetHarborRetentionPolicyCommand : HarborProjectCommandBase
{
    /// <summary>Keep the N most recently pushed artifacts of each repository (among those -Tag selects).</summary>
    [Parameter]
    [ValidateRange(0, 32766)]
    public int KeepLatest { get; set; }

    /// <summary>Keep artifacts pushed within the last N days (among those -Tag selects).</summary>
    [Parameter]
    [ValidateRange(0, 20190904)]
    public int KeepDays { get; set; }

    /// <summary>Always keep artifacts with a tag matching any of these patterns (one rule per pattern).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? KeepTag { get; set; }

    /// <summary>Which repositories -KeepLatest and -KeepDays (and -KeepTag) look at, doublestar (default ** for all).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Repository { get; set; } = "**";

    /// <summary>Which tags -KeepLatest and -KeepDays count, doublestar (default ** for all).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Tag { get; set; } = "**";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        var rules = new List<HarborRetentionRule>();
        if (Given(nameof(KeepLatest))) rules.Add(new HarborRetentionRule { Template = "latestPushedK", Value = KeepLatest, Repositories = Repository, Tags = Tag });
        if (Given(nameof(KeepDays))) rules.Add(new HarborRetentionRule { Template = "nDaysSinceLastPush", Value = KeepDays, Repositories = Repository, Tags = Tag });
        foreach (string pattern in KeepTag ?? [])
        {
            rules.Add(new HarborRetentionRule { Template = "always", Repositories = Repository, Tags = pattern });
        }

        HarborClient client = CreateClient();
        string what = rules.Count == 0 ? "Set no retention rule" : "Set retention rules: " + string.Join("; ", rules);
        if (!await ShouldProcessAsync($"project {Project}", what).ConfigureAwait(false)) return;
        WriteObject(await client.SetRetentionPolicyAsync(Project, rules, cancellationToken).ConfigureAwait(false));
    }
}
