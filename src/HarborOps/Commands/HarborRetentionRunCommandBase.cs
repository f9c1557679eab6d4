using System.Management.Automation;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>
/// What Test-HarborRetentionPolicy (Harbor's dry run) and Invoke-HarborRetention (the real run) share beyond the project:
/// the choice to see what was kept too, and one run of the project's policy in Harbor with its results written.
/// </summary>
public abstract class HarborRetentionRunCommandBase : HarborProjectCommandBase
{
    /// <summary>Also return the artifacts the policy keeps.</summary>
    [Parameter]
    public SwitchParameter IncludeRetained { get; set; }

    /// <summary>
    /// Runs the policy in Harbor (a dry run deletes nothing), waits up to the timeout and writes what it deleted or would
    /// delete. <paramref name="approve"/> is asked once the Harbor session is known, so -WhatIf without one still says so.
    /// </summary>
    protected async Task RunRetentionAsync(bool dryRun, TimeSpan timeout, string activity, string status, Func<Task<bool>>? approve,
        CancellationToken cancellationToken)
    {
        var client = CreateClient();
        if (approve is not null && !await approve().ConfigureAwait(false)) return;
        IReadOnlyList<HarborRetentionResult> results = await client.RunRetentionAsync(Project, dryRun, timeout,
            StartProgress(activity, status), cancellationToken).ConfigureAwait(false);
        foreach (HarborRetentionResult result in results)
        {
            if (IncludeRetained || result.Action != "Retain")
            {
                WriteObject(result);
            }
        }
    }
}
