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

# Names the hostile registry lists (tags in a tag list, repositories in its catalog) that break the distribution grammar:
# each is its own finding or error with a stable id, never a request, and never the end of the run.
Describe 'Hostile names from a registry' {
    BeforeAll {
        function script:Get-HostileRequestPath {
            $paths = @((Invoke-RestMethod -Uri "$($script:Control)/requests").PathAndQuery)
            $paths | Should -Not -BeNullOrEmpty -Because 'the registry logs every request'
            $paths
        }
        function script:Clear-HostileRequest { $null = Invoke-RestMethod -Method Delete -Uri "$($script:Control)/requests" }
    }

    It 'Compare-RegistryParity reports each hostile tag name on either side as its own difference and compares every good tag' {
        $repository = New-Name 'pester-hostile/parity'
        $mirror = New-Name 'mirror'
        foreach ($tag in 'good-1', 'good-2') {
            $null = Add-HostileImage $repository $tag
            $null = Add-HostileManifest "$mirror/$repository" $tag (Get-HostileManifest $repository $tag)
        }
        $sample = Get-HostileManifest $repository 'good-1'
        $badAtSource = @('..', 'a/b', "x`ny", ('t' * 300), "shared`n")
        $badAtDestination = @('../../v2/other/manifests/latest', 'c/d', "shared`n")
        foreach ($tag in $badAtSource) { $null = Add-HostileManifest $repository $tag $sample }
        foreach ($tag in $badAtDestination) { $null = Add-HostileManifest "$mirror/$repository" $tag $sample }
        Clear-HostileRequest

        $run = Invoke-InRunspace -TimeoutSeconds 300 -Script 'param($Source, $Destination, $Credential) Compare-RegistryParity -Source $Source -Destination $Destination -SourceCredential $Credential -DestinationCredential $Credential' -Parameters @{
            Source = "$($script:HostileHost)/$repository"; Destination = "$($script:HostileHost)/$mirror"; Credential = $script:HostileCredential
        }

        $run.Errors | Should -BeNullOrEmpty
        $summary = $run.Output[-1]
        $summary | Should -BeOfType ([HarborOps.Models.ParitySummary])
        $summary.TagsCompared | Should -Be 2
        $summary.Equal | Should -Be 2
        $summary.SourceUnreadable | Should -Be $badAtSource.Count
        $summary.ExtraAtDestination | Should -Be ($badAtDestination.Count - 1) -Because 'the name both sides list is the source''s finding'
        $differences = @($run.Output | Where-Object { $_ -is [HarborOps.Models.ParityDifference] })
        $differences.Count | Should -Be ($badAtSource.Count + $badAtDestination.Count - 1)
        foreach ($difference in $differences) {
            $difference.ErrorId | Should -Be 'RegistryTagNameInvalid'
            "$($difference.Source)$($difference.DestinationReference)$($difference.Detail)" | Should -Not -Match "`n"
        }
        foreach ($path in Get-HostileRequestPath) {
            $path | Should -Match "^/v2/(($([regex]::Escape($mirror))/)?$([regex]::Escape($repository))/(tags/list|manifests/good-[12]))?([?].*)?$"
        }
    }

    It 'Get-RegistryRepository, a prefix Copy-RegistryImage and Compare-RegistryParity report each hostile repository name alone and go on with the rest' {
        $prefix = New-Name 'pester-hostile-catalog'
        $good = @("$prefix/app", "$prefix/web")
        $bad = @("$prefix/../../escape", "$prefix//double", "$prefix/UPPER", "$prefix/x`ny", "$prefix/$('r' * 300)")
        foreach ($name in $good + $bad) { $null = Add-HostileImage $name '1.0' }
        Clear-HostileRequest

        $listing = Invoke-InRunspace -TimeoutSeconds 300 -Script 'param($Registry, $Prefix, $Credential) Get-RegistryRepository -Registry $Registry -Prefix $Prefix -Credential $Credential' -Parameters @{
            Registry = $script:HostileHost; Prefix = $prefix; Credential = $script:HostileCredential
        }
        @($listing.Output.Repository) | Should -Be $good
        @($listing.Errors | ForEach-Object { Get-ErrorId $_ }) | Should -Be (@('RegistryRepositoryNameInvalid') * $bad.Count)
        foreach ($record in $listing.Errors) { "$($record.TargetObject)$($record.Exception.Message)" | Should -Not -Match "`n" }

        $destination = "$($script:Open)/$(New-Name 'hostile-catalog')"
        $parameters = @{ Source = "$($script:HostileHost)/$prefix/*"; Credential = $script:HostileCredential; Destination = $destination }
        $copy = Invoke-InRunspace -TimeoutSeconds 300 -Script 'param($Source, $Credential, $Destination) Copy-RegistryImage -Source $Source -SourceCredential $Credential -Destination $Destination' -Parameters $parameters
        $summary = $copy.Output[-1]
        $summary | Should -BeOfType ([HarborOps.Models.CopySummary])
        $summary.Copied | Should -Be $good.Count
        $summary.Failed | Should -Be $bad.Count
        $failed = @($copy.Output | Where-Object { $_ -is [HarborOps.Models.CopyResult] -and $_.Action -eq 'Failed' })
        @($failed.ErrorId | Sort-Object -Unique) | Should -Be 'RegistryRepositoryNameInvalid'
        @($copy.Errors | ForEach-Object { Get-ErrorId $_ }) | Should -Be (@('RegistryRepositoryNameInvalid') * $bad.Count)
        foreach ($result in $failed) { "$($result.Source)$($result.Destination)$($result.Error)" | Should -Not -Match "`n" }

        $parity = Invoke-InRunspace -TimeoutSeconds 300 -Script 'param($Source, $Credential, $Destination) Compare-RegistryParity -Source $Source -SourceCredential $Credential -Destination $Destination' -Parameters $parameters
        $parity.Errors | Should -BeNullOrEmpty
        $paritySummary = $parity.Output[-1]
        $paritySummary.RepositoriesCompared | Should -Be $good.Count
        $paritySummary.Equal | Should -Be $good.Count
        $paritySummary.SourceUnreadable | Should -Be $bad.Count
        @($parity.Output | Where-Object { $_ -is [HarborOps.Models.ParityDifference] } | ForEach-Object ErrorId | Sort-Object -Unique) | Should -Be 'RegistryRepositoryNameInvalid'
        # The documented repair pipe: a name no copy can request is nothing to repair, not the end of the repair.
        $repair = Invoke-InRunspace -TimeoutSeconds 300 -Script 'param($Source, $Credential, $Destination) Compare-RegistryParity -Source $Source -SourceCredential $Credential -Destination $Destination | Where-Object Kind -ne ExtraAtDestination | Copy-RegistryImage -SourceCredential $Credential' -Parameters $parameters
        $repair.Errors | Should -BeNullOrEmpty

        $allowed = "^/v2/(_catalog|$([regex]::Escape($prefix))/(app|web)/(tags/list|manifests/[^/]+|blobs/sha256:[0-9a-f]{64}|referrers/sha256:[0-9a-f]{64}))?([?].*)?$"
        foreach ($path in Get-HostileRequestPath) { $path | Should -Match $allowed }
    }
}
