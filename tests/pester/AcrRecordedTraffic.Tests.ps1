# Get-RegistryRepository, Compare-RegistryParity and Get-RegistryTag as users call them, against traffic recorded from
# real Azure Container Registries by the Azure SDK for .NET (tests/contracts/acr/recordings), which the lab replays over
# TLS on loopback. Each runs in a fresh pwsh that knows the replay as an ACR (HARBOROPS_ACR_HOSTS) and trusts the lab CA
# (SSL_CERT_FILE); the expected results are worked out by hand from the recordings.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    $script:Lab = Get-LabEndpoint
    $script:Replays = $script:Lab.acrReplays
    $script:Open = $script:Lab.registries.open.host
    $script:IndexDigest = 'sha256:bfea6278a0a267fad2634554f4f0c6f31981eea41c553fdf5a83e95a41d40c38'
    $script:AmdDigest = 'sha256:f54a58bc1aac5ea1a25d796ae155dc228b3f0e11d046ae276b39c4bf2f13d8c4'
    $script:AmdConfig = 'sha256:feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412'

    # Runs a command in a fresh pwsh that knows $Replay as an ACR; Entra sign-in goes to the lab tenant (the recorded
    # /oauth2/exchange answers any Entra token, as it was sanitized when recorded).
    function script:Invoke-AgainstReplay([object] $Replay, [string] $Command, [switch] $AzureIdentity) {
        $manifest = Get-TestModuleManifest
        $signIn = if ($AzureIdentity) { "Set-RegistryCredential -Registry '$($Replay.host)' -UseAzureIdentity -TenantId '$($script:Lab.acr.entra.tenantId)'" } else { '' }
        $script = @"
`$ErrorActionPreference = 'Continue'
Import-Module '$manifest' -ErrorAction Stop
$signIn
`$output = @($Command -ErrorVariable failures -ErrorAction SilentlyContinue)
`$report = @{
    Output = @(`$output | ForEach-Object { `$_ | Select-Object * })
    Errors = @(`$failures | ForEach-Object { @{ Id = `$_.FullyQualifiedErrorId; Target = [string] `$_.TargetObject; Message = `$_.Exception.Message } })
}
'##RESULT##' + (ConvertTo-Json `$report -Depth 6 -Compress -EnumsAsStrings)
"@
        Invoke-FreshPwsh -Script $script -TimeoutSeconds 120 -Environment @{
            AZURE_CLIENT_ID = $script:Lab.acr.entra.clientId
            AZURE_CLIENT_SECRET = $script:Lab.acr.entra.clientSecret
            AZURE_TENANT_ID = $script:Lab.acr.entra.tenantId
            AZURE_AUTHORITY_HOST = $script:Lab.acr.entra.authorityHost
            SSL_CERT_FILE = $script:Lab.graph.caBundle
            HARBOROPS_ACR_HOSTS = $Replay.host
        }
    }

    function script:Get-ReplayLog([object] $Replay) { Invoke-RestMethod -Uri $Replay.control }
}

Describe 'The module against recorded ACR traffic' {
    BeforeEach {
        foreach ($replay in $script:Replays.PSObject.Properties.Value) { $null = Invoke-RestMethod -Method Delete -Uri $replay.control }
    }

    It 'Get-RegistryRepository lists every repository of a registry with anonymous pull, without a credential' {
        $replay = $script:Replays.anonymousCatalog

        $report = Invoke-AgainstReplay $replay "Get-RegistryRepository -Registry '$($replay.host)'"

        $report.Errors | Should -BeNullOrEmpty
        $report.Output.Repository | Should -Be @('library/alpine', 'library/busybox', 'library/hello-world')
        $log = Get-ReplayLog $replay
        $log.unmatched | Should -BeNullOrEmpty
        $log.unservedAnswers | Should -BeNullOrEmpty
        @($log.requests | Where-Object { $_.pathAndQuery -like '/oauth2/*' -and $_.authorized }).Count | Should -Be 0
    }

    It 'Compare-RegistryParity names each recorded tag missing from an empty mirror with the recorded index digest' {
        $replay = $script:Replays.manifests
        $mirror = "$($script:Open)/replay-mirror-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"

        $report = Invoke-AgainstReplay $replay "Compare-RegistryParity -Source '$($replay.host)/library/hello-world' -Destination '$mirror'" -AzureIdentity

        $report.Errors | Should -BeNullOrEmpty
        $differences = @($report.Output | Where-Object { $null -ne $_.Kind -and $_.Tag })
        ($differences.Tag | Sort-Object) | Should -Be @('latest', 'v1', 'v2', 'v3', 'v4')
        $differences.Kind | Sort-Object -Unique | Should -Be 'MissingAtDestination'
        $differences.SourceDigest | Sort-Object -Unique | Should -Be $script:IndexDigest
        $log = Get-ReplayLog $replay
        $log.unmatched | Should -BeNullOrEmpty
        $log.unservedAnswers | Should -BeNullOrEmpty
    }

    It 'Get-RegistryTag reads the recorded manifest and reports the config blob no recording holds, naming it' {
        $replay = $script:Replays.dockerManifest

        $report = Invoke-AgainstReplay $replay "Get-RegistryTag -Reference '$($replay.host)/library/hello-world@$($script:AmdDigest)'" -AzureIdentity

        # The manifest was read and verified; the image's platform is in its config, which the SDK never downloaded.
        $report.Output | Should -BeNullOrEmpty
        $report.Errors.Count | Should -Be 1
        $report.Errors[0].Id | Should -BeLike 'RegistryBlobNotFound*'
        $report.Errors[0].Message | Should -BeLike "*$($script:AmdConfig)*"
        $log = Get-ReplayLog $replay
        $log.unservedAnswers | Should -BeNullOrEmpty
        @($log.unmatched.pathAndQuery) | Should -Be @("/v2/library/hello-world/blobs/$($script:AmdConfig)")
    }
}
