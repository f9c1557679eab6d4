using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets the storage each project uses and its quota, largest use first; keeps a history of it and reports its growth.</summary>
/// <remarks>
/// <para>Get-HarborProjectUsage reads Harbor's quota list (paged, sorted by use) and reports bytes used, the quota
/// (-1 unlimited) and the share used. Harbor counts a blob shared by two projects once in each, so the sum can be more
/// than the disk use; deleted images count until garbage collection runs. Reading every project's quota needs a system
/// admin or a robot with quota:list.</para>
/// <para>-HistoryPath names a .csv or .json file: each run also appends one timestamped snapshot per project to it
/// (the file is replaced by renaming a temporary file written beside it, under a lock file, so an interrupted run
/// leaves it whole and concurrent runs do not lose rows; a file that exists and is not such a history is refused).
/// Run it daily from a scheduler. -History reads the file back instead of asking Harbor and returns, per project,
/// the growth between the first and last snapshot in bytes per day and the days left to its quota.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborProjectUsage | Select-Object -First 10</code>
/// <para>The ten projects that use the most storage.</para>
/// </example>
/// <example>
/// <code>Get-HarborProjectUsage | Where-Object PercentUsed -gt 85</code>
/// <para>Projects close to their quota.</para>
/// </example>
/// <example>
/// <code>Get-HarborProjectUsage -HistoryPath /var/lib/harborops/usage.csv | Out-Null; Get-HarborProjectUsage -History -HistoryPath /var/lib/harborops/usage.csv</code>
/// <para>Record today's snapshot, then how fast each team's storage grows (bytes per day) and when it hits its quota.</para>
/// </example>
/// <errors>
/// <error id="HarborUsageHistoryInvalid">-HistoryPath is not .csv or .json, is a symbolic link, its folder is missing, or it exists and is not a usage history (it is left untouched).</error>
/// <error id="HarborUsageHistoryBusy">Another run held the history's lock file for too long; the snapshot was not written.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">The credential may not list quotas (system admin needed).</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborProjectUsage", DefaultParameterSetName = "Current", HelpUri = OnlineHelp.CmdletPages + "Get-HarborProjectUsage.md")]
[OutputType(typeof(HarborProjectUsage), ParameterSetName = ["Current"])]
[OutputType(typeof(HarborProjectUsageGrowth), ParameterSetName = ["History"])]
public sealed class GetHarborProjectUsageCommand : HarborCommandBase
{
    /// <summary>Only projects whose name matches this wildcard pattern.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string? Project { get; set; }

    /// <summary>A .csv or .json file: each run appends a snapshot per project to it; with -History, the file read back.</summary>
    [Parameter(ParameterSetName = "Current")]
    [Parameter(Mandatory = true, ParameterSetName = "History")]
    [ValidateNotNullOrEmpty]
    public string? HistoryPath { get; set; }

    /// <summary>Read -HistoryPath instead of Harbor and return each project's growth over the snapshots in it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "History")]
    public SwitchParameter History { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Project;
        string? path = HistoryPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(HistoryPath);
        if (History)
        {
            var filter = Project is null ? null : new WildcardPattern(Project, WildcardOptions.IgnoreCase);
            var rows = await HarborUsageHistory.ReadAsync(path!, cancellationToken).ConfigureAwait(false);
            foreach (HarborProjectUsageGrowth growth in HarborUsageHistory.Growth(rows.Where(r => filter is null || filter.IsMatch(r.Project))))
            {
                WriteObject(growth);
            }

            return;
        }

        IReadOnlyList<HarborProjectUsage> usage = await CreateClient().GetProjectUsageAsync(Project, cancellationToken).ConfigureAwait(false);
        if (path is not null)
        {
            await HarborUsageHistory.AppendAsync(path, usage, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            WriteVerbose($"Appended {usage.Count} project snapshot(s) to {path}.");
        }

        foreach (HarborProjectUsage item in usage)
        {
            WriteObject(item);
        }
    }
}
