# Robots on a Harbor whose robot_name_prefix is not robot$ (installations change it because '$' breaks shells, CI
# variables and Kubernetes tooling): the lab's Harbor is switched to svc- for this file, as an admin would in Harbor's
# settings, and back afterwards. The robot cmdlets, Connect-Harbor as a robot, Sync-PullSecret and the rotation must work
# by full name as they do with robot$.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:H = $script:Lab.harbor
    $script:K = $script:Lab.kubernetes
    $script:Admin = New-TestCredential $script:H.username $script:H.password
    $script:Open = $script:Lab.registries.open.host
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 5)
    $script:Cluster = @{ Kubeconfig = $script:K.kubeconfig; Context = $script:K.adminContext }
    $config = & kubectl --kubeconfig $script:K.kubeconfig config view --raw -o json | ConvertFrom-Json
    $adminUser = ($config.contexts | Where-Object name -EQ $script:K.adminContext).context.user
    $script:KubeToken = ($config.users | Where-Object name -EQ $adminUser).user.token

    function Set-LabRobotPrefix([string] $Prefix) {
        # Harbor's own API, as an admin changes the setting; no session cookie is kept (Harbor's CSRF check).
        $basic = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("$($script:H.username):$($script:H.password)"))
        Invoke-RestMethod -Method Put -Uri "$($script:H.url)api/v2.0/configurations" -Headers @{ Authorization = "Basic $basic"; 'X-Request-Id' = [guid]::NewGuid().ToString() } `
            -Body (@{ robot_name_prefix = $Prefix } | ConvertTo-Json) -ContentType 'application/json' | Out-Null
    }
    function Invoke-Kube([string] $Method, [string] $Path, $Body) {
        $request = @{ Method = $Method; Uri = "$($script:K.server)$Path"; SkipCertificateCheck = $true; Headers = @{ Authorization = "Bearer $script:KubeToken" } }
        if ($null -ne $Body) { $request.Body = ($Body | ConvertTo-Json -Depth 20); $request.ContentType = 'application/json' }
        Invoke-RestMethod @request
    }
    function New-LabNamespace([string] $Name) {
        $null = Invoke-Kube POST '/api/v1/namespaces' @{ metadata = @{ name = $Name } }
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($true) {
            try { $null = Invoke-Kube GET "/api/v1/namespaces/$Name/serviceaccounts/default"; break }
            catch { if ([DateTime]::UtcNow -gt $deadline) { throw "no default ServiceAccount in $Name" }; Start-Sleep -Milliseconds 50 }
        }
    }
    function New-ProjectWithImage([string] $Project) {
        New-HarborProject $Project -Harbor $script:H.url -Credential $script:Admin | Out-Null
        $out = & skopeo copy --all --src-tls-verify=false --dest-tls-verify=false --dest-creds "$($script:H.username):$($script:H.password)" `
            "docker://$($script:Open)/team-a/api:1.0" "docker://$($script:H.host)/$Project/api:1.0" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "skopeo copy failed: $out" }
    }
    function Test-Pull([string] $UserName, [securestring] $Secret, [string] $Image) {
        $plain = [pscredential]::new('x', $Secret).GetNetworkCredential().Password
        $null = & skopeo inspect --raw --tls-verify=false --creds "$($UserName):$plain" "docker://$($script:H.host)/$Image" 2>&1
        $LASTEXITCODE -eq 0
    }

    Set-LabRobotPrefix 'svc-'
    $script:Proj = "svcp-$script:Run"
    New-ProjectWithImage $script:Proj
}

AfterAll {
    Set-LabRobotPrefix 'robot$'
    Disconnect-Harbor -Confirm:$false -ErrorAction SilentlyContinue
}

