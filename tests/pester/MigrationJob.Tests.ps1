# New-RegistryMigrationJob and Get-RegistryMigrationJob as an operator uses them against the lab's Kubernetes emulator
# (the kubeconfig the lab wrote), and the container entrypoint the Job runs, started as the pod would start it: a
# script file, with everything in its environment.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:K = $script:Lab.kubernetes
    $script:Kube = @{ Kubeconfig = $script:K.kubeconfig; Context = $script:K.adminContext }
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)
    $script:RepoRoot = if ($env:HARBOROPS_REPO_ROOT) { $env:HARBOROPS_REPO_ROOT } else { (Resolve-Path "$PSScriptRoot/../..").Path }
    $script:Entrypoint = Join-Path $script:RepoRoot 'deploy/container/entrypoint.ps1'
    $script:Image = 'harbor.example.com/tools/harborops@sha256:' + ('a' * 64)
    $script:Job = @{
        Image = $script:Image; Source = 'contoso.azurecr.io/team/*'; Destination = 'harbor.example.com/migrated'; ShardCount = 3
        WorkloadIdentityClientId = '11111111-2222-3333-4444-555555555555'; HarborSecretName = 'harbor-robot'
    }

    function Invoke-Kubectl([string[]] $Arguments) {
        if (-not (Test-Path /usr/bin/kubectl)) { throw 'kubectl is not installed: apt-get install -y kubernetes-client' }
        $output = & /usr/bin/kubectl --kubeconfig $script:K.kubeconfig --context $script:K.adminContext @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "kubectl $Arguments failed: $output" }
        $output
    }
    function Invoke-KubeLab([string] $Method, [string] $Path, $Body) {
        Invoke-RestMethod -Method $Method -Uri "$($script:K.control)$Path" -Body ($Body | ConvertTo-Json -Depth 6) -ContentType 'application/json' -SkipCertificateCheck
    }
    function New-TestNamespace([string] $Prefix) {
        $name = "$Prefix-$($script:Run)"
        Invoke-Kubectl @('create', 'namespace', $name) | Out-Null
        $name
    }
    function Wait-JobPods([string] $Namespace, [string] $Job, [int] $Count) {
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        do {
            $pods = (Invoke-Kubectl @('get', 'pods', '-n', $Namespace, '-l', "batch.kubernetes.io/job-name=$Job", '-o', 'json') | ConvertFrom-Json).items
            if (@($pods | Where-Object { $_.status.phase -eq 'Running' }).Count -ge $Count) { return }
            Start-Sleep -Milliseconds 100
        } while ([DateTime]::UtcNow -lt $deadline)
        throw "Job $Namespace/$Job did not get $Count running pods"
    }
    function Wait-MigrationJob([string] $Namespace, [string] $Name, [scriptblock] $Condition) {
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        do {
            $status = Get-RegistryMigrationJob -Name $Name -Namespace $Namespace @script:Kube
            if (& $Condition $status) { return $status }
            Start-Sleep -Milliseconds 100
        } while ([DateTime]::UtcNow -lt $deadline)
        throw "Job $Namespace/$Name did not get there: $($status.Phase) $($status.Indexes.State -join ',')"
    }
    function Get-Summary([int] $Shard, [int] $Count, [int] $Copied, [long] $Bytes) {
        # the shard summary format (src/HarborOps.Engine/Shards/ShardSummary.cs, version 1)
        [ordered]@{
            version = 1; kind = 'copy'; shardIndex = $Shard; shardCount = $Count; repositories = 1; tags = $Copied; copied = $Copied; updated = 0
            skipped = 0; failed = 0; bytesMoved = $Bytes; differences = 0; started = '2026-12-07T08:00:00.000Z'; finished = '2026-12-07T08:05:00.000Z'
            failures = @(); failuresOmitted = 0
        } | ConvertTo-Json -Compress
    }
    function Invoke-Entrypoint([hashtable] $Environment) {
        # The pod's command: pwsh -File <entrypoint>, with the Job's variables and nothing inherited that a pod would not have.
        $processPath = [Environment]::ProcessPath
        $startInfo = [Diagnostics.ProcessStartInfo]::new($processPath)
        if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') { $startInfo.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($argument in '-NoLogo', '-NoProfile', '-NonInteractive', '-File', $script:Entrypoint) { $startInfo.ArgumentList.Add($argument) }
        foreach ($name in @($startInfo.Environment.Keys)) { if ($name -like 'HARBOROPS_*' -and $name -ne 'HARBOROPS_PLAIN_HTTP_HOSTS' -or $name -eq 'JOB_COMPLETION_INDEX') { $startInfo.Environment.Remove($name) } }
        $startInfo.Environment['PSModulePath'] = (Split-Path (Split-Path (Split-Path (Get-TestModuleManifest))))
        foreach ($name in $Environment.Keys) { $startInfo.Environment[$name] = [string] $Environment[$name] }
        Invoke-CapturedProcess $startInfo -What 'the entrypoint'
    }
}

