using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Forgets the Harbor session that Connect-Harbor opened.</summary>
/// <remarks>
/// <para>Disconnect-Harbor drops the session's credential from memory. Harbor keeps no server-side session for
/// HarborOps (it never uses cookies), so nothing is sent to Harbor. Later Harbor commands need -Harbor and -Credential,
/// or a new Connect-Harbor.</para>
/// </remarks>
/// <example>
/// <code>Disconnect-Harbor -PassThru</code>
/// <para>Forgets the session and shows which one it was.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">There was no session to forget.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommunications.Disconnect, "Harbor", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = OnlineHelp.CmdletPages + "Disconnect-Harbor.md")]
[OutputType(typeof(HarborConnectionInfo))]
public sealed class DisconnectHarborCommand : HarborOpsCmdlet
{
    /// <summary>Writes the session that was closed to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        HarborConnectionInfo? current = HarborSession.CurrentInfo;
        if (current is null)
        {
            WriteFailure(new HarborException(HarborErrorIds.NotConnected, Engine.Errors.FailureKind.NotFound, "There is no Harbor session to disconnect."), null);
            return;
        }

        CurrentTarget = current.Harbor;
        if (!await ShouldProcessAsync(current.Harbor, $"Forget the session of '{current.UserName}'").ConfigureAwait(false))
        {
            return;
        }

        HarborSession.Clear();
        if (PassThru)
        {
            WriteObject(current);
        }
    }
}
