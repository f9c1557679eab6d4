using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Starts vulnerability scans of an artifact, a repository, a project or everything, and can wait for them.</summary>
/// <remarks>
/// <para>Start-HarborScan asks Harbor's scanner to scan the artifacts named: one artifact (-Reference, or piped from
/// Get-HarborArtifact), every artifact of a repository or of a project, or with -All every artifact in Harbor (Harbor's
/// scan-all job, system admin only). With -Wait it polls until each scan has finished, showing progress, and outputs
/// the final status and severity; without, it outputs the scans as started.</para>
/// <para>Scan migrated artifacts before switching a project's vulnerability gate on: an artifact that was never scanned
/// is refused on pull.</para>
/// </remarks>
/// <example>
/// <code>Start-HarborScan team-a -Wait</code>
/// <para>Scans every artifact of team-a and waits for the results.</para>
/// </example>
/// <example>
/// <code>Get-HarborArtifact team-a | Where-Object { -not $_.ScanStatus } | Start-HarborScan -Wait</code>
/// <para>Scans only the artifacts that were never scanned.</para>
/// </example>
/// <example>
/// <code>Start-HarborScan -All -Wait -TimeoutSeconds 3600</code>
/// <para>Runs Harbor's scan of all artifacts and waits up to an hour.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborRepositoryNotFound">The repository does not exist in the project.</error>
/// <error id="HarborArtifactNotFound">No artifact with that tag or digest.</error>
/// <error id="HarborArtifactNotScannable">Harbor cannot scan the artifact.</error>
/// <error id="HarborScanTimeout">Scans had not finished within -TimeoutSeconds.</error>
/// <error id="HarborPermissionDenied">The credential may not start scans.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsLifecycle.Start, "HarborScan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ProjectSet, HelpUri = OnlineHelp.CmdletPages + "Start-HarborScan.md")]
[OutputType(typeof(HarborScanStatus))]
public sealed class StartHarborScanCommand : HarborCommandBase
{
    private const string ProjectSet = "Project";
    private const string AllSet = "All";

    /// <summary>The project whose artifacts to scan (or of the repository or artifact named).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProjectSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    /// <summary>Only this repository of the project.</summary>
    [Parameter(Position = 1, ParameterSetName = ProjectSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary>Only this artifact: a tag, a digest, or a full reference (registry/project/repository@digest, as Get-HarborArtifact's Reference binds here).</summary>
    [Parameter(Position = 2, ParameterSetName = ProjectSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Digest")]
    [ValidateNotNullOrEmpty]
    public string? Reference { get; set; }

    /// <summary>Scan every artifact in Harbor with its scan-all job (system admin).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    /// <summary>Wait for the scans to finish, with progress.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait waits before giving up (the scans go on in Harbor). Default 600.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 600;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborClient client = CreateClient();
        TimeSpan timeout = TimeSpan.FromSeconds(TimeoutSeconds);
        if (All)
        {
            CurrentTarget = client.Connection.Url.ToString();
            if (await ShouldProcessAsync(client.Connection.Url.ToString(), "Scan every artifact in Harbor").ConfigureAwait(false))
            {
                await client.ScanAllAsync(Wait, timeout, Wait ? StartProgress("Start-HarborScan", "Scanning all artifacts") : null, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        CurrentTarget = Reference is null ? Repository is null ? Project : $"{Project}/{Repository}" : $"{Project}/{Repository}@{Reference}";
        if (Reference is not null && Repository is null)
        {
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, "-Reference needs -Repository.", Reference);
        }

        var artifacts = new List<HarborArtifactInfo>();
        if (Reference is not null)
        {
            artifacts.Add(await client.GetArtifactAsync(Project, Repository!, HarborArtifactReference.TagOrDigest(Reference), cancellationToken).ConfigureAwait(false));
        }
        else
        {
            await foreach (HarborArtifactInfo artifact in client.ListArtifactsAsync(Project, Repository, cancellationToken).ConfigureAwait(false))
            {
                artifacts.Add(artifact);
            }
        }

        var started = new List<HarborArtifactInfo>();
        foreach (HarborArtifactInfo artifact in artifacts)
        {
            if (!await ShouldProcessAsync(artifact.Reference, "Scan for vulnerabilities").ConfigureAwait(false)) continue;
            if (await client.StartScanAsync(artifact.Project, artifact.Repository, artifact.Digest, cancellationToken).ConfigureAwait(false))
            {
                started.Add(artifact);
            }
            else
            {
                WriteFailure(new HarborException(HarborErrorIds.ArtifactNotScannable, FailureKind.InvalidArgument,
                    $"Harbor cannot scan {artifact.Reference}: no scanner supports its type.", artifact.Reference), artifact.Reference);
            }
        }

        if (!Wait)
        {
            foreach (HarborArtifactInfo artifact in started)
            {
                WriteObject(new HarborScanStatus
                {
                    Project = artifact.Project, Repository = artifact.Repository, Digest = artifact.Digest, Status = "Pending", Reference = artifact.Reference,
                });
            }

            return;
        }

        var progress = StartProgress("Start-HarborScan", $"Waiting for {started.Count} scans");
        foreach (HarborScanStatus status in await client.WaitForScansAsync(started, timeout, progress, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(status);
        }
    }
}
