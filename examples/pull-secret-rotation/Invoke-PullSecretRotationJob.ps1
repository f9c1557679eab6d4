<#
.SYNOPSIS
    The scheduled job behind every example here: rotate the Harbor pull secrets of a cluster, then report what
    expires soon or no longer pulls. GitHub Actions, Azure DevOps and the Kubernetes CronJob run this file as it is,
    from the installed module's own examples folder, so they depend on no repository layout:
      & (Join-Path (Get-Module HarborOps -ListAvailable | Where-Object Version -EQ $env:HARBOROPS_VERSION).ModuleBase 'examples/pull-secret-rotation/Invoke-PullSecretRotationJob.ps1')

.DESCRIPTION
    Without -Namespace it rotates every namespace that already has a HarborOps-managed pull secret; a namespace's
    first rotation needs -Namespace and -Project (later runs read the projects from the secret). A robot is
    replaced once it is -RotationPeriodDays old; the replaced robot is deleted by the first run after -GracePeriod,
    provided the rotation created it and no namespace's managed pull secret still holds it (otherwise it is kept, with
    a warning saying why).
    A run that dies anywhere is finished by the next one, so a failed job needs no cleanup, only a re-run.

    The Harbor identity needs to create and delete robots in the projects (project admin, or a system robot with
    robot:create/robot:delete/robot:list and repository:list/artifact:read). The cluster identity needs exactly what
    kubernetes/rbac.yaml grants.

    Exit code 0: every namespace rotated or is current, and none needs attention. 1: a namespace failed, or a
    credential expires within -ExpiringWithinDays or no longer pulls (the alert).
#>
[CmdletBinding()]
param(
    [string] $HarborUrl = $env:HARBOR_URL,
    [string] $HarborUser = $env:HARBOR_USER,
    # From the CI system's secret store; never printed.
    [string] $HarborPassword = $env:HARBOR_PASSWORD,
    # Empty: the in-cluster ServiceAccount (CronJob), else $env:KUBECONFIG or ~/.kube/config.
    [string] $Kubeconfig = $env:KUBECONFIG,
    [string] $Context,
    [string[]] $Namespace,
    [string[]] $Project,
    [string] $SecretName = 'harbor-pull',
    [int] $RotationPeriodDays = 90,
    [timespan] $GracePeriod = [timespan]::FromDays(7),
    [int] $ExpiringWithinDays = 14,
    [switch] $RestartWorkload,
    # Rotate now, whatever the robots' age (after a suspected leak).
    [switch] $Force,
    [string] $RobotNamePrefix = 'k8s-pull',
    # The installed HarborOps version to import (the one the pipeline pinned when it installed it); empty: the newest.
    [string] $RequiredVersion = $env:HARBOROPS_VERSION,
    # A HarborOps manifest to import instead of the installed module.
    [string] $ModulePath = 'HarborOps'
)
$ErrorActionPreference = 'Stop'
if ($RequiredVersion -and $ModulePath -eq 'HarborOps') { Import-Module HarborOps -RequiredVersion $RequiredVersion }
else { Import-Module $ModulePath }

if (-not $HarborUrl -or -not $HarborUser -or -not $HarborPassword) {
    throw 'Set HARBOR_URL, HARBOR_USER and HARBOR_PASSWORD (or pass -HarborUrl, -HarborUser, -HarborPassword).'
}
$harborCredential = [pscredential]::new($HarborUser, (ConvertTo-SecureString $HarborPassword -AsPlainText -Force))
$cluster = @{}
if ($Kubeconfig) { $cluster.Kubeconfig = $Kubeconfig }
if ($Context) { $cluster.Context = $Context }

$rotation = @{
    Harbor = $HarborUrl; Credential = $harborCredential; SecretName = $SecretName
    RotationPeriodDays = $RotationPeriodDays; GracePeriod = $GracePeriod; RobotNamePrefix = $RobotNamePrefix
}
if ($Namespace) { $rotation.Namespace = $Namespace }
if ($Project) { $rotation.Project = $Project }
if ($RestartWorkload) { $rotation.RestartWorkload = $true; $rotation.Wait = $true }
if ($Force) { $rotation.Force = $true }

# Per-namespace failures are error records; collect them and go on, so one namespace cannot block the others.
$results = @(Invoke-PullSecretRotation @cluster @rotation -ErrorAction Continue -ErrorVariable rotationErrors)
$results | Format-Table Namespace, Robot, Rotated, Verified, RobotsDeleted, Error -AutoSize | Out-String -Width 200 | Write-Host

$statusScope = @{ SecretName = $SecretName; ExpiringWithinDays = $ExpiringWithinDays; Harbor = $HarborUrl; Credential = $harborCredential }
if ($Namespace) { $statusScope.Namespace = $Namespace }
$status = @(Get-PullSecretStatus @cluster @statusScope -ErrorAction Continue -ErrorVariable statusErrors)
$status | Format-Table Namespace, Robot, AgeDays, DaysLeft, Authenticates, NeedsAttention -AutoSize | Out-String -Width 200 | Write-Host

$failed = @($results | Where-Object Error) + @($rotationErrors) + @($statusErrors)
$alerts = @($status | Where-Object NeedsAttention)
foreach ($alert in $alerts) { Write-Warning "Pull secret '$($alert.SecretName)' in '$($alert.Namespace)' needs attention: $($alert.Detail)" }
if ($failed.Count -gt 0 -or $alerts.Count -gt 0) {
    Write-Host "$($failed.Count) failure(s), $($alerts.Count) alert(s)."
    exit 1
}
exit 0
