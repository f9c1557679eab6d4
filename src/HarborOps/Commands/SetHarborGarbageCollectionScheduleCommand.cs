using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Sets (or with -Schedule None removes) Harbor's garbage collection schedule.</summary>
/// <remarks>
/// <para>Replaces the schedule with PUT /api/v2.0/system/gc/schedule. Hourly, Daily and Weekly get the cron Harbor's
/// portal uses for them (0 0 * * * *, 0 0 0 * * *, 0 0 0 * * 0, in Harbor's time zone, UTC by default); Custom needs
/// -Cron with six fields, seconds first and 0. The parameters (-DryRun, -DeleteUntagged, -Workers) apply to every
/// scheduled run. Returns the schedule as Harbor then reports it. Needs a system administrator.</para>
/// </remarks>
/// <example>
/// <code>Set-HarborGarbageCollectionSchedule -Schedule Custom -Cron '0 0 2 * * 6' -DeleteUntagged -Workers 2</code>
/// <para>Every Saturday at 02:00, deleting untagged artifacts too.</para>
/// </example>
/// <example>
/// <code>Set-HarborGarbageCollectionSchedule -Schedule None -WhatIf</code>
/// <para>What removing the schedule would do.</para>
/// </example>
/// <errors>
/// <error id="HarborRequestInvalid">An unknown schedule, Custom without -Cron, or a cron Harbor refuses.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">Only system administrators may change the schedule.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Set, "HarborGarbageCollectionSchedule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Set-HarborGarbageCollectionSchedule.md")]
[OutputType(typeof(HarborGarbageCollectionSchedule))]
public sealed class SetHarborGarbageCollectionScheduleCommand : HarborCommandBase
{
    /// <summary>None (no schedule), Hourly, Daily, Weekly or Custom (with -Cron).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("None", "Hourly", "Daily", "Weekly", "Custom")]
    public string Schedule { get; set; } = "";

    /// <summary>Six-field cron, seconds first and 0 (needed for Custom; overrides the named schedules' cron).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Cron { get; set; }

    /// <summary>Scheduled runs also delete artifacts without tags.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter DeleteUntagged { get; set; }

    /// <summary>Scheduled runs only report what they would free.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter DryRun { get; set; }

    /// <summary>Parallel deleters per run, 1 to 10; 0 (as a schedule without it reports) leaves Harbor's default.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 10)]
    public int Workers { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborClient client = CreateClient();
        CurrentTarget = Schedule;
        int? workers = Given(nameof(Workers)) && Workers > 0 ? Workers : null;
        string what = Schedule == "None" ? "Remove the garbage collection schedule" : $"Schedule garbage collection {Schedule}{(Cron is null ? "" : $" ({Cron})")}";
        if (!await ShouldProcessAsync(client.Connection.Url.ToString(), what).ConfigureAwait(false)) return;
        WriteObject(await client.SetGarbageCollectionScheduleAsync(Schedule, Cron, DeleteUntagged, workers, DryRun, cancellationToken).ConfigureAwait(false));
    }
}
