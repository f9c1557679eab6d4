# The cmdlets against the lab's real registries (CNCF Distribution): pipeline binding, auth, paging,
# errors, -WhatIf, Ctrl+C and progress, as a user sees them.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:Basic = $script:Lab.registries.basic
    $script:Token = $script:Lab.registries.token
    $script:SeedRepositories = @($script:Lab.seed.repositories)
    $script:SeedRepository = $script:SeedRepositories[0]
    $script:ManyTagsRepository = $script:Lab.seed.manyTagsRepository
    $script:ManyTagsCount = [int]$script:Lab.seed.manyTagsCount
    $script:BasicCredential = New-TestCredential $script:Basic.username $script:Basic.password
    $script:TokenCredential = New-TestCredential $script:Token.username $script:Token.password
}

AfterAll {
    Get-RegistryCredential | Remove-RegistryCredential -Confirm:$false -ErrorAction SilentlyContinue
}

Describe 'Get-RegistryRepository | Get-RegistryTag' {
    It 'lists the seeded repositories of the open registry as objects that bind into Get-RegistryTag' {
        $repositories = @(Get-RegistryRepository -Registry $script:Open)
        $repositories | ForEach-Object { $_ | Should -BeOfType ([HarborOps.Models.RegistryRepositoryInfo]) }
        foreach ($name in $script:SeedRepositories) { $repositories.Repository | Should -Contain $name }
        ($repositories | Where-Object Repository -EQ $script:SeedRepository).Reference | Should -Be "$($script:Open)/$($script:SeedRepository)"
    }

    It 'binds by property name: every tag of every piped repository, and only those' {
        $piped = @(Get-RegistryRepository -Registry $script:Open | Where-Object Repository -In $script:SeedRepositories | Get-RegistryTag)
        $direct = @($script:SeedRepositories | ForEach-Object { Get-RegistryTag -Reference "$($script:Open)/$_" })
        $piped.Count | Should -BeGreaterThan 0
        ($piped.Reference | Sort-Object) | Should -Be ($direct.Reference | Sort-Object)
        ($piped.Repository | Sort-Object -Unique) | Should -Be ($script:SeedRepositories | Sort-Object -Unique)
    }

    It 'filters repositories by -Prefix (a path prefix: whole segments)' {
        $nested = @($script:SeedRepositories | Where-Object { $_ -like '*/*' })[0]
        $prefix = if ($nested) { $nested.Split('/')[0] } else { $script:SeedRepository }
        $filtered = @(Get-RegistryRepository -Registry $script:Open -Prefix $prefix)
        $filtered.Repository | Should -Contain ($nested ?? $script:SeedRepository)
        $filtered.Repository | ForEach-Object { $_ -eq $prefix -or $_ -like "$prefix/*" | Should -BeTrue -Because "'$_' is not under '$prefix'" }
    }

    It 'reports digest, media type and platforms of each tag' {
        $tags = @(Get-RegistryTag -Reference "$($script:Open)/$($script:SeedRepository)")
        $tags.Count | Should -BeGreaterThan 0
        foreach ($tag in $tags) {
            $tag | Should -BeOfType ([HarborOps.Models.RegistryTagInfo])
            $tag.Digest | Should -Match '^sha256:[0-9a-f]{64}$'
            $tag.MediaType | Should -Match '^application/vnd\.(oci|docker)\.'
            $tag.Reference | Should -Be "$($script:Open)/$($script:SeedRepository):$($tag.Tag)"
        }
    }
}

Describe 'Get-RegistryTag on a repository with many tags' {
    BeforeAll {
        $script:AllTags = @(Get-RegistryTag -Reference "$($script:Open)/$($script:ManyTagsRepository)")
    }

    It 'returns every tag across the pages' {
        $script:ManyTagsCount | Should -Be 1500
        $script:AllTags.Count | Should -Be $script:ManyTagsCount
        @($script:AllTags.Tag | Sort-Object -Unique).Count | Should -Be $script:ManyTagsCount
    }

    It 'keeps only the tags matching -Tag wildcard patterns' {
        $sample = $script:AllTags[0].Tag
        $pattern = $sample.Substring(0, [Math]::Max(1, $sample.Length - 1)) + '*'
        $expected = @($script:AllTags.Tag | Where-Object { $_ -like $pattern } | Sort-Object)
        $expected.Count | Should -BeLessThan $script:AllTags.Count -Because 'the pattern must actually filter'
        $filtered = @(Get-RegistryTag -Reference "$($script:Open)/$($script:ManyTagsRepository)" -Tag $pattern, 'no-such-tag-?')
        ($filtered.Tag | Sort-Object) | Should -Be $expected
    }
}

