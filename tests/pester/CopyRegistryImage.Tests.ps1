# Copy-RegistryImage as users call it, against the lab's real registries (CNCF Distribution): from the open
# registry to the Basic-auth one, to an OCI layout, through the fault proxy, and a copy killed halfway and resumed.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:Basic = $script:Lab.registries.basic
    $script:BasicCredential = New-TestCredential $script:Basic.username $script:Basic.password
    $script:Proxy = $script:Lab.proxy.host
    $script:ProxyControl = "http://$($script:Lab.proxy.host)/_lab"

    function script:New-Prefix([string] $Name) { "$Name-$([Guid]::NewGuid().ToString('N').Substring(0, 8))" }

    function script:Get-SkopeoDigest([string] $Image, [pscredential] $Credential) {
        $arguments = @('inspect', '--raw', '--tls-verify=false')
        if ($Credential) { $arguments += @('--creds', "$($Credential.UserName):$($Credential.GetNetworkCredential().Password)") }
        $raw = & skopeo @arguments "docker://$Image"
        if ($LASTEXITCODE -ne 0) { throw "skopeo inspect $Image failed" }
        $bytes = [Text.Encoding]::UTF8.GetBytes(($raw -join "`n"))
        'sha256:' + [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)).ToLowerInvariant()
    }

    function script:Get-CommittedUploads([switch] $ByRepository) {
        # Blob uploads the fault proxy saw committed (PUT ...?digest= answered 201), by digest (or repository@digest).
        $log = Invoke-RestMethod -Uri "$($script:ProxyControl)/requests"
        @($log.requests | Where-Object { $_.method -eq 'PUT' -and $_.statusCode -eq 201 -and $_.pathAndQuery -match '/blobs/uploads/.*[?&]digest=([^&]+)' } |
            ForEach-Object {
                $match = [regex]::Match($_.pathAndQuery, '^/v2/(.+)/blobs/uploads/[^?]*[?].*digest=([^&]+)')
                $digest = [Uri]::UnescapeDataString($match.Groups[2].Value)
                if ($ByRepository) { "$($match.Groups[1].Value)@$digest" } else { $digest }
            })
    }
}

AfterAll {
    $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/faults"
}