Describe 'New-RegistryMigrationJob' {
    It 'writes the ServiceAccount and the Indexed Job as YAML to -Path without touching a cluster' {
        $path = Join-Path ([IO.Path]::GetTempPath()) "migration-$($script:Run).yaml"
        $job = New-RegistryMigrationJob -Name acr-to-harbor -Namespace migration @script:Job -Path $path
        $job | Should -BeOfType ([HarborOps.Models.RegistryMigrationJob])
        $job.Kind | Should -Be 'Job'
        $job.Applied | Should -BeFalse
        $job.Shards | Should -Be @(0, 1, 2)
        $yaml = Get-Content -Raw $path
        $yaml | Should -Be $job.Yaml
        $yaml | Should -Match '(?m)^kind: ServiceAccount$'
        $yaml | Should -Match '(?m)^kind: Job$'
        $yaml | Should -Match 'completionMode: Indexed'
        $yaml | Should -Match 'azure.workload.identity/client-id: 11111111-2222-3333-4444-555555555555'
        $yaml | Should -Match 'secretKeyRef'
        Remove-Item $path
    }

    It 'keeps hostile copy parameters as data: the pod command is the script file alone' {
        $marker = Join-Path ([IO.Path]::GetTempPath()) "pwned-$($script:Run)"
        $hostile = "contoso.azurecr.io/team/`$(New-Item '$marker')`"; exit 0`n#"
        $job = New-RegistryMigrationJob -Name hostile -Namespace migration @script:Job -Source $hostile -Include "v*'; rm -rf / #"
        $job.Yaml | Should -Match ([regex]::Escape('- -File')) -Because 'the entrypoint is a file, never -Command'
        $job.Yaml | Should -Not -Match '-Command'
        Test-Path $marker | Should -BeFalse
    }

    It 'refuses what Kubernetes would refuse with MigrationJobInvalid naming the parameter' {
        { New-RegistryMigrationJob -Name 'Acr_To_Harbor' @script:Job -ErrorAction Stop } |
            Should -Throw -ErrorId 'MigrationJobInvalid,HarborOps.Commands.NewRegistryMigrationJobCommand' -ExpectedMessage '-Name:*'
        { New-RegistryMigrationJob -Name nightly @script:Job -Schedule "0 * * * *`n- evil" -ErrorAction Stop } |
            Should -Throw -ErrorId 'MigrationJobInvalid,HarborOps.Commands.NewRegistryMigrationJobCommand' -ExpectedMessage '-Schedule:*'
        { New-RegistryMigrationJob -Name nightly @script:Job -Schedule '@daily' -Platform linux/amd64 -ErrorAction Stop } |
            Should -Throw -ErrorId 'MigrationJobInvalid,HarborOps.Commands.NewRegistryMigrationJobCommand' -ExpectedMessage '-Platform:*parity compares every platform*'
    }

    It 'warns when the image is not pinned by digest' {
        $null = New-RegistryMigrationJob -Name unpinned @script:Job -Image 'harbor.example.com/tools/harborops:latest' -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings | Should -Match 'not pinned by digest'
    }

    It '-Apply -WhatIf creates nothing' {
        $ns = New-TestNamespace 'mj-whatif'
        $job = New-RegistryMigrationJob -Name acr-to-harbor -Namespace $ns @script:Job @script:Kube -Apply -WhatIf
        $job.Applied | Should -BeFalse
        (Invoke-Kubectl @('get', 'jobs', '-n', $ns, '-o', 'name')) | Should -BeNullOrEmpty
        (Invoke-Kubectl @('get', 'serviceaccounts', '-n', $ns, '-o', 'name')) | Should -Not -Match 'harborops-migration'
    }

    It '-Schedule -Apply creates a CronJob that forbids overlapping runs' {
        $ns = New-TestNamespace 'mj-cron'
        $cron = New-RegistryMigrationJob -Name acr-sync -Namespace $ns @script:Job @script:Kube -Schedule '0 */6 * * *' -Apply
        $cron.Kind | Should -Be 'CronJob'
        $object = Invoke-Kubectl @('get', 'cronjob', 'acr-sync', '-n', $ns, '-o', 'json') | ConvertFrom-Json
        $object.spec.concurrencyPolicy | Should -Be 'Forbid'
        $object.spec.jobTemplate.spec.completionMode | Should -Be 'Indexed'
    }

    It 'reads a CronJob piped to Get-RegistryMigrationJob as its latest run, and says when it has not run yet' {
        $ns = New-TestNamespace 'mj-cron-read'
        $cron = New-RegistryMigrationJob -Name acr-sync -Namespace $ns @script:Job @script:Kube -Schedule '0 */6 * * *' -Apply
        { $cron | Get-RegistryMigrationJob @script:Kube -ErrorAction Stop } |
            Should -Throw -ErrorId 'MigrationJobNoRunYet,HarborOps.Commands.GetRegistryMigrationJobCommand' -ExpectedMessage "*kubectl create job --from=cronjob/acr-sync*"

        $first = (Invoke-KubeLab Post 'cronjobs/run' @{ namespace = $ns; name = 'acr-sync' }).job
        $second = (Invoke-KubeLab Post 'cronjobs/run' @{ namespace = $ns; name = 'acr-sync' }).job
        $status = $cron | Get-RegistryMigrationJob @script:Kube
        $status.Name | Should -Be $second
        $status.Name | Should -Not -Be $first
        $status.CronJob | Should -Be 'acr-sync'
        $status.Total | Should -Be 3
    }
}

