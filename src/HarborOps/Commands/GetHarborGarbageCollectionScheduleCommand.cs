using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets Harbor's garbage collection schedule and its parameters.</summary>
/// <remarks>
/// <para>Reads GET /api/v2.0/system/gc/schedule: the schedule type (None when there is none), its cron (six fields,
/// seconds first), the next run, and the parameters each scheduled run gets (dry run, delete untagged, workers).
/// Needs a system administrator.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborGarbageCollectionSchedule</code>
/// <para>When garbage collection runs next, and how.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Only system administrators may read the schedule.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborGarbageCollectionSchedule", HelpUri = OnlineHelp.CmdletPages + "Get-HarborGarbageCollectionSchedule.md")]
[OutputType(typeof(HarborGarbageCollectionSchedule))]
public sealed class GetHarborGarbageCollectionScheduleCommand : HarborCommandBase
{
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken) =>
        WriteObject(await CreateClient().GetGarbageCollectionScheduleAsync(cancellationToken).ConfigureAwait(false));
}