Describe 'Robots on a Harbor with robot prefix svc-' {
    It 'Connect-Harbor as the system admin learns the prefix from the settings' {
        (Connect-Harbor -Harbor $script:H.url -Credential $script:Admin).RobotNamePrefix | Should -Be 'svc-'
    }

    It 'creates, finds, disables and removes a robot by its full name' {
        $robot = New-HarborRobot ci -Project $script:Proj
        $robot.UserName | Should -Be "svc-$($script:Proj)+ci"
        Test-Pull $robot.UserName $robot.Secret "$($script:Proj)/api:1.0" | Should -BeTrue
        (Get-HarborRobot -Project $script:Proj -RobotName ci).Name | Should -Be $robot.UserName
        (Set-HarborRobot $robot.UserName -Disable).Disabled | Should -BeTrue
        Test-Pull $robot.UserName $robot.Secret "$($script:Proj)/api:1.0" | Should -BeFalse
        Remove-HarborRobot $robot.UserName -Confirm:$false
        Get-HarborRobot -Project $script:Proj -RobotName ci | Should -BeNullOrEmpty
    }

    It 'Connect-Harbor as a robot learns the prefix from its own name, and the robot works by full names' {
        $robot = New-HarborRobot lister -Project $script:Proj -Permission 'repository:pull', 'robot:list', 'robot:read', 'robot:delete' -Harbor $script:H.url -Credential $script:Admin
        $other = New-HarborRobot other -Project $script:Proj -Harbor $script:H.url -Credential $script:Admin
        try {
            $info = Connect-Harbor -Harbor $script:H.url -Credential ([pscredential]::new($robot.UserName, $robot.Secret))
            $info.Kind | Should -Be 'Robot'
            $info.RobotNamePrefix | Should -Be 'svc-'
            Remove-HarborRobot $other.UserName -Confirm:$false
            Get-HarborRobot -Project $script:Proj -RobotName other | Should -BeNullOrEmpty
        }
        finally {
            Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
        }
    }

    It 'a user who may not read the settings gives -RobotNamePrefix and removes a robot by its full name' {
        $lead = "lead-$script:Run"
        Invoke-RestMethod -Method Post -Uri "$($script:H.control)users" -Body (@{ username = $lead; password = 'Passw0rd1' } | ConvertTo-Json) -ContentType 'application/json' | Out-Null
        Add-HarborProjectMember -Project $script:Proj -User $lead -Role ProjectAdmin | Out-Null
        $robot = New-HarborRobot gone -Project $script:Proj
        try {
            (Connect-Harbor -Harbor $script:H.url -Credential (New-TestCredential $lead 'Passw0rd1') -RobotNamePrefix 'svc-').RobotNamePrefix | Should -Be 'svc-'
            Remove-HarborRobot $robot.UserName -Confirm:$false
        }
        finally {
            Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
        }
        Get-HarborRobot -Project $script:Proj -RobotName gone | Should -BeNullOrEmpty
    }

    It 'Sync-PullSecret writes a svc- robot and the rotation replaces and later deletes it' {
        $ns = "svcns-$script:Run"
        New-LabNamespace $ns
        $synced = New-HarborRobot k8s-first -Project $script:Proj | Sync-PullSecret -Namespace $ns -Project $script:Proj @script:Cluster
        $synced.Action | Should -Be 'Created'
        $synced.UserName | Should -Be "svc-$($script:Proj)+k8s-first"

        $first = Invoke-PullSecretRotation -Namespace $ns -Force -GracePeriod 0 @script:Cluster
        $first.Error | Should -BeNullOrEmpty
        $first.Robot | Should -BeLike "svc-$($script:Proj)+k8s-pull-$ns-*"
        $first.Verified | Should -BeTrue
        $second = Invoke-PullSecretRotation -Namespace $ns -Force -GracePeriod 0 @script:Cluster
        $second.Error | Should -BeNullOrEmpty
        $second.RobotsDeleted | Should -Be @($first.Robot) -Because 'the rotation created it for this namespace and its grace period is over'
        Get-HarborRobot -Project $script:Proj -RobotName k8s-first | Should -Not -BeNullOrEmpty -Because 'the rotation did not create it, so it never deletes it'
    }
}
