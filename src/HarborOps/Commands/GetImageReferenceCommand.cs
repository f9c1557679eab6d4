using System.Management.Automation;
using HarborOps.Engine;
using HarborOps.Engine.CutOver;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Lists every container image reference in charts, manifests, kustomizations, ArgoCD apps and Dockerfiles.</summary>
/// <remarks>
/// <para>Get-ImageReference reads files and folders and reports each image reference with its file, line, column, kind,
/// registry, repository, tag and digest. It understands Kubernetes manifests of every workload kind (containers, init
/// and ephemeral containers, CronJob templates, multi-document files), Helm values (an image string, and images split
/// into registry, repository, tag and digest at any depth, under global.imageRegistry), Helm chart templates (their
/// image: lines), kustomization images: entries, the Helm parameters and inline values of ArgoCD Applications and
/// ApplicationSets, and Dockerfile FROM lines (with --platform and AS), COPY --from and ARG defaults.</para>
/// <para>A value with a template expression ({{ }} or a Dockerfile $variable) is reported with Templated set and no
/// Reference: it is known only when rendered. -Registry keeps only references to the given registries, which answers
/// "what still pulls from the old registry".</para>
/// <para>The output binds into Test-RegistryImage, so one pipeline proves that every image the files reference exists
/// at the new registry. Malformed YAML, binary and unreadable files are reported as errors and skipped. A link that
/// leads out of the folder given is reported and not followed unless -FollowSymlink (as in Update-ImageReference), and
/// each real folder is read once, so link loops end.</para>
/// </remarks>
/// <example>
/// <code>Get-ImageReference ./deploy -Recurse -Registry contoso.azurecr.io | Format-Table Path, Line, Kind, Text</code>
/// <para>Lists every place that still pulls from the old registry.</para>
/// </example>
/// <example>
/// <code>Get-ImageReference ./charts -Recurse -Registry harbor.example.com | Test-RegistryImage | Where-Object State -eq Missing</code>
/// <para>After the cut-over: the images the charts reference that do not exist at the new registry.</para>
/// </example>
/// <errors>
/// <error id="ImageReferencePathNotFound">A -Path is neither a file nor a folder; the other paths are read.</error>
/// <error id="ImageReferenceFileUnreadable">A file or folder cannot be read (permissions); it is skipped.</error>
/// <error id="ImageReferenceFileBinary">A file is binary or not UTF-8 text; it is skipped.</error>
/// <error id="ImageReferenceFileMalformed">A YAML file does not parse; it is skipped. The message names the line.</error>
/// <error id="ImageReferenceLinkOutsideFolder">A file or folder link leads out of the folder given; it is skipped. Add -FollowSymlink to follow it.</error>
/// <error id="RegistryReferenceInvalid">A -Registry value is not a registry host.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "ImageReference", HelpUri = OnlineHelp.CmdletPages + "Get-ImageReference.md")]
[OutputType(typeof(ImageReferenceInfo))]
public sealed class GetImageReferenceCommand : ImageReferenceFileCommandBase
{
    /// <summary>Only references to these registries (host[:port]; docker.io for Docker Hub).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string[]? Registry { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var request = new ImageReferenceScanRequest(ResolvedPaths.ToList())
        {
            Recurse = Recurse,
            Include = Include ?? [],
            Exclude = Exclude ?? [],
            FollowSymlink = FollowSymlink,
            Registries = Registry ?? [],
        };
        IProgress<OperationProgress> progress = StartProgress("Get-ImageReference", "Reading files");
        await foreach (var scan in ImageReferenceScanner.ScanAsync(request, progress, cancellationToken).ConfigureAwait(false))
        {
            if (scan.Failure is not null) WriteFailure(scan.Failure, scan.Path);
            foreach (var reference in scan.References) WriteObject(reference);
        }
    }
}
