# Proxy-cache projects as an operator makes them (issue 15, part 3): a "Docker Hub" mirror of a lab registry endpoint
# with its gates and quota, an image pulled through it with skopeo, and the severity gate refusing it once cached.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:H = $script:Lab.harbor
    $script:Admin = New-TestCredential $script:H.username $script:H.password
    # The lab's stand-in for Docker Hub: an open Distribution registry, whose official images live under library/.
    $script:Hub = $script:Lab.registries.open.host
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "harborops-proxy-$($script:Run)"
    New-Item -ItemType Directory $script:Work | Out-Null

    function New-HubImage([string] $Repository) {
        # An image no other test has (its config names this run), so the scan report seeded for its digest is ours alone.
        $layout = Join-Path $script:Work ([guid]::NewGuid().ToString('n'))
        New-Item -ItemType Directory "$layout/blobs/sha256" | Out-Null
        function Write-Blob([byte[]] $Bytes) {
            $hex = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
            [IO.File]::WriteAllBytes("$layout/blobs/sha256/$hex", $Bytes)
            "sha256:$hex"
        }
        $config = [Text.Encoding]::UTF8.GetBytes((@{ architecture = 'amd64'; os = 'linux'; config = @{ Labels = @{ run = $script:Run } }; rootfs = @{ type = 'layers'; diff_ids = @() } } | ConvertTo-Json -Compress -Depth 5))
        $configDigest = Write-Blob $config
        $manifest = [Text.Encoding]::UTF8.GetBytes((@{ schemaVersion = 2; mediaType = 'application/vnd.oci.image.manifest.v1+json'
            config = @{ mediaType = 'application/vnd.oci.image.config.v1+json'; digest = $configDigest; size = $config.Length }; layers = @() } | ConvertTo-Json -Compress -Depth 5))
        $digest = Write-Blob $manifest
        Set-Content "$layout/oci-layout" '{"imageLayoutVersion":"1.0.0"}'
        Set-Content "$layout/index.json" (@{ schemaVersion = 2; manifests = @(@{ mediaType = 'application/vnd.oci.image.manifest.v1+json'; digest = $digest; size = $manifest.Length
            annotations = @{ 'org.opencontainers.image.ref.name' = '1.0' } }) } | ConvertTo-Json -Compress -Depth 5)
        $out = & skopeo copy --preserve-digests --dest-tls-verify=false "oci:$($layout):1.0" "docker://$($script:Hub)/$($Repository):1.0" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "skopeo copy into the hub failed: $out" }
        $digest
    }
    function Invoke-Pull([string] $Image, [string] $Into) {
        # A fresh login each time, as a node pulling through the mirror would.
        $out = & skopeo copy --src-tls-verify=false --src-creds "$($script:H.username):$($script:H.password)" "docker://$($script:H.host)/$Image" "oci:$(Join-Path $script:Work $Into):1.0" 2>&1
        [pscustomobject]@{ Succeeded = $LASTEXITCODE -eq 0; Output = ($out -join "`n") }
    }
    function Invoke-LabControl([string] $Path, $Body) {
        Invoke-RestMethod -Method Post -Uri "$($script:H.control)$Path" -Body ($Body | ConvertTo-Json -Depth 5) -ContentType 'application/json'
    }

    Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
    $script:Endpoint = New-HarborRegistryEndpoint "hub-$($script:Run)" -Type DockerHub -Url "http://$($script:Hub)"
    $script:Mirror = "hub-mirror-$($script:Run)"
}

AfterAll {
    Remove-Item -Recurse -Force $script:Work -ErrorAction SilentlyContinue
    Disconnect-Harbor -Confirm:$false -ErrorAction SilentlyContinue
}

