using System.Management.Automation;
using HarborOps.Engine.Harbor;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>
/// Base of the Harbor cmdlets: the session from Connect-Harbor, or -Harbor/-Credential given to the command itself
/// (for scripts), and the client's request log (method, path, status, X-Request-Id) as verbose output.
/// </summary>
public abstract class HarborCommandBase : HarborOpsCmdlet
{
    /// <summary>Harbor's URL (https://harbor.example.com); by default the one Connect-Harbor opened.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Harbor { get; set; }

    /// <summary>User and password, OIDC user and CLI secret, or robot$... and its secret, for this command only; by default the session's.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Do not check Harbor's TLS certificate. Only for a lab or a Harbor whose CA you cannot install; the connection can then be intercepted.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>A client for this command's connection.</summary>
    protected HarborClient CreateClient()
    {
        HarborConnection connection = HarborSession.Resolve(Harbor, ToNetworkCredential(Credential), SkipCertificateCheck);
        return new HarborClient(connection, WriteVerbose);
    }

    /// <summary>True when the caller gave the parameter (a switch given as -X:$false counts, to turn a setting off).</summary>
    protected bool Given(string parameterName) => MyInvocation.BoundParameters.ContainsKey(parameterName);

    /// <summary>The value of a switch that was given, or null to leave the setting as it is.</summary>
    protected bool? Switch(string parameterName, SwitchParameter value) => Given(parameterName) ? value.IsPresent : null;

    /// <summary>
    /// A robot credential as it goes down the pipeline: the model object, plus a Credential property (PSCredential) so it
    /// also binds into Set-RegistryCredential -Registry/-Credential. The secret stays a SecureString in both.
    /// </summary>
    protected static PSObject ToPipelineCredential(HarborRobotCredential credential)
    {
        PSObject output = PSObject.AsPSObject(credential);
        output.Properties.Add(new PSNoteProperty("Credential", new PSCredential(credential.UserName, credential.Secret)));
        return output;
    }
}