Describe 'Copy-RegistryImage' {
    It 'copies tags piped from Get-RegistryTag byte for byte under the destination prefix' {
        $prefix = New-Prefix 'piped'
        $tags = @(Get-RegistryTag -Reference "$($script:Open)/team-a/api")
        $output = @($tags | Copy-RegistryImage -Destination $script:Basic.host -DestinationPrefix $prefix -DestinationCredential $script:BasicCredential)

        $results = @($output | Where-Object { $_ -is [HarborOps.Models.CopyResult] })
        $summary = $output[-1]
        $summary | Should -BeOfType ([HarborOps.Models.CopySummary])
        $results.Count | Should -Be $tags.Count
        $results.Action | Sort-Object -Unique | Should -Be 'Copied'
        $summary.Copied | Should -Be $tags.Count
        $summary.Failed | Should -Be 0
        foreach ($tag in $tags) {
            $result = $results | Where-Object Tag -EQ $tag.Tag
            $result.Destination | Should -Be "$($script:Basic.host)/$prefix/team-a/api:$($tag.Tag)"
            Get-SkopeoDigest "$($script:Basic.host)/$prefix/team-a/api:$($tag.Tag)" $script:BasicCredential | Should -Be $tag.Digest
        }
    }

    It 'copies whole repositories with signatures, then skips them all on a re-run' {
        $prefix = New-Prefix 'repo'
        $sources = "$($script:Open)/platform/base/debian", "$($script:Open)/team-a/web"
        $first = @(Copy-RegistryImage -Source $sources -Destination "$($script:Basic.host)/$prefix" -DestinationCredential $script:BasicCredential)
        $firstSummary = $first[-1]
        $firstSummary.Failed | Should -Be 0
        $signature = $first | Where-Object { $_ -is [HarborOps.Models.CopyResult] -and $_.Tag -like 'sha256-*.sig' }
        $signature | Should -Not -BeNullOrEmpty
        $signature.SubjectDigest | Should -Be (Get-RegistryTag "$($script:Open)/platform/base/debian:bookworm").Digest

        $second = @(Copy-RegistryImage -Source $sources -Destination "$($script:Basic.host)/$prefix" -DestinationCredential $script:BasicCredential)
        $second[-1].Skipped | Should -Be $firstSummary.Copied
        $second[-1].BytesMoved | Should -Be 0
        ($second | Where-Object { $_ -is [HarborOps.Models.CopyResult] }).Reason | Sort-Object -Unique | Should -Be 'unchanged'
    }

    It '-Platform writes a trimmed index with a new digest and warns that parity checks will report it' {
        $prefix = New-Prefix 'platform'
        $source = Get-RegistryTag "$($script:Open)/team-a/web:2.0"
        $output = @(Copy-RegistryImage "$($script:Open)/team-a/web:2.0" "$($script:Basic.host)/$prefix" -DestinationCredential $script:BasicCredential `
            -Platform linux/amd64 -WarningVariable warnings -WarningAction SilentlyContinue)

        $result = $output | Where-Object { $_ -is [HarborOps.Models.CopyResult] }
        $result.Action | Should -Be 'Copied'
        $result.SourceDigest | Should -Be $source.Digest
        $result.Digest | Should -Not -Be $source.Digest
        Get-SkopeoDigest "$($script:Basic.host)/$prefix/team-a/web:2.0" $script:BasicCredential | Should -Be $result.Digest
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -Match 'destination digests differ from the source'
        "$($warnings[0])" | Should -Match 'Parity checks'
    }

    It '-Since skips tags created before it and says why' {
        $prefix = New-Prefix 'since'
        $output = @(Copy-RegistryImage "$($script:Open)/team-a/api" "$($script:Basic.host)/$prefix" -DestinationCredential $script:BasicCredential `
            -Since ([DateTime]::UtcNow.AddDays(1)) -ExcludeReferrers)
        $results = @($output | Where-Object { $_ -is [HarborOps.Models.CopyResult] })
        $results.Count | Should -BeGreaterThan 0
        $results.Action | Sort-Object -Unique | Should -Be 'Skipped'
        $results.Reason | ForEach-Object { $_ | Should -Match '^created .+, before -Since ' }
        @(Get-RegistryRepository -Registry $script:Basic.host -Prefix $prefix -Credential $script:BasicCredential) | Should -BeNullOrEmpty
    }

    It 'shows a readable table and summary' {
        $prefix = New-Prefix 'view'
        $text = Copy-RegistryImage "$($script:Open)/team-b/worker" "$($script:Basic.host)/$prefix" -DestinationCredential $script:BasicCredential | Out-String -Width 200
        $text | Should -Match 'Action\s+Image\s+Moved\s+Note\s+Digest'
        $text | Should -Match 'Copied\s+team-b/worker:3\.1\s'
        $text | Should -Match 'BytesMoved\s*:\s*\d'
        $text | Should -Not -Match ([regex]::Escape($script:Basic.password))
    }

    It '-WhatIf prints the plan with tags and bytes and writes nothing' {
        $prefix = New-Prefix 'whatif'
        $script = @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$((Get-TestModuleManifest) -replace "'", "''")' -ErrorAction Stop
`$credential = [pscredential]::new('$($script:Basic.username)', (ConvertTo-SecureString '$($script:Basic.password)' -AsPlainText -Force))
`$objects = @(Copy-RegistryImage '$($script:Open)/team-a/api' '$($script:Basic.host)/$prefix' -DestinationCredential `$credential -WhatIf)
'##RESULT##' + (@{ Objects = `$objects.Count } | ConvertTo-Json -Compress)
"@
        $processPath = [Environment]::ProcessPath
        $pwshArgs = @()
        if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') { $pwshArgs += Join-Path $PSHOME 'pwsh.dll' }
        $stdout = & $processPath @pwshArgs -NoProfile -NonInteractive -EncodedCommand ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))
        $text = $stdout -join "`n"
        $text | Should -Match "What if: Performing the operation `"Copy from $([regex]::Escape($script:Open))/team-a/api:1\.0"
        $text | Should -Match 'Copy 3 tag\(s\), skip 0 already there, 0 failed to plan; [0-9.]+ KiB to move'
        ($text -split "`n" | Where-Object { $_ -like '##RESULT##*' }) | Should -Be '##RESULT##{"Objects":0}'
        @(Get-RegistryRepository -Registry $script:Basic.host -Prefix $prefix -Credential $script:BasicCredential) | Should -BeNullOrEmpty
    }

    It 'reports a missing repository as one error record and copies the rest' {
        $prefix = New-Prefix 'partial'
        $run = Invoke-InRunspace -Script 'param($Sources, $Destination, $Credential) Copy-RegistryImage -Source $Sources -Destination $Destination -DestinationCredential $Credential' -Parameters @{
            Sources     = @("$($script:Open)/does-not/exist", "$($script:Open)/team-a/web")
            Destination = "$($script:Basic.host)/$prefix"
            Credential  = $script:BasicCredential
        }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'RegistryRepositoryNotFound,*'
        "$($run.Errors[0].TargetObject)" | Should -Match 'does-not/exist'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $summary = $run.Output[-1]
        $summary.Copied | Should -Be 1
        $summary.Failed | Should -Be 1
        ($run.Output | Where-Object { $_.Action -eq 'Copied' }).Source | Should -Be "$($script:Open)/team-a/web:2.0"
        $run.Progress.Count | Should -BeGreaterThan 0
    }

    It 'stops with a terminating error for an invalid destination' {
        $run = Invoke-InRunspace -Script 'param($Source) Copy-RegistryImage -Source $Source -Destination "127.0.0.1:1/Not-Lowercase"' -Parameters @{ Source = "$($script:Open)/team-a/web" }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'RegistryReferenceInvalid,*'
        $run.Output | Should -BeNullOrEmpty
    }

    It 'writes an OCI layout at a path relative to the current location' {
        Push-Location $TestDrive
        try {
            $output = @(Copy-RegistryImage "$($script:Open)/team-a/web:2.0" 'oci:./offline')
            $output[-1].Copied | Should -Be 1
            Test-Path (Join-Path $TestDrive 'offline/team-a/web/oci-layout') | Should -BeTrue
            $layoutDigest = (Get-RegistryTag "oci:$(Join-Path $TestDrive 'offline/team-a/web'):2.0").Digest
            $layoutDigest | Should -Be (Get-RegistryTag "$($script:Open)/team-a/web:2.0").Digest
        }
        finally {
            Pop-Location
        }
    }

    It 'resumes a copy whose process was killed halfway without moving a finished blob again (<Name>)' -ForEach @(
        @{ Name = 'with a journal'; UseJournal = $true }
        # Without one, the destination itself says what a repository already holds (the upload start asks).
        @{ Name = 'without a journal'; UseJournal = $false }
    ) {
        $prefix = New-Prefix 'killed'
        $journal = Join-Path $TestDrive 'copy.journal'
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/requests"
        # Slow blob uploads through the proxy so the kill lands in the middle of the run.
        $rule = @{ kind = 'Slow'; method = 'PUT'; pathPattern = "^/v2/$prefix/.+/blobs/uploads/"; delay = '00:00:00.400'; times = 1000 } | ConvertTo-Json
        $null = Invoke-RestMethod -Method Post -Uri "$($script:ProxyControl)/faults" -Body $rule -ContentType 'application/json'
        $copy = @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$((Get-TestModuleManifest) -replace "'", "''")' -ErrorAction Stop
Copy-RegistryImage -Source '$($script:Open)/team-a/api', '$($script:Open)/team-a/web', '$($script:Open)/team-b/worker', '$($script:Open)/platform/base/debian' -Destination '$($script:Proxy)/$prefix' $(if ($UseJournal) { "-JournalPath '$journal'" }) -ThrottleLimit 2 | Out-Null
"@
        $process = [Diagnostics.Process]::Start((New-FreshPwshStartInfo -Script $copy))
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (@(Get-CommittedUploads).Count -lt 4 -and -not $process.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $process.HasExited | Should -BeFalse -Because 'the copy must still be running when it is killed'
            $process.Kill($true)
            $process.WaitForExit()
        }
        finally {
            if (-not $process.HasExited) { $process.Kill($true) }
            $process.Dispose()
        }
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/faults"
        Start-Sleep -Milliseconds 300
        $firstRun = @(Get-CommittedUploads)
        $firstRunByRepository = @(Get-CommittedUploads -ByRepository)
        $firstRun.Count | Should -BeGreaterOrEqual 4
        if ($UseJournal) { (Get-Content -Raw $journal) | Should -Match "blob\t$([regex]::Escape($script:Proxy))\t$prefix/" }

        # Whatever the killed run tagged is complete: skopeo pulls every blob of it.
        foreach ($repository in @(Get-RegistryRepository -Registry $script:Open -Prefix $prefix).Repository) {
            # A repository the killed run only uploaded blobs into has no tags yet (NAME_UNKNOWN): nothing to check there.
            foreach ($tag in @(Get-RegistryTag "$($script:Open)/$repository" -ErrorAction SilentlyContinue)) {
                & skopeo copy --all --preserve-digests --src-tls-verify=false "docker://$($script:Open)/$repository`:$($tag.Tag)" "dir:$(Join-Path $TestDrive ([Guid]::NewGuid()))" *> $null
                $LASTEXITCODE | Should -Be 0 -Because "$repository`:$($tag.Tag) must be complete"
            }
        }

        $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/requests"
        $journalParameter = if ($UseJournal) { @{ JournalPath = $journal } } else { @{} }
        $output = @(Copy-RegistryImage -Source "$($script:Open)/team-a/api", "$($script:Open)/team-a/web", "$($script:Open)/team-b/worker", "$($script:Open)/platform/base/debian" -Destination "$($script:Proxy)/$prefix" @journalParameter)
        $output[-1].Failed | Should -Be 0
        # No blob goes again into a repository that has it; with a journal, none goes again anywhere (it is mounted from
        # where the killed run put it).
        @(Get-CommittedUploads -ByRepository | Where-Object { $_ -in $firstRunByRepository }) | Should -BeNullOrEmpty
        $secondRun = @(Get-CommittedUploads)
        if ($UseJournal) { @($secondRun | Where-Object { $_ -in $firstRun }) | Should -BeNullOrEmpty }
        foreach ($result in $output | Where-Object { $_ -is [HarborOps.Models.CopyResult] }) {
            (Get-RegistryTag $result.Destination).Digest | Should -Be $result.Digest
        }
    }
}

