@{
    RootModule           = 'HarborOps.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = 'a7cade7c-ffba-4e09-9a28-073512d8a2b1'
    Author               = 'HarborOps contributors'
    CompanyName          = 'HarborOps'
    Copyright            = '(c) 2026 HarborOps contributors. Released under the MIT License (LICENSE).'
    Description          = 'Moves container images between OCI registries (Azure Container Registry to Harbor first) and runs Harbor day to day. Cmdlets over an isolated engine: safe next to Az.Accounts and Microsoft.Graph.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    # No RequiredAssemblies or NestedModules: they would load before HarborOps.dll installs the load-context
    # hook that keeps the engine's dependencies (Azure.Core, MSAL, ...) out of the default context.
    CmdletsToExport      = @(
        'Compare-RegistryParity'
        'Copy-RegistryImage'
        'Measure-RegistryPull'
        'Sync-PullSecret'
        'Restart-Workload'
        'Invoke-PullSecretRotation'
        'Get-PullSecretStatus'
        'Get-RegistryCredential'
        'Get-RegistryRepository'
        'Get-RegistryTag'
        'Remove-RegistryCredential'
        'Set-RegistryCredential'
        'Get-ImageReference'
        'Update-ImageReference'
        'Test-RegistryImage'
        'Add-HarborProjectMember'
        'Connect-Harbor'
        'Disconnect-Harbor'
        'Get-HarborArtifact'
        'Get-HarborProject'
        'Get-HarborProjectMember'
        'Get-HarborProjectUsage'
        'Get-HarborRegistryEndpoint'
        'Get-HarborReplicationExecution'
        'Get-HarborRobot'
        'Get-HarborVulnerability'
        'New-HarborProject'
        'New-HarborRegistryEndpoint'
        'New-HarborReplicationPolicy'
        'New-HarborRobot'
        'Remove-HarborProject'
        'Remove-HarborProjectMember'
        'Remove-HarborRobot'
        'Reset-HarborRobotSecret'
        'Set-HarborProject'
        'Set-HarborRobot'
        'Start-HarborReplication'
        'Start-HarborScan'
        'Sync-HarborProjectMember'
        'Test-HarborOidcGroupClaim'
        'Test-HarborProjectGate'
        'Get-HarborHealth'
        'Get-HarborSystemInfo'
        'Get-HarborGarbageCollection'
        'Start-HarborGarbageCollection'
        'Get-HarborGarbageCollectionSchedule'
        'Set-HarborGarbageCollectionSchedule'
        'Get-HarborRetentionPolicy'
        'Set-HarborRetentionPolicy'
        'Test-HarborRetentionPolicy'
        'Invoke-HarborRetention'
        'Get-HarborImmutableTagRule'
        'New-HarborImmutableTagRule'
        'Remove-HarborImmutableTagRule'
        'Get-WorkloadImage'
        'New-RegistryMigrationJob'
        'Get-RegistryMigrationJob'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    FormatsToProcess     = @('HarborOps.Format.ps1xml')
    PrivateData          = @{
        PSData = @{
            Tags         = @('OCI', 'Registry', 'Harbor', 'ACR', 'AzureContainerRegistry', 'Container', 'Docker', 'Migration', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            LicenseUri   = 'https://github.com/harborops/HarborOps/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/harborops/HarborOps'
            ReleaseNotes = '0.1.0: migrate ACR to Harbor with signatures and referrers (Copy-RegistryImage, resumable, proxy-cache mirrors; sharded over a Kubernetes Indexed Job with New-/Get-RegistryMigrationJob), prove parity (Compare-RegistryParity, through Harbor''s own listings), cut over image references (Get-/Update-ImageReference, Get-WorkloadImage), rotate pull secrets with no outage (Sync-PullSecret, Invoke-PullSecretRotation), onboard teams (Harbor projects, gates, robots, Entra group members) and run replication; 43 cmdlets.'
        }
    }
}
