using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Reads replication executions: one with its tasks, or a policy's runs, newest first.</summary>
/// <remarks>
/// <para>Get-HarborReplicationExecution -Id returns one execution with its tasks (source and destination repository
/// with tags, status, times). -Policy lists a policy's executions, newest first, without tasks.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborReplicationExecution -Policy acr-team-a | Select-Object -First 1</code>
/// <para>Shows the latest run of the policy.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborReplicationExecutionNotFound">No execution has that id.</error>
/// <error id="HarborReplicationPolicyNotFound">No policy has that name.</error>
/// <error id="HarborPermissionDenied">Only system administrators may read replications.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborReplicationExecution", DefaultParameterSetName = "Id", HelpUri = OnlineHelp.CmdletPages + "Get-HarborReplicationExecution.md")]
[OutputType(typeof(HarborReplicationExecutionInfo))]
public sealed class GetHarborReplicationExecutionCommand : HarborCommandBase
{
    /// <summary>The execution's id (Start-HarborReplication output binds here).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    public long Id { get; set; }

    /// <summary>The name of the policy whose executions to list.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Policy")]
    [ValidateNotNullOrEmpty]
    public string Policy { get; set; } = "";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborClient client = CreateClient();
        CurrentTarget = ParameterSetName == "Id" ? Id : Policy;
        if (ParameterSetName == "Id")
        {
            WriteObject(await client.GetReplicationExecutionAsync(Id, true, cancellationToken).ConfigureAwait(false));
            return;
        }

        HarborReplicationPolicyInfo policy = await client.FindReplicationPolicyAsync(Policy, cancellationToken).ConfigureAwait(false);
        foreach (HarborReplicationExecutionInfo execution in await client.ListReplicationExecutionsAsync(policy.Id, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(execution);
        }
    }
}