Describe 'Authentication' {
    It 'fails with one terminating RegistryAuthenticationFailed without credentials on the Basic registry' {
        $run = Invoke-InRunspace -Script 'param($Reference) Get-RegistryTag -Reference $Reference' -Parameters @{ Reference = "$($script:Basic.host)/$($script:SeedRepository)" }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -Be 'RegistryAuthenticationFailed,HarborOps.Commands.GetRegistryTagCommand'
    }

    It 'lists tags with Basic auth given by -Credential' {
        @(Get-RegistryTag -Reference "$($script:Basic.host)/$($script:SeedRepository)" -Credential $script:BasicCredential).Count | Should -BeGreaterThan 0
    }

    It 'lists tags with token auth given by -Credential' {
        @(Get-RegistryTag -Reference "$($script:Token.host)/$($script:SeedRepository)" -Credential $script:TokenCredential).Count | Should -BeGreaterThan 0
    }

    It 'uses credentials set with Set-RegistryCredential (Basic and token)' {
        Set-RegistryCredential -Registry $script:Basic.host -Credential $script:BasicCredential
        Set-RegistryCredential -Registry $script:Token.host -Credential $script:TokenCredential
        try {
            @(Get-RegistryTag -Reference "$($script:Basic.host)/$($script:SeedRepository)").Count | Should -BeGreaterThan 0
            @(Get-RegistryTag -Reference "$($script:Token.host)/$($script:SeedRepository)").Count | Should -BeGreaterThan 0
            $listed = @(Get-RegistryCredential)
            ($listed | Where-Object Registry -EQ $script:Basic.host).Kind | Should -Be 'Basic'
            ($listed | Where-Object Registry -EQ $script:Basic.host).UserName | Should -Be $script:Basic.username
            ($listed | Out-String) | Should -Not -Match ([regex]::Escape($script:Basic.password))
        }
        finally {
            Remove-RegistryCredential -Registry $script:Basic.host, $script:Token.host -Confirm:$false
        }
        Get-RegistryCredential -Registry $script:Basic.host | Should -BeNullOrEmpty
    }

    It 'records Azure identity for a registry without any secret' {
        Set-RegistryCredential -Registry contoso-check.azurecr.io -UseAzureIdentity -TenantId '00000000-0000-0000-0000-000000000001' -PassThru |
            ForEach-Object { $_.Kind | Should -Be 'AzureIdentity' }
        (Get-RegistryCredential -Registry contoso-check.azurecr.io).Kind | Should -Be 'AzureIdentity'
        Remove-RegistryCredential -Registry contoso-check.azurecr.io -Confirm:$false
    }
}