Describe 'Proxy-cache projects' {
    It 'makes a mirror of a piped registry endpoint with its gates and quota, and Get-HarborProject shows what it mirrors' {
        New-HarborProject $script:Mirror -ProxyCacheEndpoint $script:Endpoint -WhatIf | Should -BeNullOrEmpty
        $mirror = $script:Endpoint | New-HarborProject $script:Mirror -AutoScan -PreventVulnerable -Severity Critical -StorageQuotaGB 1
        $mirror | Should -BeOfType ([HarborOps.Models.HarborProjectInfo])
        $mirror.IsProxyCache | Should -BeTrue
        $mirror.ProxyCacheEndpoint | Should -Be $script:Endpoint.Name
        $mirror.ProxyCacheUrl | Should -Be "http://$($script:Hub)"
        $mirror.ProxyCacheType | Should -Be 'docker-hub'
        $mirror.PreventVulnerable | Should -BeTrue
        $mirror.Severity | Should -Be 'critical'
        $mirror.StorageLimit | Should -Be 1GB

        $listed = Get-HarborProject "hub-mirror-$($script:Run)*"
        $listed.ProxyCacheEndpoint | Should -Be $script:Endpoint.Name
        $table = ($listed | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() }
        $table | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        ($table -join "`n") | Should -Match ([regex]::Escape($script:Endpoint.Name))
        (New-HarborProject "plain-$($script:Run)").IsProxyCache | Should -BeFalse
    }

    It 'serves an image pulled through it, then its severity gate refuses the cached image whose scan is critical' {
        $repository = "library/hello-$($script:Run)"
        $digest = New-HubImage $repository
        Invoke-LabControl 'scan-reports' @{ digest = $digest; vulnerabilities = @(@{ id = 'CVE-2024-0001'; severity = 'Critical' }) } | Out-Null

        # Harbor's route.go runs repoproxy.ManifestMiddleware before the contenttrust and vulnerable gates, and for an image
        # not yet cached repoproxy/proxy.go answers from the upstream without calling them: the first pull succeeds, by
        # design (goharbor/harbor#13242, #16732), and is what puts the image into the mirror, where scan on push scans it.
        $first = Invoke-Pull "$($script:Mirror)/$($repository):1.0" 'first'
        $first.Succeeded | Should -BeTrue -Because $first.Output

        $deadline = (Get-Date).AddSeconds(60)
        do {
            Start-Sleep -Milliseconds 300
            $cached = Get-HarborArtifact $script:Mirror $repository -ErrorAction SilentlyContinue | Where-Object Digest -EQ $digest
        } until (($cached -and $cached.ScanStatus -eq 'Success') -or (Get-Date) -gt $deadline)
        $cached.Tags | Should -Contain '1.0'
        $cached.ScanStatus | Should -Be 'Success'

        # Cached and scanned Critical: the mirror's gate refuses it like any gated project's image.
        $second = Invoke-Pull "$($script:Mirror)/$($repository):1.0" 'second'
        $second.Succeeded | Should -BeFalse
        $second.Output | Should -Match 'current image with 1 vulnerabilities cannot be pulled'
    }

    It 'refuses pushes into the mirror' {
        $out = & skopeo copy --dest-tls-verify=false --dest-creds "$($script:H.username):$($script:H.password)" `
            "oci:$(Join-Path $script:Work 'first'):1.0" "docker://$($script:H.host)/$($script:Mirror)/pushed:1.0" 2>&1
        $LASTEXITCODE | Should -Not -Be 0
        ($out -join "`n") | Should -Match 'can not push artifact to a proxy project'
    }

    It 'fails clearly, creating nothing, for an unknown endpoint and for a type Harbor cannot proxy' {
        New-HarborProject "orphan-$($script:Run)" -ProxyCacheEndpoint "no-such-hub-$($script:Run)" -ErrorAction SilentlyContinue -ErrorVariable missing | Should -BeNullOrEmpty
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'HarborRegistryEndpointNotFound,*'
        $missing[0].Exception.Message | Should -Match 'New-HarborRegistryEndpoint'

        $quay = New-HarborRegistryEndpoint "quay-$($script:Run)" -Type Quay -Url "http://$($script:Hub)"
        # The endpoint's type is what the user chose, so the refusal is terminating bad input, as the house rules have it.
        $unsupported = $null
        try { $quay | New-HarborProject "quay-mirror-$($script:Run)" } catch { $unsupported = $_ }
        $unsupported.FullyQualifiedErrorId | Should -BeLike 'HarborProxyCacheTypeUnsupported,*'
        $unsupported.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $unsupported.Exception.Message | Should -Match "type 'quay'"
        Get-HarborProject "*-mirror-$($script:Run)" | Where-Object Name -Like 'quay-*' | Should -BeNullOrEmpty
        Get-HarborProject "orphan-$($script:Run)" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
