using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Opens a Harbor session for the later Harbor commands, after checking the credential for real.</summary>
/// <remarks>
/// <para>Connect-Harbor checks the credential before it keeps it: a user (local, LDAP, or OIDC with its CLI secret) with
/// GET /users/current, a robot (robot$... or whatever prefix the Harbor names robots with) with GET /v2/. Harbor answers requests with a wrong password as if they were
/// anonymous, so a check against an endpoint that serves anonymous callers would pass; this one does not.</para>
/// <para>The session lasts for the PowerShell process. Every Harbor command also takes -Harbor and -Credential, which
/// win over the session for that command. Cookies are never kept (Harbor's CSRF check rejects clients that send its
/// session cookie back), every request carries an X-Request-Id that -Verbose shows and errors quote, and TLS is verified
/// unless -SkipCertificateCheck is given.</para>
/// <para>Harbor names robots with its setting robot_name_prefix (robot$ unless the installation changed it). The session
/// learns it: a system admin reads the setting, a project robot's own name gives it away against the projects the robot
/// sees, and otherwise the first robot Harbor returns tells it. Give -RobotNamePrefix when none of these can, so that the
/// robot commands find robots by their full names.</para>
/// </remarks>
/// <example>
/// <code>Connect-Harbor -Harbor https://harbor.example.com -Credential (Get-Credential admin)</code>
/// <para>Prompts for the admin password, checks it and keeps the session.</para>
/// </example>
/// <example>
/// <code>Connect-Harbor harbor.example.com -Credential $robotCredential -Verbose</code>
/// <para>Connects as a robot account; verbose output lists each request with its X-Request-Id.</para>
/// </example>
/// <example>
/// <code>Connect-Harbor harbor.example.com -Credential (Get-Credential team-lead) -RobotNamePrefix 'svc-'</code>
/// <para>Connects to a Harbor that names its robots svc-project+name, as a user who may not read the system settings.</para>
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
[Cmdlet(VerbsCommunications.Connect, "Harbor", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = OnlineHelp.CmdletPages + "Connect-Harbor.md")]
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

    /// <summary>Harbor's robot name prefix (its system setting robot_name_prefix, such as svc-), when the session cannot learn it: only system admins may read the setting.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RobotNamePrefix { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Harbor;
        var connection = new HarborConnection(HarborConnection.ParseUrl(Harbor), ToNetworkCredential(Credential)!)
        {
            SkipCertificateCheck = SkipCertificateCheck, RobotNamePrefix = RobotNamePrefix?.Trim() is { Length: > 0 } prefix ? prefix : null,
        };
        if (!await ShouldProcessAsync(connection.Url.ToString(), $"Connect as '{Credential.UserName}'").ConfigureAwait(false))
        {
            return;
        }

        if (SkipCertificateCheck)
        {
            WriteWarning($"TLS certificate checks are off for {connection.Url}: the connection can be intercepted.");
        }

        HarborConnectionInfo info = await new HarborClient(connection, WriteVerbose).ConnectAsync(cancellationToken).ConfigureAwait(false);
        // What the connection learnt goes with the session, so every later command knows how Harbor names robots.
        HarborSession.Set(connection with { RobotNamePrefix = info.RobotNamePrefix }, info);
        WriteVerbose($"Connected to {info.Harbor} (Harbor {info.HarborVersion ?? "version hidden"}) as {info.Kind.ToLowerInvariant()} '{info.UserName}'.");
        WriteObject(info);
    }
}
