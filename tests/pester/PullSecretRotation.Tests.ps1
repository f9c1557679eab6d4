# The pull-secret rotation as an operator (or a scheduled job) runs it: Sync-PullSecret, Restart-Workload,
# Invoke-PullSecretRotation and Get-PullSecretStatus against the lab's Harbor emulator (its API, with a real Distribution
# registry behind /v2/) and the lab's Kubernetes API emulator. An independent puller (plain HTTP, no HarborOps) keeps
# pulling with whatever secret each namespace holds while the rotation runs; the rotation is killed after each of its
# steps and must converge when run again; no secret may show in any stream.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:H = $script:Lab.harbor
    $script:K = $script:Lab.kubernetes
    # kubectl reads the lab's kubeconfig offline: the admin context's bearer token, for the puller's own API calls.
    $config = & kubectl --kubeconfig $script:K.kubeconfig config view --raw -o json | ConvertFrom-Json
    $adminUser = ($config.contexts | Where-Object name -EQ $script:K.adminContext).context.user
    $script:K | Add-Member -Force context $script:K.adminContext
    $script:K | Add-Member -Force token ($config.users | Where-Object name -EQ $adminUser).user.token
    $script:Admin = New-TestCredential $script:H.username $script:H.password
    $script:Open = $script:Lab.registries.open.host
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 5)
    $script:Cluster = @{ Kubeconfig = $script:K.kubeconfig; Context = $script:K.context }
    $script:HarborArgs = @{ Harbor = $script:H.url; Credential = $script:Admin }
    $script:RepoRoot = if ($env:HARBOROPS_REPO_ROOT) { $env:HARBOROPS_REPO_ROOT } else { (Resolve-Path "$PSScriptRoot/../..").Path }

    function Invoke-Kube([string] $Method, [string] $Path, $Body, [string] $Token = $script:K.token) {
        $request = @{
            Method = $Method; Uri = "$($script:K.server)$Path"; SkipCertificateCheck = $true
            Headers = @{ Authorization = "Bearer $Token" }
        }
        if ($null -ne $Body) { $request.Body = ($Body | ConvertTo-Json -Depth 20); $request.ContentType = 'application/json' }
        Invoke-RestMethod @request
    }
    function New-LabNamespace([string] $Name, [string[]] $ExistingPullSecrets = @(), [hashtable] $Labels = @{}) {
        $null = Invoke-Kube POST '/api/v1/namespaces' @{ metadata = @{ name = $Name; labels = $Labels } }
        # The lab's namespace controller makes the default ServiceAccount, as a real cluster does.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($true) {
            try { $sa = Invoke-Kube GET "/api/v1/namespaces/$Name/serviceaccounts/default"; break }
            catch { if ([DateTime]::UtcNow -gt $deadline) { throw "no default ServiceAccount in $Name" }; Start-Sleep -Milliseconds 50 }
        }
        if ($ExistingPullSecrets) {
            $sa | Add-Member -Force imagePullSecrets @($ExistingPullSecrets | ForEach-Object { @{ name = $_ } })
            $null = Invoke-Kube PUT "/api/v1/namespaces/$Name/serviceaccounts/default" $sa
        }
    }
    function New-LabDeployment([string] $Namespace, [string] $Name, [string] $Image) {
        $null = Invoke-Kube POST "/apis/apps/v1/namespaces/$Namespace/deployments" @{
            apiVersion = 'apps/v1'; kind = 'Deployment'; metadata = @{ name = $Name }
            spec = @{
                replicas = 1; progressDeadlineSeconds = 5; selector = @{ matchLabels = @{ app = $Name } }
                template = @{ metadata = @{ labels = @{ app = $Name }; annotations = @{ 'team/owner' = 'payments' } }; spec = @{ containers = @(@{ name = 'app'; image = $Image }) } }
            }
        }
    }
    function Get-LabSecret([string] $Namespace, [string] $Name = 'harbor-pull') {
        try { Invoke-Kube GET "/api/v1/namespaces/$Namespace/secrets/$Name" } catch { $null }
    }
    function Get-SecretLogin([string] $Namespace) {
        # What the kubelet would read: the dockerconfigjson entry for Harbor's registry host.
        $secret = Get-LabSecret $Namespace
        if ($null -eq $secret) { return $null }
        $json = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($secret.data.'.dockerconfigjson')) | ConvertFrom-Json -AsHashtable
        $entry = $json.auths[$script:H.host]
        [pscustomobject]@{ UserName = $entry.username; Password = $entry.password; Auth = $entry.auth }
    }
    function New-HarborProjectWithImage([string] $Name) {
        New-HarborProject $Name @script:HarborArgs | Out-Null
        $out = & skopeo copy --src-tls-verify=false --dest-tls-verify=false --dest-creds "$($script:H.username):$($script:H.password)" `
            "docker://$($script:Open)/team-a/api:1.0" "docker://$($script:H.host)/$Name/app:1.0" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "skopeo copy into $Name failed: $out" }
    }

    # The independent puller: reads each namespace's secret from the API server and pulls with it from Harbor's /v2/ (a
    # token from Harbor's token service, then the manifest), as a kubelet does, in a loop on its own runspace.
    $script:PullerScript = {
        param($Server, $Token, [string[]] $Namespaces, [hashtable] $ProjectOf, [string] $HarborHost, $State, [int] $Rounds = 0)
        $challenge = try { Invoke-WebRequest "http://$HarborHost/v2/" -SkipHttpErrorCheck } catch { $null }
        $header = [string]$challenge.Headers['WWW-Authenticate']
        $realm = [regex]::Match($header, 'realm="([^"]+)"').Groups[1].Value
        $service = [regex]::Match($header, 'service="([^"]+)"').Groups[1].Value
        $accept = 'application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json'
        $round = 0
        while (-not $State.Stop -and ($Rounds -eq 0 -or $round++ -lt $Rounds)) {
            foreach ($ns in $Namespaces) {
                if ($State.Stop) { break }
                try {
                    $secret = Invoke-RestMethod -SkipCertificateCheck -Headers @{ Authorization = "Bearer $Token" } "$Server/api/v1/namespaces/$ns/secrets/harbor-pull"
                    $auths = ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($secret.data.'.dockerconfigjson')) | ConvertFrom-Json -AsHashtable).auths
                    $repository = "$($ProjectOf[$ns])/app"
                    $granted = Invoke-RestMethod "$($realm)?service=$service&scope=repository:$($repository):pull" -Headers @{ Authorization = "Basic $($auths[$HarborHost].auth)" }
                    $null = Invoke-WebRequest "http://$HarborHost/v2/$repository/manifests/1.0" -Headers @{ Authorization = "Bearer $($granted.token)"; Accept = $accept }
                    $State.Pulls++
                }
                catch {
                    $State.Failures.Add("$ns $([DateTime]::UtcNow.ToString('HH:mm:ss.fff')): $($_.Exception.Message)")
                }
            }
        }
    }
    function Start-Puller([string[]] $Namespaces, [hashtable] $ProjectOf) {
        $state = [hashtable]::Synchronized(@{ Stop = $false; Pulls = 0; Failures = [Collections.ArrayList]::Synchronized([Collections.ArrayList]::new()) })
        $ps = [powershell]::Create()
        $null = $ps.AddScript($script:PullerScript).AddParameters(@{
                Server = $script:K.server; Token = $script:K.token; Namespaces = $Namespaces; ProjectOf = $ProjectOf; HarborHost = $script:H.host; State = $state
            })
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke(); State = $state }
    }
    function Stop-Puller($Puller) {
        $Puller.State.Stop = $true
        $null = $Puller.Handle.AsyncWaitHandle.WaitOne(30000)
        try { $null = $Puller.PowerShell.EndInvoke($Puller.Handle) } finally { $Puller.PowerShell.Dispose() }
        $Puller.State
    }
    function Test-NamespacePulls([string] $Namespace, [string] $Project) {
        # One pull with what the namespace holds now: the puller's own code, one round.
        $state = @{ Stop = $false; Pulls = 0; Failures = [Collections.ArrayList]::new() }
        & $script:PullerScript -Server $script:K.server -Token $script:K.token -Namespaces @($Namespace) -ProjectOf @{ $Namespace = $Project } `
            -HarborHost $script:H.host -State $state -Rounds 1
        if ($state.Failures.Count -gt 0) { throw "namespace $Namespace cannot pull: $($state.Failures[0])" }
        $state.Pulls -eq 1
    }
    function Get-NamespaceRobots([string] $Project, [string] $Namespace) {
        @(Get-HarborRobot -Project $Project @script:HarborArgs | Where-Object { $_.ShortName -match "^k8s-pull-$([regex]::Escape($Namespace))-\d+$" })
    }
}

