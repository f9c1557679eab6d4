# The module's views as a user reads them at an 80- and a 120-column terminal: the normal Copy-RegistryImage and
# Compare-RegistryParity calls (results, then the summary) against the lab, and every default table view rendered from a
# sample model, which must keep its header on one line and its key columns whole.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:Basic = $script:Lab.registries.basic
    $script:BasicCredential = New-TestCredential $script:Basic.username $script:Basic.password

    # The lines of a table between its blank line and its dashes: one line unless a label was broken over several.
    function script:Get-TableHeaderLine([string] $Text) {
        $lines = $Text -split "`r?`n"
        $dashes = [Array]::FindIndex($lines, [Predicate[string]] { param($l) $l -match '^\s*-+(\s+-+)*\s*$' })
        if ($dashes -lt 1) { throw "no table header in:`n$Text" }
        $start = $dashes - 1
        while ($start -gt 0 -and $lines[$start - 1].Trim()) { $start-- }
        , @($lines[$start..($dashes - 1)])
    }
}

Describe 'The normal Copy-RegistryImage and Compare-RegistryParity calls' {
    BeforeAll {
        $prefix = "views-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        $script:Copy = @(Copy-RegistryImage -Source "$($script:Open)/team-a/*" -Destination "$($script:Basic.host)/$prefix" -DestinationCredential $script:BasicCredential)
        $script:Parity = @(Compare-RegistryParity -Source "$($script:Open)/team-a/*" -Destination "$($script:Basic.host)/$prefix" -DestinationCredential $script:BasicCredential -IncludeEqual)
        $script:Images = @($script:Copy | Where-Object { $_ -is [HarborOps.Models.CopyResult] -and $_.Tag -notlike 'sha256-*' } |
            ForEach-Object { "$($_.SourceRepository):$($_.Tag)" })
    }

    It 'prints the curated copy summary after the result table at <Width> columns, with whole repository:tag names' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $script:Images.Count | Should -BeGreaterThan 1
        $text = $script:Copy | Out-String -Width $Width
        $text | Should -Match '(?m)^Blobs\s+: \d+ copied, \d+ mounted, \d+ already there'
        $text | Should -Match '(?m)^Throughput\s+: .+/s, [\d.]+ tags/s'
        $text | Should -Match '(?m)^Elapsed\s+: [\d.]+ s$'
        $text | Should -Not -Match 'BytesPerSecond|TagsPerSecond|Failures\s+: \{\}'
        foreach ($image in $script:Images) { $text | Should -Match ([regex]::Escape($image) + '\s') -Because "the table names $image whole" }
        $text | Should -Not -Match '…|\.\.\.'
    }

    It 'prints the curated parity summary after the differences at <Width> columns, with whole repository:tag names' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $script:Parity[-1] | Should -BeOfType ([HarborOps.Models.ParitySummary])
        $text = $script:Parity | Out-String -Width $Width
        $text | Should -Match '(?m)^Compared\s+: \d+ tags in \d+ repositories, \d+ referrers'
        $text | Should -Match '(?m)^Requests\s+: \d+ to the source, \d+ to the destination'
        $text | Should -Not -Match 'RepositoriesCompared|SourceRequests'
        foreach ($image in $script:Images) { $text | Should -Match ([regex]::Escape($image) + '\s') -Because "the table names $image whole" }
        $text | Should -Not -Match '…|\.\.\.'
    }

    It 'drops the demo''s Where-Object | Format-List workaround' {
        $repoRoot = $env:HARBOROPS_REPO_ROOT
        if (-not $repoRoot) { $repoRoot = (Resolve-Path "$PSScriptRoot/../..").Path }
        Get-Content -Raw (Join-Path $repoRoot 'build.ps1') | Should -Not -Match '\| Format-(List|Table)'
    }
}

Describe 'A source that matches nothing' {
    BeforeAll {
        $script:Typo = "$($script:Open)/tema-a/*"
        $script:Target = "$($script:Basic.host)/empty-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
    }

    It '<Command> warns naming the source and what to check, and still writes its summary' -ForEach @(@{ Command = 'Copy-RegistryImage' }, @{ Command = 'Compare-RegistryParity' }) {
        $output = @(& $Command -Source $script:Typo -Destination $script:Target -DestinationCredential $script:BasicCredential -WarningVariable warnings -WarningAction SilentlyContinue)
        $output.Count | Should -Be 1
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike "*$($script:Typo) matched no tags*"
        "$($warnings[0])" | Should -Match 'catalog' -Because 'it says what to check'
        "$($warnings[0])" | Should -Match '-Include'
    }

    It '<Command> -FailOnEmpty stops with SourceMatchedNothing after the summary' -ForEach @(@{ Command = 'Copy-RegistryImage' }, @{ Command = 'Compare-RegistryParity' }) {
        $collected = [System.Collections.Generic.List[object]]::new()
        $record = $null
        try { & $Command -Source $script:Typo -Destination $script:Target -DestinationCredential $script:BasicCredential -FailOnEmpty -WarningAction SilentlyContinue | ForEach-Object { $collected.Add($_) } }
        catch { $record = $_ }
        $record | Should -Not -BeNullOrEmpty
        $record.FullyQualifiedErrorId | Should -BeLike 'SourceMatchedNothing,*'
        $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $record.TargetObject | Should -Be $script:Typo
        $collected.Count | Should -Be 1 -Because 'the summary is written before the error'
        (Get-Help $Command -Parameter FailOnEmpty | Out-String) | Should -Match 'SourceMatchedNothing'
    }

    It 'Copy-RegistryImage -WhatIf -FailOnEmpty stops with SourceMatchedNothing too, so a planned run fails in CI' {
        { Copy-RegistryImage -Source $script:Typo -Destination $script:Target -DestinationCredential $script:BasicCredential -WhatIf -FailOnEmpty -WarningAction SilentlyContinue 6>$null } |
            Should -Throw -ErrorId 'SourceMatchedNothing,*'
    }

    It 'a source that matches stays silent' {
        $output = @(Compare-RegistryParity -Source "$($script:Open)/team-a/*" -Destination $script:Target -DestinationCredential $script:BasicCredential -FailOnEmpty -WarningVariable warnings)
        $output[-1].TagsCompared | Should -BeGreaterThan 0
        $warnings | Should -BeNullOrEmpty
    }
}

Describe 'Every default table view at 80 columns' {
    BeforeDiscovery {
        $manifest = Import-PowerShellDataFile (& (Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force -PassThru) { Get-TestModuleManifest })
        $moduleBase = Split-Path (& (Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force -PassThru) { Get-TestModuleManifest })
        $script:TableViews = foreach ($file in $manifest.FormatsToProcess) {
            $xml = [xml](Get-Content -Raw (Join-Path $moduleBase $file))
            foreach ($view in $xml.Configuration.ViewDefinitions.View) {
                if ($view.TableControl) {
                    @{ TypeName = $view.ViewSelectedBy.TypeName; Labels = @($view.TableControl.TableHeaders.TableColumnHeader | ForEach-Object { $_.Label }) }
                }
            }
        }
    }

    BeforeAll {
        # Values as long as real ones: lab hosts with ports, nested repositories, full digests, real names.
        $script:Samples = @{
            Registry = '127.0.0.1:36441'; Harbor = 'https://harbor.example.com'; Repository = 'team-a/api'; SourceRepository = 'team-a/api'
            DestinationRepository = 'migrated/team-a/api'; Tag = 'v1.2.3'; Project = 'team-a'; Namespace = 'team-a'; Name = 'team-a-api'
            Workload = 'api'; Container = 'api'; UserName = 'robot$team-a+pull'; Robot = 'robot$team-a+pull'; SecretName = 'harbor-pull'
            Url = 'https://harbor.example.com'; Package = 'openssl'; Version = '3.0.11-1'; FixVersion = '3.0.13-1'; Id = 'CVE-2024-12345'
            GroupName = 'team-a-developers'; UserPrincipalName = 'ada@example.com'; DisplayName = 'Ada Lovelace'; Path = './deploy/api.yaml'
            Field = 'spec.containers[0].image'; Text = 'harbor.example.com/team-a/api:v1.2.3'; OldValue = 'myacr.azurecr.io/team-a/api:v1.2.3'
            NewValue = 'harbor.example.com/team-a/api:v1.2.3'; Reference = 'harbor.example.com/team-a/api:v1.2.3'
            Source = '127.0.0.1:36441/team-a/api:v1.2.3'; Destination = '127.0.0.1:36443/migrated/team-a/api:v1.2.3'
            DestinationReference = '127.0.0.1:36443/migrated/team-a/api:v1.2.3'; SourceRegistry = 'myacr'; NameFilter = 'team-a/**'
            TagFilter = 'v*'; DestinationNamespace = 'team-a'; AccessKey = 'harbor-sync'; HarborVersion = 'v2.12.2-73072d0d'
            ProxyCacheEndpoint = 'docker-hub'; MediaType = 'application/vnd.oci.image.index.v1+json'; Kind = 'Deployment'; WorkloadKind = 'Deployment'
            ContainerKind = 'Container'; Reason = 'new'; Detail = 'digest differs'; Message = 'created'; Status = 'Success'; State = 'Found'
            Severity = 'Critical'; ScanStatus = 'Success'; Role = 'developer'; OldRole = 'guest'; NewRole = 'developer'; Level = 'project'
            Image = 'myacr.azurecr.io/team-a/api:v1.2.3'; Error = 'robot secret refused'; ErrorId = 'RegistryPermissionDenied'
        }
        $script:ArraySamples = @{
            Platforms = 'linux/amd64', 'linux/arm64', 'linux/arm/v7'; Tags = 'v1.2.3', 'latest'; Reasons = 'Vulnerable', 'Unsigned'
            PullSecrets = 'harbor-pull', 'acr-pull'; RobotsDeleted = , 'robot$team-a+pull-1'; ServiceAccountsUpdated = 'default', 'api'
            ProjectGroups = 'team-a-developers', 'team-a-ops'; Digests = , ('sha256:' + ('0123456789abcdef' * 4))
        }
        # Harbor names a replication task's resources "repository:[tags]" (its task src_resource and dst_resource).
        $script:TypeSamples = @{
            'HarborReplicationTaskInfo.Source' = 'team-a/api:[v1.2.3]'; 'HarborReplicationTaskInfo.Destination' = 'migrated/team-a/api:[v1.2.3]'
        }
        function script:New-SampleModel([string] $TypeName) {
            $type = [type]::GetType("$TypeName, HarborOps.Models")
            if (-not $type) { $type = ([AppDomain]::CurrentDomain.GetAssemblies() | ForEach-Object { $_.GetType($TypeName) } | Where-Object { $_ })[0] }
            $object = [Activator]::CreateInstance($type)
            foreach ($property in $type.GetProperties() | Where-Object CanWrite) {
                $kind = [Nullable]::GetUnderlyingType($property.PropertyType) ?? $property.PropertyType
                $value = switch ($true) {
                    { $script:TypeSamples.ContainsKey("$($type.Name).$($property.Name)") } { $script:TypeSamples["$($type.Name).$($property.Name)"]; break }
                    { $script:Samples.ContainsKey($property.Name) -and $kind -eq [string] } { $script:Samples[$property.Name]; break }
                    { $kind -eq [string] -and $property.Name -like '*Digest' } { 'sha256:' + ('0123456789abcdef' * 4); break }
                    { $kind -eq [string] } { $property.Name.ToLowerInvariant().Substring(0, [Math]::Min(8, $property.Name.Length)); break }
                    { $kind.IsEnum } { if ($script:Samples.ContainsKey($property.Name) -and [Enum]::IsDefined($kind, $script:Samples[$property.Name])) { [Enum]::Parse($kind, $script:Samples[$property.Name]) } else { [Enum]::GetValues($kind)[0] }; break }
                    { $kind -in [int], [long] } { 12; break }
                    { $kind -eq [double] } { 42.5; break }
                    { $kind -eq [bool] } { $true; break }
                    { $kind -eq [DateTime] } { [DateTime]::new(2026, 12, 7, 6, 53, 16); break }
                    { $kind -eq [DateTimeOffset] } { [DateTimeOffset]::new(2026, 12, 7, 6, 53, 16, [TimeSpan]::Zero); break }
                    { $kind -eq [TimeSpan] } { [TimeSpan]::FromSeconds(3.5); break }
                    { $kind.IsAssignableFrom([string[]]) -and $script:ArraySamples.ContainsKey($property.Name) } { [string[]]$script:ArraySamples[$property.Name]; break }
                    { $kind.IsAssignableFrom([string[]]) } { [string[]]@('first', 'second'); break }
                    default { $null }
                }
                if ($null -ne $value) { $property.SetValue($object, ($value -as $property.PropertyType)) }
            }
            $object
        }
    }

    It '<TypeName> keeps its header on one line and its key columns whole' -ForEach $script:TableViews {
        $object = New-SampleModel $TypeName
        $text = $object, $object | Out-String -Width 80
        $header = Get-TableHeaderLine $text
        $header.Count | Should -Be 1 -Because "no label may break over lines:`n$text"
        foreach ($label in $Labels) { $header[0] | Should -Match "(^|\s)$([regex]::Escape($label))(\s|$)" -Because "the $label column fits 80 columns:`n$text" }
        $text | Should -Not -Match '…' -Because "no value is cut short:`n$text"
        foreach ($line in $text -split "`r?`n") { $line.Length | Should -BeLessOrEqual 80 }
    }
}
