namespace HarborOps.Engine.PullLoad;

/// <summary>Stable error ids of Measure-RegistryPull, documented in about_HarborOps_Errors.</summary>
public static class PullLoadErrorIds
{
    /// <summary>A load that cannot run: no image, a count, rate or duration out of range, a layout instead of a registry.</summary>
    public const string LoadInvalid = "PullLoadInvalid";
    /// <summary>More simulated nodes or pulls than the run allows without -Force (a load test must never be a flood by accident).</summary>
    public const string AboveLimit = "PullLoadAboveLimit";
    /// <summary>An image index without an image for the simulated nodes' platform.</summary>
    public const string PlatformMissing = "PullPlatformMissing";
    /// <summary>The HTML report could not be written where -ReportPath says.</summary>
    public const string ReportNotWritten = "PullReportNotWritten";
}