Describe 'Bad input gives one clear error' {
    It 'malformed reference: RegistryReferenceInvalid, InvalidArgument, the reference as target' {
        $reference = 'UPPER//case::bad@@'
        $run = Invoke-InRunspace -Script 'param($Reference) Get-RegistryTag -Reference $Reference' -Parameters @{ Reference = $reference }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -Be 'RegistryReferenceInvalid,HarborOps.Commands.GetRegistryTagCommand'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $run.Errors[0].TargetObject | Should -Be $reference
        $run.Errors[0].Exception.Message | Should -Match ([regex]::Escape($reference))
    }

    It 'unknown host (nothing listens there): RegistryHostUnreachable, ConnectionError' {
        $reference = "127.0.0.1:$(Get-FreeLoopbackPort)/team/app"
        $run = Invoke-InRunspace -Script 'param($Reference) Get-RegistryTag -Reference $Reference' -Parameters @{ Reference = $reference }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -Be 'RegistryHostUnreachable,HarborOps.Commands.GetRegistryTagCommand'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        "$($run.Errors[0].TargetObject)" | Should -Match ([regex]::Escape($reference.Split('/')[0]))
    }

    It 'wrong password: RegistryAuthenticationFailed, AuthenticationError, and the password appears nowhere' {
        $wrong = 'Wrong-Pa55-' + [guid]::NewGuid().ToString('n')
        $reference = "$($script:Basic.host)/$($script:SeedRepository)"
        $run = Invoke-InRunspace -Script 'param($Reference, $Credential) Get-RegistryTag -Reference $Reference -Credential $Credential -Verbose -Debug' `
            -Parameters @{ Reference = $reference; Credential = (New-TestCredential $script:Basic.username $wrong) }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -Be 'RegistryAuthenticationFailed,HarborOps.Commands.GetRegistryTagCommand'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        "$($run.Errors[0].TargetObject)" | Should -Match ([regex]::Escape($script:Basic.host))
        $everything = ($run.Errors | Format-List * -Force | Out-String) + ($run.Verbose + $run.Debug + $run.Warning | Out-String) +
            ($run.Progress | ForEach-Object { "$($_.Activity) $($_.StatusDescription) $($_.CurrentOperation)" }) + ($run.Errors.Exception | Format-List * -Force | Out-String)
        $everything | Should -Not -Match ([regex]::Escape($wrong))
    }

    It 'missing repository: RegistryRepositoryNotFound, ObjectNotFound, non-terminating so other references still list' {
        $missing = "$($script:Open)/no-such-repository-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $present = "$($script:Open)/$($script:SeedRepository)"
        $run = Invoke-InRunspace -Script 'param($References) $References | Get-RegistryTag' -Parameters @{ References = @($missing, $present) }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -Be 'RegistryRepositoryNotFound,HarborOps.Commands.GetRegistryTagCommand'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        "$($run.Errors[0].TargetObject)" | Should -Match 'no-such-repository-'
        $run.Output.Count | Should -BeGreaterThan 0
        $run.Output.Repository | Sort-Object -Unique | Should -Be $script:SeedRepository
    }

    It 'removing a credential that is not set: RegistryCredentialNotFound, ObjectNotFound' {
        $run = Invoke-InRunspace -Script 'Remove-RegistryCredential -Registry never-set.example -Confirm:$false'
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -Be 'RegistryCredentialNotFound,HarborOps.Commands.RemoveRegistryCredentialCommand'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $run.Errors[0].TargetObject | Should -Be 'never-set.example'
    }
}

Describe '-WhatIf' {
    It 'Set-RegistryCredential -WhatIf stores nothing' {
        Set-RegistryCredential -Registry whatif-set.example -Credential (New-TestCredential 'someone' 'not-stored') -WhatIf
        Get-RegistryCredential -Registry whatif-set.example | Should -BeNullOrEmpty
    }

    It 'Remove-RegistryCredential -WhatIf removes nothing, also from the pipeline' {
        Set-RegistryCredential -Registry whatif-remove.example -Credential (New-TestCredential 'someone' 'kept')
        try {
            Remove-RegistryCredential -Registry whatif-remove.example -WhatIf
            Get-RegistryCredential -Registry whatif-remove.example | Remove-RegistryCredential -WhatIf
            (Get-RegistryCredential -Registry whatif-remove.example).Registry | Should -Be 'whatif-remove.example'
        }
        finally {
            Remove-RegistryCredential -Registry whatif-remove.example -Confirm:$false
        }
    }
}

Describe 'Ctrl+C and progress' {
    It 'Stop() (Ctrl+C) cancels a request the registry is slow to answer, quickly' {
        # The lab's fault proxy in front of the open registry holds the tag list for 30 s.
        $proxy = "http://$($script:Lab.proxy.host)"
        $rule = @{ kind = 'Slow'; method = 'GET'; pathPattern = '^/v2/.+/tags/list$'; delay = '00:00:30'; times = 5 } | ConvertTo-Json
        $null = Invoke-RestMethod -Method Post -Uri "$proxy/_lab/faults" -Body $rule -ContentType 'application/json'
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $ps = [powershell]::Create()
        $ps.Runspace = $runspace
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Get-TestModuleManifest)).Invoke()
            $ps.Commands.Clear()
            $null = $ps.AddCommand('Get-RegistryTag').AddParameter('Reference', "$($script:Lab.proxy.host)/$($script:SeedRepository)")
            $async = $ps.BeginInvoke()
            Start-Sleep -Milliseconds 1500
            $ps.InvocationStateInfo.State | Should -Be 'Running' -Because 'the proxy holds the tag list for 30 s'
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 3
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            { $ps.EndInvoke($async) } | Should -Throw
        }
        finally {
            $ps.Dispose()
            $runspace.Dispose()
            $null = Invoke-RestMethod -Method Delete -Uri "$proxy/_lab/faults"
        }
    }

    It 'ends Write-Progress with a Completed record' {
        $run = Invoke-InRunspace -Script 'param($Reference) Get-RegistryTag -Reference $Reference' -Parameters @{ Reference = "$($script:Open)/$($script:ManyTagsRepository)" }
        $run.Errors | Should -BeNullOrEmpty
        $run.Output.Count | Should -Be $script:ManyTagsCount
        $run.Progress.Count | Should -BeGreaterThan 0
        $run.Progress[-1].RecordType | Should -Be 'Completed'
        # Throttled: 1,500 tags must not produce a record per tag.
        $run.Progress.Count | Should -BeLessThan 100
    }

    It 'ends Write-Progress with a Completed record when the command fails too' {
        $run = Invoke-InRunspace -Script 'param($Reference) Get-RegistryTag -Reference $Reference' -Parameters @{ Reference = "$($script:Open)/no-such-repository-progress" }
        $run.Errors.Count | Should -Be 1
        $run.Progress.Count | Should -BeGreaterThan 0
        $run.Progress[-1].RecordType | Should -Be 'Completed'
    }
}
