namespace HarborOps.Engine;

/// <summary>
/// Progress the engine reports through IProgress; the cmdlets turn it into throttled Write-Progress.
/// Never carries a secret.
/// </summary>
public sealed record OperationProgress(
    string Activity,
    string Status,
    string? CurrentItem = null,
    long Completed = 0,
    long? Total = null,
    bool IsComplete = false)
{
    public int? PercentComplete => Total is > 0 ? (int)Math.Min(100, Completed * 100 / Total.Value) : null;
}
