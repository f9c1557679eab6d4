using System.Diagnostics;
using System.Management.Automation;
using HarborOps.Engine;

namespace HarborOps.Infrastructure;

/// <summary>
/// Turns engine <see cref="OperationProgress"/> reports (from any thread) into Write-Progress on the pipeline
/// thread, at most about five records a second, and always ends the activity with a Completed record so
/// no progress bar is left behind after success, failure or Ctrl+C.
/// </summary>
internal sealed class ProgressAdapter : IProgress<OperationProgress>
{
    private static readonly long MinimumTicksBetweenRecords = Stopwatch.Frequency / 5;
    private static int NextActivityId;

    private readonly HarborOpsCmdlet _cmdlet;
    private readonly object _gate = new();
    private readonly string _defaultActivity;
    private long _lastWrittenTicks = long.MinValue;
    private string _lastActivity;
    private bool _started;
    private bool _completed;

    public ProgressAdapter(HarborOpsCmdlet cmdlet, string activity)
    {
        _cmdlet = cmdlet;
        _defaultActivity = activity;
        _lastActivity = activity;
        // Distinct per cmdlet instance, so nested or concurrent HarborOps commands keep separate bars.
        ActivityId = Interlocked.Increment(ref NextActivityId) & 0x3FFFFFFF;
    }

    public int ActivityId { get; }

    public void Report(OperationProgress value)
    {
        ProgressRecord record;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            long now = Stopwatch.GetTimestamp();
            // The first report and the final one always go out; the rest are sampled.
            if (_started && !value.IsComplete && now - _lastWrittenTicks < MinimumTicksBetweenRecords)
            {
                return;
            }

            _started = true;
            _lastWrittenTicks = now;
            _lastActivity = string.IsNullOrEmpty(value.Activity) ? _defaultActivity : value.Activity;
            record = new ProgressRecord(ActivityId, _lastActivity, string.IsNullOrEmpty(value.Status) ? "Working" : value.Status)
            {
                CurrentOperation = value.CurrentItem,
                PercentComplete = value.PercentComplete ?? -1,
                RecordType = value.IsComplete ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            _completed = value.IsComplete;
        }

        _cmdlet.WriteProgress(record);
    }

    /// <summary>Starts the bar right away, so even short operations show what they are doing.</summary>
    public void Start(string status) => Report(new OperationProgress(_defaultActivity, status));

    /// <summary>Writes the Completed record if the engine did not; called on the pipeline thread when the work ends.</summary>
    public void Complete()
    {
        ProgressRecord record;
        lock (_gate)
        {
            if (!_started || _completed)
            {
                return;
            }

            _completed = true;
            record = new ProgressRecord(ActivityId, _lastActivity, "Done") { RecordType = ProgressRecordType.Completed };
        }

        _cmdlet.WriteProgress(record);
    }
}
