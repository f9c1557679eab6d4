# Compare-RegistryParity as users call it, against the lab's real registries: a copy from the open registry to the fault
# proxy (which logs every destination request), differences planted directly in the registry, found, repaired through
# the pipeline into Copy-RegistryImage, and -FailOnDifference failing a `pwsh -Command` CI step.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:Proxy = $script:Lab.proxy.host
    $script:ProxyControl = "http://$($script:Lab.proxy.host)/_lab"
    $script:Prefix = "parity-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:Sources = "$($script:Open)/team-a/*", "$($script:Open)/team-b/*", "$($script:Open)/platform/*"
    $script:Destination = "$($script:Proxy)/$($script:Prefix)"
    $script:Accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json'

    function script:Get-ManifestDigest([string] $Repository, [string] $Reference) {
        $response = Invoke-WebRequest -Method Head -Uri "http://$($script:Open)/v2/$Repository/manifests/$Reference" -Headers @{ Accept = $script:Accept }
        [string] $response.Headers['Docker-Content-Digest']
    }

    function script:Remove-Manifest([string] $Repository, [string] $Reference) {
        $null = Invoke-WebRequest -Method Delete -Uri "http://$($script:Open)/v2/$Repository/manifests/$(Get-ManifestDigest $Repository $Reference)"
    }

    function script:Set-Tag([string] $Repository, [string] $Tag, [string] $FromReference) {
        # The manifest bytes of another tag of the same repository, put under $Tag: the registry has every blob already.
        $response = Invoke-WebRequest -Uri "http://$($script:Open)/v2/$Repository/manifests/$FromReference" -Headers @{ Accept = $script:Accept }
        $null = Invoke-WebRequest -Method Put -Uri "http://$($script:Open)/v2/$Repository/manifests/$Tag" -Body $response.Content `
            -ContentType ([string] $response.Headers['Content-Type'])
    }

    function script:Invoke-CiStep([string] $Command) {
        # pwsh -NoProfile -Command, exactly as a CI step runs it; returns its exit code and output.
        $processPath = [Environment]::ProcessPath
        $arguments = @()
        if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') { $arguments += (Join-Path $PSHOME 'pwsh.dll') }
        $script = "Import-Module '$(Get-TestModuleManifest)' -ErrorAction Stop; $Command"
        $output = & $processPath @arguments -NoProfile -NonInteractive -Command $script 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
    }

    $copy = @(Copy-RegistryImage -Source $script:Sources -Destination $script:Destination)
    if ($copy[-1].Failed -ne 0) { throw "The parity fixture copy failed: $($copy[-1].Failures -join '; ')" }
}

AfterAll {
    $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/requests"
}

Describe 'Compare-RegistryParity' {
    It 'reports nothing but its summary right after a copy' {
        $output = @(Compare-RegistryParity -Source $script:Sources -Destination $script:Destination -IncludeReferrers)

        $output.Count | Should -Be 1
        $summary = $output[0]
        $summary | Should -BeOfType ([HarborOps.Models.ParitySummary])
        $summary.Differences | Should -Be 0
        $summary.TagsCompared | Should -Be 6 # api 1.0 1.1 latest, web 2.0, worker 3.1, debian bookworm
        $summary.ReferrersChecked | Should -BeGreaterThan 0
        $summary.Destination | Should -Be $script:Destination
    }

    It 'finds exactly the planted differences, asking the destination with HEADs only, and the pipeline into Copy-RegistryImage repairs them' {
        $signatureTag = 'sha256-' + (Get-ManifestDigest 'platform/base/debian' 'bookworm').Substring(7) + '.sig'
        Remove-Manifest "$($script:Prefix)/team-b/worker" '3.1'                      # a deleted tag
        Set-Tag "$($script:Prefix)/team-a/api" '1.1' '1.0'                            # a moved tag
        Set-Tag "$($script:Prefix)/team-a/api" 'extra' '1.0'                          # an extra tag
        Remove-Manifest "$($script:Prefix)/platform/base/debian" $signatureTag        # a missing signature
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/requests"

        $differences = @(Compare-RegistryParity $script:Sources $script:Destination -IncludeReferrers)

        $summary = $differences[-1]
        $found = @($differences | Where-Object { $_ -is [HarborOps.Models.ParityDifference] } | ForEach-Object { "$($_.Kind) $($_.Source)" } | Sort-Object)
        $found | Should -Be @(
            "DigestDiffers $($script:Open)/team-a/api:1.1"
            "ExtraAtDestination $($script:Open)/team-a/api:extra"
            "MissingAtDestination $($script:Open)/team-b/worker:3.1"
            "ReferrerMissing $($script:Open)/platform/base/debian:bookworm"
        )
        ($differences | Where-Object Kind -EQ ReferrerMissing).ReferrerTag | Should -Be $signatureTag
        $summary.Differences | Should -Be 4
        $summary.Equal | Should -Be 4 # api 1.0 and latest, web 2.0, debian bookworm (its signature is the difference)

        $log = (Invoke-RestMethod -Uri "$($script:ProxyControl)/requests").requests
        $log | Should -Not -BeNullOrEmpty
        $manifestGets = @($log | Where-Object { $_.method -eq 'GET' -and $_.pathAndQuery -match '/manifests/' })
        $manifestGets | Should -BeNullOrEmpty -Because 'a manifest GET counts as a pull on Harbor'
        @($log | Where-Object { $_.method -eq 'HEAD' }).Count | Should -BeGreaterThan 5

        $repaired = @($differences | Where-Object Kind -NE ExtraAtDestination | Copy-RegistryImage -Verbose 4>$null)
        $repaired[-1] | Should -BeOfType ([HarborOps.Models.CopySummary])
        $repaired[-1].Failed | Should -Be 0
        ($repaired | Where-Object Tag -EQ '3.1').Action | Should -Be 'Copied'
        ($repaired | Where-Object Tag -EQ '1.1').Action | Should -Be 'Updated'
        ($repaired | Where-Object Tag -EQ $signatureTag).Action | Should -Be 'Copied'
        ($repaired | Where-Object { $_.Tag -eq '1.0' -or $_.Tag -eq 'latest' }) | Should -BeNullOrEmpty -Because 'only what the differences name is copied'

        $after = @(Compare-RegistryParity $script:Sources $script:Destination -IncludeReferrers)
        $remaining = @($after | Where-Object { $_ -is [HarborOps.Models.ParityDifference] })
        $remaining.Count | Should -Be 1
        "$($remaining[0].Kind) $($remaining[0].Tag)" | Should -Be 'ExtraAtDestination extra' # copying never deletes
    }

    It 'skips the summary and extra tags piped into Copy-RegistryImage, and refuses a second mapping' {
        $output = @(Compare-RegistryParity "$($script:Open)/team-a/api" $script:Destination -IncludeEqual | Copy-RegistryImage -Verbose 4>&1)
        $verbose = @($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message
        $verbose | Should -Contain 'Skipping the parity summary.'
        $verbose | Should -Contain "Nothing to copy for ExtraAtDestination $($script:Destination)/team-a/api:extra."
        @($output | Where-Object { $_ -is [HarborOps.Models.CopyResult] }).Count | Should -Be 0

        Remove-Manifest "$($script:Prefix)/team-b/worker" '3.1'
        $err = { Compare-RegistryParity "$($script:Open)/team-b/worker" $script:Destination | Copy-RegistryImage -StripPrefixSegments 1 -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'CopyMappingInvalid*'
        $err.Exception.Message | Should -BeLike '*leave out -DestinationPrefix, -StripPrefixSegments and -Rename*'
        $null = Compare-RegistryParity "$($script:Open)/team-b/worker" $script:Destination | Copy-RegistryImage
    }

    It '-FailOnDifference fails a pwsh -Command CI step with the count, after writing every difference; a clean comparison exits 0' {
        $failing = Invoke-CiStep "Compare-RegistryParity '$($script:Open)/team-a/*' '$($script:Destination)' -FailOnDifference"
        $failing.ExitCode | Should -Not -Be 0
        $failing.Output | Should -BeLike "*1 difference between $($script:Open)/team-a/* and $($script:Destination).*"
        $failing.Output | Should -BeLike '*ExtraAtDestination*'

        $clean = Invoke-CiStep "Compare-RegistryParity '$($script:Open)/team-a/*' '$($script:Destination)' -Exclude extra -FailOnDifference"
        $clean.ExitCode | Should -Be 0 -Because $clean.Output
    }

    It 'reports a locked ACR manifest as SourceUnreadable, read from the emulated ACR listing with its admin credential' {
        $acr = $script:Lab.acr
        $repository = "$($script:Prefix)-acr/api"
        $seed = New-TestCredential $acr.username $acr.password
        # Seed the emulated ACR with the lab's images, then copy them on to the open registry behind the proxy.
        $null = Copy-RegistryImage "$($script:Open)/team-a/api" "$($acr.host)/$($script:Prefix)-acr" -StripPrefixSegments 1 -DestinationCredential $seed -ErrorAction Stop
        $locked = Get-RegistryTag "$($script:Open)/team-a/api:1.0"
        $env:HARBOROPS_ACR_HOSTS = $acr.host
        try {
            $script = @"
Import-Module '$(Get-TestModuleManifest)' -ErrorAction Stop
`$admin = [pscredential]::new('$($acr.username)', (ConvertTo-SecureString '$($acr.password)' -AsPlainText -Force))
`$copy = Copy-RegistryImage '$($acr.host)/$repository' '$($script:Destination)' -SourceCredential `$admin
Invoke-RestMethod -Method Post -Uri '$($acr.control)attributes' -ContentType 'application/json' -Body (@{ repository = '$repository'; reference = '$($locked.Digest)'; readEnabled = `$false } | ConvertTo-Json)
`$found = @(Compare-RegistryParity '$($acr.host)/$repository' '$($script:Destination)' -SourceCredential `$admin)
'##RESULT##' + (@{ copied = `$copy[-1].Copied; failed = `$copy[-1].Failed; differences = @(`$found | Where-Object Kind | ForEach-Object { "`$(`$_.Kind) `$(`$_.Tag) `$(`$_.ErrorId)" }); tags = `$found[-1].TagsCompared } | ConvertTo-Json -Compress)
"@
            $result = Invoke-FreshPwsh -Script $script
        }
        finally {
            Remove-Item Env:HARBOROPS_ACR_HOSTS
            $null = Invoke-RestMethod -Method Post -Uri "$($acr.control)attributes" -ContentType 'application/json' -Body (@{ repository = $repository; reference = $locked.Digest; readEnabled = $true } | ConvertTo-Json)
        }

        $result.failed | Should -Be 0
        $result.copied | Should -Be 3
        @($result.differences) | Should -Be @('SourceUnreadable 1.0 ')
        $result.tags | Should -Be 2 # 1.1 and latest, whose manifest is not locked
    }

    It 'has help with examples, the pipeline repair and every parameter' {
        $help = Get-Help Compare-RegistryParity -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 3
        ($help.Examples.Example.Code -join "`n") | Should -BeLike '*| Copy-RegistryImage*'
        $names = $help.Parameters.Parameter.Name
        foreach ($name in 'Source', 'Destination', 'DestinationPrefix', 'StripPrefixSegments', 'Rename', 'Include', 'Exclude', 'IncludeReferrers', 'IncludeEqual', 'FailOnDifference') {
            $names | Should -Contain $name
        }
        (Get-Command Compare-RegistryParity).OutputType.Name | Should -Contain 'HarborOps.Models.ParityDifference'
    }
}
