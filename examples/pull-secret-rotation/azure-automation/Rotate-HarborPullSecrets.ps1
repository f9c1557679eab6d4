<#
.SYNOPSIS
    Azure Automation runbook (PowerShell 7.4 runtime): rotates a cluster's Harbor pull secrets on a schedule.

.DESCRIPTION
    Import HarborOps into the Automation account (Modules, runtime 7.4), the version -HarborOpsVersion names: the
    runbook imports exactly that one, so a newer module imported later changes nothing until you raise it. Assets
    the runbook reads:
      credential 'HarborRotation'  the Harbor identity that creates and deletes robots
      variable   'HarborUrl'       https://harbor.example.com
      variable   'Kubeconfig'      (encrypted) a kubeconfig for a ServiceAccount bound to kubernetes/rbac.yaml
    Link it to a daily schedule; robots are only replaced once they are -RotationPeriodDays old. A failed run is
    finished by the next run (nothing to clean up by hand). The runbook fails (and Automation alerts) when a
    namespace failed or a credential needs attention.
#>
param(
    # Empty: every namespace with a HarborOps-managed pull secret.
    [string[]] $Namespace,
    [int] $RotationPeriodDays = 90,
    [int] $GraceDays = 7,
    [int] $ExpiringWithinDays = 14,
    [string] $HarborOpsVersion = '0.1.0'
)
$ErrorActionPreference = 'Stop'
Import-Module HarborOps -RequiredVersion $HarborOpsVersion

$credential = Get-AutomationPSCredential -Name 'HarborRotation'
$harbor = Get-AutomationVariable -Name 'HarborUrl'
# The sandbox has no kubeconfig: write the encrypted variable to a private temp file for this job only.
$kubeconfig = Join-Path ([IO.Path]::GetTempPath()) ("kubeconfig-" + [guid]::NewGuid().ToString('N'))
Set-Content -LiteralPath $kubeconfig -Value (Get-AutomationVariable -Name 'Kubeconfig') -NoNewline
$scope = @{}
if ($Namespace) { $scope.Namespace = $Namespace }
try {
    $results = @(Invoke-PullSecretRotation @scope -Kubeconfig $kubeconfig -Harbor $harbor -Credential $credential `
            -RotationPeriodDays $RotationPeriodDays -GracePeriod ([timespan]::FromDays($GraceDays)) -ErrorAction Continue -ErrorVariable failures)
    $results | Select-Object Namespace, Robot, Rotated, Verified, RobotsDeleted, Error | Format-Table -AutoSize | Out-String | Write-Output
    $status = @(Get-PullSecretStatus @scope -Kubeconfig $kubeconfig -Harbor $harbor -Credential $credential -ExpiringWithinDays $ExpiringWithinDays)
    $status | Select-Object Namespace, Robot, DaysLeft, Authenticates, NeedsAttention | Format-Table -AutoSize | Out-String | Write-Output
    $attention = @($status | Where-Object NeedsAttention)
    if ($failures.Count -gt 0 -or @($results | Where-Object Error).Count -gt 0 -or $attention.Count -gt 0) {
        throw "Pull-secret rotation needs attention: $($failures.Count + @($results | Where-Object Error).Count) failure(s), $($attention.Count) credential(s) expiring or not pulling ($((@($attention.Namespace) -join ', ')))."
    }
}
finally {
    Remove-Item -LiteralPath $kubeconfig -Force -ErrorAction SilentlyContinue
}
