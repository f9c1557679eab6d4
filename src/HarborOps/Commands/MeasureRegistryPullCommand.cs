using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.PullLoad;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Measures how fast registries serve image pulls under a scale-out or a steady load, as Kubernetes nodes pull.</summary>
/// <remarks>
/// <para>Measure-RegistryPull pulls images the way kubelets do on nodes that have none of them: the manifest (the node's
/// -Platform picked from an index), then the config and every layer, three at a time, each verified against its digest
/// and thrown away. -Nodes simulated nodes each pull one image at a time (the kubelet's default) with connections and
/// tokens of their own; pulls arrive as a ramp (-Count pulls over -RampUp, a scale-out: by default 20 over 10 seconds) or at a
/// steady -Rate for a -Duration, and are dealt to the nodes in turn.</para>
/// <para>For each registry it reports time to pulled (from a pull's arrival, when the pod was scheduled, to its last
/// layer verified) at p50, p95, p99 and max, time to the manifest, throughput, the most pulls in flight, the registry's
/// 429 answers and failed pulls by error id. -Detailed also writes one object per pull as it finishes.</para>
/// <para>To compare registries, name them with -Registry (each image's repository and tag is pulled from each) or pipe
/// references of several registries: each registry is measured under the same load, one after the other, on fresh
/// nodes. -ReportPath writes one self-contained HTML file with the summary, the distribution of time to pulled and the
/// pulls in flight over time, drawn as inline SVG (no script, nothing fetched).</para>
/// <para>A load test must not be a flood by accident: -WhatIf says what would be pulled, how and from where, and more
/// than 32 nodes or 1,000 pulls per registry needs -Force (at most 512 nodes, 20,000 pulls and one hour, -Force or
/// not). Pulls are reads: they count as pulls in a registry's statistics and in Harbor's audit log.</para>
/// </remarks>
/// <example>
/// <code>Measure-RegistryPull contoso.azurecr.io/team/web:1.4.2 -Registry contoso.azurecr.io, harbor.example.com/migrated -Count 50 -RampUp 00:00:10 -Nodes 10 -ReportPath ./pulls.html</code>
/// <para>The cut-over question: would Harbor keep a 50-pod scale-out as fast as ACR does? Both are measured under the same load and drawn in one report.</para>
/// </example>
/// <example>
/// <code>Get-RegistryTag harbor.example.com/team/web -Tag '1.*' | Measure-RegistryPull -Rate 2 -Duration 00:01:00 -Detailed | Sort-Object TimeToPulled -Descending | Select-Object -First 5</code>
/// <para>Two pulls a second for a minute over the selected tags, and the five slowest pulls.</para>
/// </example>
/// <errors>
/// <error id="PullLoadInvalid">The load cannot run: no image, a count, rate or duration out of range, or an OCI layout instead of a registry.</error>
/// <error id="PullLoadAboveLimit">More than 32 nodes or 1,000 pulls per registry without -Force.</error>
/// <error id="PullPlatformMissing">An image index has no image for -Platform; that pull failed (it is counted under this id).</error>
/// <error id="PullReportNotWritten">The HTML report could not be written to -ReportPath.</error>
/// <error id="RegistryReferenceInvalid">An image reference does not follow the reference grammar.</error>
/// <error id="RegistryAuthenticationFailed">A registry rejected the credential; the run stops.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsDiagnostic.Measure, "RegistryPull", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = RampSet,
    HelpUri = OnlineHelp.CmdletPages + "Measure-RegistryPull.md")]
[OutputType(typeof(RegistryPullSummary), typeof(RegistryPullResult))]
public sealed class MeasureRegistryPullCommand : HarborOpsCmdlet
{
    private const string RampSet = "Ramp";
    private const string SteadySet = "Steady";
    private readonly List<ImageReference> _images = [];
    private string? _reportPath;

    /// <summary>The images to pull, in turn: "registry/repository:tag" or "@sha256:...". Binds Reference of Get-RegistryTag output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Reference")]
    public string[] Image { get; set; } = [];

    /// <summary>Registries (host[:port]) to pull each image's repository and tag from instead of its own, measured one after the other under the same load.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string[]? Registry { get; set; }

    /// <summary>Pulls arriving over -RampUp (a scale-out). 20 unless given.</summary>
    [Parameter(ParameterSetName = RampSet)]
    public int Count { get; set; } = 20;

    /// <summary>How long the ramp's pulls take to arrive, evenly spaced; 0 sends them all at once. 10 seconds unless given.</summary>
    [Parameter(ParameterSetName = RampSet)]
    public TimeSpan RampUp { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Pulls per second of a steady load, held for -Duration.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SteadySet)]
    public double Rate { get; set; }

    /// <summary>How long a steady load lasts.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SteadySet)]
    public TimeSpan Duration { get; set; }

    /// <summary>Simulated nodes, each pulling one image at a time with its own connections and tokens. 10 unless given; more than 32 needs -Force.</summary>
    [Parameter]
    public int Nodes { get; set; } = 10;

    /// <summary>The nodes' platform (os/architecture[/variant]) an image index is resolved for. linux/amd64 unless given.</summary>
    [Parameter]
    public string Platform { get; set; } = "linux/amd64";

    /// <summary>Also write one object per pull, as each finishes.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    /// <summary>Writes a self-contained HTML report (summary, distribution of time to pulled, pulls in flight) to this file.</summary>
    [Parameter]
    public string? ReportPath { get; set; }

    /// <summary>Credential for every registry of this run; otherwise the session credential (Set-RegistryCredential), the docker config, or anonymous access.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Allows more than 32 nodes or 1,000 pulls per registry.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void PrepareRecord() => _reportPath ??= ReportPath is null ? null : GetUnresolvedProviderPathFromPSPath(ReportPath);

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var text in (Image ?? []).Where(i => !string.IsNullOrWhiteSpace(i)))
        {
            // One unreadable piped reference is its own error; the others are still measured.
            await RunItemAsync(text, () => { _images.Add(ImageReference.Parse(text)); return Task.CompletedTask; },
                errorId => errorId == RegistryErrorIds.ReferenceInvalid).ConfigureAwait(false);
        }
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var request = new PullLoadRequest
        {
            Images = _images.Distinct().ToList(),
            Registries = Registry ?? [],
            Arrivals = ParameterSetName == SteadySet ? PullArrivals.Steady(Rate, Duration) : PullArrivals.Ramp(Count, RampUp),
            Nodes = Nodes,
            Platform = Platform,
            Credential = ToNetworkCredential(Credential),
            Force = Force,
            ReportPath = _reportPath,
        };
        var approved = new List<string>();
        foreach (var (target, plan) in request.Targets().Zip(request.Describe()))
        {
            if (await ShouldProcessAsync(target.Registry, plan).ConfigureAwait(false)) approved.Add(target.Registry);
        }
        if (approved.Count == 0 || request.Images.Count == 0) return;
        if (request.Registries.Count == 0) request = request with { Images = request.Images.Where(i => approved.Contains(i.Registry)).ToList() };
        else request = request with { Registries = approved };

        var progress = StartProgress("Measuring registry pulls", request.Arrivals.Description);
        var run = await new PullLoadMeter(RegistryEngine.Shared)
            .MeasureAsync(request, progress, Detailed ? result => WriteObject(result) : null, cancellationToken).ConfigureAwait(false);
        foreach (var measured in run.Registries) WriteObject(measured.Summary);
    }
}
