using System.Management.Automation;
using HarborOps.Engine;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Lists the tags of a repository with their digest, media type and platforms.</summary>
/// <remarks>
/// <para>Get-RegistryTag reads a repository's tag list, following its pages, and fetches each tag's manifest to
/// report its digest (of the exact bytes the registry serves), media type, platforms and size. With
/// "repository:tag" or "repository@digest" it reports that one image only.</para>
/// <para>-Reference binds from the pipeline by value and by property name, so the output of
/// Get-RegistryRepository (or any object with a Reference property) chains into it.</para>
/// <para>-IncludeReferrers also finds the artifacts that refer to each image (signatures, attestations, SBOMs)
/// through the referrers API, its tag-schema fallback, and cosign's sha256-&lt;hex&gt;.sig tags.</para>
/// </remarks>
/// <example>
/// <code>Get-RegistryTag -Reference harbor.example.com/team/app -Tag 'v1.*'</code>
/// <para>Lists the v1.x tags of team/app.</para>
/// </example>
/// <example>
/// <code>Get-RegistryRepository harbor.example.com -Prefix team/ | Get-RegistryTag -IncludeReferrers | Where-Object Signed -eq $false</code>
/// <para>Finds the unsigned images of every repository under team/.</para>
/// </example>
/// <example>
/// <code>Get-RegistryTag contoso.azurecr.io/base/dotnet:8.0 -Credential $cred</code>
/// <para>Shows one tag, authenticating with a credential for this command only.</para>
/// </example>
/// <errors>
/// <error id="RegistryReferenceInvalid">The reference does not follow the image reference grammar (registry/repository[:tag][@digest]). Fix the value named in the message.</error>
/// <error id="RegistryHostUnreachable">The registry host cannot be resolved or reached. Check the name, the port and the network path to it.</error>
/// <error id="RegistryAuthenticationFailed">The registry rejected the credential. Check the user name and password or token, or set one with Set-RegistryCredential.</error>
/// <error id="RegistryPermissionDenied">The credential is valid but may not pull from the repository. Use an account with pull rights.</error>
/// <error id="RegistryRepositoryNotFound">The repository does not exist in the registry (or is hidden from this account). Check its name with Get-RegistryRepository.</error>
/// <error id="RegistryManifestNotFound">A tag or digest has no manifest. Check the tag with Get-RegistryTag on the repository.</error>
/// <error id="RegistryUnsupportedMediaType">The registry served a manifest of a media type HarborOps does not read.</error>
/// <error id="RegistryDigestMismatch">The bytes served do not hash to the digest asked for, or the registry's Docker-Content-Digest header names a manifest it does not hold. The registry or a proxy in between altered the content; that tag is reported and the others are listed.</error>
/// <error id="RegistryThrottled">The registry kept answering 429 Too Many Requests after the retries. Try again later or lower the load.</error>
/// <error id="RegistryServerError">The registry kept failing with 5xx after the retries (for one tag: that tag is reported and the others are listed). Check the registry's health.</error>
/// <error id="RegistryTimeout">The registry did not answer in time, even after the retries. Check its load and the network path.</error>
/// <error id="RegistryManifestInvalid">The registry served a manifest that is not valid for its media type (malformed JSON, a malformed digest, a schemaVersion other than 2); that tag is reported and the others are listed.</error>
/// <error id="RegistryTagNameInvalid">The registry listed a tag name that breaks the tag grammar (a path, a newline, over 128 characters); that tag is reported, never requested, and the others are listed.</error>
/// <error id="RegistryTokenServiceInvalid">The registry's token service answered something that is not a usable token. Check the registry's auth configuration.</error>
/// <error id="RegistryInsecureRedirect">The registry redirected a request to plain http on a host not allowed for it; nothing was sent there.</error>
/// <error id="RegistryPagingLoop">The registry linked its tag list back to a page it had already sent; the listing stops.</error>
/// <error id="RegistryRequestFailed">A request failed for another reason, named in the message.</error>
/// <error id="OciLayoutInvalid">The oci: directory is not a valid OCI image layout (oci-layout and index.json).</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "RegistryTag", HelpUri = OnlineHelp.CmdletPages + "Get-RegistryTag.md")]
[OutputType(typeof(RegistryTagInfo))]
public sealed class GetRegistryTagCommand : HarborOpsCmdlet
{
    /// <summary>The repository ("registry/repository"), or one image ("registry/repository:tag" or "registry/repository@sha256:..."), or an oci:path reference.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Reference { get; set; } = [];

    /// <summary>Only tags matching one of these wildcard patterns (* and ?), such as 'v1.*'.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Tag { get; set; }

    /// <summary>Also find the signatures, attestations and SBOMs that refer to each image, and set Signed.</summary>
    [Parameter]
    public SwitchParameter IncludeReferrers { get; set; }

    /// <summary>Credential for this command only; otherwise the session credential, the docker config, or anonymous access.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    private string[] _resolvedReferences = [];

    protected override void PrepareRecord() => _resolvedReferences = Reference.Select(ResolveLayoutImage).ToArray();

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < Reference.Length; i++)
        {
            string reference = Reference[i];
            CurrentTarget = reference;
            var request = new GetTagsRequest(_resolvedReferences[i])
            {
                TagPatterns = Tag ?? [],
                IncludeReferrers = IncludeReferrers,
                Credential = ToNetworkCredential(Credential),
            };
            IProgress<OperationProgress> progress = StartProgress("Get-RegistryTag", $"Listing tags of {reference}");
            WriteVerbose($"Listing tags of {reference}.");
            // One missing repository must not hide the tags of the others given in the same call.
            await RunItemAsync(reference, async () =>
            {
                await foreach (RegistryTagInfo tag in RegistryEngine.Shared.GetTagsAsync(request, progress, failure => WriteFailure(failure, failure.Target ?? reference), cancellationToken).ConfigureAwait(false))
                {
                    WriteObject(tag);
                }
            }).ConfigureAwait(false);
        }
    }
}
