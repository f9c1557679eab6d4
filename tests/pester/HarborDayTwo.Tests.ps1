# Harbor day-2 operations (issue 19) as an operator scripts them against the lab's Harbor emulator: health for a
# monitor (exit code of a fresh pwsh), system info, garbage collection (dry run, -Wait, history, schedule), retention
# with its dry run and immutable tag rules, and the usage history file; pipelines, -WhatIf, errors and help.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:H = $script:Lab.harbor
    $script:Admin = New-TestCredential $script:H.username $script:H.password
    $script:Open = $script:Lab.registries.open.host
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)
    function Invoke-LabControl([string] $Path, $Body) {
        Invoke-RestMethod -Method Post -Uri "$($script:H.control)$Path" -Body ($Body | ConvertTo-Json -Depth 5) -ContentType 'application/json'
    }
    # A fresh pwsh as a monitor runs it; returns its exit code and standard error.
    function Invoke-Monitor([string] $Command) {
        $script = @"
Import-Module '$(Get-TestModuleManifest)' -ErrorAction Stop
`$credential = [pscredential]::new('$($script:H.username)', (ConvertTo-SecureString '$($script:H.password)' -AsPlainText -Force))
$Command
"@
        $startInfo = New-FreshPwshStartInfo -Script $script
        $startInfo.RedirectStandardError = $true
        $process = [Diagnostics.Process]::Start($startInfo)
        try {
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            if (-not $process.WaitForExit(120000)) { $process.Kill($true); throw 'the monitor did not finish in 120 s' }
            $process.WaitForExit()
            [pscustomobject]@{ ExitCode = $process.ExitCode; Out = $stdout.GetAwaiter().GetResult(); Err = $stderr.GetAwaiter().GetResult() }
        }
        finally { $process.Dispose() }
    }
    Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
}

AfterAll {
    Invoke-LabControl 'health' @{ component = 'redis' } | Out-Null
    Set-HarborGarbageCollectionSchedule -Schedule None -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
    Disconnect-Harbor -Confirm:$false -ErrorAction SilentlyContinue
}

Describe 'Get-HarborHealth' {
    It 'reports every component healthy, and a monitor exits 0' {
        $health = Get-HarborHealth
        $health.Status | Should -Be 'healthy'
        @($health.Components).Count | Should -BeGreaterOrEqual 7
        $monitor = Invoke-Monitor "Get-HarborHealth -Harbor '$($script:H.url)' -Credential `$credential -FailOnUnhealthy | Out-Null"
        $monitor.ExitCode | Should -Be 0 -Because $monitor.Err
    }

    It 'with -FailOnUnhealthy, makes a fresh pwsh exit non-zero naming the unhealthy component, after writing the health' {
        Invoke-LabControl 'health' @{ component = 'redis'; error = 'dial tcp 10.0.0.5:6379: connection refused' } | Out-Null
        try {
            $monitor = Invoke-Monitor "Get-HarborHealth -Harbor '$($script:H.url)' -Credential `$credential -FailOnUnhealthy | ForEach-Object { 'STATUS=' + `$_.Status }"
            $inProcess = Invoke-InRunspace -Script "param(`$u, `$c) Get-HarborHealth -Harbor `$u -Credential `$c -FailOnUnhealthy" -Parameters @{ u = $script:H.url; c = $script:Admin }
            $plain = Get-HarborHealth
        }
        finally { Invoke-LabControl 'health' @{ component = 'redis' } | Out-Null }
        $monitor.ExitCode | Should -Not -Be 0
        $monitor.Out | Should -Match 'STATUS=unhealthy'
        $monitor.Err | Should -Match 'redis \(dial tcp 10\.0\.0\.5:6379: connection refused\)'
        $inProcess.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborUnhealthy,*'
        $plain.Unhealthy | Should -Be @('redis')
    }
}

Describe 'Get-HarborSystemInfo' {
    It 'gives the version, auth mode and storage totals to an admin' {
        $info = Get-HarborSystemInfo
        $info.HarborVersion | Should -Not -BeNullOrEmpty
        $info.AuthMode | Should -Match '^(db|ldap|oidc|uaa|http)_auth$'
        $info.StorageTotalBytes | Should -BeGreaterThan 0
        $info.StoragePercentUsed | Should -BeGreaterThan 0
    }
}

