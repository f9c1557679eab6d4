# Packaging and publishing of the built module: a .nupkg in the layout Install-PSResource expects, proven by installing
# it the way a user does, and publishing that same file to a PSResourceGet repository. Loaded by build.ps1 (tasks Package
# and Publish) and by the Pester test that holds both to what a user meets.

. (Join-Path $PSScriptRoot 'Common.ps1')

function New-ModulePackage {
    # Writes <OutputDirectory>/HarborOps.<version>.nupkg from the laid-out module and proves it installs; returns its path.
    param([Parameter(Mandatory)] [string] $ModuleRoot, [Parameter(Mandatory)] [string] $OutputDirectory)
    $manifest = Import-PowerShellDataFile (Join-Path $ModuleRoot 'HarborOps.psd1')
    $version = $manifest.ModuleVersion
    $psData = $manifest.PrivateData.PSData
    Write-Step "Package HarborOps.$version.nupkg"
    $packDir = Join-Path $OutputDirectory 'obj/pack'
    if (Test-Path $packDir) { Remove-Item $packDir -Recurse -Force }
    $null = New-Item -ItemType Directory -Force $packDir
    $cmdlets = $manifest.CmdletsToExport
    # The tags PowerShellGet/PSResourceGet write for a module, so galleries and Find-PSResource classify it.
    $tags = @('PSModule', 'PSIncludes_Cmdlet', 'PSEdition_Core') + $psData.Tags +
        ($cmdlets | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" })
    $escape = { param($s) [Security.SecurityElement]::Escape([string]$s) }
    @"
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>HarborOps</id>
    <version>$version</version>
    <authors>$(& $escape $manifest.Author)</authors>
    <owners>$(& $escape $manifest.CompanyName)</owners>
    <description>$(& $escape $manifest.Description)</description>
    <releaseNotes>$(& $escape $psData.ReleaseNotes)</releaseNotes>
    <copyright>$(& $escape $manifest.Copyright)</copyright>
    <license type="file">LICENSE</license>
    <projectUrl>$(& $escape $psData.ProjectUri)</projectUrl>
    <tags>$(& $escape (($tags | Select-Object -Unique) -join ' '))</tags>
  </metadata>
  <files>
    <file src="**/*" target="" />
  </files>
</package>
"@ | Set-Content -LiteralPath (Join-Path $packDir 'HarborOps.nuspec') -Encoding utf8NoBOM
    # dotnet pack needs a project; this one only carries the nuspec and puts the module at the package
    # root, the layout Install-PSResource expects.
    @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
    <NuspecFile>HarborOps.nuspec</NuspecFile>
    <NuspecBasePath>$([Security.SecurityElement]::Escape($ModuleRoot))</NuspecBasePath>
    <NoBuild>true</NoBuild>
    <!-- A PowerShell module, not a library: its DLLs belong at the root, not in lib/. -->
    <NoWarn>NU5100</NoWarn>
    <IncludeBuildOutput>false</IncludeBuildOutput>
    <NoDefaultExcludes>true</NoDefaultExcludes>
    <PackageOutputPath>$([Security.SecurityElement]::Escape($OutputDirectory))</PackageOutputPath>
  </PropertyGroup>
</Project>
"@ | Set-Content -LiteralPath (Join-Path $packDir 'HarborOps.Package.csproj') -Encoding utf8NoBOM
    Invoke-Native dotnet @('restore', (Join-Path $packDir 'HarborOps.Package.csproj'), '-nologo', '-v', 'quiet')
    Invoke-Native dotnet @('pack', (Join-Path $packDir 'HarborOps.Package.csproj'), '--no-restore', '-nologo', '-v', 'quiet')
    $nupkg = Join-Path $OutputDirectory "HarborOps.$version.nupkg"
    if (-not (Test-Path $nupkg)) { throw "dotnet pack wrote no $nupkg." }

    Test-ModulePackage -NupkgPath $nupkg -ExpectedCommandCount $cmdlets.Count
    # Authenticode signing needs a code-signing certificate and Windows' signing API; this build has neither, so the
    # package is published as it is rather than with a signature that proves nothing.
    Write-Host "Package: $nupkg (installed with PSResourceGet and imported by name). Not Authenticode-signed: the build has no code-signing certificate."
    return $nupkg
}

function Test-ModulePackage {
    # Installs the package as a user does (PSResourceGet, from a throwaway folder repository) and imports it by name in a
    # fresh pwsh. The children's HOME is a temporary folder and XDG_DATA_HOME its .local/share (PSResourceGet keeps its
    # registrations under XDG_DATA_HOME but installs CurrentUser modules under HOME/.local/share, where pwsh looks only
    # if the two agree), so nothing of the caller's is touched.
    param([Parameter(Mandatory)] [string] $NupkgPath, [Parameter(Mandatory)] [int] $ExpectedCommandCount)
    $sandbox = Join-Path ([IO.Path]::GetTempPath()) ("harborops-package-" + [Guid]::NewGuid().ToString('n'))
    $feed = Join-Path $sandbox 'feed'
    $data = Join-Path $sandbox '.local/share'
    # .NET answers an empty LocalApplicationData for a folder that does not exist, and PSResourceGet then writes its
    # store relative to the current directory.
    $null = New-Item -ItemType Directory -Force $feed, $data
    try {
        Copy-Item -LiteralPath $NupkgPath $feed
        $install = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name HarborOpsPackageCheck -Uri '$($feed -replace "'", "''")' -Trusted
Install-PSResource -Name HarborOps -Repository HarborOpsPackageCheck -Scope CurrentUser -TrustRepository -Quiet
"@
        $exit = Invoke-ChildPwsh -Command $install -Environment @{ XDG_DATA_HOME = $data; HOME = $sandbox }
        if ($exit -ne 0) { throw "Install-PSResource could not install $NupkgPath (exit $exit)." }
        $import = "Import-Module HarborOps -ErrorAction Stop; if ((Get-Command -Module HarborOps).Count -ne $ExpectedCommandCount) { exit 2 }; exit 0"
        $exit = Invoke-ChildPwsh -Command $import -Environment @{ XDG_DATA_HOME = $data; HOME = $sandbox }
        if ($exit -ne 0) { throw "The installed package does not import by name with its $ExpectedCommandCount cmdlets (exit $exit)." }
    }
    finally {
        Remove-Item -LiteralPath $sandbox -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Publish-ModulePackage {
    # Pushes the package Package built and proved (not a repack of the folder) to a registered PSResourceGet repository.
    param([Parameter(Mandatory)] [string] $NupkgPath, [Parameter(Mandatory)] [string] $Repository, [string] $ApiKey)
    if (-not (Get-PSResourceRepository -Name $Repository -ErrorAction SilentlyContinue)) {
        throw "No PSResourceGet repository named '$Repository'. Register it first (Register-PSResourceRepository -Name $Repository -Uri <feed URL or folder>), then run ./build.ps1 -Task Publish -Repository $Repository."
    }
    Write-Step "Publish $(Split-Path -Leaf $NupkgPath) to $Repository"
    $publish = @{ NupkgPath = $NupkgPath; Repository = $Repository; ErrorAction = 'Stop' }
    if ($ApiKey) { $publish.ApiKey = $ApiKey }
    Publish-PSResource @publish
    Write-Host "Published: $(Split-Path -Leaf $NupkgPath) to $Repository"
}
