using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Lists every artifact of a project that its pull gates would refuse: never scanned, vulnerable, or unsigned.</summary>
/// <remarks>
/// <para>Test-HarborProjectGate answers "what breaks if I switch the gates on?" before anything breaks. It checks each
/// artifact as Harbor's pull gates do: with -PreventVulnerable, an artifact that was never scanned, whose last scan did not
/// succeed, or that has vulnerabilities at or above -Severity (after the project's CVE allowlist) is refused; with
/// -RequireCosignSignature, one without a cosign signature is refused. Image indexes skip the vulnerability check, as in
/// Harbor.</para>
/// <para>Without -PreventVulnerable or -RequireCosignSignature it tests both gates, with the project's severity
/// (Critical when it has none). Each finding names its reasons; nothing is written when no artifact would be
/// blocked.</para>
/// </remarks>
/// <example>
/// <code>Test-HarborProjectGate team-a -PreventVulnerable -Severity High</code>
/// <para>Lists what a High vulnerability gate would block in team-a.</para>
/// </example>
/// <example>
/// <code>Get-HarborProject team-* | Test-HarborProjectGate | Group-Object Project, { $_.Reasons -join ',' }</code>
/// <para>Counts, per team project and reason, the artifacts both gates would block.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborPermissionDenied">The credential may not read the project's artifacts.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsDiagnostic.Test, "HarborProjectGate", HelpUri = OnlineHelp.CmdletPages + "Test-HarborProjectGate.md")]
[OutputType(typeof(HarborGateFinding))]
public sealed class TestHarborProjectGateCommand : HarborCommandBase
{
    /// <summary>The project to check.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Test the vulnerability gate (never scanned, failed scan, vulnerable at or above -Severity).</summary>
    [Parameter]
    public SwitchParameter PreventVulnerable { get; set; }

    /// <summary>The severity the vulnerability gate blocks at and above; by default the project's, else Critical.</summary>
    [Parameter]
    [ValidateSet("None", "Low", "Medium", "High", "Critical")]
    public string? Severity { get; set; }

    /// <summary>Test the cosign signature gate.</summary>
    [Parameter]
    public SwitchParameter RequireCosignSignature { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Name;
        HarborClient client = CreateClient();
        bool both = !PreventVulnerable && !RequireCosignSignature;
        string severity = Severity is not null
            ? HarborClient.NormalizeSeverity(Severity)
            : (await client.GetProjectAsync(Name, cancellationToken).ConfigureAwait(false)).Severity ?? "critical";
        var policy = new HarborGatePolicy(both || PreventVulnerable, severity, both || RequireCosignSignature);
        IProgress<Engine.OperationProgress> progress = StartProgress("Test-HarborProjectGate", $"Checking the artifacts of {Name}");
        foreach (HarborGateFinding finding in await client.TestProjectGateAsync(Name, policy, progress, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(finding);
        }
    }
}
