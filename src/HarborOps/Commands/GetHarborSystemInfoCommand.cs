using System.Management.Automation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Gets Harbor's version, auth mode, registry URL and storage totals.</summary>
/// <remarks>
/// <para>Get-HarborSystemInfo reads GET /api/v2.0/systeminfo (version, auth mode, external and registry URL, storage
/// provider, read-only mode) and GET /api/v2.0/systeminfo/volumes (total and free bytes of Harbor's local volume).
/// Harbor shows the volume to system administrators only: for anyone else the storage totals are empty, StorageNote
/// says why, and a warning is written; the rest is still returned. The volume is the local disk Harbor's core sees;
/// with an object storage provider (s3, azure, gcs) it says little about the registry's use, so StorageProvider is
/// shown beside it.</para>
/// </remarks>
/// <example>
/// <code>Get-HarborSystemInfo | Format-List HarborVersion, AuthMode, StorageProvider, StoragePercentUsed</code>
/// <para>The version to patch from, and how full the disk is.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="HarborResponseInvalid">The URL answered with something that is not Harbor.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "HarborSystemInfo", HelpUri = OnlineHelp.CmdletPages + "Get-HarborSystemInfo.md")]
[OutputType(typeof(HarborSystemInfo))]
public sealed class GetHarborSystemInfoCommand : HarborCommandBase
{
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborSystemInfo info = await CreateClient().GetSystemInfoAsync(cancellationToken).ConfigureAwait(false);
        if (info.StorageNote is not null)
        {
            WriteWarning(info.StorageNote);
        }

        WriteObject(info);
    }
}
