# Get-RegistryTag and Copy-RegistryImage as users call them against the lab's hostile registry (Basic auth, plain http
# on loopback): what a registry sends (a malformed digest, a tag name that is a path, a schemaVersion out of range, a
# 5xx for one tag, a lying size or Docker-Content-Digest) is that item's own non-terminating error, and the rest of
# the run completes, the same way every run. Destinations are the lab's real Distribution registry.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Hostile = $script:Lab.hostile
    $script:HostileHost = $script:Hostile.plainHost
    $script:HostileCredential = New-TestCredential $script:Hostile.username $script:Hostile.password
    $script:Control = $script:Hostile.control.TrimEnd('/')
    $script:Open = $script:Lab.registries.open.host

    function script:New-Name([string] $Name) { "$Name-$([Guid]::NewGuid().ToString('N').Substring(0, 8))" }

    function script:Invoke-Control([string] $Method, [string] $Path, $Body) {
        Invoke-RestMethod -Method $Method -Uri "$($script:Control)/$Path" -ContentType 'application/json' -Body (ConvertTo-Json -InputObject $Body -Compress -Depth 5)
    }

    function script:Set-HostileMode([string[]] $Mode = @()) { $null = Invoke-Control Put 'modes' @($Mode) }

    function script:Add-HostileImage([string] $Repository, [string] $Tag) {
        Invoke-Control Post 'images' @{ repository = $Repository; tag = $Tag; layerSize = 512 }
    }

    function script:Add-HostileManifest([string] $Repository, [string] $Tag, [string] $Manifest) {
        Invoke-Control Post 'manifests' @{ repository = $Repository; tag = $Tag; manifest = $Manifest; mediaType = 'application/vnd.oci.image.manifest.v1+json' }
    }

    function script:Get-HostileManifest([string] $Repository, [string] $Tag) {
        $pair = "$($script:Hostile.username):$($script:Hostile.password)"
        $response = Invoke-WebRequest -Uri "http://$($script:HostileHost)/v2/$Repository/manifests/$Tag" -Headers @{
            Authorization = 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($pair))
            Accept        = 'application/vnd.oci.image.manifest.v1+json'
        }
        [Text.Encoding]::UTF8.GetString($response.RawContentStream.ToArray())
    }

    # Two good tags and every kind of bad item; returns what each should come to.
    function script:Add-HostileContent([string] $Repository) {
        $good = [ordered]@{}
        foreach ($tag in 'good-1', 'good-2') { $good[$tag] = (Add-HostileImage $Repository $tag).digest }
        $sample = Get-HostileManifest $Repository 'good-1'
        $layer = [regex]::Match($sample, '"layers":\[\{[^}]*"digest":"(sha256:[0-9a-f]{64})"').Groups[1].Value
        $badTags = @('..', "x`ny", ('t' * 300), 'a/b', '../../../v2/other/manifests/latest')
        foreach ($tag in $badTags) { $null = Add-HostileManifest $Repository $tag $sample }
        $badManifests = [ordered]@{
            'bad-path-digest' = $sample.Replace($layer, '../../etc/passwd')
            'bad-md5-digest'  = $sample.Replace($layer, 'md5:' + ('a' * 32))
            'bad-upper-digest' = $sample.Replace($layer, $layer.ToUpperInvariant().Replace('SHA256:', 'sha256:'))
            'bad-schema'      = $sample.Replace('"schemaVersion":2', '"schemaVersion":99999999999')
        }
        foreach ($entry in $badManifests.GetEnumerator()) { $null = Add-HostileManifest $Repository $entry.Key $entry.Value }
        [pscustomobject]@{ Good = $good; BadTags = $badTags; BadManifests = @($badManifests.Keys) }
    }

    function script:Get-ErrorId($Record) { ($Record.FullyQualifiedErrorId -split ',')[0] }
}

