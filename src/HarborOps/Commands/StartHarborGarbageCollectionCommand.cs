using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Starts a garbage collection now (or a dry run) and, with -Wait, waits for it with progress.</summary>
/// <remarks>
/// <para>Harbor frees the space of deleted images only when garbage collection runs. Start-HarborGarbageCollection
/// starts one run (POST /api/v2.0/system/gc/schedule with type Manual). -DryRun is Harbor's own dry run: it marks what
/// would be deleted and reports the bytes it would free, and deletes nothing; run it first. -DeleteUntagged also
/// deletes artifacts without tags; -Workers (1 to 10) sets Harbor's parallel deleters.</para>
/// <para>Without -Wait the run is returned at once (Status Running). With -Wait the command shows progress (the run's
/// status and the last line of its log) until it ends and returns it with FreedBytes; a run that ends in Error or
/// Stopped is written, then reported as the error HarborGarbageCollectionFailed with its log's last line, so scripts
/// can stop on it. Needs a system administrator.</para>
/// </remarks>
/// <example>
/// <code>Start-HarborGarbageCollection -DryRun -Wait | Select-Object Status, FreedBytes</code>
/// <para>What a real run would free, without deleting anything.</para>
/// </example>
/// <example>
/// <code>Start-HarborGarbageCollection -DeleteUntagged -Workers 4 -Wait -TimeoutSeconds 7200</code>
/// <para>A real run that also deletes untagged artifacts, waited for up to two hours.</para>
/// </example>
/// <errors>
/// <error id="HarborGarbageCollectionFailed">-Wait and the run ended in Error or Stopped; the message has the last line of its log.</error>
/// <error id="HarborGarbageCollectionTimeout">-Wait gave up after -TimeoutSeconds; the run goes on in Harbor.</error>
/// <error id="HarborRequestInvalid">-Workers outside 1..10.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Only system administrators may run garbage collection.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsLifecycle.Start, "HarborGarbageCollection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Start-HarborGarbageCollection.md")]
[OutputType(typeof(HarborGarbageCollectionInfo))]
public sealed class StartHarborGarbageCollectionCommand : HarborCommandBase
{
    /// <summary>Only report what would be freed; delete nothing.</summary>
    [Parameter]
    public SwitchParameter DryRun { get; set; }

    /// <summary>Also delete artifacts that have no tag.</summary>
    [Parameter]
    public SwitchParameter DeleteUntagged { get; set; }

    /// <summary>How many deleters Harbor runs in parallel (1 to 10; Harbor's default when not given).</summary>
    [Parameter]
    [ValidateRange(1, 10)]
    public int Workers { get; set; }

    /// <summary>Wait for the run to finish, with progress, and return it with the bytes it freed.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait waits before giving up (the run goes on in Harbor). Default 3600.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 3600;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborClient client = CreateClient();
        string what = DryRun ? "Start a garbage collection dry run" : "Start a garbage collection (deletes unreferenced blobs)";
        if (!await ShouldProcessAsync(client.Connection.Url.ToString(), what).ConfigureAwait(false)) return;
        HarborGarbageCollectionInfo run = await client.StartGarbageCollectionAsync(DryRun, DeleteUntagged, Given(nameof(Workers)) ? Workers : null, cancellationToken)
            .ConfigureAwait(false);
        CurrentTarget = run.Id;
        WriteVerbose($"Garbage collection {run.Id} started{(DryRun ? " (dry run)" : "")}.");
        if (Wait)
        {
            run = await client.WaitForGarbageCollectionAsync(run.Id, TimeSpan.FromSeconds(TimeoutSeconds),
                StartProgress("Start-HarborGarbageCollection", $"Garbage collection {run.Id}"), cancellationToken).ConfigureAwait(false);
        }

        WriteObject(run);
        if (run.Status is "Error" or "Stopped")
        {
            WriteFailure(await client.GarbageCollectionFailureAsync(run, cancellationToken).ConfigureAwait(false), run.Id);
        }
    }
}
