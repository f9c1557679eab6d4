#Requires -Modules Pester
# The package as a user meets it: the manifest a gallery shows, and ./build.ps1 -Task Publish into a PSResourceGet
# repository followed by Install-PSResource and Import-Module HarborOps by name in a fresh pwsh. The packaging functions
# are the ones build.ps1 runs (tools/build/Packaging.ps1), called on the module this test run built.

BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    $script:Manifest = Get-TestModuleManifest
    $script:ModuleRoot = Split-Path $script:Manifest
    $script:Packaging = Join-Path $env:HARBOROPS_REPO_ROOT 'tools/build/Packaging.ps1'
}

Describe 'The module manifest' {
    It 'names its licence, its project and a copyright, and ships the licence it names' {
        $module = Test-ModuleManifest -Path $script:Manifest -ErrorAction Stop
        $module.LicenseUri | Should -Not -BeNullOrEmpty
        $module.ProjectUri | Should -Not -BeNullOrEmpty
        "$($module.LicenseUri)" | Should -Match '^https://.+/LICENSE$'
        $module.Copyright | Should -Not -Match 'All rights reserved'
        $module.Tags | Should -Contain 'Harbor'
        Join-Path $script:ModuleRoot 'LICENSE' | Should -Exist
        Get-Content -Raw (Join-Path $script:ModuleRoot 'LICENSE') | Should -Match 'MIT License'
    }

    It 'describes this release in its release notes, not the first one' {
        $notes = (Import-PowerShellDataFile $script:Manifest).PrivateData.PSData.ReleaseNotes
        $notes | Should -Not -Match 'the foundation'
        foreach ($cmdlet in 'Copy-RegistryImage', 'Compare-RegistryParity', 'Sync-PullSecret', 'Invoke-PullSecretRotation') {
            $notes | Should -Match $cmdlet
        }
    }
}

Describe 'Publish to a PSResourceGet repository' {
    BeforeAll {
        # Everything PSResourceGet keeps goes under this folder (registrations under XDG_DATA_HOME, CurrentUser installs
        # under HOME/.local/share, which pwsh reads only when XDG_DATA_HOME agrees), so the test leaves the user's own settings alone. The child that packs keeps the real HOME: dotnet
        # finds its NuGet cache there.
        $script:Sandbox = Join-Path ([IO.Path]::GetTempPath()) ("harborops-publish-" + [Guid]::NewGuid().ToString('n'))
        $script:Feed = Join-Path $script:Sandbox 'feed'
        $null = New-Item -ItemType Directory -Force $script:Feed
        $data = Join-Path $script:Sandbox '.local/share'
        # It must exist: .NET answers an empty LocalApplicationData for a missing folder (PSResourceGet then writes to the
        # current directory).
        $null = New-Item -ItemType Directory -Force $data
        $script:Env = @{ XDG_DATA_HOME = $data; HOME = $script:Sandbox }
        $script:PackEnv = @{ XDG_DATA_HOME = $data }
    }
    AfterAll {
        Remove-Item -LiteralPath $script:Sandbox -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'packs, publishes to a registered folder repository, and installs and imports by name in a fresh pwsh' {
        $quote = { param($s) "'" + ($s -replace "'", "''") + "'" }
        $publish = @"
`$ErrorActionPreference = 'Stop'
. $(& $quote $script:Packaging)
Register-PSResourceRepository -Name LocalFeed -Uri $(& $quote $script:Feed) -Trusted
`$nupkg = New-ModulePackage -ModuleRoot $(& $quote $script:ModuleRoot) -OutputDirectory $(& $quote (Join-Path $script:Sandbox 'out'))
Publish-ModulePackage -NupkgPath `$nupkg -Repository LocalFeed
'##RESULT##' + (@{ Published = @(Get-ChildItem $(& $quote $script:Feed) -Filter *.nupkg).Name } | ConvertTo-Json -Compress)
"@
        $result = Invoke-FreshPwsh -Script $publish -Environment $script:PackEnv -TimeoutSeconds 600
        $version = (Import-PowerShellDataFile $script:Manifest).ModuleVersion
        @($result.Published) | Should -Be @("HarborOps.$version.nupkg")

        $install = @'
$ErrorActionPreference = 'Stop'
Install-PSResource -Name HarborOps -Repository LocalFeed -Scope CurrentUser -TrustRepository -Quiet
'##RESULT##' + (@{ Installed = (Get-InstalledPSResource -Name HarborOps -Scope CurrentUser).Version.ToString() } | ConvertTo-Json -Compress)
'@
        (Invoke-FreshPwsh -Script $install -Environment $script:Env -TimeoutSeconds 300).Installed | Should -Be $version

        $import = @'
$ErrorActionPreference = 'Stop'
Import-Module HarborOps
$module = Get-Module HarborOps
'##RESULT##' + (@{ Base = $module.ModuleBase; Commands = @(Get-Command -Module HarborOps).Count } | ConvertTo-Json -Compress)
'@
        $imported = Invoke-FreshPwsh -Script $import -Environment $script:Env
        $imported.Base | Should -BeLike "$script:Sandbox*"
        $imported.Commands | Should -Be @((Import-PowerShellDataFile $script:Manifest).CmdletsToExport).Count
    }

    It 'refuses a repository that is not registered, naming it and how to register one' {
        $script = @"
. '$($script:Packaging -replace "'", "''")'
try { Publish-ModulePackage -NupkgPath '/nonexistent.nupkg' -Repository NoSuchFeed; '##RESULT##' + '{"Error":null}' }
catch { '##RESULT##' + (@{ Error = `$_.Exception.Message } | ConvertTo-Json -Compress) }
"@
        $message = (Invoke-FreshPwsh -Script $script -Environment $script:Env).Error
        $message | Should -Match "NoSuchFeed"
        $message | Should -Match 'Register-PSResourceRepository'
    }
}

Describe 'Help a user of the installed module reads' {
    BeforeAll {
        $script:HelpFiles = @(Get-ChildItem (Join-Path $script:ModuleRoot 'en-US') -File | Where-Object Name -match '\.(txt|xml)$')
        $script:About = Get-Content -Raw (Join-Path $script:ModuleRoot 'en-US/about_HarborOps.help.txt')
    }

    It 'about_HarborOps names every exported cmdlet' {
        $missing = @((Import-PowerShellDataFile $script:Manifest).CmdletsToExport | Where-Object { $script:About -notmatch "\b$([regex]::Escape($_))\b" })
        $missing | Should -BeNullOrEmpty -Because 'about_HarborOps is the map of the module by workflow'
    }

    It 'names only files the installed package has' {
        # A relative path with a file extension (examples/team-onboarding/New-HarborTeam.ps1), not a URL or a registry path.
        $pattern = '(?<![\w:/.-])(?:[A-Za-z][\w.-]*/)+[\w.-]+\.(?:ps1|psm1|psd1|ya?ml|md|txt|json)\b'
        $named = foreach ($file in $script:HelpFiles) {
            foreach ($match in [regex]::Matches((Get-Content -Raw $file.FullName), $pattern)) {
                [pscustomobject]@{ Help = $file.Name; Path = $match.Value }
            }
        }
        @($named).Count | Should -BeGreaterThan 0 -Because 'the help cites the examples it ships'
        $absent = @($named | Where-Object { -not (Test-Path -LiteralPath (Join-Path $script:ModuleRoot $_.Path)) } | ForEach-Object { "$($_.Help): $($_.Path)" })
        $absent | Should -BeNullOrEmpty
    }
}