Describe 'A migration Job in the cluster, from creation to a re-run of its failed shard' {
    BeforeAll {
        $script:Ns = New-TestNamespace 'mj-flow'
        $script:Created = New-RegistryMigrationJob -Name acr-to-harbor -Namespace $script:Ns @script:Job @script:Kube -BackoffLimitPerIndex 0 -Apply
        Wait-JobPods $script:Ns 'acr-to-harbor' 3
    }

    It 'is created with -Apply and read back through the pipeline' {
        $script:Created.Applied | Should -BeTrue
        $status = $script:Created | Get-RegistryMigrationJob @script:Kube
        $status | Should -BeOfType ([HarborOps.Models.RegistryMigrationJobStatus])
        $status.Phase | Should -Be 'Running'
        $status.Total | Should -Be 3
        $status.Running | Should -Be 3
    }

    It 'adds up the shard summaries and lists the failed shard with its error' {
        $null = Invoke-KubeLab Post 'jobs/finish-index' @{ namespace = $script:Ns; job = 'acr-to-harbor'; index = 0; exitCode = 0; message = (Get-Summary 0 3 4 2048) }
        $null = Invoke-KubeLab Post 'jobs/finish-index' @{ namespace = $script:Ns; job = 'acr-to-harbor'; index = 1; exitCode = 1; message = 'harborops-shard: 2 tags failed' }
        $null = Invoke-KubeLab Post 'jobs/finish-index' @{ namespace = $script:Ns; job = 'acr-to-harbor'; index = 2; exitCode = 0; message = (Get-Summary 2 3 6 1024) }
        $status = Wait-MigrationJob $script:Ns 'acr-to-harbor' { param($s) $s.Phase -eq 'Failed' }
        $status.TagsCopied | Should -Be 10
        $status.BytesMoved | Should -Be 3072
        $status.FailedShards | Should -Be @(1)
        $status.UnreadableSummaries | Should -Be @(1)
        $failed = $status.Indexes | Where-Object State -eq 'Failed'
        $failed.Error | Should -Match '2 tags failed'
        $failed.ExitCode | Should -Be 1
    }

    It 'prints the status and the per-shard table within 80 columns' {
        $status = Get-RegistryMigrationJob acr-to-harbor -Namespace $script:Ns @script:Kube
        foreach ($text in ($status | Out-String -Width 80), ($status.Indexes | Out-String -Width 80)) {
            foreach ($line in $text -split "`r?`n") { $line.Length | Should -BeLessOrEqual 80 }
        }
        ($status | Out-String -Width 80) | Should -Match 'acr-to-harbor\s+Failed\s+3/3 100%'
    }

    It 're-runs only the failed shard through the pipeline, and -WhatIf creates nothing' {
        $planned = Get-RegistryMigrationJob acr-to-harbor -Namespace $script:Ns @script:Kube | New-RegistryMigrationJob -RerunFailed -Apply -WhatIf @script:Kube
        $planned.Applied | Should -BeFalse
        $planned.Name | Should -Be 'acr-to-harbor-rerun-1'
        (Invoke-Kubectl @('get', 'jobs', '-n', $script:Ns, '-o', 'name')) | Should -Not -Match 'rerun'

        $rerun = Get-RegistryMigrationJob acr-to-harbor -Namespace $script:Ns @script:Kube | New-RegistryMigrationJob -RerunFailed -Apply @script:Kube
        $rerun.Applied | Should -BeTrue
        $rerun.Shards | Should -Be @(1)
        Wait-JobPods $script:Ns $rerun.Name 1
        $null = Invoke-KubeLab Post 'jobs/finish-index' @{ namespace = $script:Ns; job = $rerun.Name; index = 0; exitCode = 0; message = (Get-Summary 1 3 2 10) }
        $done = Wait-MigrationJob $script:Ns $rerun.Name { param($s) $s.Phase -eq 'Complete' }
        $done.Indexes[0].Shard | Should -Be 1
        $done.TagsCopied | Should -Be 2
    }

    It 'reports a Job that does not exist as KubeResourceNotFound' {
        { Get-RegistryMigrationJob no-such-job -Namespace $script:Ns @script:Kube -ErrorAction Stop } | Should -Throw -ErrorId 'KubeResourceNotFound*'
    }
}

