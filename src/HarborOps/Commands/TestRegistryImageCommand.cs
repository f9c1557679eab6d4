using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Tells whether images exist in their registries, by one manifest HEAD each.</summary>
/// <remarks>
/// <para>Test-RegistryImage asks the registry of each reference for its manifest (a HEAD request; the tag, or the
/// digest when the reference has one) and reports Exists or Missing with the digest the registry serves. A reference
/// given several times is checked once per call.</para>
/// <para>It binds the output of Get-ImageReference by property name: Reference, and Path and Line to say where the
/// reference came from. A templated reference (Templated set, no Reference) is reported with State Templated and not
/// checked. A missing image is an answer, not an error; failures to ask (an unreachable registry, a refused
/// credential) are errors.</para>
/// </remarks>
/// <example>
/// <code>Get-ImageReference ./charts -Recurse -Registry harbor.example.com | Test-RegistryImage | Where-Object State -eq Missing</code>
/// <para>Lists the images the charts reference that the new registry does not have, with the file and line of each.</para>
/// </example>
/// <example>
/// <code>Test-RegistryImage harbor.example.com/migrated/team/web:1.4.2, harbor.example.com/migrated/team/api@sha256:9fb6dd5a4c9ccdf1bd7ee8ac719de6028ddbb7390791d40ee30f3939969c4042</code>
/// <para>Checks two images by tag and by digest.</para>
/// </example>
/// <errors>
/// <error id="RegistryReferenceInvalid">A reference does not follow the reference grammar; that one is skipped.</error>
/// <error id="RegistryHostUnreachable">A registry cannot be reached; its references are not checked.</error>
/// <error id="RegistryAuthenticationFailed">A registry rejected the credential. Check it, or set one with Set-RegistryCredential.</error>
/// <error id="RegistryPermissionDenied">The credential may not read a repository; that reference is not checked.</error>
/// <error id="RegistryThrottled">A registry kept answering 429 after the retries.</error>
/// <error id="RegistryServerError">A registry kept failing with 5xx after the retries.</error>
/// <error id="RegistryTimeout">A registry did not answer in time, even after the retries.</error>
/// <error id="RegistryDigestMismatch">The registry answered a digest other than the one asked for.</error>
/// <error id="RegistryInsecureRedirect">A registry redirected a request to plain http on a host not allowed for it; nothing was sent there.</error>
/// <error id="RegistryRequestFailed">A request failed for another reason, named in the message.</error>
/// <error id="OciLayoutInvalid">An oci: reference names a directory that is not an OCI image layout.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsDiagnostic.Test, "RegistryImage", HelpUri = OnlineHelp.CmdletPages + "Test-RegistryImage.md")]
[OutputType(typeof(RegistryImageStatus))]
public sealed class TestRegistryImageCommand : Infrastructure.HarborOpsCmdlet
{
    private RegistryImageCheck? _check;
    private string?[] _resolved = [];

    /// <summary>The images to check: "registry/repository:tag" or "registry/repository@sha256:...". Binds Reference of Get-ImageReference and Get-RegistryTag output.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public string?[] Reference { get; set; } = [];

    /// <summary>The file the reference came from (bound from Get-ImageReference), repeated in the output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Path { get; set; }

    /// <summary>The line the reference sits on (bound from Get-ImageReference), repeated in the output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int? Line { get; set; }

    /// <summary>The reference as written (bound from Get-ImageReference's Text), shown for a templated reference.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Text { get; set; }

    /// <summary>The reference holds a template expression (bound from Get-ImageReference): it is reported as Templated and not checked.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter Templated { get; set; }

    /// <summary>Credential for this command only; otherwise the session credential, the docker config, or anonymous access.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override void PrepareRecord() =>
        _resolved = (Reference ?? []).Select(r => string.IsNullOrWhiteSpace(r) ? null : ResolveLayoutImage(r)).ToArray();

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (Templated || _resolved.All(r => r is null))
        {
            WriteObject(new RegistryImageStatus { Reference = Text ?? "", State = RegistryImageState.Templated, Path = Path, Line = Line });
            return;
        }
        // One check for the whole call, so an image referenced in many files is asked once.
        _check ??= new RegistryImageCheck(RegistryEngine.Shared, ToNetworkCredential(Credential));
        foreach (var text in _resolved)
        {
            if (text is null) continue;
            // One unreadable reference in a piped list must not hide the answers for the others.
            await RunItemAsync(text, async () => WriteObject(await _check.CheckAsync(text, Path, Line, cancellationToken).ConfigureAwait(false)),
                errorId => errorId == RegistryErrorIds.ReferenceInvalid).ConfigureAwait(false);
        }
    }
}