Describe 'Sync-PullSecret' {
    It 'takes a robot credential from the pipeline, keeps existing imagePullSecrets, and writes nothing on a re-run' {
        $ns = "sync-$script:Run"
        $project = "sync-$script:Run"
        New-LabNamespace $ns -ExistingPullSecrets 'legacy-pull'
        New-HarborProjectWithImage $project
        $robot = New-HarborRobot pipe -Project $project -DurationDays 30 @script:HarborArgs

        $result = $robot | Sync-PullSecret -Namespace $ns @script:Cluster
        $result.Action | Should -Be 'Created'
        $result.UserName | Should -Be $robot.UserName
        $result.ServiceAccountsUpdated | Should -Be @('default')
        @((Invoke-Kube GET "/api/v1/namespaces/$ns/serviceaccounts/default").imagePullSecrets.name) | Should -Be @('legacy-pull', 'harbor-pull')
        $secret = Get-LabSecret $ns
        $secret.type | Should -Be 'kubernetes.io/dockerconfigjson'
        $secret.metadata.labels.'app.kubernetes.io/managed-by' | Should -Be 'harborops'
        $secret.metadata.annotations.'harborops.io/robot' | Should -Be $robot.UserName
        $secret.metadata.annotations.'harborops.io/robot-id' | Should -Be "$($robot.RobotId)"
        $secret.metadata.annotations.'harborops.io/registry' | Should -Be $script:H.host
        $secret.metadata.annotations.'harborops.io/expires-at' | Should -Not -BeNullOrEmpty
        Test-NamespacePulls $ns $project | Should -BeTrue

        $again = $robot | Sync-PullSecret -Namespace $ns @script:Cluster
        $again.Action | Should -Be 'Unchanged'
        (Get-LabSecret $ns).metadata.resourceVersion | Should -Be $secret.metadata.resourceVersion
    }

    It 'leaves a same-named secret of another type alone without -Force, naming it and -Force, and replaces it with -Force' {
        $ns = "wrongtype-$script:Run"
        New-LabNamespace $ns
        $null = Invoke-Kube POST "/api/v1/namespaces/$ns/secrets" @{ metadata = @{ name = 'harbor-pull' }; type = 'Opaque'; data = @{ token = 'a2VlcA==' } }
        $credential = New-TestCredential 'robot$x+y' 'not-used-here'

        $result = Sync-PullSecret -Namespace $ns -Registry $script:H.host -Credential $credential @script:Cluster -ErrorVariable failures -ErrorAction SilentlyContinue
        $result.Action | Should -Be 'Failed'
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'PullSecretWrongType,*'
        $failures[0].Exception.Message | Should -BeLike "*'harbor-pull'*-Force*"
        $failures[0].TargetObject | Should -Be $ns
        (Get-LabSecret $ns).type | Should -Be 'Opaque'

        (Sync-PullSecret -Namespace $ns -Registry $script:H.host -Credential $credential -Force -Confirm:$false @script:Cluster).Action | Should -Be 'Replaced'
        (Get-LabSecret $ns).type | Should -Be 'kubernetes.io/dockerconfigjson'
    }

    It '-WhatIf reports each namespace and writes nothing' {
        $names = 1..2 | ForEach-Object { "whatif-$_-$script:Run" }
        $names | ForEach-Object { New-LabNamespace $_ }
        $results = Sync-PullSecret -Namespace "whatif-*-$script:Run" -Registry $script:H.host -Credential (New-TestCredential 'u' 'p') -WhatIf @script:Cluster
        @($results.Namespace) | Should -Be $names
        @($results.Action | Select-Object -Unique) | Should -Be @('Planned')
        $names | ForEach-Object { Get-LabSecret $_ | Should -BeNullOrEmpty }
    }
}