Describe 'The container entrypoint' {
    It 'exits <Code> (<Why>) before any copy' -ForEach @(
        @{ Code = 2; Why = 'no parameters'; Environment = @{ HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = '0' }; Says = 'HARBOROPS_COPY_PARAMETERS is not set' }
        @{ Code = 2; Why = 'not JSON'; Environment = @{ HARBOROPS_COPY_PARAMETERS = '{"Source": [oops'; HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = '0' }; Says = 'not JSON' }
        @{ Code = 2; Why = 'an unknown parameter'; Environment = @{ HARBOROPS_COPY_PARAMETERS = '{"Source":["a.io/x"],"Destination":"b.io","Force":true}'; HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = '0' }; Says = "names 'Force'" }
        @{ Code = 2; Why = 'a mistyped parameter'; Environment = @{ HARBOROPS_COPY_PARAMETERS = '{"Source":"a.io/x","Destination":"b.io"}'; HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = '0' }; Says = "'Source' must be a strings" }
        @{ Code = 2; Why = 'an index beyond the shards'; Environment = @{ HARBOROPS_COPY_PARAMETERS = '{"Source":["a.io/x"],"Destination":"b.io"}'; HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = '5' }; Says = 'shard 5 is not one of the 2' }
        @{ Code = 2; Why = 'a re-run index without its shard'; Environment = @{ HARBOROPS_COPY_PARAMETERS = '{"Source":["a.io/x"],"Destination":"b.io"}'; HARBOROPS_SHARD_COUNT = '4'; HARBOROPS_SHARDS = '1,3'; JOB_COMPLETION_INDEX = '2' }; Says = 'no entry in HARBOROPS_SHARDS' }
        @{ Code = 2; Why = 'sync mode with Platform'; Environment = @{ HARBOROPS_COPY_PARAMETERS = '{"Source":["a.io/x"],"Destination":"b.io","Platform":["linux/amd64"]}'; HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = '0'; HARBOROPS_MODE = 'sync' }; Says = 'sync mode with Platform' }
        @{ Code = 2; Why = 'an unknown mode'; Environment = @{ HARBOROPS_COPY_PARAMETERS = '{"Source":["a.io/x"],"Destination":"b.io"}'; HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = '0'; HARBOROPS_MODE = 'rm -rf' }; Says = 'must be copy or sync' }
    ) {
        $result = Invoke-Entrypoint $Environment
        $result.ExitCode | Should -Be $Code -Because $result.Error
        $result.Error | Should -Match ([regex]::Escape($Says))
    }

    It 'treats quotes, $() and newlines in a source as text: exit 2 for the invalid reference, and nothing runs' {
        $marker = Join-Path ([IO.Path]::GetTempPath()) "entrypoint-pwned-$($script:Run)"
        $parameters = @{ Source = @("127.0.0.1:1/team/`$(New-Item -Path '$marker')", "x'; New-Item '$marker'; '", "a`nNew-Item $marker"); Destination = '127.0.0.1:1/x' } | ConvertTo-Json -Compress
        $result = Invoke-Entrypoint @{ HARBOROPS_COPY_PARAMETERS = $parameters; HARBOROPS_SHARD_COUNT = '1'; JOB_COMPLETION_INDEX = '0'; HARBOROPS_SHARD_SUMMARY_PATH = (Join-Path ([IO.Path]::GetTempPath()) "s-$($script:Run).json") }
        Test-Path $marker | Should -BeFalse
        $result.ExitCode | Should -Be 2 -Because "$($result.Output)`n$($result.Error)"
        $result.Error | Should -Match 'RegistryReference|reference'
    }

    It 'copies its shard from the lab and leaves a shard summary, each of two shards its own part' {
        $source = "$($script:Lab.registries.open.host)/team-a/*"
        $basic = $script:Lab.registries.basic
        $prefix = "entrypoint-$($script:Run)"
        $summaries = foreach ($index in 0, 1) {
            $summaryPath = Join-Path ([IO.Path]::GetTempPath()) "summary-$($script:Run)-$index.json"
            $result = Invoke-Entrypoint @{
                HARBOROPS_COPY_PARAMETERS = (@{ Source = @($source); Destination = "$($basic.host)/$prefix" } | ConvertTo-Json -Compress)
                HARBOROPS_SHARD_COUNT = '2'; JOB_COMPLETION_INDEX = "$index"; HARBOROPS_SHARD_SUMMARY_PATH = $summaryPath
                HARBOROPS_DESTINATION_USERNAME = $basic.username; HARBOROPS_DESTINATION_PASSWORD = $basic.password
                HOME = (Join-Path ([IO.Path]::GetTempPath()) "home-$($script:Run)"); TMPDIR = (Join-Path ([IO.Path]::GetTempPath()) "tmp-$($script:Run)")
            }
            $result.ExitCode | Should -Be 0 -Because "$($result.Output)`n$($result.Error)"
            $result.Output + $result.Error | Should -Not -Match ([regex]::Escape($basic.password))
            Get-Content -Raw $summaryPath | ConvertFrom-Json
        }
        $summaries.shardIndex | Should -Be @(0, 1)
        ($summaries | Measure-Object -Property tags -Sum).Sum | Should -BeGreaterThan 0
        # between them the two shards copied every tag: the destination verifies tag by tag
        $parity = @(Compare-RegistryParity -Source $source -Destination "$($basic.host)/$prefix" -DestinationCredential (New-TestCredential $basic.username $basic.password))
        @($parity | Where-Object { $_ -isnot [HarborOps.Models.ParitySummary] }) | Should -BeNullOrEmpty
        ($summaries | ForEach-Object { $_.copied + $_.updated } | Measure-Object -Sum).Sum | Should -Be ($summaries | Measure-Object -Property tags -Sum).Sum
    }
}