Describe 'A hostile registry as a source' {
    AfterEach {
        Set-HostileMode @()
        $null = Invoke-Control Put 'server-error-tags' @()
    }

    It 'Get-RegistryTag lists every good tag and reports each bad name, bad manifest and failing tag as its own error' {
        $repository = New-Name 'pester-hostile/list'
        $content = Add-HostileContent $repository
        $null = Add-HostileImage $repository 'flaky'
        $null = Invoke-Control Put 'server-error-tags' @('flaky')
        Set-HostileMode 'ManifestServerError'

        $run = Invoke-InRunspace -TimeoutSeconds 300 -Script 'param($Reference, $Credential) Get-RegistryTag -Reference $Reference -Credential $Credential' -Parameters @{
            Reference = "$($script:HostileHost)/$repository"; Credential = $script:HostileCredential
        }

        @($run.Output.Tag) | Should -Be @('good-1', 'good-2')
        @($run.Output.Digest) | Should -Be @($content.Good.Values)
        $ids = @($run.Errors | ForEach-Object { Get-ErrorId $_ })
        $ids.Count | Should -Be ($content.BadTags.Count + $content.BadManifests.Count + 1) -Because ($ids -join ', ')
        @($ids | Where-Object { $_ -eq 'RegistryTagNameInvalid' }).Count | Should -Be $content.BadTags.Count
        @($ids | Where-Object { $_ -eq 'RegistryManifestInvalid' }).Count | Should -Be $content.BadManifests.Count
        @($ids | Where-Object { $_ -eq 'RegistryServerError' }).Count | Should -Be 1
        foreach ($record in $run.Errors) { "$($record.TargetObject)" | Should -Not -Match "`n" }
    }

    It 'Copy-RegistryImage copies every good tag on every run, and each bad item is a failed result counted in the summary' {
        $repository = New-Name 'pester-hostile/copy'
        $content = Add-HostileContent $repository
        $bad = $content.BadTags.Count + $content.BadManifests.Count
        foreach ($attempt in 1, 2) {
            $prefix = New-Name 'hostile'
            $run = Invoke-InRunspace -TimeoutSeconds 300 -Script 'param($Source, $Credential, $Destination) Copy-RegistryImage -Source $Source -SourceCredential $Credential -Destination $Destination' -Parameters @{
                Source = "$($script:HostileHost)/$repository"; Credential = $script:HostileCredential; Destination = "$($script:Open)/$prefix"
            }

            $summary = $run.Output[-1]
            $summary | Should -BeOfType ([HarborOps.Models.CopySummary])
            $summary.Copied | Should -Be 2
            $summary.Failed | Should -Be $bad
            $run.Errors.Count | Should -Be $bad
            $failed = @($run.Output | Where-Object { $_ -is [HarborOps.Models.CopyResult] -and $_.Action -eq 'Failed' })
            @($failed | Where-Object ErrorId -EQ 'RegistryTagNameInvalid').Count | Should -Be $content.BadTags.Count
            @($failed | Where-Object ErrorId -EQ 'RegistryManifestInvalid').Count | Should -Be $content.BadManifests.Count
            foreach ($tag in $content.Good.Keys) {
                (Get-RegistryTag -Reference "$($script:Open)/$prefix/$($repository):$tag").Digest | Should -Be $content.Good[$tag]
            }
        }
    }

    It 'keeps a destination tag''s good manifest when the source lies about a blob size, and calls a lying Docker-Content-Digest a digest mismatch' {
        $repository = New-Name 'pester-hostile/lies'
        $good = (Add-HostileImage $repository '1.0').digest
        $null = Add-HostileImage $repository '2.0'
        $prefix = New-Name 'hostile'
        $copy = 'param($Source, $Credential, $Destination) Copy-RegistryImage -Source $Source -SourceCredential $Credential -Destination $Destination'
        $parameters = @{ Source = "$($script:HostileHost)/$repository"; Credential = $script:HostileCredential; Destination = "$($script:Open)/$prefix" }
        $first = Invoke-InRunspace -Script $copy -Parameters $parameters
        $first.Output[-1].Copied | Should -Be 2

        $lying = (Get-HostileManifest $repository '1.0') -replace '"size":512\}', '"size":511}'
        $null = Add-HostileManifest $repository '1.0' $lying
        $second = Invoke-InRunspace -Script $copy -Parameters $parameters
        $result = $second.Output | Where-Object { $_ -is [HarborOps.Models.CopyResult] -and $_.Tag -eq '1.0' }
        $result.Action | Should -Be 'Failed'
        $result.ErrorId | Should -Be 'RegistryDigestMismatch'
        $result.Error | Should -Match 'bytes'
        $second.Output[-1].Failed | Should -Be 1
        (Get-RegistryTag -Reference "$($script:Open)/$prefix/$($repository):1.0").Digest | Should -Be $good

        Set-HostileMode 'LyingContentDigest'
        $listing = Invoke-InRunspace -Script 'param($Reference, $Credential) Get-RegistryTag -Reference $Reference -Credential $Credential' -Parameters @{
            Reference = "$($script:HostileHost)/$repository"; Credential = $script:HostileCredential
        }
        $listing.Output | Should -BeNullOrEmpty
        @($listing.Errors | ForEach-Object { Get-ErrorId $_ }) | Should -Be @('RegistryDigestMismatch', 'RegistryDigestMismatch')
        $third = Invoke-InRunspace -Script $copy -Parameters $parameters
        @($third.Output | Where-Object { $_ -is [HarborOps.Models.CopyResult] } | ForEach-Object ErrorId | Sort-Object -Unique) | Should -Be 'RegistryDigestMismatch'
        (Get-RegistryTag -Reference "$($script:Open)/$prefix/$($repository):1.0").Digest | Should -Be $good
    }
}
