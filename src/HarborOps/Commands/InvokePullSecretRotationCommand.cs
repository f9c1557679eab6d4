using System.Management.Automation;
using HarborOps.Engine.Rotation;
using HarborOps.Infrastructure;
using HarborOps.Models;

namespace HarborOps.Commands;

/// <summary>Rotates the Harbor robot behind each namespace's pull secret without a pull outage: the runbook for the 90-day rotation.</summary>
/// <remarks>
/// <para>For each namespace (those named, or every namespace with a HarborOps-managed secret of -SecretName),
/// Invoke-PullSecretRotation creates the next robot with pull access to the namespace's Harbor projects only and a
/// lifetime of -RotationPeriodDays plus -GracePeriod, proves it pulls (a token and a manifest HEAD on Harbor's /v2/),
/// writes it into the secret, makes the ServiceAccounts list the secret, optionally restarts the workloads that use it
/// (-RestartWorkload, -Wait), proves again that what the secret now holds pulls, and deletes earlier robots once their
/// grace period has passed. The old robot keeps working until then, so no pull fails at any moment.</para>
/// <para>A robot is replaced when it is -RotationPeriodDays old, expires within the grace period, no longer exists, or
/// -Force says so; otherwise the run only checks and cleans up, so a daily schedule is cheap. The state lives in the
/// secret's annotations (harborops.io/*), and robots carry the namespace in their name
/// (-RobotNamePrefix-namespace-time), so a run that dies at any step is finished by the next run: a robot created but
/// never written into a secret is deleted, a missing ServiceAccount entry or restart is done, retired robots are
/// deleted when due. A robot is only ever deleted right after the credential in the secret pulled.</para>
/// <para>A robot is deleted only when the rotation created it for that namespace (the secret records the robot's name
/// before Harbor creates it; a name alone proves nothing) and no HarborOps-managed pull secret in any namespace still
/// holds it. A robot piped into several namespaces with New-HarborRobot | Sync-PullSecret is therefore never deleted by
/// the rotation (it expires, or you remove it with Remove-HarborRobot), and one another namespace still holds is kept
/// until none does. Checking that lists the managed secrets of all namespaces; a cluster identity that may not (bound
/// per namespace with RoleBindings) keeps every retired robot. Each kept robot is in the result's KeptRobots with the
/// reason, and a warning says why for all but those still in their grace period.</para>
/// <para>The first run in a namespace takes its Harbor projects from -Project, or else from the images its workloads and
/// pods run from Harbor (as Get-WorkloadImage lists them); one project gives a project robot, several a system robot
/// with pull on each. Later runs read the projects from the secret.</para>
/// <para>-RefreshInPlace gives the current robot a new secret instead (Reset-HarborRobotSecret): the old secret stops
/// working at once, so pods that pull before the secret is updated fail. Use it only when a second robot is not an
/// option. -WhatIf prints each namespace's plan. One result per namespace says what changed.</para>
/// </remarks>
/// <example>
/// <code>Invoke-PullSecretRotation -Namespace team-a -Project team-a, base-images</code>
/// <para>First rotation of team-a: a system robot with pull on both projects, written into harbor-pull.</para>
/// </example>
/// <example>
/// <code>Invoke-PullSecretRotation -RestartWorkload -Wait -WhatIf</code>
/// <para>The plan for every managed namespace, changing nothing.</para>
/// </example>
/// <errors>
/// <error id="PullSecretProjectsUnknown">A namespace's first rotation without -Project, and no workload there runs an image from Harbor.</error>
/// <error id="PullSecretWrongType">A same-named secret of another type exists; it was left alone.</error>
/// <error id="PullSecretVerificationFailed">A credential did not pull from Harbor; no robot was deleted.</error>
/// <error id="PullSecretServiceAccountNotFound">A ServiceAccount to update does not exist.</error>
/// <error id="PullSecretNamespaceNotFound">The namespace does not exist.</error>
/// <error id="PullSecretConflict">An object kept changing under every retry.</error>
/// <error id="WorkloadRolloutStalled">A restarted Deployment exceeded its progress deadline.</error>
/// <error id="WorkloadRolloutTimeout">A rollout did not finish within -RolloutTimeout.</error>
/// <error id="HarborNotConnected">No session and no -Harbor/-Credential.</error>
/// <error id="HarborPermissionDenied">The Harbor identity may not create or delete these robots.</error>
/// <error id="HarborProjectNotFound">A project to grant does not exist.</error>
/// <error id="HarborAuthenticationFailed">Harbor rejected the credential.</error>
/// <error id="HarborUnreachable">Harbor could not be reached.</error>
/// <error id="KubePermissionDenied">The cluster credential lacks a verb on a resource (the message names both).</error>
/// <error id="KubeAuthenticationFailed">The API server rejected the cluster credential.</error>
/// <error id="KubeApiUnreachable">The API server could not be reached.</error>
/// <error id="KubeconfigNotFound">No kubeconfig and not running in a pod.</error>
/// <error id="KubeContextNotFound">The kubeconfig has no such context.</error>
/// <error id="HarborOpsUnexpectedError">An unexpected failure; report it with the command you ran.</error>
/// </errors>
[Cmdlet(VerbsLifecycle.Invoke, "PullSecretRotation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = OnlineHelp.CmdletPages + "Invoke-PullSecretRotation.md")]
[OutputType(typeof(PullSecretRotationResult))]
public sealed class InvokePullSecretRotationCommand : PullSecretCommandBase
{
    /// <summary>The Harbor projects the namespaces pull from (the new robot's only permissions). On a namespace's first run without it: the projects of the Harbor images its workloads run.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HarborProjectCompleter))]
    public string[]? Project { get; set; }

    /// <summary>ServiceAccounts whose imagePullSecrets must list the secret. Default: default.</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[] ServiceAccount { get; set; } = ["default"];

    /// <summary>Replace a robot once it is this many days old. Default 90.</summary>
    [Parameter]
    [ValidateRange(1, 3650)]
    public int RotationPeriodDays { get; set; } = 90;

    /// <summary>How long a replaced robot keeps working before a run deletes it. Default 7 days.</summary>
    [Parameter]
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Rotate now, whatever the current robot's age.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Refresh the current robot's secret in place instead of creating a new robot. The old secret stops working at once: pulls fail until the secret is updated.</summary>
    [Parameter]
    public SwitchParameter RefreshInPlace { get; set; }

    /// <summary>Restart the workloads that pull with the secret once it holds the new robot.</summary>
    [Parameter]
    public SwitchParameter RestartWorkload { get; set; }

    /// <summary>With -RestartWorkload: wait for the rollouts, like kubectl rollout status.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait follows a rollout. Default 5 minutes.</summary>
    [Parameter]
    public TimeSpan RolloutTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Robots are named prefix-namespace-time; give each cluster sharing a Harbor its own prefix. Default k8s-pull.</summary>
    [Parameter]
    [ValidatePattern("^[a-z0-9]+(?:[._-][a-z0-9]+)*$")]
    public string RobotNamePrefix { get; set; } = "k8s-pull";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        CurrentTarget = Namespace is { Length: 1 } ? Namespace[0] : SecretName;
        var request = new PullSecretRotationRequest
        {
            SecretName = SecretName, Projects = Project ?? [], ServiceAccounts = ServiceAccount, RotationPeriodDays = RotationPeriodDays, GracePeriod = GracePeriod,
            Force = Force, RefreshInPlace = RefreshInPlace, RestartWorkloads = RestartWorkload, Wait = Wait, RolloutTimeout = RolloutTimeout,
            RobotNamePrefix = RobotNamePrefix,
        };
        if (RefreshInPlace)
            WriteWarning("-RefreshInPlace: each rotated robot's old secret stops working the moment Harbor refreshes it, so a pod that pulls before its namespace's secret is rewritten fails. Without -RefreshInPlace the rotation overlaps two robots and no pull fails.");
        var harbor = CreateHarborClient();
        var cluster = await ConnectClusterAsync().ConfigureAwait(false);
        using var registry = NewVerificationEngine();
        var rotator = new PullSecretRotator(cluster, harbor, new PullVerifier(registry, harbor)) { Log = WriteVerboseAsync };
        var namespaces = await rotator.ResolveNamespacesAsync(Selection(), SecretName, cancellationToken).ConfigureAwait(false);
        if (namespaces.Count == 0) WriteWarning(Selection() is null ? $"No namespace has a HarborOps-managed secret '{SecretName}' yet; name the first ones with -Namespace and -Project." : "No namespace matched.");
        var progress = StartProgress("Invoke-PullSecretRotation", $"{namespaces.Count} namespaces");
        await foreach (var outcome in rotator.RotateAsync(namespaces, request, ShouldProcessAsync, progress, cancellationToken).ConfigureAwait(false))
        {
            CurrentTarget = outcome.Result.Namespace;
            foreach (var failure in outcome.Failures) WriteFailure(failure.Failure, failure.Target);
            foreach (var kept in outcome.Result.KeptRobots.Where(k => k.Reason != KeptRobotReason.GracePeriod))
                WriteWarning($"{outcome.Result.Namespace}: kept robot '{kept.Name}': {kept.Detail}");
            WriteObject(outcome.Result);
        }
    }
}
