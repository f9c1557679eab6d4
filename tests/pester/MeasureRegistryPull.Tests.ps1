# Measure-RegistryPull as users call it, against the lab's real Distribution registry directly and through the fault
# proxy with an injected latency: piped tags, registries side by side, -WhatIf, the bounds, and the HTML report rendered
# in headless Chromium (a screenshot is kept in out/test-results).
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:Proxy = $script:Lab.proxy.host
    $script:ProxyControl = "http://$($script:Lab.proxy.host)/_lab"
    $script:Repository = @($script:Lab.seed.repositories)[0]
    $script:Image = @(Get-RegistryTag "$($script:Open)/$($script:Repository)" | Where-Object Tag -NotLike 'sha256-*')[0]
    $script:Results = Join-Path $(if ($env:HARBOROPS_REPO_ROOT) { $env:HARBOROPS_REPO_ROOT } else { "$PSScriptRoot/../.." }) 'out/test-results'
    $null = New-Item -ItemType Directory -Force $script:Results

    function script:Set-ProxyLatency([int] $Milliseconds) {
        # Only this file's repository is slowed, so whatever else shares the lab's proxy is not.
        $null = Invoke-RestMethod -Method Delete -Uri "$script:ProxyControl/faults"
        $rule = @{ kind = 'Slow'; pathPattern = "^/v2/$([regex]::Escape($script:Repository))/"; delay = [TimeSpan]::FromMilliseconds($Milliseconds).ToString(); times = [int]::MaxValue }
        $null = Invoke-RestMethod -Method Post -Uri "$script:ProxyControl/faults" -ContentType 'application/json' -Body ($rule | ConvertTo-Json)
    }
    function script:Get-ProxyPulls {
        @((Invoke-RestMethod -Uri "$script:ProxyControl/requests").requests | Where-Object { $_.pathAndQuery -like "/v2/$($script:Repository)/*" }).Count
    }
}

AfterAll {
    $null = Invoke-RestMethod -Method Delete -Uri "$script:ProxyControl/faults"
}

