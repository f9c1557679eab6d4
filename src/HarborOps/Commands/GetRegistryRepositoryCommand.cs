using System.Management.Automation;
using HarborOps.Engine;
using HarborOps.Engine.Registry;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Lists the repositories of a registry or of an OCI image layout directory.</summary>
/// <remarks>
/// <para>Get-RegistryRepository reads the registry's catalog (/v2/_catalog), following its pages, and writes one
/// object per repository. Each object's Reference property ("registry/repository") binds to -Reference of
/// Get-RegistryTag, so the two chain in a pipeline.</para>
/// <para>-Registry also accepts "oci:" followed by the path of an OCI image layout directory; its repositories are
/// the names in its index.</para>
/// <para>A name in the catalog that no repository may have (a path like '../x', uppercase, a newline) is reported as
/// its own RegistryRepositoryNameInvalid error and never used; the other repositories are listed.</para>
/// <para>Some registries (Docker Hub, GHCR) do not offer the catalog; the command then fails with
/// RegistryCatalogUnsupported and you have to name the repositories yourself.</para>
/// </remarks>
/// <example>
/// <code>Get-RegistryRepository -Registry harbor.example.com -Prefix team/</code>
/// <para>Lists the repositories under team/ in harbor.example.com.</para>
/// </example>
/// <example>
/// <code>Get-RegistryRepository contoso.azurecr.io | Get-RegistryTag</code>
/// <para>Lists every tag of every repository of an Azure Container Registry.</para>
/// </example>
/// <example>
/// <code>Get-RegistryRepository -Registry oci:./images</code>
/// <para>Lists the repositories stored in the OCI layout directory ./images.</para>
/// </example>
/// <errors>
/// <error id="RegistryReferenceInvalid">The -Registry value is neither host[:port] nor oci:path. Give the registry host only, such as harbor.example.com.</error>
/// <error id="RegistryHostUnreachable">The registry host cannot be resolved or reached. Check the name, the port and the network path to it.</error>
/// <error id="RegistryAuthenticationFailed">The registry rejected the credential. Check the user name and password or token, or set one with Set-RegistryCredential.</error>
/// <error id="RegistryPermissionDenied">The credential is valid but may not list the catalog. Use an account with catalog (registry:catalog:*) rights.</error>
/// <error id="RegistryCatalogUnsupported">The registry does not offer the catalog API. Name the repositories yourself.</error>
/// <error id="RegistryThrottled">The registry kept answering 429 Too Many Requests after the retries. Try again later or lower the load.</error>
/// <error id="RegistryServerError">The registry kept failing with 5xx after the retries. Check the registry's health.</error>
/// <error id="RegistryTimeout">The registry did not answer in time, even after the retries. Check its load and the network path.</error>
/// <error id="RegistryTokenServiceInvalid">The registry's token service answered something that is not a usable token. Check the registry's auth configuration.</error>
/// <error id="RegistryInsecureRedirect">The registry redirected a request to plain http on a host not allowed for it; nothing was sent there.</error>
/// <error id="RegistryPagingLoop">The registry linked its catalog back to a page it had already sent; the listing stops.</error>
/// <error id="RegistryRepositoryNameInvalid">The catalog listed a repository name that breaks the repository grammar (a path like '../x', an empty part, uppercase, a newline, too long); that name is reported, never requested, and the others are listed.</error>
/// <error id="RegistryRequestFailed">A request failed for another reason, named in the message.</error>
/// <error id="OciLayoutInvalid">The oci: directory is not a valid OCI image layout (oci-layout and index.json).</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "RegistryRepository", HelpUri = OnlineHelp.CmdletPages + "Get-RegistryRepository.md")]
[OutputType(typeof(RegistryRepositoryInfo))]
public sealed class GetRegistryRepositoryCommand : HarborOpsCmdlet
{
    /// <summary>The registry host (host[:port]) or "oci:" followed by the path of an OCI image layout directory.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string Registry { get; set; } = "";

    /// <summary>Only repositories whose path starts with this prefix, such as "team/" or "team".</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    /// <summary>Credential for this command only; otherwise the session credential, the docker config, or anonymous access.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    private string _resolvedRegistry = "";

    protected override void PrepareRecord() => _resolvedRegistry = ResolveLayoutDirectory(Registry);

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Registry;
        var request = new GetRepositoriesRequest(_resolvedRegistry) { Prefix = Prefix, Credential = ToNetworkCredential(Credential) };
        IProgress<OperationProgress> progress = StartProgress("Get-RegistryRepository", $"Listing repositories of {Registry}");
        WriteVerbose($"Listing repositories of {Registry}" + (Prefix is null ? "." : $" under '{Prefix}'."));
        await foreach (RegistryRepositoryInfo repository in RegistryEngine.Shared.GetRepositoriesAsync(request, progress, failure => WriteFailure(failure, failure.Target ?? Registry), cancellationToken).ConfigureAwait(false))
        {
            WriteObject(repository);
        }
    }
}
