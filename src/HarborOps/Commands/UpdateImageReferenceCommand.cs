using System.Collections;
using System.Management.Automation;
using HarborOps.Engine;
using HarborOps.Engine.CutOver;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Rewrites image references in charts, manifests, kustomizations, ArgoCD apps and Dockerfiles from an old registry to a new one.</summary>
/// <remarks>
/// <para>Update-ImageReference finds image references as Get-ImageReference does and rewrites those of the -From
/// registries to -To, with the same mapping as Copy-RegistryImage: the repository path goes below -To (and
/// -DestinationPrefix), -StripPrefixSegments drops leading segments and -Rename maps repository paths. Given the
/// options of the copy, every rewritten reference names exactly the repository the copy wrote. Tags stay; a
/// digest-pinned reference keeps its digest. -PinDigest adds the digest the destination serves for each rewritten tag
/// (to a whole reference, or to an existing digest key of a split image).</para>
/// <para>Helm images split into registry, repository, tag and digest are rewritten as a whole: the registry key gets
/// the new host and the repository the mapped path (global.imageRegistry too). Kustomize images: entries get their
/// name and newName rewritten, so overlays still match the rewritten base.</para>
/// <para>Only the characters of each changed value are replaced: comments, quoting, key order, indentation, line
/// endings and a BOM stay byte for byte. Values with template expressions ({{ }}, $variables) are reported with Action
/// Templated and never changed; a value written with escapes is reported as Skipped.</para>
/// <para>Each file is written through a temporary file in its folder and a rename, with the file's mode, and only when
/// its whole rewrite succeeded; a file that changed on disk meanwhile is left alone, and so is a file whose mode does
/// not let you write it (read-only), even where root could. A link that leads out of the folder given is not followed
/// unless -FollowSymlink; a link inside it is written through (the link stays a link). Malformed YAML, binary and
/// unreadable files are reported as errors and skipped. Each of these is an error of its own and the other files are
/// still rewritten. -WhatIf prints a unified diff per file and writes nothing.</para>
/// <para>The output is one object per changed or reported value: file, line, column, kind, field, old and new value.</para>
/// </remarks>
/// <example>
/// <code>Update-ImageReference ./deploy -Recurse -From contoso.azurecr.io -To harbor.example.com/migrated -WhatIf</code>
/// <para>Shows the diff of every file that would change, and writes nothing.</para>
/// </example>
/// <example>
/// <code>Update-ImageReference ./charts, ./argocd -Recurse -From contoso.azurecr.io/team-a -To harbor.example.com -StripPrefixSegments 1 -Rename @{ api = 'api-service' } -PinDigest</code>
/// <para>Rewrites team-a's images as Copy-RegistryImage with the same options copied them, pinned to the copied digests.</para>
/// </example>
/// <errors>
/// <error id="ImageReferenceRequestInvalid">-From is empty or an OCI layout, or -To is an OCI layout.</error>
/// <error id="RegistryReferenceInvalid">-From or -To is not a registry (with an optional path).</error>
/// <error id="CopyMappingInvalid">A repository cannot be mapped (stripping leaves no name); that file is not written.</error>
/// <error id="ImageReferencePathNotFound">A -Path is neither a file nor a folder; the other paths are read.</error>
/// <error id="ImageReferenceFileUnreadable">A file or folder cannot be read; it is skipped.</error>
/// <error id="ImageReferenceFileBinary">A file is binary or not UTF-8 text; it is skipped.</error>
/// <error id="ImageReferenceFileMalformed">A YAML file does not parse; it is skipped and not changed.</error>
/// <error id="ImageReferenceLinkOutsideFolder">A file or folder link leads out of the folder given; it is skipped and nothing it leads to changes. Add -FollowSymlink to follow it.</error>
/// <error id="ImageReferenceFileReadOnly">A file's mode does not let you write it; it is not replaced. Make it writable, or leave it out with -Exclude.</error>
/// <error id="ImageReferencePinTargetMissing">-PinDigest: a rewritten image does not exist at the destination; that file is not written. Copy the image first.</error>
/// <error id="ImageReferenceWriteFailed">A file could not be written, or changed on disk after it was read; it is unchanged.</error>
/// <error id="RegistryHostUnreachable">-PinDigest: the destination registry cannot be reached.</error>
/// <error id="RegistryAuthenticationFailed">-PinDigest: the destination registry rejected the credential.</error>
/// <error id="RegistryPermissionDenied">-PinDigest: the credential may not read the destination repository; that file is not written.</error>
/// <error id="RegistryRequestFailed">-PinDigest: a request failed for another reason, named in the message.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsData.Update, "ImageReference", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Update-ImageReference.md")]
[OutputType(typeof(ImageReferenceChange))]
public sealed class UpdateImageReferenceCommand : ImageReferenceFileCommandBase
{
    private bool _whatIf;

