using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets the artifacts of a Harbor project or repository with tags, scan overview and signature status.</summary>
/// <remarks>
/// <para>Get-HarborArtifact lists every artifact (image or index) of the project's repositories, or of one repository,
/// or the one artifact a tag or digest names. Each shows its tags, the last scan's status, highest severity and
/// vulnerability count, and whether a cosign signature is attached. Signatures themselves are accessories in Harbor and
/// are not listed as artifacts.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborArtifact team-a | Where-Object { -not $_.Signed }</code>
/// <para>The unsigned artifacts of team-a.</para>
/// </example>
/// <example>
/// <code>Get-HarborArtifact team-a -Repository api -Reference 1.4.2</code>
/// <para>One artifact by tag.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborProjectNotFound">The project does not exist or is hidden from you.</error>
/// <error id="HarborRepositoryNotFound">The repository does not exist in the project.</error>
/// <error id="HarborArtifactNotFound">No artifact with that tag or digest.</error>
/// <error id="HarborPermissionDenied">The credential may not read the artifacts.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborArtifact", HelpUri = OnlineHelp.CmdletPages + "Get-HarborArtifact.md")]
[OutputType(typeof(HarborArtifactInfo))]
public sealed class GetHarborArtifactCommand : HarborCommandBase
{
    /// <summary>The project (Get-HarborProject's Name binds here).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string Project { get; set; } = "";

    /// <summary>The repository inside the project (without the project prefix), such as api or tools/builder.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary>A tag or a digest (sha256:...) in the repository.</summary>
    [Parameter(Position = 2)]
    [ValidateNotNullOrEmpty]
    public string? Reference { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Repository is null ? Project : $"{Project}/{Repository}";
        if (Reference is not null && Repository is null)
        {
            throw new HarborException(HarborErrorIds.RequestInvalid, FailureKind.InvalidArgument, "-Reference needs -Repository.", Reference);
        }

        HarborClient client = CreateClient();
        if (Reference is not null)
        {
            WriteObject(await client.GetArtifactAsync(Project, Repository!, Reference, cancellationToken).ConfigureAwait(false));
            return;
        }

        await foreach (HarborArtifactInfo artifact in client.ListArtifactsAsync(Project, Repository, cancellationToken).ConfigureAwait(false))
        {
            WriteObject(artifact);
        }
    }
}
