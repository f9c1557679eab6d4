#Requires -Version 7.4
<#
.SYNOPSIS
    Onboards a team onto Harbor in one run: project with gates and quota, Entra ID groups as members, a pull robot
    and its pull secrets in the team's namespaces, a CI push robot, and the team's line of the usage report.
.DESCRIPTION
    A pipeline of HarborOps cmdlets, safe to run again: an existing project gets the settings again (Set-HarborProject),
    Sync-HarborProjectMember -Prune makes the Entra groups exactly those given (a second run changes nothing), and a
    robot that exists is kept (its secret cannot be read back; rotate it with Reset-HarborRobotSecret or the pull-secret
    rotation). -WhatIf shows every change without making it.

    Run it after Connect-Harbor. Entra ID sign-in is DefaultAzureCredential unless -EntraSignIn names another
    (a hashtable splatted into Sync-HarborProjectMember: TenantId, ClientId, ClientSecret, CertificatePath,
    ManagedIdentity, GraphEndpoint, AuthorityHost). The identity needs the Graph application permissions
    GroupMember.Read.All and User.ReadBasic.All.
.EXAMPLE
    Connect-Harbor -Harbor https://harbor.example.com -Credential (Get-Credential)
    ./New-HarborTeam.ps1 -Team payments -Group @{ 'payments-devs' = 'Developer'; 'payments-leads' = 'Maintainer' } -Namespace payments, payments-jobs

    Creates project payments, gives the two Entra groups their roles, writes the pull secret into both namespaces
    (default ServiceAccounts patched) and prints the CI robot's name and the usage line.
.EXAMPLE
    New-HarborRegistryEndpoint docker-hub -Type DockerHub -Url https://hub.docker.com -EndpointCredential $hubToken
    ./New-HarborTeam.ps1 -Team payments -Group @{ 'payments-devs' = 'Developer' } -Mirror @{ 'payments-hub' = 'docker-hub' }

    Also creates the proxy-cache project payments-hub, a Docker Hub mirror under the same vulnerability gate and quota:
    the team pulls harbor.example.com/payments-hub/library/nginx:1.27 instead of docker.io/library/nginx:1.27.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # The team's project name (lower case, Harbor's rules).
    [Parameter(Mandatory)] [ValidateNotNullOrEmpty()] [string] $Team,
    # Entra groups (display name or object id) = Harbor role.
    [Parameter(Mandatory)] [hashtable] $Group,
    # Storage quota of the project.
    [double] $StorageQuotaGB = 50,
    # Pulls of images vulnerable at this severity or above are refused.
    [ValidateSet('Low', 'Medium', 'High', 'Critical')] [string] $Severity = 'High',
    # Kubernetes namespaces that get the pull secret (nothing is written to a cluster without them); -Kubeconfig and -Context choose the cluster.
    [string[]] $Namespace,
    [string] $Kubeconfig,
    [string] $Context,
    # Lifetime of the pull robot (the rotation renews it) and of the CI robot.
    [int] $PullRobotDays = 90,
    [int] $PushRobotDays = 30,
    # How Sync-HarborProjectMember signs in to Entra ID (splatted), e.g. @{ TenantId = ...; ClientId = ...; ClientSecret = ... }.
    [hashtable] $EntraSignIn = @{},
    # Proxy-cache projects to create = the registry endpoint each mirrors (New-HarborRegistryEndpoint), e.g. @{ 'payments-hub' = 'docker-hub' }.
    [hashtable] $Mirror = @{}
)

$ErrorActionPreference = 'Stop'
$gates = @{ AutoScan = $true; PreventVulnerable = $true; Severity = $Severity; RequireCosignSignature = $true; StorageQuotaGB = $StorageQuotaGB }

# 1. The project with its gates and quota: created, or brought back to these settings.
$project = Get-HarborProject -Name $Team -ErrorAction SilentlyContinue
if ($project) { $project = Set-HarborProject -Name $Team @gates -Force }
else { $project = New-HarborProject -Name $Team @gates }

# 2. Entra groups as OIDC group members (object ids, as Entra's groups claim carries them), nothing else left behind.
$memberChanges = @(Sync-HarborProjectMember -Project $Team -Group $Group -Prune @EntraSignIn)

# 3. A pull robot for the cluster, and its pull secret in each of the team's namespaces.
$existing = @(Get-HarborRobot -Project $Team)
function New-TeamRobot([string] $Name, [string] $Preset, [int] $Days) {
    if ($existing | Where-Object Name -Like "*+$Name") { Write-Verbose "Robot $Name of $Team exists; kept."; return $null }
    New-HarborRobot -Name $Name -Project $Team -Preset $Preset -DurationDays $Days
}
$pullRobot = New-TeamRobot 'k8s-pull' 'PullOnly' $PullRobotDays
$pullSecrets = @()
if ($Namespace -and $pullRobot) {
    $cluster = @{}
    if ($Kubeconfig) { $cluster.Kubeconfig = $Kubeconfig }
    if ($Context) { $cluster.Context = $Context }
    $pullSecrets = @($pullRobot | Sync-PullSecret -Namespace $Namespace -Project $Team @cluster)
}

# 4. A push robot for CI (hand its credential to the pipeline's secret store).
$pushRobot = New-TeamRobot 'ci-push' 'Push' $PushRobotDays

# 5. Mirrors of Docker Hub, GHCR and the like: proxy-cache projects under the same vulnerability gate and quota. Not the
#    signature gate: upstream images carry no signature of ours, so every cached image would be refused.
$mirrorGates = @{ AutoScan = $true; PreventVulnerable = $true; Severity = $Severity; StorageQuotaGB = $StorageQuotaGB }
$mirrors = @(foreach ($name in $Mirror.Keys) {
    $existingMirror = Get-HarborProject -Name $name -ErrorAction SilentlyContinue
    if ($existingMirror) { Set-HarborProject -Name $name @mirrorGates -Force }
    else { New-HarborProject -Name $name -ProxyCacheEndpoint $Mirror[$name] @mirrorGates }
})

# 6. The team's line in the usage report.
$usage = Get-HarborProjectUsage -Project $Team

[pscustomobject]@{
    Project       = $project
    MemberChanges = $memberChanges
    PullRobot     = $pullRobot
    PullSecrets   = $pullSecrets
    PushRobot     = $pushRobot
    Mirrors       = $mirrors
    Usage         = $usage
}