    /// <summary>The registries to move away from: "contoso.azurecr.io", or "contoso.azurecr.io/team" for the repositories under one path.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string[] From { get; set; } = [];

    /// <summary>The new registry, as Copy-RegistryImage's -Destination: "registry" or "registry/prefix" (the repository path goes below it).</summary>
    [Parameter(Mandatory = true)]
    [Alias("Destination")]
    [ValidateNotNullOrEmpty]
    public string To { get; set; } = "";

    /// <summary>A path added below -To and above the repository path, as Copy-RegistryImage's -DestinationPrefix.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DestinationPrefix { get; set; }

    /// <summary>Leading repository path segments removed before mapping ("team/app" with 1 becomes "app"), as in Copy-RegistryImage.</summary>
    [Parameter]
    [ValidateRange(0, 32)]
    public int StripPrefixSegments { get; set; }

    /// <summary>Repository renames applied after stripping: @{ 'old-team' = 'new-team' } maps "old-team" and "old-team/*", as in Copy-RegistryImage.</summary>
    [Parameter]
    public Hashtable? Rename { get; set; }

    /// <summary>Add the digest the destination serves for each rewritten tag; a file naming an image missing there is not written.</summary>
    [Parameter]
    public SwitchParameter PinDigest { get; set; }

    /// <summary>Credential for the destination registry (-PinDigest); otherwise the session credential, the docker config, or anonymous.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override void PrepareRecord()
    {
        base.PrepareRecord();
        _whatIf = LanguagePrimitives.IsTrue(MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf) ? whatIf : GetVariableValue("WhatIfPreference"));
    }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var request = new ImageReferenceRewriteRequest(ResolvedPaths.ToList(), From, To)
        {
            Recurse = Recurse,
            Include = Include ?? [],
            Exclude = Exclude ?? [],
            FollowSymlink = FollowSymlink,
            DestinationPrefix = DestinationPrefix,
            StripPrefixSegments = StripPrefixSegments,
            RenameRepositories = ToRepositoryRenames(Rename),
            PinDigest = PinDigest,
            DestinationCredential = ToNetworkCredential(Credential),
        };
        var rewriter = new ImageReferenceRewriter(RegistryEngine.Shared);
        IProgress<OperationProgress> progress = StartProgress("Update-ImageReference", "Reading files");
        await foreach (var plan in rewriter.PlanAsync(request, progress, cancellationToken).ConfigureAwait(false))
        {
            CurrentTarget = plan.Path;
            if (plan.Failure is not null)
            {
                WriteFailure(plan.Failure, plan.Path);
                continue;
            }
            var reported = plan.Changes.Where(c => c.Action != ImageReferenceAction.Planned);
            if (!plan.HasRewrite)
            {
                foreach (var change in reported) WriteObject(change);
                continue;
            }
            var action = $"Rewrite {plan.RewriteCount} image reference(s) to {To}";
            if (_whatIf)
            {
                WriteHostText(plan.Diff.TrimEnd('\n'));
                await ShouldProcessAsync(plan.Path, action).ConfigureAwait(false);
                foreach (var change in plan.Changes) WriteObject(change);
                continue;
            }
            if (!await ShouldProcessAsync(plan.Path, action).ConfigureAwait(false)) continue;
            WriteVerbose(plan.Diff);
            await RunItemAsync(plan.Path, async () =>
            {
                foreach (var change in await rewriter.CommitAsync(plan, cancellationToken).ConfigureAwait(false)) WriteObject(change);
            }).ConfigureAwait(false);
        }
    }
}
