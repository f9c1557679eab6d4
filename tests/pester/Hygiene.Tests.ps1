# The module as a user meets it: help, names, ShouldProcess, secrets. Replaces PSScriptAnalyzer, which the
# build machines cannot install.
BeforeDiscovery {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    $manifest = Import-PowerShellDataFile (Get-TestModuleManifest)
    $cmdletCases = $manifest.CmdletsToExport | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:CommonParameters = [Management.Automation.PSCmdlet]::CommonParameters + [Management.Automation.PSCmdlet]::OptionalCommonParameters
    $script:MutatingVerbs = 'Set', 'New', 'Remove', 'Copy', 'Sync', 'Reset', 'Update', 'Invoke', 'Restart', 'Add', 'Start', 'Stop', 'Connect', 'Disconnect',
        'Clear', 'Grant', 'Revoke', 'Register', 'Unregister', 'Import', 'Publish', 'Move', 'Rename', 'Enable', 'Disable'
    $script:ModuleBase = (Get-Module HarborOps).ModuleBase
    $script:AboutErrors = Get-Content -Raw (Join-Path $script:ModuleBase 'en-US/about_HarborOps_Errors.help.txt')
    $repoRoot = $env:HARBOROPS_REPO_ROOT
    if (-not $repoRoot) { $repoRoot = (Resolve-Path "$PSScriptRoot/../..").Path }
    $script:CommandSources = Get-ChildItem (Join-Path $repoRoot 'src/HarborOps/Commands') -Filter *.cs
}

Describe 'The module manifest' {
    It 'exports exactly the cmdlets the module defines, and nothing else' {
        $manifest = Import-PowerShellDataFile (Get-TestModuleManifest)
        $exported = (Get-Command -Module HarborOps).Name | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
        $manifest.FunctionsToExport | Should -BeNullOrEmpty
        $manifest.AliasesToExport | Should -BeNullOrEmpty
        $manifest.VariablesToExport | Should -BeNullOrEmpty
        $manifest.CmdletsToExport | Should -Not -Contain '*'
    }

    It 'targets PowerShell 7.4+ Core only and loads no assembly before its own' {
        $manifest = Import-PowerShellDataFile (Get-TestModuleManifest)
        $manifest.CompatiblePSEditions | Should -Be @('Core')
        $manifest.PowerShellVersion | Should -Be '7.4'
        $manifest.ContainsKey('RequiredAssemblies') | Should -BeFalse -Because 'assemblies listed there load before the load-context hook exists'
        $manifest.ContainsKey('NestedModules') | Should -BeFalse
        Test-ModuleManifest (Get-TestModuleManifest) | Should -Not -BeNullOrEmpty
    }

    It 'ships the about topics' {
        (Get-Help about_HarborOps | Out-String) | Should -Match 'Get-RegistryTag'
        (Get-Help about_HarborOps_Errors | Out-String) | Should -Match 'RegistryReferenceInvalid'
    }
}

Describe '<Name>' -ForEach $cmdletCases {
    BeforeAll {
        $script:Command = Get-Command $Name -Module HarborOps
        $script:Help = Get-Help $Name -Full
        $script:Parameters = $script:Command.Parameters.Values | Where-Object Name -NotIn $script:CommonParameters
    }

    It 'uses an approved verb' {
        $script:Command.Verb | Should -BeIn (Get-Verb).Verb
    }

    It 'has a singular noun' {
        $lastWord = ($script:Command.Noun -csplit '(?=[A-Z])' | Where-Object { $_ })[-1]
        $lastWord | Should -Not -Match '[^su]s$' -Because "nouns are singular ('$($script:Command.Noun)')"
    }

    It 'declares [OutputType]' {
        $script:Command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'supports -WhatIf/-Confirm when its verb changes something' {
        if ($script:Command.Verb -in $script:MutatingVerbs) {
            $script:Command.Parameters.Keys | Should -Contain 'WhatIf'
            $script:Command.Parameters.Keys | Should -Contain 'Confirm'
        }
        else {
            $script:Command.Verb | Should -BeIn 'Get', 'Test', 'Find', 'Search', 'Show', 'Compare', 'Measure', 'Resolve', 'Wait', 'Watch', 'Read'
        }
    }

    It 'takes no secret as a plain string' {
        $plain = $script:Parameters | Where-Object {
            # -SecretName names a Kubernetes Secret object; it is not a secret value.
            $_.Name -match 'Password|Secret|Token|ApiKey' -and $_.Name -notmatch 'Name$' -and ($_.ParameterType -eq [string] -or $_.ParameterType -eq [string[]])
        }
        $plain.Name | Should -BeNullOrEmpty -Because 'secrets arrive as PSCredential or SecureString'
    }

    It 'has a synopsis' {
        $synopsis = "$($script:Help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        # Without MAML, PowerShell makes the synopsis up from the syntax.
        $synopsis | Should -Not -BeLike "$Name *"
        $synopsis | Should -Not -Be $Name
    }

    It 'has a description' {
        ($script:Help.description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has help for every parameter' {
        foreach ($parameter in $script:Parameters) {
            $parameterHelp = $script:Help.parameters.parameter | Where-Object Name -EQ $parameter.Name
            ($parameterHelp.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs a description"
        }
    }

    It 'has at least one example with code and an explanation' {
        $examples = @($script:Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 1
        foreach ($example in $examples) {
            "$($example.code)".Trim() | Should -Match $Name
            ($example.remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'documents in about_HarborOps_Errors every error id its help names, and its help names them' {
        $className = ($Name -replace '-', '') + 'Command'
        $source = $script:CommandSources | Where-Object { (Get-Content -Raw $_.FullName) -match "class $className\b" }
        $source | Should -Not -BeNullOrEmpty -Because "the source of $Name declares its error ids"
        $ids = [regex]::Matches((Get-Content -Raw $source.FullName), '<error id="(?<id>[A-Za-z]+)"') | ForEach-Object { $_.Groups['id'].Value }
        $ids | Should -Not -BeNullOrEmpty
        $helpText = $script:Help | Out-String -Width 400
        foreach ($id in $ids) {
            $script:AboutErrors | Should -Match "\b$id\b" -Because "$id is named by $Name"
            $helpText | Should -Match "\b$id\b" -Because "Get-Help $Name should list $id"
        }
    }
}
