using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Opens a Harbor session for the later Harbor commands, after checking the credential for real.</summary>
/// <remarks>
/// <para>Connect-Harbor checks the credential before it keeps it: a user (local, LDAP, or OIDC with its CLI secret) with
/// GET /users/current, a robot (robot$...) with GET /v2/. Harbor answers requests with a wrong password as if they were
/// anonymous, so a check against an endpoint that serves anonymous callers would pass; this one does not.</para>
/// <para>The session lasts for the PowerShell process. Every Harbor command also takes -Harbor and -Credential, which
/// win over the session for that command. Cookies are never kept (Harbor's CSRF check rejects clients that send its
/// session cookie back), every request carries an X-Request-Id that -Verbose shows and errors quote, and TLS is verified
/// unless -SkipCertificateCheck is given.</para>
/// </remarks>
/// <example>
/// <code>Connect-Harbor -Harbor https://harbor.example.com -Credential (Get-Credential admin)</code>
/// <para>Prompts for the admin password, checks it and keeps the session.</para>
/// </example>
/// <example>
/// <code>Connect-Harbor harbor.example.com -Credential $robotCredential -Verbose</code>
/// <para>Connects as a robot account; verbose output lists each request with its X-Request-Id.</para>
/// </example>
/// <errors>
/// <error id="HarborUrlInvalid">The URL is not an http(s) address of Harbor.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential; nothing was kept.</error>
/// <error id="HarborUnreachable">Harbor could not be reached at the URL.</error>
/// <error id="HarborTlsFailed">The TLS certificate could not be verified.</error>
/// <error id="HarborResponseInvalid">The URL answers, but not with Harbor's API.</error>
/// <error id="HarborServerError">Harbor failed with 5xx.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommunications.Connect, "Harbor", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(HarborConnectionInfo))]
public sealed class ConnectHarborCommand : HarborOpsCmdlet
{
    /// <summary>Harbor's URL, such as https://harbor.example.com (https is assumed when no scheme is given).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Harbor { get; set; } = "";

    /// <summary>User and password, OIDC user and CLI secret, or robot$... and its secret.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [Credential]
    [ValidateNotNull]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    /// <summary>Do not check Harbor's TLS certificate. Only for a lab or a Harbor whose CA you cannot install.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Harbor;
        var connection = new HarborConnection(HarborConnection.ParseUrl(Harbor), ToNetworkCredential(Credential)!) { SkipCertificateCheck = SkipCertificateCheck };
        if (!await ShouldProcessAsync(connection.Url.ToString(), $"Connect as '{Credential.UserName}'").ConfigureAwait(false))
        {
            return;
        }

        if (SkipCertificateCheck)
        {
            WriteWarning($"TLS certificate checks are off for {connection.Url}: the connection can be intercepted.");
        }

        HarborConnectionInfo info = await new HarborClient(connection, WriteVerbose).ConnectAsync(cancellationToken).ConfigureAwait(false);
        HarborSession.Set(connection, info);
        WriteVerbose($"Connected to {info.Harbor} (Harbor {info.HarborVersion ?? "version hidden"}) as {info.Kind.ToLowerInvariant()} '{info.UserName}'.");
        WriteObject(info);
    }
}