Describe 'Garbage collection' {
    It '-WhatIf starts nothing' {
        $before = @(Get-HarborGarbageCollection).Count
        Start-HarborGarbageCollection -DryRun -WhatIf
        @(Get-HarborGarbageCollection).Count | Should -Be $before
    }

    It 'runs a dry run with -Wait, and the run pipes into Get-HarborGarbageCollection by its Id, also for its log' {
        $run = Start-HarborGarbageCollection -DryRun -Workers 2 -Wait -Confirm:$false
        $run.Status | Should -Be 'Success'
        $run.DryRun | Should -BeTrue
        $run.FreedBytes | Should -Not -BeNullOrEmpty
        ($run | Get-HarborGarbageCollection).Id | Should -Be $run.Id
        ($run | Get-HarborGarbageCollection -Log) | Should -Match 'could free up'
        (Get-HarborGarbageCollection | Select-Object -First 1).Id | Should -Be $run.Id
    }

    It 'reports a failed run as HarborGarbageCollectionFailed after writing it' {
        Invoke-LabControl 'gc/fail' @{ reason = 'storage driver timeout' } | Out-Null
        $result = Invoke-InRunspace -Script "param(`$u, `$c) Start-HarborGarbageCollection -Harbor `$u -Credential `$c -Wait -Confirm:`$false" -Parameters @{ u = $script:H.url; c = $script:Admin }
        $result.Output[0].Status | Should -Be 'Error'
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborGarbageCollectionFailed,*'
        $result.Errors[0].Exception.Message | Should -Match 'storage driver timeout'
    }

    It 'sets a schedule that reads back and pipes back into Set, and refuses Custom without a cron' {
        $set = Set-HarborGarbageCollectionSchedule -Schedule Custom -Cron '0 0 2 * * 6' -DeleteUntagged -Workers 3 -Confirm:$false
        $set.Schedule | Should -Be 'Custom'
        $set.NextRun.DayOfWeek | Should -Be 'Saturday'
        $again = Get-HarborGarbageCollectionSchedule | Set-HarborGarbageCollectionSchedule -Confirm:$false
        ($again.Cron, $again.DeleteUntagged, $again.Workers) | Should -Be @('0 0 2 * * 6', $true, 3)
        Set-HarborGarbageCollectionSchedule -Schedule None -WhatIf
        (Get-HarborGarbageCollectionSchedule).Schedule | Should -Be 'Custom'
        $bad = Invoke-InRunspace -Script "param(`$u, `$c) Set-HarborGarbageCollectionSchedule -Harbor `$u -Credential `$c -Schedule Custom -Confirm:`$false" -Parameters @{ u = $script:H.url; c = $script:Admin }
        $bad.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborRequestInvalid,*'
    }
}