Describe 'Namespace selection' {
    It 'Sync-PullSecret -NamespaceSelector picks the namespaces whose labels match, and only those' {
        $labelled = 1..2 | ForEach-Object { "label-$_-$script:Run" }
        $labelled | ForEach-Object { New-LabNamespace $_ -Labels @{ team = "t$script:Run"; tier = 'gold' } }
        New-LabNamespace "label-3-$script:Run" -Labels @{ team = "t$script:Run"; tier = 'bronze' }
        $results = Sync-PullSecret -NamespaceSelector "team=t$script:Run,tier in (gold,silver)" -Registry $script:H.host -Credential (New-TestCredential 'u' 'p') @script:Cluster
        @($results.Namespace) | Should -Be $labelled
        @($results.Action | Select-Object -Unique) | Should -Be @('Created')
        Get-LabSecret "label-3-$script:Run" | Should -BeNullOrEmpty
    }
}

Describe 'Restart-Workload' {
    It 'restarts what pulls with the secret, keeps template annotations, and a stalled rollout fails alone' {
        $ns = "restart-$script:Run"
        New-LabNamespace $ns
        $null = Sync-PullSecret -Namespace $ns -Registry $script:H.host -Credential (New-TestCredential 'u' 'p') @script:Cluster
        New-LabDeployment $ns 'api' "$($script:H.host)/p/api:1"
        New-LabDeployment $ns 'stuck' "$($script:H.host)/p/stuck:1"
        Start-Sleep -Milliseconds 500
        $null = Invoke-RestMethod -Method Put -Uri "$($script:K.control)stall" -ContentType 'application/json' -SkipCertificateCheck `
            -Body (@{ kind = 'Deployment'; namespace = $ns; name = 'stuck'; stalled = $true } | ConvertTo-Json)

        $results = Restart-Workload -Namespace $ns -SecretName harbor-pull -Wait -Timeout '00:01:00' @script:Cluster -ErrorVariable failures -ErrorAction SilentlyContinue
        ($results | Where-Object Name -EQ 'api').State | Should -Be 'RolledOut'
        ($results | Where-Object Name -EQ 'stuck').State | Should -Be 'Stalled'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'WorkloadRolloutStalled,*'
        $failures[0].Exception.Message | Should -BeLike "*'stuck'*progress deadline*"
        $template = (Invoke-Kube GET "/apis/apps/v1/namespaces/$ns/deployments/api").spec.template.metadata.annotations
        $template.'team/owner' | Should -Be 'payments'
        $template.'kubectl.kubernetes.io/restartedAt' | Should -Not -BeNullOrEmpty
    }
}

Describe 'Invoke-PullSecretRotation over 20 namespaces' {
    BeforeAll {
        $script:Projects = 1..3 | ForEach-Object { "rot$_-$script:Run" }
        $script:Projects | ForEach-Object { New-HarborProjectWithImage $_ }
        $script:Namespaces = 1..20 | ForEach-Object { "rot-$_-$script:Run" }
        $script:ProjectOf = @{}
        for ($i = 0; $i -lt 20; $i++) {
            $ns = $script:Namespaces[$i]
            $script:ProjectOf[$ns] = $script:Projects[$i % 3]
            New-LabNamespace $ns -ExistingPullSecrets 'legacy-pull'
            New-LabDeployment $ns 'web' "$($script:H.host)/$($script:ProjectOf[$ns])/app:1.0"
        }
        # First rotation: each namespace learns its project (one robot per namespace, pull on its project only).
        foreach ($project in $script:Projects) {
            $group = @($script:Namespaces | Where-Object { $script:ProjectOf[$_] -eq $project })
            $null = Invoke-PullSecretRotation -Namespace $group -Project $project -GracePeriod '00:00:04' @script:Cluster @script:HarborArgs
        }
        $script:FirstRobots = @{}
        foreach ($ns in $script:Namespaces) { $script:FirstRobots[$ns] = (Get-SecretLogin $ns).UserName }

        # One robot piped into four namespaces, as examples/team-onboarding does; three of them are rotated, the fourth
        # keeps pulling with the shared robot, which the rotation must never delete.
        $script:Shared = 1..4 | ForEach-Object { "share-$_-$script:Run" }
        $script:SharedProject = $script:Projects[0]
        foreach ($ns in $script:Shared) {
            $script:ProjectOf[$ns] = $script:SharedProject
            New-LabNamespace $ns
        }
        $script:SharedRobot = New-HarborRobot "team-$script:Run" -Project $script:SharedProject -DurationDays 30 @script:HarborArgs
        $null = $script:SharedRobot | Sync-PullSecret -Namespace $script:Shared -Project $script:SharedProject @script:Cluster
    }

    It 'rotates every namespace while a puller never fails, keeps old robots for the grace period, then deletes them' {
        $rotatedShared = $script:Shared[0..2]
        $puller = Start-Puller ($script:Namespaces + $script:Shared) $script:ProjectOf
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while ($puller.State.Pulls -lt 20 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $rotated = @(Invoke-PullSecretRotation -Namespace (@("rot-*-$script:Run") + $rotatedShared) -Force -GracePeriod '00:00:04' -RestartWorkload -Wait @script:Cluster @script:HarborArgs)
            $rotated.Count | Should -Be 23
            foreach ($result in $rotated) {
                $result.Error | Should -BeNullOrEmpty
                $result.Rotated | Should -BeTrue
                $result.Verified | Should -BeTrue
                $previous = if ($result.Namespace -in $rotatedShared) { $script:SharedRobot.UserName } else { $script:FirstRobots[$result.Namespace] }
                $result.PreviousRobot | Should -Be $previous
                $result.RobotsKept | Should -Be @($previous)
            }
            $sharedFirst = @{}
            foreach ($ns in $rotatedShared) { $sharedFirst[$ns] = (Get-SecretLogin $ns).UserName }
            Start-Sleep -Seconds 5
            # The grace period has passed: the rotation's own robots go, the shared one stays, and the run says why.
            $cleanup = @(Invoke-PullSecretRotation -Namespace (@("rot-*-$script:Run") + $rotatedShared) -GracePeriod '00:00:04' @script:Cluster @script:HarborArgs `
                    -WarningVariable cleanupWarnings -WarningAction SilentlyContinue)
            $cleanup.Count | Should -Be 23
            # Rotated again once the grace period has passed: each deletes the robot it created, still not the shared one.
            $again = @(Invoke-PullSecretRotation -Namespace $rotatedShared -Force -GracePeriod 0 @script:Cluster @script:HarborArgs -WarningVariable againWarnings)
            $before = $puller.State.Pulls
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while ($puller.State.Pulls -lt $before + 24 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        }
        finally {
            $state = Stop-Puller $puller
        }
        $state.Failures | Should -BeNullOrEmpty
        $state.Pulls | Should -BeGreaterThan 48

        foreach ($result in $cleanup | Where-Object Namespace -NotIn $rotatedShared) {
            $result.Rotated | Should -BeFalse
            $result.RobotsDeleted | Should -Be @($script:FirstRobots[$result.Namespace])
        }
        foreach ($result in $cleanup | Where-Object Namespace -In $rotatedShared) {
            $result.Rotated | Should -BeFalse
            $result.RobotsDeleted | Should -BeNullOrEmpty
            $result.KeptRobots.Name | Should -Be @($script:SharedRobot.UserName)
            "$($result.KeptRobots.Reason)" | Should -Be 'NotCreatedByRotation'
        }
        @($cleanupWarnings).Count | Should -Be 3
        foreach ($warning in $cleanupWarnings) { "$warning" | Should -BeLike "*kept robot '$($script:SharedRobot.UserName)': the rotation did not create it*" }
        foreach ($result in $again) {
            $result.Rotated | Should -BeTrue
            $result.RobotsDeleted | Should -Be @($sharedFirst[$result.Namespace])
            $result.RobotsKept | Should -BeNullOrEmpty
        }
        @($againWarnings).Count | Should -Be 0
        @(Get-HarborRobot -Project $script:SharedProject @script:HarborArgs | Where-Object Name -EQ $script:SharedRobot.UserName).Count | Should -Be 1
        (Get-SecretLogin $script:Shared[3]).UserName | Should -Be $script:SharedRobot.UserName
        foreach ($ns in $rotatedShared) {
            @((Get-NamespaceRobots $script:SharedProject $ns).Name) | Should -Be @((Get-SecretLogin $ns).UserName)
        }
        foreach ($ns in $script:Namespaces) {
            $login = Get-SecretLogin $ns
            $login.UserName | Should -Not -Be $script:FirstRobots[$ns]
            $robots = Get-NamespaceRobots $script:ProjectOf[$ns] $ns
            @($robots.Name) | Should -Be @($login.UserName)
            @((Invoke-Kube GET "/api/v1/namespaces/$ns/serviceaccounts/default").imagePullSecrets.name) | Should -Be @('legacy-pull', 'harbor-pull')
            (Invoke-Kube GET "/apis/apps/v1/namespaces/$ns/deployments/web").spec.template.metadata.annotations.'kubectl.kubernetes.io/restartedAt' | Should -Not -BeNullOrEmpty
        }
    }

    It 'Get-PullSecretStatus tries every secret against Harbor and flags what expires within the threshold' {
        $status = @(Get-PullSecretStatus -Namespace "rot-*-$script:Run" -ExpiringWithinDays 30 @script:Cluster @script:HarborArgs)
        $status.Count | Should -Be 20
        @($status | Where-Object { $_.Authenticates -ne $true }) | Should -BeNullOrEmpty
        @($status | Where-Object { $_.AgeDays -ne 0 }) | Should -BeNullOrEmpty
        # Robots live 90 + 1 days: nothing is due within 30 days, everything within 120.
        @($status | Where-Object NeedsAttention) | Should -BeNullOrEmpty
        @(Get-PullSecretStatus -Namespace "rot-*-$script:Run" -ExpiringWithinDays 120 -NoVerify @script:Cluster | Where-Object NeedsAttention).Count | Should -Be 20
    }

    It '-WhatIf prints the plan and changes nothing' {
        $ns = $script:Namespaces[0]
        $before = (Get-LabSecret $ns).metadata.resourceVersion
        $plan = Invoke-PullSecretRotation -Namespace $ns -Force -WhatIf @script:Cluster @script:HarborArgs
        $plan.WhatIf | Should -BeTrue
        ($plan.Changes -join "`n") | Should -BeLike "*create robot 'k8s-pull-$ns-*"
        (Get-LabSecret $ns).metadata.resourceVersion | Should -Be $before
        @(Get-NamespaceRobots $script:ProjectOf[$ns] $ns).Count | Should -Be 1
    }
}

