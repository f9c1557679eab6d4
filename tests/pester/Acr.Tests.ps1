# Copy-RegistryImage from Azure Container Registry (the lab's ACR emulator in front of a real Distribution) as a user
# runs it: a fresh pwsh whose environment names the Entra application (AZURE_CLIENT_ID/SECRET/TENANT_ID,
# AZURE_AUTHORITY_HOST at the lab's https Entra endpoint, whose self-signed certificate SSL_CERT_FILE trusts) and the
# emulator as an ACR (HARBOROPS_ACR_HOSTS), then Set-RegistryCredential -UseAzureIdentity and Copy-RegistryImage.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    $script:Lab = Get-LabEndpoint
    $script:Acr = $script:Lab.acr
    $script:Open = $script:Lab.registries.open.host
    $script:AcrAdmin = "$($script:Acr.username):$($script:Acr.password)"

    function script:New-Prefix([string] $Name) { "$Name-$([Guid]::NewGuid().ToString('N').Substring(0, 8))" }

    # Puts an image of the open registry into a new ACR repository (through the emulator, as a push to ACR would).
    function script:Publish-ToAcr([string] $Source, [string] $Repository, [string] $Tag) {
        $output = & skopeo copy --src-tls-verify=false --dest-tls-verify=false --dest-creds $script:AcrAdmin "docker://$($script:Open)/$Source" "docker://$($script:Acr.host)/${Repository}:$Tag" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "skopeo copy to the ACR emulator failed: $output" }
        $raw = & skopeo inspect --raw --tls-verify=false --creds $script:AcrAdmin "docker://$($script:Acr.host)/${Repository}:$Tag"
        'sha256:' + [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes(($raw -join "`n")))).ToLowerInvariant()
    }

    function script:Get-OpenDigest([string] $Image) {
        $raw = & skopeo inspect --raw --tls-verify=false "docker://$($script:Open)/$Image"
        if ($LASTEXITCODE -ne 0) { throw "skopeo inspect $Image failed" }
        'sha256:' + [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes(($raw -join "`n")))).ToLowerInvariant()
    }

    # Runs Copy-RegistryImage in a fresh pwsh signed in to the ACR emulator through DefaultAzureCredential.
    function script:Invoke-AcrCopy([string] $Arguments) {
        $manifest = Get-TestModuleManifest
        $script = @"
`$ErrorActionPreference = 'Continue'
Import-Module '$manifest' -ErrorAction Stop
Set-RegistryCredential -Registry '$($script:Acr.host)' -UseAzureIdentity -TenantId '$($script:Acr.entra.tenantId)'
`$output = @(Copy-RegistryImage $Arguments -ErrorVariable copyErrors -ErrorAction SilentlyContinue)
`$report = @{
    Results = @(`$output | Where-Object { `$_ -is [HarborOps.Models.CopyResult] } | Select-Object Tag, Action, Reason, Digest, ErrorId)
    Summary = `$output[-1] | Select-Object Copied, Skipped, Failed
    Errors = @(`$copyErrors | ForEach-Object { @{ Id = `$_.FullyQualifiedErrorId; Target = [string] `$_.TargetObject; Message = `$_.Exception.Message } })
}
'##RESULT##' + (ConvertTo-Json `$report -Depth 5 -Compress)
"@
        Invoke-FreshPwsh -Script $script -TimeoutSeconds 180 -Environment @{
            AZURE_CLIENT_ID = $script:Acr.entra.clientId
            AZURE_CLIENT_SECRET = $script:Acr.entra.clientSecret
            AZURE_TENANT_ID = $script:Acr.entra.tenantId
            AZURE_AUTHORITY_HOST = $script:Acr.entra.authorityHost
            SSL_CERT_FILE = $script:Acr.entra.caBundle
            HARBOROPS_ACR_HOSTS = $script:Acr.host
        }
    }

    function script:Get-ProxyLog { Invoke-RestMethod -Uri "$($script:Acr.proxyControl)requests" }
}

AfterAll {
    $null = Invoke-RestMethod -Method Delete -Uri "$($script:Acr.proxyControl)faults"
}

Describe 'Copy-RegistryImage from Azure Container Registry' {
    BeforeEach {
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:Acr.proxyControl)faults"
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:Acr.proxyControl)requests"
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:Acr.control)counts"
    }

    It 'signs in with -UseAzureIdentity from environment credentials, waits out 429s and keeps Authorization off the storage host' {
        $repository = New-Prefix 'pester/acr-entra'
        $digests = @{
            '1.0' = Publish-ToAcr 'team-a/api:1.0' $repository '1.0'
            '2.0' = Publish-ToAcr 'team-a/web:2.0' $repository '2.0'
        }
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:Acr.proxyControl)requests"
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:Acr.control)counts"
        # ACR throttles its token endpoint too, with a plain-text body.
        foreach ($path in '^/oauth2/token$', '^/acr/v1/.+/_manifests$') {
            $fault = @{ kind = 'Status'; statusCode = 429; pathPattern = $path; times = 1; retryAfter = '1'; body = 'Too many requests. Ref A: 1F2E Ref B: AMS Ref C: now' }
            $null = Invoke-RestMethod -Method Post -Uri "$($script:Acr.proxyControl)faults" -ContentType 'application/json' -Body (ConvertTo-Json $fault)
        }
        $prefix = New-Prefix 'from-acr'

        $report = Invoke-AcrCopy "'$($script:Acr.host)/$repository' -Destination '$($script:Open)/$prefix'"

        $report.Errors | Should -BeNullOrEmpty
        $report.Summary.Copied | Should -Be 2
        $report.Summary.Failed | Should -Be 0
        foreach ($tag in '1.0', '2.0') { Get-OpenDigest "$prefix/${repository}:$tag" | Should -Be $digests[$tag] }
        $counts = Invoke-RestMethod -Uri "$($script:Acr.control)counts"
        $counts.entraTokenRequests | Should -Be 1
        $counts.exchanges | Should -Be 1
        $log = Get-ProxyLog
        @($log.requests | Where-Object { $_.fault -eq 'Status' -and $_.statusCode -eq 429 }).Count | Should -Be 2
        @($log.requests | Where-Object { $_.pathAndQuery -like "/acr/v1/$repository/_manifests*" -and $_.statusCode -eq 200 }).Count | Should -Be 1
        $storage = @($log.storageHostRequests | Where-Object method -EQ 'GET')
        $storage.Count | Should -BeGreaterThan 0
        $storage.hadAuthorization | Sort-Object -Unique | Should -Be $false
    }

    It 'reports a locked tag with RegistryItemReadDisabled, copies the rest, and -Since skips old tags unread' {
        $repository = New-Prefix 'pester/acr-locked'
        $locked = Publish-ToAcr 'team-a/api:1.0' $repository 'locked'
        $old = Publish-ToAcr 'team-b/worker:3.1' $repository 'old'
        $fresh = Publish-ToAcr 'team-a/web:2.0' $repository 'fresh'
        $null = Invoke-RestMethod -Method Post -Uri "$($script:Acr.control)attributes" -ContentType 'application/json' -Body (ConvertTo-Json @{ repository = $repository; reference = $locked; readEnabled = $false })
        $null = Invoke-RestMethod -Method Post -Uri "$($script:Acr.control)times" -ContentType 'application/json' -Body (ConvertTo-Json @{ repository = $repository; reference = $old; createdTime = '2024-01-01T00:00:00Z'; lastUpdateTime = '2024-02-01T00:00:00Z' })
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:Acr.proxyControl)requests"
        $prefix = New-Prefix 'from-acr'

        $report = Invoke-AcrCopy "'$($script:Acr.host)/$repository' -Destination '$($script:Open)/$prefix' -Since ([datetime]'2025-01-01')"

        $report.Summary.Copied | Should -Be 1
        $report.Summary.Skipped | Should -Be 1
        $report.Summary.Failed | Should -Be 1
        $failures = @($report.Errors)
        $failures.Count | Should -Be 1
        $failures[0].Id | Should -BeLike 'RegistryItemReadDisabled*'
        $failures[0].Target | Should -BeLike "*$repository*locked*"
        ($report.Results | Where-Object Tag -EQ 'old').Reason | Should -BeLike 'last updated 2024-02-01*'
        Get-OpenDigest "$prefix/${repository}:fresh" | Should -Be $fresh
        # Neither the locked nor the old image was read: no manifest by their digests, no blob of theirs.
        $log = Get-ProxyLog
        @($log.requests | Where-Object { $_.pathAndQuery -match [regex]::Escape($locked) -or $_.pathAndQuery -match [regex]::Escape($old) }).Count | Should -Be 0
    }
}
