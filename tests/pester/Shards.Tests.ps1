# A migration split over shards as a Kubernetes Indexed Job runs it: separate pwsh processes, each told its shard by
# JOB_COMPLETION_INDEX alone, copying the lab's small corpus; and one shard killed halfway, re-run alone.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:Proxy = $script:Lab.proxy.host
    $script:ProxyControl = "http://$($script:Lab.proxy.host)/_lab"
    $script:Repositories = 'team-a/api', 'team-a/web', 'team-b/worker', 'platform/base/debian'
    $script:Sources = $script:Repositories | ForEach-Object { "$($script:Open)/$_" }

    function script:New-Prefix([string] $Name) { "$Name-$([Guid]::NewGuid().ToString('N').Substring(0, 8))" }

    # The documented partition, computed here independently: the first 8 bytes of SHA-256(UTF-8 path), big-endian, mod N.
    function script:Get-ShardOf([string] $Repository, [int] $Count) {
        $hash = [Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($Repository))
        [int]([Buffers.Binary.BinaryPrimitives]::ReadUInt64BigEndian($hash) % [uint64] $Count)
    }

    # Every tag of the corpus as skopeo lists it (referrer tags included): "repository:tag".
    function script:Get-CorpusTags {
        foreach ($repository in $script:Repositories) {
            $listed = (& skopeo list-tags --tls-verify=false "docker://$($script:Open)/$repository") -join "`n" | ConvertFrom-Json
            foreach ($tag in $listed.Tags) { "$repository`:$tag" }
        }
    }

    function script:Get-ShardScript([string] $Prefix, [string] $SummaryPath, [string] $Journal, [string] $Extra) {
        $sources = ($script:Sources | ForEach-Object { "'$_'" }) -join ', '
        @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$((Get-TestModuleManifest) -replace "'", "''")' -ErrorAction Stop
`$output = @(Copy-RegistryImage -Source $sources -Destination '$($script:Proxy)/$Prefix' -ShardCount 3 -ShardSummaryPath '$SummaryPath' -JournalPath '$Journal' -ThrottleLimit 2 $Extra)
`$summary = `$output[-1]
`$copied = @(`$output | Where-Object { `$_ -is [HarborOps.Models.CopyResult] -and `$_.Action -eq 'Copied' -and `$_.Tag } | ForEach-Object { "`$(`$_.SourceRepository):`$(`$_.Tag)" })
'##RESULT##' + (@{ Shard = `$summary.Shard; ShardCount = `$summary.ShardCount; Failed = `$summary.Failed; Copied = `$copied } | ConvertTo-Json -Compress)
"@
    }

    function script:Start-Shard([int] $Index, [string] $Prefix, [string] $Extra = '') {
        $startInfo = New-FreshPwshStartInfo -Script (Get-ShardScript $Prefix (Join-Path $TestDrive "$Prefix-$Index.json") (Join-Path $TestDrive "$Prefix-$Index.journal") $Extra) -Environment @{ JOB_COMPLETION_INDEX = $Index }
        $startInfo.RedirectStandardError = $true
        $process = [Diagnostics.Process]::Start($startInfo)
        [pscustomobject]@{ Index = $Index; Process = $process; Output = $process.StandardOutput.ReadToEndAsync(); Errors = $process.StandardError.ReadToEndAsync() }
    }

    function script:Receive-Shard($Shard) {
        try {
            $Shard.Process.WaitForExit(180000) | Should -BeTrue -Because "shard $($Shard.Index) must finish"
            $text = $Shard.Output.GetAwaiter().GetResult()
            $line = $text -split "`r?`n" | Where-Object { $_.StartsWith('##RESULT##') } | Select-Object -Last 1
            $line | Should -Not -BeNullOrEmpty -Because "shard $($Shard.Index) wrote no result: $text $($Shard.Errors.GetAwaiter().GetResult())"
            $line.Substring(10) | ConvertFrom-Json
        }
        finally {
            if (-not $Shard.Process.HasExited) { $Shard.Process.Kill($true) }
            $Shard.Process.Dispose()
        }
    }

    function script:Get-CommittedUploads([string] $Prefix) {
        $log = Invoke-RestMethod -Uri "$($script:ProxyControl)/requests"
        @($log.requests | Where-Object { $_.method -eq 'PUT' -and $_.statusCode -eq 201 -and $_.pathAndQuery -match "^/v2/$Prefix/.+/blobs/uploads/" })
    }
}

AfterAll {
    $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/faults"
}