Describe 'Retention and immutable tags' {
    BeforeAll {
        $script:Project = "day2-$($script:Run)"
        New-HarborProject -Name $script:Project -Confirm:$false | Out-Null
        Copy-RegistryImage -Source "$($script:Open)/team-a/api" -Destination "$($script:H.host)/$($script:Project)" -StripPrefixSegments 1 -DestinationCredential $script:Admin | Out-Null
    }

    It '-WhatIf writes no policy' {
        Get-HarborProject $script:Project | Set-HarborRetentionPolicy -KeepLatest 1 -WhatIf
        Get-HarborRetentionPolicy -Project $script:Project | Should -BeNullOrEmpty
    }

    It 'lists exactly what the dry run would delete: api:1.1/latest (one artifact), while 1.0 is kept by its tag' {
        $policy = Get-HarborProject $script:Project | Set-HarborRetentionPolicy -KeepTag '1.0' -Confirm:$false
        $policy.Rules[0].Template | Should -Be 'always'
        $deleted = @(Get-HarborProject $script:Project | Test-HarborRetentionPolicy)
        $deleted.Count | Should -Be 1
        $deleted[0].Repository | Should -Be 'api'
        ($deleted[0].Tags | Sort-Object) | Should -Be @('1.1', 'latest')
        $deleted[0].Action | Should -Be 'Delete'
        @(Test-HarborRetentionPolicy -Project $script:Project -IncludeRetained | Where-Object Action -eq 'Retain').Tags | Should -Contain '1.0'
        @(Get-HarborArtifact -Project $script:Project).Count | Should -Be 2 -Because 'a dry run deletes nothing'
    }

    It 'makes release tags immutable, which the dry run then reports as Immutable, and removes the rule through the pipeline' {
        $rule = New-HarborImmutableTagRule -Project $script:Project -Repository '**' -Tag '1.*' -Confirm:$false
        $rule.Tags | Should -Be '1.*'
        (Test-HarborRetentionPolicy -Project $script:Project).Action | Should -Be 'Immutable'
        Get-HarborImmutableTagRule -Project $script:Project | Remove-HarborImmutableTagRule -Confirm:$false
        Get-HarborImmutableTagRule -Project $script:Project | Should -BeNullOrEmpty
    }

    It 'Invoke-HarborRetention -WhatIf deletes nothing, and the real run deletes what the dry run listed' {
        Invoke-HarborRetention -Project $script:Project -WhatIf
        @(Get-HarborArtifact -Project $script:Project).Count | Should -Be 2
        $deleted = @(Get-HarborProject $script:Project | Invoke-HarborRetention -Confirm:$false)
        ($deleted.Tags | Sort-Object) | Should -Be @('1.1', 'latest')
        $deleted.DryRun | Should -BeFalse
        (Get-HarborArtifact -Project $script:Project).Tags | Should -Be @('1.0')
    }

    It 'fails with HarborRetentionPolicyNotFound for a project without a policy' {
        $other = "day2-none-$($script:Run)"
        New-HarborProject -Name $other -Confirm:$false | Out-Null
        $result = Invoke-InRunspace -Script "param(`$u, `$c, `$p) Test-HarborRetentionPolicy -Harbor `$u -Credential `$c -Project `$p" -Parameters @{ u = $script:H.url; c = $script:Admin; p = $other }
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborRetentionPolicyNotFound,*'
        $result.Errors[0].Exception.Message | Should -Match 'Set-HarborRetentionPolicy'
    }
}

Describe 'Get-HarborProjectUsage -HistoryPath' {
    It 'appends a snapshot per project each run and reads the growth back' {
        $path = Join-Path $TestDrive 'usage.csv'
        $first = @(Get-HarborProjectUsage -HistoryPath $path)
        $null = Get-HarborProjectUsage -HistoryPath $path
        (Get-Content $path)[0] | Should -Be 'Timestamp,Harbor,Project,ProjectId,UsedBytes,QuotaBytes'
        @(Get-Content $path).Count | Should -Be (1 + 2 * $first.Count)
        $growth = @(Get-HarborProjectUsage -History -HistoryPath $path)
        $growth.Count | Should -Be $first.Count
        $growth | ForEach-Object { $_.Snapshots | Should -Be 2 }
    }

    It 'refuses a file that is not a usage history and leaves it untouched' {
        $path = Join-Path $TestDrive 'team-list.csv'
        Set-Content -Path $path -Value "name,owner`nteam-a,alice"
        $result = Invoke-InRunspace -Script "param(`$u, `$c, `$p) Get-HarborProjectUsage -Harbor `$u -Credential `$c -HistoryPath `$p" -Parameters @{ u = $script:H.url; c = $script:Admin; p = $path }
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborUsageHistoryInvalid,*'
        (Get-Content -Raw $path) | Should -Be "name,owner`nteam-a,alice$([Environment]::NewLine)"
    }
}

Describe 'Help of the day-2 cmdlets' {
    It '<Name> has a synopsis, an example and its online page' -ForEach @(
        'Get-HarborHealth', 'Get-HarborSystemInfo', 'Get-HarborGarbageCollection', 'Start-HarborGarbageCollection',
        'Get-HarborGarbageCollectionSchedule', 'Set-HarborGarbageCollectionSchedule', 'Get-HarborRetentionPolicy',
        'Set-HarborRetentionPolicy', 'Test-HarborRetentionPolicy', 'Invoke-HarborRetention', 'Get-HarborImmutableTagRule', 'New-HarborImmutableTagRule',
        'Remove-HarborImmutableTagRule' | ForEach-Object { @{ Name = $_ } }) {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 1
        (Get-Command $Name).HelpUri | Should -BeLike "*/docs/cmdlets/$Name.md"
    }

    It 'Get-HarborHealth help documents -FailOnUnhealthy and HarborUnhealthy' {
        (Get-Help Get-HarborHealth -Full | Out-String) | Should -Match 'FailOnUnhealthy'
        (Get-Help about_HarborOps_Errors | Out-String) | Should -Match 'HarborUnhealthy'
    }
}
