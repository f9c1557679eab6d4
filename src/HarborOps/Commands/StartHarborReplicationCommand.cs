using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Starts a replication policy and, with -Wait, waits for it with progress and returns it with its tasks.</summary>
/// <remarks>
/// <para>Start-HarborReplication starts one execution of a policy (by name, or piped from New-HarborReplicationPolicy).
/// Without -Wait it returns the execution at once; with -Wait it shows progress (tasks finished of total) until the
/// execution ends and returns it with one task per replicated repository. A failed execution is written as an error
/// after the object, so scripts can stop on it.</para>
/// </remarks>
/// <example>
/// <code>Start-HarborReplication acr-team-a -Wait | Select-Object -ExpandProperty Tasks</code>
/// <para>Runs the policy, waits, and lists what each task copied.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborReplicationPolicyNotFound">No policy has that name or id.</error>
/// <error id="HarborReplicationTimeout">-Wait gave up after -TimeoutSeconds; the execution goes on in Harbor.</error>
/// <error id="HarborReplicationFailed">The execution ended Failed; the message says how many tasks failed and Harbor's status text.</error>
/// <error id="HarborPermissionDenied">Only system administrators may start replications.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsLifecycle.Start, "HarborReplication", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Name", HelpUri = OnlineHelp.CmdletPages + "Start-HarborReplication.md")]
[OutputType(typeof(HarborReplicationExecutionInfo))]
public sealed class StartHarborReplicationCommand : HarborCommandBase
{
    /// <summary>The policy's name.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Name")]
    [ValidateNotNullOrEmpty]
    public string Policy { get; set; } = "";

    /// <summary>The policy's id (New-HarborReplicationPolicy output binds here by its Id).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    public long PolicyId { get; set; }

    /// <summary>Wait for the execution to finish, with progress, and return it with its tasks.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait waits before giving up (the execution goes on in Harbor). Default 1800.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 1800;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborClient client = CreateClient();
        CurrentTarget = ParameterSetName == "Name" ? Policy : PolicyId;
        long id = ParameterSetName == "Name" ? (await client.FindReplicationPolicyAsync(Policy, cancellationToken).ConfigureAwait(false)).Id : PolicyId;
        string target = ParameterSetName == "Name" ? Policy : $"policy {PolicyId}";
        if (!await ShouldProcessAsync(target, "Start replication").ConfigureAwait(false)) return;
        HarborReplicationExecutionInfo execution = await client.StartReplicationAsync(id, cancellationToken).ConfigureAwait(false);
        WriteVerbose($"Replication execution {execution.Id} of {target} started.");
        if (Wait)
        {
            execution = await client.WaitForReplicationAsync(execution.Id, TimeSpan.FromSeconds(TimeoutSeconds),
                StartProgress("Start-HarborReplication", $"Replicating {target}"), cancellationToken).ConfigureAwait(false);
        }

        WriteObject(execution);
        if (execution.Status == "Failed")
        {
            WriteFailure(new HarborException(HarborErrorIds.ReplicationFailed, FailureKind.ServerError,
                $"Replication execution {execution.Id} of {target} failed: {execution.Failed} of {execution.Total} tasks failed. {execution.StatusText}".TrimEnd(), execution.Id), execution.Id);
        }
    }
}
