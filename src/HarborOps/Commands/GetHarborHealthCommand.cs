using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets the health of Harbor and of each of its components; with -FailOnUnhealthy, fails when any is unhealthy.</summary>
/// <remarks>
/// <para>Get-HarborHealth reads GET /api/v2.0/health: an overall status (healthy only when every component is) and one
/// entry per component (core, database, jobservice, portal, redis, registry, registryctl and trivy when installed) with
/// Harbor's error text for an unhealthy one. Harbor answers it for any caller, so a monitor's credential can be
/// a user or robot with no rights at all.</para>
/// <para>With -FailOnUnhealthy the object is still written, and then a terminating error HarborUnhealthy names each
/// unhealthy component: pwsh -c '... Get-HarborHealth -FailOnUnhealthy' exits with a
/// non-zero code, which is what cron jobs, Kubernetes probes and CI checks look at.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborHealth | Select-Object -ExpandProperty Components</code>
/// <para>Each component and its state.</para>
/// </example>
/// <example>
/// <code>pwsh -NoProfile -c 'Get-HarborHealth -Harbor https://harbor.example.com -Credential (Import-Clixml ~/monitor.cred.xml) -FailOnUnhealthy'</code>
/// <para>A monitor's check: exit code 1 and the unhealthy components on stderr when Harbor is not healthy.</para>
/// </example>
/// <errors>
/// <error id="HarborUnhealthy">-FailOnUnhealthy and Harbor reported a component unhealthy; the message names each one and its error.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborResponseInvalid">The URL answered with something that is not Harbor's health report.</error>
/// <error id="HarborUnreachable">Harbor could not be reached (a monitor should treat this as unhealthy too).</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborHealth", HelpUri = OnlineHelp.CmdletPages + "Get-HarborHealth.md")]
[OutputType(typeof(HarborHealthInfo))]
public sealed class GetHarborHealthCommand : HarborCommandBase
{
    /// <summary>After writing the health, stop with a terminating error (non-zero exit of pwsh -c) when Harbor is not healthy.</summary>
    [Parameter]
    public SwitchParameter FailOnUnhealthy { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborHealthInfo health = await CreateClient().GetHealthAsync(cancellationToken).ConfigureAwait(false);
        WriteObject(health);
        if (FailOnUnhealthy && !health.IsHealthy)
        {
            throw new HarborUnhealthyException(health);
        }
    }
}