Describe 'The container entrypoint on a schedule (sync mode: copy, then parity on its shard)' {
    BeforeAll {
        $script:Basic = $script:Lab.registries.basic
        function script:Invoke-Sync([hashtable] $Parameters) {
            Invoke-Entrypoint @{
                HARBOROPS_MODE = 'sync'; HARBOROPS_COPY_PARAMETERS = ($Parameters | ConvertTo-Json -Compress)
                HARBOROPS_SHARD_COUNT = '1'; JOB_COMPLETION_INDEX = '0'
                HARBOROPS_SHARD_SUMMARY_PATH = (Join-Path ([IO.Path]::GetTempPath()) "sync-$($script:Run)-$([guid]::NewGuid().ToString('n')).json")
                HARBOROPS_DESTINATION_USERNAME = $script:Basic.username; HARBOROPS_DESTINATION_PASSWORD = $script:Basic.password
                HOME = (Join-Path ([IO.Path]::GetTempPath()) "home-$($script:Run)"); TMPDIR = (Join-Path ([IO.Path]::GetTempPath()) "tmp-$($script:Run)")
            }
        }
    }

    It 'exits 0 when the copy leaves the destination identical' {
        $result = Invoke-Sync @{ Source = @("$($script:Lab.registries.open.host)/team-a/web"); Destination = "$($script:Basic.host)/sync-ok-$($script:Run)" }
        $result.ExitCode | Should -Be 0 -Because "$($result.Output)`n$($result.Error)"
    }

    It 'exits 3 (FailIndex) when parity still finds a difference after the copy' {
        # Another image already sits under one of the tags at the destination, and -NoClobber keeps it there
        $open = $script:Lab.registries.open.host
        $destination = "$($script:Basic.host)/sync-diff-$($script:Run)"
        $output = & skopeo copy --all --src-tls-verify=false --dest-tls-verify=false --dest-creds "$($script:Basic.username):$($script:Basic.password)" `
            "docker://$open/team-a/api:1.1" "docker://$destination/team-a/api:1.0" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        $result = Invoke-Sync @{ Source = @("$open/team-a/api"); Destination = $destination; NoClobber = $true }
        $result.ExitCode | Should -Be 3 -Because "$($result.Output)`n$($result.Error)"
        $result.Error | Should -Match 'parity found a difference'
    }
}
