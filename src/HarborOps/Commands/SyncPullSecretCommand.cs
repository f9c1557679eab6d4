using System.Management.Automation;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Rotation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Writes a registry login into namespaces as a kubernetes.io/dockerconfigjson pull secret and lists it in their ServiceAccounts.</summary>
/// <remarks>
/// <para>Sync-PullSecret creates or updates the secret -SecretName in each namespace named by -Namespace (wildcards
/// allowed), -NamespaceSelector or -AllNamespaces, then adds it to the imagePullSecrets of the default ServiceAccount (or
/// those named by -ServiceAccount), keeping every entry already there: it reads the ServiceAccount, merges and writes it
/// back with its resourceVersion, and retries when another writer got in between.</para>
/// <para>The credential comes from the pipeline (New-HarborRobot or Reset-HarborRobotSecret output binds by property
/// name: Registry, Credential, ExpiresAt, RobotId) or from -Registry and -Credential. The secret is labelled
/// app.kubernetes.io/managed-by=harborops and annotated with the registry, robot, rotated-at and expires-at.
/// Nothing is written when the secret already holds the same login, so a re-run is free.</para>
/// <para>A same-named secret of another type is left alone and reported; -Force deletes it and writes the pull secret
/// in its place (a Secret's type cannot be changed). One result per namespace; -WhatIf shows each namespace's change.</para>
/// </remarks>
/// <example>
/// <code>New-HarborRobot k8s-pull -Project team-a -DurationDays 97 | Sync-PullSecret -Namespace team-a</code>
/// <para>A pull-only robot for team-a, written into team-a's pull secret and default ServiceAccount.</para>
/// </example>
/// <example>
/// <code>Sync-PullSecret -Namespace 'team-*' -Registry harbor.example.com -Credential (Get-Credential) -ServiceAccount default, builder -WhatIf</code>
/// <para>Shows what would change in every team namespace.</para>
/// </example>
/// <errors>
/// <error id="PullSecretCredentialInvalid">The registry or login cannot go into a pull secret.</error>
/// <error id="PullSecretWrongType">A same-named secret of another type exists; it was left alone (use -Force).</error>
/// <error id="PullSecretNamespaceNotFound">The namespace does not exist.</error>
/// <error id="PullSecretServiceAccountNotFound">A ServiceAccount to update does not exist.</error>
/// <error id="PullSecretConflict">An object kept changing under every retry.</error>
/// <error id="KubePermissionDenied">The cluster credential lacks a verb on a resource (the message names both).</error>
/// <error id="KubeAuthenticationFailed">The API server rejected the cluster credential.</error>
/// <error id="KubeApiUnreachable">The API server could not be reached.</error>
/// <error id="KubeconfigNotFound">No kubeconfig and not running in a pod.</error>
/// <error id="KubeContextNotFound">The kubeconfig has no such context.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsData.Sync, "PullSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Sync-PullSecret.md")]
[OutputType(typeof(PullSecretSyncResult))]
public sealed class SyncPullSecretCommand : NamespaceSelectionCommandBase
{
    // Not bound from the pipeline, unlike the base's: the pipeline brings the credential, and a piped object's
    // Namespace property must not decide where a secret is written.
    /// <summary>Namespaces by name; wildcards list the cluster's namespaces and keep the matching ones.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KubeNamespaceCompleter))]
    public override string[]? Namespace { get; set; }

    /// <summary>The registry host[:port] the login is for (a robot credential's Registry binds here).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegistryCompleter))]
    public string Registry { get; set; } = "";

    /// <summary>The login: a PSCredential, or a robot credential's Credential property from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Credential]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    /// <summary>When the login expires (recorded on the secret for Get-PullSecretStatus).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The Harbor robot id behind the login (recorded so the rotation can retire it).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long RobotId { get; set; }

    /// <summary>The secret's name in each namespace. Default harbor-pull.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SecretName { get; set; } = PullSecretSyncRequest.DefaultSecretName;

    /// <summary>ServiceAccounts whose imagePullSecrets must list the secret. Default: default. An empty list leaves ServiceAccounts alone.</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[] ServiceAccount { get; set; } = ["default"];

    /// <summary>The Harbor projects the namespaces pull from, recorded for Invoke-PullSecretRotation.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string[]? Project { get; set; }

    /// <summary>Replace a same-named secret of another type (it is deleted and the pull secret written in its place).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Registry;
        var namespaceSelection = RequiredSelection(Registry);
        if (ReferenceEquals(Credential, PSCredential.Empty))
            throw new PullSecretException(PullSecretErrorIds.CredentialInvalid, FailureKind.InvalidArgument,
                $"No login for {Registry}: pass -Credential, or pipe a robot credential from New-HarborRobot.", Registry);
        var cluster = await ConnectClusterAsync().ConfigureAwait(false);
        var sync = new PullSecretSync(cluster);
        var request = new PullSecretSyncRequest(Registry, Credential.UserName, Credential.Password)
        {
            SecretName = SecretName, ExpiresAt = ExpiresAt, RobotId = RobotId > 0 ? RobotId : null, ServiceAccounts = ServiceAccount,
            Force = Force, Projects = Project ?? [],
        };
        var namespaces = await sync.ResolveNamespacesAsync(namespaceSelection, cancellationToken).ConfigureAwait(false);
        if (namespaces.Count == 0) WriteWarning("No namespace matched; nothing was written.");
        foreach (var name in namespaces)
        {
            var failure = await RunItemAsync(name, async () =>
            {
                var result = await sync.SyncAsync(name, request, change => ShouldProcessAsync(name, change), cancellationToken).ConfigureAwait(false);
                WriteVerbose($"{name}: {result.Action} secret '{SecretName}' ({result.UserName} @ {result.Registry}){(result.ServiceAccountsUpdated.Length > 0 ? "; added to " + string.Join(", ", result.ServiceAccountsUpdated) : "")}.");
                WriteObject(result);
            }).ConfigureAwait(false);
            if (failure is not null)
            {
                WriteObject(new PullSecretSyncResult
                {
                    Namespace = name, SecretName = SecretName, Registry = Registry, UserName = Credential.UserName, Action = PullSecretAction.Failed, Message = failure.Message,
                });
            }
        }
    }
}