Describe 'Copy-RegistryImage -JournalPath against the wrong file' {
    It 'refuses a <Name> that is not a journal, naming it, copies nothing and leaves every byte and its time' -ForEach @(
        @{ Name = 'text file'; Binary = $false }
        @{ Name = 'binary file'; Binary = $true }
    ) {
        $path = Join-Path $TestDrive "not-a-journal-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        if ($Binary) { $bytes = [byte[]]::new(35664); [Random]::new(13).NextBytes($bytes) }
        else { $bytes = [Text.Encoding]::UTF8.GetBytes("first line`nsecond line`nthe last line, without a newline") }
        [IO.File]::WriteAllBytes($path, $bytes)
        $time = [datetime]::new(2021, 3, 4, 5, 6, 7, [DateTimeKind]::Utc)
        [IO.File]::SetLastWriteTimeUtc($path, $time)
        $prefix = New-Prefix 'foreign'

        $failure = $null
        try { $null = Copy-RegistryImage "$($script:Open)/team-a/web:2.0" -Destination "$($script:Open)/$prefix" -JournalPath $path -ErrorAction Stop }
        catch { $failure = $_ }

        $failure.FullyQualifiedErrorId | Should -BeLike 'CopyJournalNotAJournal,*'
        $failure.TargetObject | Should -Be $path
        "$failure" | Should -BeLike "*$path*-JournalPath*"
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($path))) | Should -Be ([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)))
        [IO.File]::GetLastWriteTimeUtc($path) | Should -Be $time
        @(Get-RegistryRepository -Registry $script:Open -Prefix $prefix -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'stops a second run on a journal another pwsh process holds before it copies anything, and the first run finishes with its journal whole' {
        $journal = Join-Path $TestDrive 'shared.journal'
        $first = New-Prefix 'holder'
        $second = New-Prefix 'second'
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/requests"
        # Slow blob uploads so the first run still holds the journal when the second one starts.
        $rule = @{ kind = 'Slow'; method = 'PUT'; pathPattern = "^/v2/$first/.+/blobs/uploads/"; delay = '00:00:00.400'; times = 1000 } | ConvertTo-Json
        $null = Invoke-RestMethod -Method Post -Uri "$($script:ProxyControl)/faults" -Body $rule -ContentType 'application/json'
        $copy = @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$((Get-TestModuleManifest) -replace "'", "''")' -ErrorAction Stop
`$summary = @(Copy-RegistryImage -Source '$($script:Open)/team-a/api', '$($script:Open)/team-a/web', '$($script:Open)/team-b/worker', '$($script:Open)/platform/base/debian' -Destination '$($script:Proxy)/$first' -JournalPath '$journal' -ThrottleLimit 2)[-1]
'##RESULT##' + (@{ Failed = `$summary.Failed; Copied = `$summary.Copied } | ConvertTo-Json -Compress)
"@
        $process = [Diagnostics.Process]::Start((New-FreshPwshStartInfo -Script $copy))
        try {
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (@(Get-CommittedUploads -ByRepository | Where-Object { $_ -like "$first/*" }).Count -lt 1 -and -not $process.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }

            $failure = $null
            try { $null = Copy-RegistryImage "$($script:Open)/team-a/web:2.0" -Destination "$($script:Open)/$second" -JournalPath $journal -ErrorAction Stop }
            catch { $failure = $_ }

            $process.HasExited | Should -BeFalse -Because 'the first run must still hold the journal when the second starts'
            $failure.FullyQualifiedErrorId | Should -BeLike 'CopyJournalInUse,*'
            $failure.TargetObject | Should -Be $journal
            "$failure" | Should -BeLike "*$journal*another run*"
            @(Get-RegistryRepository -Registry $script:Open -Prefix $second -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty

            $process.WaitForExit(120000) | Should -BeTrue
            $result = ($stdout.GetAwaiter().GetResult() -split "`r?`n" | Where-Object { $_.StartsWith('##RESULT##') }).Substring(10) | ConvertFrom-Json
            $result.Failed | Should -Be 0
        }
        finally {
            if (-not $process.HasExited) { $process.Kill($true) }
            $process.Dispose()
            $null = Invoke-RestMethod -Method Delete -Uri "$($script:ProxyControl)/faults"
        }
        # The first run's journal: its header, then only whole lines of its own.
        $lines = [IO.File]::ReadAllText($journal) -split "`n"
        $lines[0] | Should -Be '# HarborOps copy journal v1'
        $lines[-1] | Should -Be ''
        $body = $lines[1..($lines.Count - 2)]
        $body.Count | Should -BeGreaterThan 4
        $pattern = "^(blob|manifest|repository)\t$([regex]::Escape($script:Proxy))\t$first/[a-z0-9/._-]+\t(sha256:[0-9a-f]{64}|-)$"
        @($body | Where-Object { $_ -notmatch $pattern }) | Should -BeNullOrEmpty
    }
}