Describe 'Measure-RegistryPull' {
    It 'takes piped tags and reports percentiles no lower than the 100 ms latency injected per request' {
        Set-ProxyLatency 100
        $summary = Get-RegistryTag "$($script:Proxy)/$($script:Repository)" -Tag $script:Image.Tag | Measure-RegistryPull -Count 4 -RampUp 00:00:00.4 -Nodes 2
        $summary | Should -BeOfType ([HarborOps.Models.RegistryPullSummary])
        $summary.Registry | Should -Be $script:Proxy
        $summary.Succeeded | Should -Be 4
        $summary.P50.TotalMilliseconds | Should -BeGreaterOrEqual 100
        # One delayed request: held to the latency less the proxy timer's granularity (it can fire a millisecond early).
        $summary.ManifestP50.TotalMilliseconds | Should -BeGreaterOrEqual 95
        $summary.Bytes | Should -BeGreaterThan 0
    }

    It 'measures registries side by side under the same load, the slower one slower, and draws them in one report Chromium renders' {
        Set-ProxyLatency 150
        $report = Join-Path $TestDrive 'pulls.html'
        $summaries = @(Measure-RegistryPull "$($script:Open)/$($script:Repository):$($script:Image.Tag)" -Registry $script:Open, $script:Proxy -Count 6 -RampUp 00:00:00.6 -Nodes 3 -ReportPath $report)
        $summaries.Registry | Should -Be @($script:Open, $script:Proxy)
        $summaries | ForEach-Object { $_.Succeeded | Should -Be 6; $_.ReportPath | Should -Be $report }
        $summaries[0].P50 | Should -BeLessThan $summaries[1].P50
        $summaries[1].P50.TotalMilliseconds | Should -BeGreaterOrEqual 150

        $chromium = Get-Command chromium -ErrorAction SilentlyContinue
        $chromium | Should -Not -BeNullOrEmpty -Because 'the report is checked in headless Chromium (apt-get install chromium; tools/setup-debian.sh does)'
        $flags = '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', "--user-data-dir=$(Join-Path $TestDrive 'chromium')"
        $dom = & $chromium.Source @flags --dump-dom "file://$report" 2>$null | Out-String
        $dom | Should -Match '<svg id="latency-distribution"'
        $dom | Should -Match '<svg id="pulls-in-flight"'
        ([regex]::Matches($dom, '<polyline class="series"')).Count | Should -Be 4 -Because 'each chart has a line per registry'
        $screenshot = Join-Path $script:Results 'measure-registrypull-report.png'
        Remove-Item $screenshot -ErrorAction SilentlyContinue
        & $chromium.Source @flags "--screenshot=$screenshot" '--window-size=900,1200' "file://$report" 2>$null | Out-Null
        $screenshot | Should -Exist
        (Get-Item $screenshot).Length | Should -BeGreaterThan 20KB -Because 'a page with two drawn charts is no blank image'
    }

    It '-Detailed writes one object per pull and the summary last, and both views read at 80 columns' {
        $output = @(Measure-RegistryPull "$($script:Open)/$($script:Repository):$($script:Image.Tag)" -Count 3 -RampUp 0 -Nodes 3 -Detailed)
        $pulls = @($output | Where-Object { $_ -is [HarborOps.Models.RegistryPullResult] })
        $pulls.Count | Should -Be 3
        ($pulls.Sequence | Sort-Object) | Should -Be @(0, 1, 2)
        $output[-1] | Should -BeOfType ([HarborOps.Models.RegistryPullSummary])
        $text = $output | Out-String -Width 80
        $text | Should -Match '(?m)^Time to pulled\s+: p50 \d+ ms, p95 \d+ ms, p99 \d+ ms, max \d+ ms$'
        $text | Should -Match ([regex]::Escape("$($script:Repository):$($script:Image.Tag)"))
    }

    It '-WhatIf says what would be pulled from where and pulls nothing' {
        Set-ProxyLatency 1
        $null = Invoke-RestMethod -Method Delete -Uri "$script:ProxyControl/requests"
        # What-if lines go to the host, so the call runs in a child pwsh whose console is read.
        $script = @"
Import-Module '$((Get-TestModuleManifest) -replace "'", "''")' -ErrorAction Stop
`$objects = @(Measure-RegistryPull '$($script:Proxy)/$($script:Repository):$($script:Image.Tag)' -Count 50 -RampUp 00:00:10 -Nodes 10 -WhatIf)
"objects: `$(`$objects.Count)"
"@
        $processPath = [Environment]::ProcessPath
        $pwshArgs = @()
        if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') { $pwshArgs += Join-Path $PSHOME 'pwsh.dll' }
        $text = (& $processPath @pwshArgs -NoProfile -NonInteractive -EncodedCommand ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))) -join "`n"
        $text | Should -Match 'objects: 0'
        $text | Should -Match "Pull 50 pulls over 10 s from $([regex]::Escape($script:Proxy)) .* on 10 simulated linux/amd64 node"
        Get-ProxyPulls | Should -Be 0
    }

    It 'refuses more than 32 nodes without -Force before sending anything, naming the way out' {
        $null = Invoke-RestMethod -Method Delete -Uri "$script:ProxyControl/requests"
        { Measure-RegistryPull "$($script:Proxy)/$($script:Repository):$($script:Image.Tag)" -Nodes 40 -ErrorAction Stop } |
            Should -Throw -ExceptionType ([Exception]) -ErrorId 'PullLoadAboveLimit*' -ExpectedMessage '*-Force*'
        Get-ProxyPulls | Should -Be 0
    }

    It 'reports a piped reference that does not parse as its own error and measures the others' {
        $summary = @("not a reference!", "$($script:Open)/$($script:Repository):$($script:Image.Tag)" |
                Measure-RegistryPull -Count 1 -RampUp 0 -Nodes 1 -ErrorVariable failures -ErrorAction SilentlyContinue)
        $summary.Count | Should -Be 1
        $summary[0].Succeeded | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RegistryReferenceInvalid*'
    }
}
