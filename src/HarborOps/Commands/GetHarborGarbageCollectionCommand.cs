using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets Harbor's garbage collection runs, newest first, with the bytes each freed; or one run, or its log.</summary>
/// <remarks>
/// <para>Get-HarborGarbageCollection lists the runs Harbor keeps (GET /api/v2.0/system/gc, paged): status, trigger
/// (Manual or Schedule), whether it was a dry run, and once a run has reported, FreedBytes, PurgedBlobs and
/// PurgedManifests as Harbor's job checks them in (for a dry run, what a real run would free; Harbor calls it a rough
/// estimate). -Id reads one run; -Log returns its job log as text instead. Needs a system administrator.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborGarbageCollection | Select-Object -First 5</code>
/// <para>The last five runs and what they freed.</para>
/// </example>
/// <example>
/// <code>Get-HarborGarbageCollection -Id 42 -Log</code>
/// <para>The job log of run 42.</para>
/// </example>
/// <errors>
/// <error id="HarborGarbageCollectionNotFound">No run has that id.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Only system administrators may read garbage collection.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborGarbageCollection", DefaultParameterSetName = "List", HelpUri = OnlineHelp.CmdletPages + "Get-HarborGarbageCollection.md")]
[OutputType(typeof(HarborGarbageCollectionInfo), typeof(string))]
public sealed class GetHarborGarbageCollectionCommand : HarborCommandBase
{
    /// <summary>One run by id (Start-HarborGarbageCollection output binds here).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, long.MaxValue)]
    public long Id { get; set; }

    /// <summary>Return the run's job log (text) instead of the run.</summary>
    [Parameter(ParameterSetName = "Id")]
    public SwitchParameter Log { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var client = CreateClient();
        if (ParameterSetName == "List")
        {
            foreach (HarborGarbageCollectionInfo run in await client.ListGarbageCollectionsAsync(cancellationToken).ConfigureAwait(false))
            {
                WriteObject(run);
            }

            return;
        }

        CurrentTarget = Id;
        WriteObject(Log
            ? await client.GetGarbageCollectionLogAsync(Id, cancellationToken).ConfigureAwait(false)
            : await client.GetGarbageCollectionAsync(Id, cancellationToken).ConfigureAwait(false));
    }
}