Describe 'Invoke-PullSecretRotation killed after each step' {
    BeforeAll {
        $script:CrashProject = "crash-$script:Run"
        $script:CrashNs = "crash-$script:Run"
        New-HarborProjectWithImage $script:CrashProject
        New-LabNamespace $script:CrashNs
        New-LabDeployment $script:CrashNs 'web' "$($script:H.host)/$($script:CrashProject)/app:1.0"
        $null = Invoke-PullSecretRotation -Namespace $script:CrashNs -Project $script:CrashProject -GracePeriod 0 @script:Cluster @script:HarborArgs

        function Stop-RotationAfter([string] $Marker) {
            # A child pwsh runs the rotation with -Verbose. The rotation waits until each step note has been taken
            # (WriteVerboseAsync); the child holds each step note until this test answers on stdin, so the kill (SIGKILL,
            # no cleanup) lands exactly after the step, before the next one starts.
            $script = @'
$ErrorActionPreference = 'Stop'
Import-Module $env:T_MANIFEST
$credential = [pscredential]::new($env:T_USER, (ConvertTo-SecureString $env:T_PASSWORD -AsPlainText -Force))
Invoke-PullSecretRotation -Namespace $env:T_NS -Force -GracePeriod 0 -RestartWorkload -Wait -Kubeconfig $env:T_KUBECONFIG -Context $env:T_CONTEXT -Harbor $env:T_HARBOR -Credential $credential -Verbose 4>&1 |
    ForEach-Object {
        $line = "$_"
        [Console]::Out.WriteLine($line)
        [Console]::Out.Flush()
        if ($line.StartsWith("$($env:T_NS): ")) { $null = [Console]::In.ReadLine() }
    }
'@
            $startInfo = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
            if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $startInfo.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
            foreach ($a in '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))) { $startInfo.ArgumentList.Add($a) }
            $startInfo.RedirectStandardOutput = $true
            $startInfo.RedirectStandardError = $true
            $startInfo.RedirectStandardInput = $true
            $startInfo.UseShellExecute = $false
            $environment = @{
                T_MANIFEST = (Get-TestModuleManifest); T_USER = $script:H.username; T_PASSWORD = $script:H.password; T_NS = $script:CrashNs
                T_KUBECONFIG = $script:K.kubeconfig; T_CONTEXT = $script:K.context; T_HARBOR = $script:H.url
            }
            foreach ($key in $environment.Keys) { $startInfo.Environment[$key] = $environment[$key] }
            $process = [Diagnostics.Process]::Start($startInfo)
            $stderr = $process.StandardError.ReadToEndAsync()
            $seen = [Collections.Generic.List[string]]::new()
            $killed = $false
            try {
                $deadline = [DateTime]::UtcNow.AddSeconds(90)
                while ([DateTime]::UtcNow -lt $deadline) {
                    $line = $process.StandardOutput.ReadLine()
                    if ($null -eq $line) { break }
                    $seen.Add($line)
                    if ($line.StartsWith("$($script:CrashNs): $Marker")) {
                        $process.Kill($true)
                        $killed = $true
                        break
                    }
                    if ($line.StartsWith("$($script:CrashNs): ")) { $process.StandardInput.WriteLine(); $process.StandardInput.Flush() }
                }
                if (-not $killed -and -not $process.HasExited) { $process.Kill($true) }
                $null = $process.WaitForExit(10000)
            }
            finally { $process.Dispose() }
            [pscustomobject]@{ Killed = $killed; Lines = $seen; StdErr = $stderr }
        }
    }

    It 'converges after a kill right after: <Marker>' -ForEach @(
        @{ Marker = 'created robot' }
        @{ Marker = 'the new robot pulled' }
        @{ Marker = 'updated secret' }
        @{ Marker = "added 'harbor-pull' to ServiceAccount" }
        @{ Marker = 'restarted' }
        @{ Marker = "the secret's credential pulled" }
        @{ Marker = 'deleted retired robot' }
    ) {
        $before = (Get-SecretLogin $script:CrashNs).UserName
        # Someone dropped the entry from the ServiceAccount: this run has that step to take (and the re-run to finish).
        $sa = Invoke-Kube GET "/api/v1/namespaces/$($script:CrashNs)/serviceaccounts/default"
        $sa.PSObject.Properties.Remove('imagePullSecrets')
        $null = Invoke-Kube PUT "/api/v1/namespaces/$($script:CrashNs)/serviceaccounts/default" $sa
        $run = Stop-RotationAfter $Marker
        $run.Killed | Should -BeTrue -Because "the step '$Marker' should be reported; saw:`n$($run.Lines -join "`n")"
        # Whatever the kill left, the namespace still pulls with the secret it holds.
        Test-NamespacePulls $script:CrashNs $script:CrashProject | Should -BeTrue

        $after = Invoke-PullSecretRotation -Namespace $script:CrashNs -GracePeriod 0 @script:Cluster @script:HarborArgs
        $after.Error | Should -BeNullOrEmpty
        $after.Verified | Should -BeTrue
        Test-NamespacePulls $script:CrashNs $script:CrashProject | Should -BeTrue
        $login = Get-SecretLogin $script:CrashNs
        # Converged: exactly one robot for the namespace in Harbor, the one the secret holds; nothing retired is left.
        @((Get-NamespaceRobots $script:CrashProject $script:CrashNs).Name) | Should -Be @($login.UserName)
        (Get-LabSecret $script:CrashNs).metadata.annotations.'harborops.io/retired-robots' | Should -BeNullOrEmpty
        @((Invoke-Kube GET "/api/v1/namespaces/$($script:CrashNs)/serviceaccounts/default").imagePullSecrets.name) | Should -Be @('harbor-pull')
        # Killed before the secret was written, the namespace keeps its robot; killed after, it has the new one.
        if ($Marker -in 'created robot', 'the new robot pulled') { $login.UserName | Should -Be $before }
        else { $login.UserName | Should -Not -Be $before }
    }
}

Describe 'Secrets never leave as text' {
    It 'no robot secret or password appears in output, verbose, debug, warning, progress, information or error streams' {
        $ns = "leak-$script:Run"
        $project = "leak-$script:Run"
        New-LabNamespace $ns
        New-HarborProjectWithImage $project
        $null = Invoke-Kube POST "/api/v1/namespaces/$ns/secrets" @{ metadata = @{ name = 'opaque' }; type = 'Opaque'; data = @{ k = 'dg==' } }
        $known = "Known-$([guid]::NewGuid().ToString('n'))"
        $script = {
            param($Ns, $Project, $Known, $Cluster, $HarborArgs, $HarborHost)
            $DebugPreference = 'Continue'
            $InformationPreference = 'Continue'
            $credential = [pscredential]::new('robot$leak+x', (ConvertTo-SecureString $Known -AsPlainText -Force))
            Sync-PullSecret -Namespace $Ns -Registry $HarborHost -Credential $credential -Verbose -Debug @Cluster
            Sync-PullSecret -Namespace $Ns -SecretName opaque -Registry $HarborHost -Credential $credential -Verbose -Debug @Cluster
            Invoke-PullSecretRotation -Namespace $Ns -Project $Project -GracePeriod 0 -Verbose -Debug @Cluster @HarborArgs
            Invoke-PullSecretRotation -Namespace $Ns -Force -RefreshInPlace -GracePeriod 0 -Confirm:$false -Verbose -Debug @Cluster @HarborArgs
            Get-PullSecretStatus -Namespace $Ns -Verbose -Debug @Cluster @HarborArgs
            New-HarborRobot "leak-$(Get-Random)" -Project $Project -Verbose -Debug @HarborArgs | Sync-PullSecret -Namespace $Ns -SecretName second -Verbose -Debug @Cluster
        }
        $result = Invoke-InRunspace -Script $script.ToString() -Parameters @{
            Ns = $ns; Project = $project; Known = $known; Cluster = $script:Cluster; HarborArgs = $script:HarborArgs; HarborHost = $script:H.host
        } -TimeoutSeconds 180
        $secrets = @($known, (Get-SecretLogin $ns).Password)
        $second = Get-LabSecret $ns 'second'
        $secrets += ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($second.data.'.dockerconfigjson')) | ConvertFrom-Json -AsHashtable).auths[$script:H.host].password
        $secrets | ForEach-Object { $_ | Should -Not -BeNullOrEmpty }
        $secrets += $secrets | ForEach-Object { [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($_)) }

        $texts = [Collections.Generic.List[string]]::new()
        foreach ($o in $result.Output) { $texts.Add(($o | ConvertTo-Json -Depth 6 -WarningAction SilentlyContinue)); $texts.Add("$o"); $texts.Add(($o | Format-List * | Out-String)) }
        foreach ($r in $result.Verbose + $result.Debug + $result.Warning) { $texts.Add($r.Message) }
        foreach ($p in $result.Progress) { $texts.Add("$($p.Activity) $($p.StatusDescription) $($p.CurrentOperation)") }
        foreach ($e in $result.Errors) { $texts.Add($e.Exception.ToString()); $texts.Add("$($e.ErrorDetails) $($e.TargetObject) $($e.CategoryInfo)"); $texts.Add(($e | Out-String)) }
        $result.Verbose.Count | Should -BeGreaterThan 10
        @($result.Errors | Where-Object { $_.FullyQualifiedErrorId -like 'PullSecretWrongType,*' }).Count | Should -Be 1
        $all = $texts -join "`n"
        foreach ($secret in $secrets) { $all.Contains($secret) | Should -BeFalse -Because 'a secret must never be written as text' }
    }
}

Describe 'Where the rotation runs (examples)' {
    BeforeAll {
        $script:Examples = Join-Path $script:RepoRoot 'examples/pull-secret-rotation'
        $script:ExampleProject = "example-$script:Run"
        $script:ExampleNs = "example-$script:Run"
        New-HarborProjectWithImage $script:ExampleProject
        New-LabNamespace $script:ExampleNs
        New-LabDeployment $script:ExampleNs 'web' "$($script:H.host)/$($script:ExampleProject)/app:1.0"
        $null = Invoke-PullSecretRotation -Namespace $script:ExampleNs -Project $script:ExampleProject @script:Cluster @script:HarborArgs

        function Read-ClusterRoleRules([string] $Path) {
            # rbac.yaml's ClusterRole rules (flow sequences, one rule per "- apiGroups:" item).
            $rules = @()
            $inRole = $false
            $rule = $null
            foreach ($line in Get-Content $Path) {
                if ($line -match '^kind:\s*(\S+)') { $inRole = $Matches[1] -eq 'ClusterRole' }
                if (-not $inRole) { continue }
                if ($line -match '^\s*-\s*apiGroups:\s*\[(.*)\]') { if ($rule) { $rules += $rule }; $rule = @{ apiGroups = @(ConvertFrom-Flow $Matches[1]) } }
                elseif ($rule -and $line -match '^\s*resources:\s*\[(.*)\]') { $rule.resources = @(ConvertFrom-Flow $Matches[1]) }
                elseif ($rule -and $line -match '^\s*verbs:\s*\[(.*)\]') { $rule.verbs = @(ConvertFrom-Flow $Matches[1]) }
            }
            if ($rule) { $rules += $rule }
            $rules
        }
        function ConvertFrom-Flow([string] $Text) { $Text -split ',' | ForEach-Object { $_.Trim().Trim('"') } }
        function New-TokenKubeconfig([object[]] $Rules, [string] $User) {
            $grant = Invoke-RestMethod -Method Post -Uri "$($script:K.control)tokens" -SkipCertificateCheck -ContentType 'application/json' `
                -Body (@{ user = $User; rules = $Rules } | ConvertTo-Json -Depth 6)
            $path = Join-Path $TestDrive "$User.kubeconfig"
            $config = (Get-Content -Raw $script:K.kubeconfig) -replace [regex]::Escape($script:K.token), $grant.token
            Set-Content -LiteralPath $path -Value $config
            $path
        }
        function Invoke-JobScript([string] $Kubeconfig, [string[]] $Arguments) {
            $q = { param($s) "'" + ($s -replace "'", "''") + "'" }
            $command = "& $(& $q (Join-Path $script:Examples 'Invoke-PullSecretRotationJob.ps1')) -ModulePath $(& $q (Get-TestModuleManifest)) -Kubeconfig $(& $q $Kubeconfig) -Context $(& $q $script:K.context) $($Arguments -join ' '); exit `$LASTEXITCODE"
            $startInfo = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
            if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $startInfo.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
            foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $command) { $startInfo.ArgumentList.Add($a) }
            $startInfo.RedirectStandardOutput = $true
            $startInfo.RedirectStandardError = $true
            $startInfo.Environment['HARBOR_URL'] = $script:H.url
            $startInfo.Environment['HARBOR_USER'] = $script:H.username
            $startInfo.Environment['HARBOR_PASSWORD'] = $script:H.password
            $process = [Diagnostics.Process]::Start($startInfo)
            try {
                $out = $process.StandardOutput.ReadToEndAsync()
                $err = $process.StandardError.ReadToEndAsync()
                if (-not $process.WaitForExit(180000)) { $process.Kill($true); throw 'the job script did not finish in 180 s' }
                $process.WaitForExit()
                [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $out.Result + $err.Result }
            }
            finally { $process.Dispose() }
        }
    }

    It 'the job script rotates with a cluster token limited to exactly the ClusterRole of rbac.yaml' {
        $rules = @(Read-ClusterRoleRules (Join-Path $script:Examples 'kubernetes/rbac.yaml'))
        $rules.Count | Should -Be 3
        $kubeconfig = New-TokenKubeconfig $rules "rotation-$script:Run"
        $ns = "rbac-$script:Run"
        New-LabNamespace $ns
        New-LabDeployment $ns 'web' "$($script:H.host)/$($script:ExampleProject)/app:1.0"

        # First run in a namespace (secret created, ServiceAccount updated), then a forced rotation with restarts and
        # the old robot deleted at once: every verb the runbook needs, and the token has no other.
        $first = Invoke-JobScript $kubeconfig @('-Namespace', $ns, '-Project', $script:ExampleProject, '-ExpiringWithinDays', '0')
        $first.ExitCode | Should -Be 0 -Because $first.Output
        $firstRobot = (Get-SecretLogin $ns).UserName
        $second = Invoke-JobScript $kubeconfig @('-Namespace', $ns, '-Force', '-GracePeriod', '00:00:00', '-RestartWorkload', '-ExpiringWithinDays', '0')
        $second.ExitCode | Should -Be 0 -Because $second.Output
        $login = Get-SecretLogin $ns
        $login.UserName | Should -Not -Be $firstRobot
        @((Get-NamespaceRobots $script:ExampleProject $ns).Name) | Should -Be @($login.UserName)
        (Invoke-Kube GET "/apis/apps/v1/namespaces/$ns/deployments/web").spec.template.metadata.annotations.'kubectl.kubernetes.io/restartedAt' | Should -Not -BeNullOrEmpty
        Test-NamespacePulls $ns $script:ExampleProject | Should -BeTrue
        ($first.Output + $second.Output).Contains($script:H.password) | Should -BeFalse
    }

    It 'bound per namespace (RoleBindings), the job script rotates but keeps the old robot, saying it cannot check the other namespaces' {
        $ns = "rolebound-$script:Run"
        New-LabNamespace $ns
        # The ClusterRole's rules granted only in the namespace, as a RoleBinding there grants them.
        $rules = @(Read-ClusterRoleRules (Join-Path $script:Examples 'kubernetes/rbac.yaml') | ForEach-Object { $_.namespaces = @($ns); $_ })
        $kubeconfig = New-TokenKubeconfig $rules "rotation-rolebound-$script:Run"
        $first = Invoke-JobScript $kubeconfig @('-Namespace', $ns, '-Project', $script:ExampleProject, '-ExpiringWithinDays', '0')
        $first.ExitCode | Should -Be 0 -Because $first.Output
        $firstRobot = (Get-SecretLogin $ns).UserName
        $second = Invoke-JobScript $kubeconfig @('-Namespace', $ns, '-Force', '-GracePeriod', '00:00:00', '-ExpiringWithinDays', '0')
        $second.ExitCode | Should -Be 0 -Because $second.Output
        $second.Output | Should -BeLike "*kept robot '$firstRobot'*may not list secrets in all namespaces*"
        (Get-SecretLogin $ns).UserName | Should -Not -Be $firstRobot
        @((Get-NamespaceRobots $script:ExampleProject $ns).Name) | Should -Contain $firstRobot
        Test-NamespacePulls $ns $script:ExampleProject | Should -BeTrue
    }

    It 'the job script fails (exit 1) naming the verb when the cluster token lacks one the ClusterRole grants' {
        $rules = @(Read-ClusterRoleRules (Join-Path $script:Examples 'kubernetes/rbac.yaml'))
        $rules[0].verbs = @($rules[0].verbs | Where-Object { $_ -ne 'update' })
        $kubeconfig = New-TokenKubeconfig $rules "rotation-noupdate-$script:Run"
        $run = Invoke-JobScript $kubeconfig @('-Namespace', $script:ExampleNs, '-Force', '-GracePeriod', '00:00:00')
        $run.ExitCode | Should -Be 1 -Because $run.Output
        $run.Output | Should -Match "Not allowed to update secrets"
        Test-NamespacePulls $script:ExampleNs $script:ExampleProject | Should -BeTrue
    }

    It 'the Azure Automation runbook rotates with the Automation assets it reads' {
        # The two cmdlets Azure Automation gives a runbook, answering from the lab (closures: the runbook's own script
        # scope is where they run).
        $admin = $script:Admin
        $variables = @{ HarborUrl = $script:H.url; Kubeconfig = (Get-Content -Raw $script:K.kubeconfig) }
        ${function:Get-AutomationPSCredential} = { param([string] $Name) if ($Name -ne 'HarborRotation') { throw "no credential asset $Name" }; $admin }.GetNewClosure()
        ${function:Get-AutomationVariable} = { param([string] $Name) if (-not $variables.ContainsKey($Name)) { throw "no variable asset $Name" }; $variables[$Name] }.GetNewClosure()
        # The Automation sandbox finds imported modules by name.
        $modules = Split-Path (Split-Path (Split-Path (Get-TestModuleManifest)))
        $env:PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath
        $output = & (Join-Path $script:Examples 'azure-automation/Rotate-HarborPullSecrets.ps1') -Namespace $script:ExampleNs -GraceDays 0 -ExpiringWithinDays 0 | Out-String
        $output | Should -Match ([regex]::Escape($script:ExampleNs))
        Test-NamespacePulls $script:ExampleNs $script:ExampleProject | Should -BeTrue
    }

    It 'the GitHub Actions workflow and the Azure DevOps pipeline run the job script with parameters it has' {
        $parameters = (Get-Command (Join-Path $script:Examples 'Invoke-PullSecretRotationJob.ps1')).Parameters.Keys
        foreach ($file in 'github-actions/rotate-pull-secrets.yml', 'azure-devops/rotate-pull-secrets.yml') {
            $text = Get-Content -Raw (Join-Path $script:Examples $file)
            $line = ($text -split "`n" | Where-Object { $_ -match 'Invoke-PullSecretRotationJob\.ps1' } | Select-Object -First 1)
            $line | Should -Not -BeNullOrEmpty -Because "$file runs the job script"
            foreach ($name in [regex]::Matches($line, '\s-(\w+)') | ForEach-Object { $_.Groups[1].Value }) {
                $parameters | Should -Contain $name -Because "$file passes -$name"
            }
            $text | Should -Match 'HARBOR_PASSWORD: \$[\{(]'
        }
        (Get-Content -Raw (Join-Path $script:Examples 'kubernetes/cronjob.yaml')) | Should -Match 'serviceAccountName: pull-secret-rotation'
    }

    It 'every example pins the module version it installs or imports, and it is this module''s version' {
        $version = (Import-PowerShellDataFile (Get-TestModuleManifest)).ModuleVersion
        $github = Get-Content -Raw (Join-Path $script:Examples 'github-actions/rotate-pull-secrets.yml')
        $github | Should -Match "HARBOROPS_VERSION: '$([regex]::Escape($version))'"
        $github | Should -Match 'Install-PSResource HarborOps -Version \$env:HARBOROPS_VERSION'
        $devops = Get-Content -Raw (Join-Path $script:Examples 'azure-devops/rotate-pull-secrets.yml')
        $devops | Should -Match "name: HARBOROPS_VERSION\s+value: '$([regex]::Escape($version))'"
        $devops | Should -Match 'Install-PSResource HarborOps -Version \$env:HARBOROPS_VERSION'
        $runbook = Get-Command (Join-Path $script:Examples 'azure-automation/Rotate-HarborPullSecrets.ps1')
        $runbook.ScriptBlock.Ast.ParamBlock.Parameters.Where({ $_.Name.VariablePath.UserPath -eq 'HarborOpsVersion' }).DefaultValue.Value | Should -Be $version
        (Get-Content -Raw (Join-Path $script:Examples 'kubernetes/cronjob.yaml')) | Should -Match "image: \S+/harborops:$([regex]::Escape($version))\b"
    }

    It 'no example assumes this repository''s folders once copied, and the CronJob installs nothing at run time' {
        foreach ($file in Get-ChildItem $script:Examples -Recurse -File) {
            $text = Get-Content -Raw $file.FullName
            $text | Should -Not -Match '\./examples/|actions/checkout' -Because "$($file.Name) is copied on its own into another repository"
        }
        $cronjob = Get-Content -Raw (Join-Path $script:Examples 'kubernetes/cronjob.yaml')
        $cronjob | Should -Not -Match 'Install-PSResource|Install-Module|Invoke-WebRequest|curl ' -Because 'the image carries the module'
        $cronjob | Should -Match 'readOnlyRootFilesystem: true'
        # The job script the pipelines run from the installed module's folder is in the module as built and packaged.
        Join-Path (Split-Path (Get-TestModuleManifest)) 'examples/pull-secret-rotation/Invoke-PullSecretRotationJob.ps1' | Should -Exist
    }

    It 'the GitHub Actions workflow''s rotation step runs as written, finding the pinned module''s job script with no checkout' {
        $ns = "gha-$script:Run"
        New-LabNamespace $ns
        New-LabDeployment $ns 'web' "$($script:H.host)/$($script:ExampleProject)/app:1.0"
        $null = Invoke-PullSecretRotation -Namespace $ns -Project $script:ExampleProject @script:Cluster @script:HarborArgs
        # The "run: |" block of the step, as the runner hands it to pwsh.
        $lines = Get-Content (Join-Path $script:Examples 'github-actions/rotate-pull-secrets.yml')
        $start = [array]::FindIndex($lines, [Predicate[string]] { param($l) $l -match '^\s+- name: Rotate and report' })
        $run = [array]::FindIndex($lines, $start, [Predicate[string]] { param($l) $l -match '^\s+run: \|' })
        $indent = ($lines[$run + 1] -replace '^(\s*).*', '$1').Length
        $block = for ($i = $run + 1; $i -lt $lines.Count -and ($lines[$i] -eq '' -or ($lines[$i] -replace '^(\s*).*', '$1').Length -ge $indent); $i++) { $lines[$i].Substring([Math]::Min($indent, $lines[$i].Length)) }
        # Narrowed to this test's namespace and context (the shared lab holds other tests' namespaces); nothing else is changed.
        $script = ($block -join "`n") -replace '(Invoke-PullSecretRotationJob\.ps1''\))', "`$1 -Namespace $ns -Context '$($script:K.context)'"
        $script = $script -replace '-ExpiringWithinDays 14', '-ExpiringWithinDays 0'
        $script | Should -Match "-Namespace $ns"
        $workspace = Join-Path $TestDrive 'gha'
        $null = New-Item -ItemType Directory -Force $workspace
        $version = (Import-PowerShellDataFile (Get-TestModuleManifest)).ModuleVersion
        $startInfo = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $startInfo.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "$script`nexit `$LASTEXITCODE") { $startInfo.ArgumentList.Add($a) }
        $startInfo.WorkingDirectory = $workspace   # an empty checkout-less workspace, as the runner's
        $startInfo.RedirectStandardOutput = $true
        $startInfo.RedirectStandardError = $true
        $environment = @{
            HARBOROPS_VERSION = $version; RUNNER_TEMP = $workspace
            HARBOR_URL = $script:H.url; HARBOR_USER = $script:H.username; HARBOR_PASSWORD = $script:H.password
            KUBECONFIG_B64 = [Convert]::ToBase64String([IO.File]::ReadAllBytes($script:K.kubeconfig))
            # Install-PSResource put the module in the user's module folder; the built module's folder stands in for it.
            PSModulePath = (Split-Path (Split-Path (Split-Path (Get-TestModuleManifest)))) + [IO.Path]::PathSeparator + $env:PSModulePath
        }
        foreach ($name in $environment.Keys) { $startInfo.Environment[$name] = [string] $environment[$name] }
        $process = [Diagnostics.Process]::Start($startInfo)
        try {
            $out = $process.StandardOutput.ReadToEndAsync(); $err = $process.StandardError.ReadToEndAsync()
            if (-not $process.WaitForExit(180000)) { $process.Kill($true); throw 'the workflow step did not finish in 180 s' }
            $process.WaitForExit()
            $output = $out.Result + $err.Result
            $process.ExitCode | Should -Be 0 -Because $output
        }
        finally { $process.Dispose() }
        $output | Should -Match ([regex]::Escape($ns))
        $output.Contains($script:H.password) | Should -BeFalse
        Test-NamespacePulls $ns $script:ExampleProject | Should -BeTrue
    }
}
