# Compare-RegistryParity into the lab Harbor with only a registry credential (issue 15, part 4): no Connect-Harbor
# session, no -Harbor. The registry's challenge names Harbor's token service, so HarborOps reads Harbor's artifact
# listing as it does with a session, and reports the same result.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:H = $script:Lab.harbor
    $script:Admin = New-TestCredential $script:H.username $script:H.password
    $script:Open = $script:Lab.registries.open.host
    $script:Project = "detect-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:Sources = "$($script:Open)/team-a/*", "$($script:Open)/team-b/*"
    $script:Destination = "$($script:H.host)/$($script:Project)"

    Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
    $null = Copy-RegistryImage -Source $script:Sources -Destination $script:Destination -DestinationCredential $script:Admin -CreateProject -Confirm:$false
    $script:WithSession = @(Compare-RegistryParity -Source $script:Sources -Destination $script:Destination -DestinationCredential $script:Admin)
    Disconnect-Harbor -Confirm:$false
}

AfterAll {
    Remove-RegistryCredential -Registry $script:H.host -ErrorAction SilentlyContinue
    Disconnect-Harbor -Confirm:$false -ErrorAction SilentlyContinue
}

Describe 'Compare-RegistryParity into Harbor without a Harbor session' {
    It 'reports what it reports with a session, from Harbor''s listing' {
        Set-RegistryCredential -Registry $script:H.host -Credential $script:Admin

        $output = @(Compare-RegistryParity -Source $script:Sources -Destination $script:Destination)

        $summary = $output[-1]
        $sessionSummary = $script:WithSession[-1]
        $summary | Should -BeOfType ([HarborOps.Models.ParitySummary])
        $summary.Differences | Should -Be 0
        $summary.TagsCompared | Should -Be $sessionSummary.TagsCompared
        $summary.Equal | Should -Be $sessionSummary.Equal
        $summary.ExtraAtDestination | Should -Be $sessionSummary.ExtraAtDestination
        @($output | Where-Object { $_ -is [HarborOps.Models.ParityDifference] }).Count | Should -Be @($script:WithSession | Where-Object { $_ -is [HarborOps.Models.ParityDifference] }).Count
        # The detection costs its tag list and one systeminfo over the session's requests, never a HEAD per tag more.
        $summary.DestinationRequests | Should -BeLessOrEqual ($sessionSummary.DestinationRequests + 2)
    }
}