# Every cmdlet that reads an image or layout reference takes "oci:" text relative to the PowerShell location (not the
# process directory), split by the engine's one grammar: a tag or digest after the last folder, '@' and ':' allowed in
# folder names.
Describe 'oci: references relative to the current location' {
    BeforeAll {
        Push-Location $TestDrive
        $script:Web = "$($script:Open)/team-a/web:2.0"
        $script:WebDigest = (Get-RegistryTag $script:Web).Digest
        $script:Root = Join-Path $TestDrive 'refs'
        $copied = @(Copy-RegistryImage $script:Web 'oci:./refs')
        $copied[-1].Copied | Should -Be 1
    }

    AfterAll {
        Pop-Location
    }

    It 'Get-RegistryRepository lists the layouts below a relative root' {
        $listed = @(Get-RegistryRepository -Registry 'oci:./refs')
        $listed.Repository | Should -Contain 'team-a/web'
        $listed[0].Registry | Should -Be "oci:$($script:Root)"
    }

    It 'Get-RegistryTag reads a relative layout by tag and by digest' {
        $byTag = Get-RegistryTag 'oci:./refs/team-a/web:2.0'
        $byTag.Digest | Should -Be $script:WebDigest
        (Get-RegistryTag "oci:refs/team-a/web@$($script:WebDigest)").Digest | Should -Be $script:WebDigest
    }

    It 'Test-RegistryImage checks a relative layout by tag and digest, and says Missing for a tag it lacks' {
        $status = @(Test-RegistryImage 'oci:./refs/team-a/web:2.0', "oci:./refs/team-a/web@$($script:WebDigest)", 'oci:./refs/team-a/web:9.9')
        $status.State | Should -Be @('Exists', 'Exists', 'Missing')
        $status[0].Reference | Should -Be "oci:$(Join-Path $script:Root 'team-a/web'):2.0"
        $status[0].Digest | Should -Be $script:WebDigest
    }

    It 'Compare-RegistryParity compares with a relative layout destination' {
        $summary = @(Compare-RegistryParity "$($script:Open)/team-a/web" 'oci:./refs')[-1]
        $summary.Differences | Should -Be 0
        $summary.TagsCompared | Should -Be 1
        $summary.Destination | Should -Be "oci:$($script:Root)"
    }

    It 'Copy-RegistryImage copies from a relative layout image into a folder with @ and : in its name' {
        # A layout image copied to a layout lands at its root: here the folder web below "at@2024:v1".
        $copied = @(Copy-RegistryImage 'oci:./refs/team-a/web:2.0' 'oci:./at@2024:v1/web')
        $copied[-1].Copied | Should -Be 1
        Test-Path (Join-Path $TestDrive 'at@2024:v1/web/oci-layout') | Should -BeTrue
        (Get-RegistryTag 'oci:./at@2024:v1/web:2.0').Digest | Should -Be $script:WebDigest
        # "./": PowerShell reads a relative path whose first folder holds ':' as a drive ("at@2024:").
        (Test-RegistryImage "oci:./at@2024:v1/web@$($script:WebDigest)").State | Should -Be 'Exists'
    }

    It 'reports a bad layout tag as that reference''s error and checks the others' {
        $status = @(Test-RegistryImage 'oci:./refs/team-a/web:-bad', 'oci:./refs/team-a/web:2.0' -ErrorVariable failures -ErrorAction SilentlyContinue)
        $status.State | Should -Be 'Exists'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RegistryReferenceInvalid,*'
    }
}