Describe 'Copy-RegistryImage split over shards' {
    It 'copies every tag exactly once between three processes told their shard by JOB_COMPLETION_INDEX, and the destination verifies tag by tag' {
        $prefix = New-Prefix 'shards'
        $shards = @(0..2 | ForEach-Object { Start-Shard $_ $prefix })
        $results = @($shards | ForEach-Object { Receive-Shard $_ })

        $corpus = @(Get-CorpusTags)
        $corpus.Count | Should -BeGreaterThan $script:Repositories.Count
        $all = [Collections.Generic.List[string]]::new()
        for ($i = 0; $i -lt 3; $i++) {
            $results[$i].Shard | Should -Be $i
            $results[$i].ShardCount | Should -Be 3
            $results[$i].Failed | Should -Be 0
            foreach ($tag in @($results[$i].Copied)) {
                Get-ShardOf ($tag -replace ':[^:]+$', '') 3 | Should -Be $i -Because "$tag was copied by shard $i"
                $all.Add($tag)
            }
            $file = Join-Path $TestDrive "$prefix-$i.json"
            [IO.File]::ReadAllBytes($file).Length | Should -BeLessOrEqual 4096
            $written = Get-Content -Raw $file | ConvertFrom-Json
            $written.kind | Should -Be 'copy'
            $written.shardIndex | Should -Be $i
            $written.copied | Should -Be @($results[$i].Copied).Count
        }
        @($all | Group-Object | Where-Object Count -GT 1) | Should -BeNullOrEmpty -Because 'no tag is copied by two shards'
        # A base layer that repositories of different shards share is uploaded once between them (the lowest shard
        # uploads it, the others wait and mount it); but for "{}", the 2-byte config of every signature, which no shard waits for.
        $emptyJson = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
        $uploaded = @(Get-CommittedUploads $prefix | ForEach-Object { [Uri]::UnescapeDataString(($_.pathAndQuery -split 'digest=', 2)[1].Split('&')[0]) })
        $uploaded.Count | Should -BeGreaterThan 0
        @($uploaded | Where-Object { $_ -ne $emptyJson } | Group-Object | Where-Object Count -GT 1 | ForEach-Object Name) | Should -BeNullOrEmpty -Because 'no layer moves twice across shards'
        ($all | Sort-Object) -join ' ' | Should -Be (($corpus | Sort-Object) -join ' ')

        $parity = @(Compare-RegistryParity -Source $script:Sources -Destination "$($script:Proxy)/$prefix" -IncludeReferrers)
        $parity[-1].Differences | Should -Be 0
        $parts = @(0..2 | ForEach-Object { @(Compare-RegistryParity -Source $script:Sources -Destination "$($script:Proxy)/$prefix" -ShardCount 3 -ShardIndex $_)[-1] })
        ($parts | Measure-Object -Property TagsCompared -Sum).Sum | Should -Be $parity[-1].TagsCompared
        ($parts.Differences -join ',') | Should -Be '0,0,0'
    }

    It 'completes the migration when a shard killed halfway is re-run alone' {
        $prefix = New-Prefix 'shard-killed'
        # Shard 1 owns team-a/web and team-b/worker; its uploads are slowed so the kill lands mid-run.
        $victim = 1
        @($script:Repositories | Where-Object { (Get-ShardOf $_ 3) -eq $victim }).Count | Should -Be 2
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/requests"
        $rule = @{ kind = 'Slow'; method = 'PUT'; pathPattern = "^/v2/$prefix/.+/blobs/uploads/"; delay = '00:00:00.400'; times = 1000 } | ConvertTo-Json
        $null = Invoke-RestMethod -Method Post -Uri "$($script:ProxyControl)/faults" -Body $rule -ContentType 'application/json'
        # The other shards are not running yet: the victim waits only a second for the layers they own.
        $killed = Start-Shard $victim $prefix '-SharedBlobWait 00:00:01'
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (@(Get-CommittedUploads $prefix).Count -lt 2 -and -not $killed.Process.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $killed.Process.HasExited | Should -BeFalse -Because 'the shard must still be running when it is killed'
            $killed.Process.Kill($true)
            $killed.Process.WaitForExit()
        }
        finally {
            if (-not $killed.Process.HasExited) { $killed.Process.Kill($true) }
            $killed.Process.Dispose()
            $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/faults"
        }
        # Shards 0 and 2 wait for the layers the killed shard 1 owns only a second before uploading them themselves.
        $others = @(0, 2 | ForEach-Object { Start-Shard $_ $prefix '-SharedBlobWait 00:00:01' })
        $others | ForEach-Object { (Receive-Shard $_).Failed | Should -Be 0 }
        @(Compare-RegistryParity -Source $script:Sources -Destination "$($script:Proxy)/$prefix")[-1].MissingAtDestination | Should -BeGreaterThan 0 -Because 'the killed shard left tags to copy'

        $again = Receive-Shard (Start-Shard $victim $prefix)

        $again.Failed | Should -Be 0
        $again.Shard | Should -Be $victim
        @(Compare-RegistryParity -Source $script:Sources -Destination "$($script:Proxy)/$prefix" -IncludeReferrers)[-1].Differences | Should -Be 0
    }

    It 'stops before copying anything when JOB_COMPLETION_INDEX is not a shard of -ShardCount, naming the variable' {
        $result = Invoke-FreshPwsh -Environment @{ JOB_COMPLETION_INDEX = '3' } -Script @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$((Get-TestModuleManifest) -replace "'", "''")' -ErrorAction Stop
try { Copy-RegistryImage -Source '$($script:Sources[0])' -Destination '$($script:Proxy)/never' -ShardCount 3 -ErrorAction Stop; `$failure = `$null }
catch { `$failure = `$_ }
'##RESULT##' + (@{ Id = `$failure.FullyQualifiedErrorId; Message = "`$failure"; Target = "`$(`$failure.TargetObject)" } | ConvertTo-Json -Compress)
"@
        $result.Id | Should -BeLike 'ShardInvalid,*'
        $result.Target | Should -Be 'JOB_COMPLETION_INDEX'
        $result.Message | Should -BeLike '*JOB_COMPLETION_INDEX is 3*-ShardCount 3*'
        @(Get-RegistryRepository -Registry $script:Open -Prefix 'never' -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'refuses a negative -SharedBlobWait before copying anything, naming the parameter' {
        $prefix = New-Prefix 'shard-wait'
        $failure = $null
        try { Copy-RegistryImage -Source $script:Sources[0] -Destination "$($script:Proxy)/$prefix" -ShardCount 2 -ShardIndex 1 -SharedBlobWait ([TimeSpan]::FromSeconds(-5)) -ErrorAction Stop }
        catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -BeLike 'ShardInvalid,*'
        "$($failure.TargetObject)" | Should -Be 'SharedBlobWait'
        "$failure" | Should -BeLike '*-SharedBlobWait*zero or more*'
        @(Get-CommittedUploads $prefix) | Should -BeNullOrEmpty
    }
}
