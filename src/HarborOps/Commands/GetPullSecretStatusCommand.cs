using System.Management.Automation;
using HarborOps.Engine.Rotation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Reports each namespace's pull secret: the robot behind it, its age, expiry and days left, and whether it still pulls from Harbor.</summary>
/// <remarks>
/// <para>Get-PullSecretStatus reads -SecretName in each namespace (by default every namespace with a HarborOps-managed
/// secret of that name) and, unless -NoVerify, logs in to Harbor with the secret's own credential and pulls a manifest
/// from each project the secret records, so Authenticates means a kubelet's pull would work now.</para>
/// <para>NeedsAttention is true when the credential expires within -ExpiringWithinDays (default 14), no longer pulls,
/// or the secret is missing or of the wrong type: filter on it for alerts.</para>
/// </remarks>
/// <example>
/// <code>Get-PullSecretStatus | Where-Object NeedsAttention</code>
/// <para>Every managed namespace whose pull secret expires within two weeks or does not pull.</para>
/// </example>
/// <example>
/// <code>Get-PullSecretStatus -Namespace 'team-*' -ExpiringWithinDays 30 -NoVerify</code>
/// <para>Expiry only, without contacting Harbor.</para>
/// </example>
/// <errors>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential (needed unless -NoVerify).</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the operator's credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="KubePermissionDenied">The cluster credential lacks a verb on a resource (the message names both).</error>
/// <error id="KubeAuthenticationFailed">The API server rejected the cluster credential.</error>
/// <error id="KubeApiUnreachable">The API server could not be reached.</error>
/// <error id="KubeconfigNotFound">No kubeconfig and not running in a pod.</error>
/// <error id="KubeContextNotFound">The kubeconfig has no such context.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsCommon.Get, "PullSecretStatus", HelpUri = OnlineHelp.CmdletPages + "Get-PullSecretStatus.md")]
[OutputType(typeof(PullSecretStatus))]
public sealed class GetPullSecretStatusCommand : PullSecretCommandBase
{
    /// <summary>Flag credentials that expire within this many days. Default 14.</summary>
    [Parameter]
    [ValidateRange(0, 3650)]
    public int ExpiringWithinDays { get; set; } = 14;

    /// <summary>Do not try the credentials against Harbor (no Harbor connection needed).</summary>
    [Parameter]
    public SwitchParameter NoVerify { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = SecretName;
        var cluster = await ConnectClusterAsync().ConfigureAwait(false);
        using var registry = NoVerify ? null : NewVerificationEngine();
        var verifier = registry is null ? null : new PullVerifier(registry, CreateHarborClient());
        var reader = new PullSecretStatusReader(cluster, verifier);
        var namespaces = await new PullSecretSync(cluster).ResolveManagedNamespacesAsync(Selection(), SecretName, cancellationToken).ConfigureAwait(false);
        foreach (var name in namespaces)
        {
            await RunItemAsync(name, async () => WriteObject(await reader.ReadAsync(name, SecretName, ExpiringWithinDays, null, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
        }
    }
}
