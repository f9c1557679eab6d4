#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages HarborOps.
.DESCRIPTION
    Plain PowerShell on purpose (no psake or Invoke-Build: they are not reachable from the build machines).
    Tasks:
      Build    dotnet build, then lay out out/HarborOps/<version>/ as a publishable module (engine and its
               dependencies under Dependencies/, MAML help generated from the C# doc comments).
      Test     Build, then the xunit suite, then Pester in a fresh pwsh against the built module with one lab
               (real registries) up for the run. Ends with one line "N passed, N failed".
      Package  Build, then out/HarborOps.<version>.nupkg, checked by extracting and importing it.
      Demo     Build, bring the lab up, seed a realistic corpus (shared base layers, multi-arch indexes,
               signatures, SBOMs, nested paths), copy it with Copy-RegistryImage into the Basic-auth registry
               under migrated/, print the summary and a few destination tags, then a parity report
               (Compare-RegistryParity), one deliberately deleted tag found and repaired through the pipeline
               into Copy-RegistryImage, a clean report again, and stop the lab.
      Bench    Build, then the copy benchmark (bench/HarborOps.Bench, Release): skopeo copy loop, skopeo sync, a
               raw blob floor, Copy-RegistryImage (the built module in a fresh pwsh) and the engine alone on fresh
               registries, plus a 1 GiB layer for memory. -BenchSize small (~500
               tags, default), large (~2,400) or both. -BenchSuite parity runs the parity benchmark instead:
               Compare-RegistryParity's engine against a `skopeo inspect --raw` loop on the large corpus shape
               (~2,400 tags), requests counted through a fault proxy per side. Not part of Test; takes minutes.
      Clean    Removes out/ and the build output.
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Demo', 'Bench', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    # Corpus size of the Bench task (memory: only the 1 GiB layer).
    [ValidateSet('small', 'large', 'both', 'memory')]
    [string] $BenchSize = 'small',

    # What the Bench task measures: the copy (default), parity (the ~2,400-tag comparison), or both.
    [ValidateSet('copy', 'parity', 'all')]
    [string] $BenchSuite = 'copy'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$RepoRoot = $PSScriptRoot
$OutRoot = Join-Path $RepoRoot 'out'
$Manifest = Import-PowerShellDataFile (Join-Path $RepoRoot 'HarborOps.psd1')
$Version = $Manifest.ModuleVersion
$ModuleRoot = Join-Path $OutRoot "HarborOps/$Version"
$BuiltManifest = Join-Path $ModuleRoot 'HarborOps.psd1'
$TestResults = Join-Path $OutRoot 'test-results'
$LabDll = Join-Path $RepoRoot "tests/HarborOps.Lab/bin/$Configuration/net10.0/HarborOps.Lab.dll"
$ToolPackages = Join-Path $RepoRoot '.tools/packages'

# Assemblies that must not be in Dependencies/: the cmdlets and models load in the default context, and
# System.Management.Automation is PowerShell's own.
$DefaultContextAssemblies = @('HarborOps.dll', 'HarborOps.Models.dll', 'System.Management.Automation.dll')

function Write-Step([string] $Text) { Write-Host "==> $Text" -ForegroundColor Cyan }

function Invoke-Native {
    # Runs a native command and stops the build when it fails (PowerShell does not, by default).
    param([Parameter(Mandatory)] [string] $FilePath, [string[]] $ArgumentList = @())
    & $FilePath @ArgumentList | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Get-PwshCommand {
    # The pwsh running this script, so a child gets the same version: under `dotnet pwsh` the process is
    # dotnet and pwsh.dll must be passed to it.
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') {
        return @($process, (Join-Path $PSHOME 'pwsh.dll'))
    }
    return @($process)
}

function Invoke-ChildPwsh {
    # A fresh process: a binary module cannot be unloaded, and the load-context tests need a clean default context.
    param([Parameter(Mandatory)] [string] $Command, [hashtable] $Environment = @{})
    $pwsh = Get-PwshCommand
    $saved = @{}
    foreach ($name in $Environment.Keys) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $Environment[$name])
    }
    try {
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Command))
        $pwshArgs = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)
        & $pwsh[0] @pwshArgs | Out-Host
        return $LASTEXITCODE
    }
    finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
}

function Invoke-Clean {
    Write-Step 'Clean'
    if (Test-Path $OutRoot) { Remove-Item $OutRoot -Recurse -Force }
    Invoke-Native dotnet @('clean', (Join-Path $RepoRoot 'HarborOps.sln'), '-c', $Configuration, '-v', 'quiet', '-nologo')
}

function Invoke-Build {
    Write-Step "Build ($Configuration) HarborOps $Version"
    $propsVersion = ([xml](Get-Content -Raw (Join-Path $RepoRoot 'Directory.Build.props'))).Project.PropertyGroup.HarborOpsVersion | Where-Object { $_ } | Select-Object -First 1
    if ($propsVersion -ne $Version) {
        throw "HarborOps.psd1 says ModuleVersion $Version but Directory.Build.props says HarborOpsVersion $propsVersion; make them equal."
    }

    # -m:2: the build machines have two cores and other builds may share them.
    Invoke-Native dotnet @('build', (Join-Path $RepoRoot 'HarborOps.sln'), '-c', $Configuration, '-nologo', '-v', 'minimal', '-m:2')

    if ($Task -contains 'Build' -or $Task -contains 'Test') {
        # The house style (.editorconfig): a contributor's build and CI fail on what review would otherwise argue about.
        # The demo and the benchmark do not check it, so a user's local edit never stands between them and a run.
        Write-Step 'Code style: dotnet format --verify-no-changes'
        & dotnet format (Join-Path $RepoRoot 'HarborOps.sln') --verify-no-changes --no-restore -v quiet | Out-Host
        if ($LASTEXITCODE -ne 0) {
            throw "The code does not follow .editorconfig (dotnet format exited $LASTEXITCODE, listing each place above). Run 'dotnet format HarborOps.sln' and commit what it changes."
        }
    }

    $publishDir = Join-Path $OutRoot "obj/engine-publish"
    if (Test-Path $publishDir) { Remove-Item $publishDir -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $RepoRoot 'src/HarborOps.Engine/HarborOps.Engine.csproj'), '-c', $Configuration, '--no-build', '-o', $publishDir, '-nologo', '-v', 'quiet')

    if (Test-Path $ModuleRoot) { Remove-Item $ModuleRoot -Recurse -Force }
    $dependencies = Join-Path $ModuleRoot 'Dependencies'
    $helpDir = Join-Path $ModuleRoot 'en-US'
    $null = New-Item -ItemType Directory -Force -Path $ModuleRoot, $dependencies, $helpDir

    $cmdletBin = Join-Path $RepoRoot "src/HarborOps/bin/$Configuration/net8.0"
    Copy-Item (Join-Path $RepoRoot 'HarborOps.psd1') $ModuleRoot
    foreach ($file in 'HarborOps.dll', 'HarborOps.pdb', 'HarborOps.Models.dll', 'HarborOps.Models.pdb') {
        Copy-Item (Join-Path $cmdletBin $file) $ModuleRoot
    }
    Get-ChildItem (Join-Path $RepoRoot 'module') -File | ForEach-Object {
        if ($_.Name -like 'about_*.help.txt') { Copy-Item $_.FullName $helpDir } else { Copy-Item $_.FullName $ModuleRoot }
    }

    # The engine and everything it needs, except what must come from the default context.
    Get-ChildItem $publishDir -Recurse -File |
        Where-Object { $_.Name -notin $DefaultContextAssemblies -and $_.Name -notlike 'HarborOps.Models.*' -and $_.Extension -ne '.xml' } |
        ForEach-Object {
            $relative = [IO.Path]::GetRelativePath($publishDir, $_.FullName)
            $target = Join-Path $dependencies $relative
            $null = New-Item -ItemType Directory -Force -Path (Split-Path $target)
            Copy-Item $_.FullName $target
        }
    foreach ($required in 'HarborOps.Engine.dll', 'Azure.Core.dll', 'Azure.Identity.dll') {
        if (-not (Test-Path (Join-Path $dependencies $required))) { throw "Layout is missing Dependencies/$required." }
    }
    foreach ($forbidden in $DefaultContextAssemblies) {
        if (Test-Path (Join-Path $dependencies $forbidden)) { throw "Dependencies/ must not contain ${forbidden}: it has to load in the default context." }
    }

    $generator = Join-Path $RepoRoot 'tools/New-HarborOpsHelp.ps1'
    $helpXml = Join-Path $helpDir 'HarborOps.dll-Help.xml'
    if (Test-Path $generator) {
        Write-Step 'Help (MAML from the C# doc comments)'
        # In a child process so the built HarborOps.dll is never loaded (and locked) in this one.
        $command = "& '$($generator -replace "'", "''")' -ModulePath '$($BuiltManifest -replace "'", "''")' -XmlDocPath '$((Join-Path $cmdletBin 'HarborOps.xml') -replace "'", "''")' -OutputPath '$($helpXml -replace "'", "''")'; exit [int](-not `$?)"
        $exit = Invoke-ChildPwsh -Command $command
        if ($exit -ne 0 -or -not (Test-Path $helpXml)) { throw "tools/New-HarborOpsHelp.ps1 failed (exit $exit) or wrote no $helpXml." }
    }
    else {
        Write-Warning 'tools/New-HarborOpsHelp.ps1 is not there yet: the module is laid out without MAML help.'
    }

    Write-Host "Module laid out in $ModuleRoot"
}

function Start-Lab {
    # One lab (real registries, token service, fault proxy) for the whole Pester run or the demo.
    param([Parameter(Mandatory)] [string] $EndpointsFile)
    if (-not (Test-Path $LabDll)) { throw "The lab host is not built ($LabDll); run the Build task." }
    if (Test-Path $EndpointsFile) { Remove-Item $EndpointsFile -Force }
    $startInfo = [Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($argument in $LabDll, 'up', '--endpoints', $EndpointsFile, '--seed', 'demo') { $startInfo.ArgumentList.Add($argument) }
    # The lab stops when its stdin closes, so it cannot outlive this script even if the script is killed.
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.UseShellExecute = $false
    $logFile = [IO.Path]::ChangeExtension($EndpointsFile, '.log')
    $errorLogFile = [IO.Path]::ChangeExtension($EndpointsFile, '.stderr.log')
    $process = [Diagnostics.Process]::Start($startInfo)
    # Plain stream copies (no script-block event handlers: those would run on threads without a runspace).
    $outLog = [IO.File]::Create($logFile)
    $errLog = [IO.File]::Create($errorLogFile)
    $copies = @($process.StandardOutput.BaseStream.CopyToAsync($outLog), $process.StandardError.BaseStream.CopyToAsync($errLog))
    $deadline = [DateTime]::UtcNow.AddSeconds(120)
    while (-not (Test-Path $EndpointsFile)) {
        if ($process.HasExited) {
            Start-Sleep -Milliseconds 200
            throw "The lab host exited with code $($process.ExitCode) before it was ready. Its output:`n$(Get-LabOutput $logFile $errorLogFile)"
        }
        if ([DateTime]::UtcNow -gt $deadline) {
            $process.Kill($true)
            throw "The lab host was not ready within 120 s. Its output:`n$(Get-LabOutput $logFile $errorLogFile)"
        }
        Start-Sleep -Milliseconds 200
    }
    [pscustomobject]@{ Process = $process; Logs = @($outLog, $errLog); Copies = $copies; LogFile = $logFile; EndpointsFile = $EndpointsFile }
}

function Get-LabOutput([string] $LogFile, [string] $ErrorLogFile) {
    # The files are still open for writing: read them shared.
    foreach ($path in $LogFile, $ErrorLogFile) {
        $stream = [IO.FileStream]::new($path, 'Open', 'Read', 'ReadWrite')
        try { [IO.StreamReader]::new($stream).ReadToEnd() } finally { $stream.Dispose() }
    }
}

function Stop-Lab($Lab) {
    if ($null -eq $Lab) { return }
    try { $Lab.Process.StandardInput.Close() } catch { }
    if (-not $Lab.Process.WaitForExit(15000)) {
        Write-Warning 'The lab host did not stop within 15 s of its stdin closing; killing it.'
        $Lab.Process.Kill($true)
        $null = $Lab.Process.WaitForExit(5000)
    }
    $null = [Threading.Tasks.Task]::WaitAll($Lab.Copies, 5000)
    $Lab.Logs | ForEach-Object Dispose
}

function Get-TrxCounts([string] $TrxPath) {
    $trx = [xml](Get-Content -Raw $TrxPath)
    $counters = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{
        Passed  = [int]$counters.passed
        Failed  = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        Skipped = [int]$counters.notExecuted
    }
}

function Invoke-XunitSuite([string] $Project, [string] $Suite) {
    Write-Step "xunit: tests/$Project"
    $trxName = "$Project.trx"
    $trxPath = Join-Path $TestResults $trxName
    if (Test-Path $trxPath) { Remove-Item $trxPath -Force }
    & dotnet test (Join-Path $RepoRoot "tests/$Project/$Project.csproj") -c $Configuration --no-build -nologo `
        --logger "trx;LogFileName=$trxName" --logger 'console;verbosity=normal' --results-directory $TestResults | Out-Host
    $exit = $LASTEXITCODE
    if (-not (Test-Path $trxPath)) {
        # No results at all (build or host crash): count it as a failure rather than as nothing.
        return [pscustomobject]@{ Suite = $Suite; Passed = 0; Failed = 1; Skipped = 0; Note = "dotnet test exited $exit without results" }
    }
    $counts = Get-TrxCounts $trxPath
    if ($exit -ne 0 -and $counts.Failed -eq 0) { $counts.Failed = 1 }
    [pscustomobject]@{ Suite = $Suite; Passed = $counts.Passed; Failed = $counts.Failed; Skipped = $counts.Skipped; Note = '' }
}

function Invoke-PesterSuite {
    Write-Step 'Pester: tests/pester against the built module, in a fresh pwsh'
    Invoke-Native dotnet @('restore', (Join-Path $RepoRoot 'tools/restore/Restore.csproj'), '--packages', $ToolPackages, '-nologo', '-v', 'quiet')
    $pesterManifest = Join-Path $ToolPackages 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $pesterManifest)) { throw "Pester 6.2.0 was not restored to $pesterManifest." }

    $null = New-Item -ItemType Directory -Force $TestResults
    $summaryFile = Join-Path $TestResults 'pester-summary.json'
    if (Test-Path $summaryFile) { Remove-Item $summaryFile -Force }
    $lab = $null
    try {
        $lab = Start-Lab -EndpointsFile (Join-Path $TestResults 'lab-endpoints.json')
        $q = { param($s) "'" + ($s -replace "'", "''") + "'" }
        $command = @"
`$ErrorActionPreference = 'Stop'
Import-Module $(& $q $pesterManifest) -RequiredVersion 6.2.0
`$configuration = New-PesterConfiguration
`$configuration.Run.Path = $(& $q (Join-Path $RepoRoot 'tests/pester'))
`$configuration.Run.PassThru = `$true
`$configuration.Output.Verbosity = 'Detailed'
`$configuration.TestResult.Enabled = `$true
`$configuration.TestResult.OutputFormat = 'NUnitXml'
`$configuration.TestResult.OutputPath = $(& $q (Join-Path $TestResults 'pester.xml'))
`$result = Invoke-Pester -Configuration `$configuration
[ordered]@{
    Passed = `$result.PassedCount
    Failed = `$result.FailedCount + `$result.FailedBlocksCount + `$result.FailedContainersCount
    Skipped = `$result.SkippedCount + `$result.NotRunCount
} | ConvertTo-Json | Set-Content -LiteralPath $(& $q $summaryFile)
"@
        # The lab's Graph emulator speaks TLS from a lab CA (Azure.Identity insists on an https authority); the module
        # trusts it the way any .NET process on Linux trusts a CA, through OpenSSL's SSL_CERT_FILE (read at process start).
        $caBundle = (Get-Content -Raw $lab.EndpointsFile | ConvertFrom-Json).graph.caBundle
        $exit = Invoke-ChildPwsh -Command $command -Environment @{
            HARBOROPS_MODULE_MANIFEST = $BuiltManifest
            HARBOROPS_LAB_ENDPOINTS   = $lab.EndpointsFile
            HARBOROPS_REPO_ROOT       = $RepoRoot
            SSL_CERT_FILE             = $caBundle
        }
    }
    finally {
        Stop-Lab $lab
    }
    if (-not (Test-Path $summaryFile)) {
        return [pscustomobject]@{ Suite = 'Pester'; Passed = 0; Failed = 1; Skipped = 0; Note = "Pester exited $exit without a summary" }
    }
    $summary = Get-Content -Raw $summaryFile | ConvertFrom-Json
    [pscustomobject]@{ Suite = 'Pester'; Passed = [int]$summary.Passed; Failed = [int]$summary.Failed; Skipped = [int]$summary.Skipped; Note = '' }
}

function Invoke-Test {
    $null = New-Item -ItemType Directory -Force $TestResults
    $suites = @(
        Invoke-XunitSuite -Project 'HarborOps.Engine.Tests' -Suite 'xunit (engine)'
        Invoke-XunitSuite -Project 'HarborOps.Lab.Tests' -Suite 'xunit (lab)'
        Invoke-PesterSuite
    )
    Write-Host ''
    foreach ($suite in $suites) {
        $line = '{0,-15} {1} passed, {2} failed, {3} skipped' -f $suite.Suite, $suite.Passed, $suite.Failed, $suite.Skipped
        if ($suite.Note) { $line += " ($($suite.Note))" }
        Write-Host $line
    }
    $passed = ($suites | Measure-Object Passed -Sum).Sum
    $failed = ($suites | Measure-Object Failed -Sum).Sum
    $skipped = ($suites | Measure-Object Skipped -Sum).Sum
    $final = "$passed passed, $failed failed"
    if ($skipped -gt 0) { $final += ", $skipped skipped" }
    Write-Host $final
    return $failed -eq 0
}

function Invoke-Package {
    Write-Step "Package HarborOps.$Version.nupkg"
    $packDir = Join-Path $OutRoot 'obj/pack'
    if (Test-Path $packDir) { Remove-Item $packDir -Recurse -Force }
    $null = New-Item -ItemType Directory -Force $packDir
    $cmdlets = $Manifest.CmdletsToExport
    # The tags PowerShellGet/PSResourceGet write for a module, so galleries and Find-PSResource classify it.
    $tags = @('PSModule', 'PSIncludes_Cmdlet', 'PSEdition_Core') + $Manifest.PrivateData.PSData.Tags +
        ($cmdlets | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" })
    $escape = { param($s) [Security.SecurityElement]::Escape([string]$s) }
    @"
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>HarborOps</id>
    <version>$Version</version>
    <authors>$(& $escape $Manifest.Author)</authors>
    <owners>$(& $escape $Manifest.CompanyName)</owners>
    <description>$(& $escape $Manifest.Description)</description>
    <releaseNotes>$(& $escape $Manifest.PrivateData.PSData.ReleaseNotes)</releaseNotes>
    <copyright>$(& $escape $Manifest.Copyright)</copyright>
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
    <PackageOutputPath>$([Security.SecurityElement]::Escape($OutRoot))</PackageOutputPath>
  </PropertyGroup>
</Project>
"@ | Set-Content -LiteralPath (Join-Path $packDir 'HarborOps.Package.csproj') -Encoding utf8NoBOM
    Invoke-Native dotnet @('restore', (Join-Path $packDir 'HarborOps.Package.csproj'), '-nologo', '-v', 'quiet')
    Invoke-Native dotnet @('pack', (Join-Path $packDir 'HarborOps.Package.csproj'), '--no-restore', '-nologo', '-v', 'quiet')
    $nupkg = Join-Path $OutRoot "HarborOps.$Version.nupkg"
    if (-not (Test-Path $nupkg)) { throw "dotnet pack wrote no $nupkg." }

    # Prove it installs: extract it as Install-PSResource would, then import the extracted module in a fresh pwsh.
    $check = Join-Path $OutRoot "obj/pack-check/HarborOps/$Version"
    if (Test-Path (Split-Path $check)) { Remove-Item (Split-Path $check) -Recurse -Force }
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    [IO.Compression.ZipFile]::ExtractToDirectory($nupkg, $check)
    foreach ($entry in '[Content_Types].xml', 'HarborOps.nuspec', 'HarborOps.psd1', 'HarborOps.dll', 'Dependencies/HarborOps.Engine.dll') {
        if (-not (Test-Path -LiteralPath (Join-Path $check $entry))) { throw "The package lacks $entry." }
    }
    $manifestPath = (Join-Path $check 'HarborOps.psd1') -replace "'", "''"
    $exit = Invoke-ChildPwsh -Command "Import-Module '$manifestPath' -ErrorAction Stop; if ((Get-Command -Module HarborOps).Count -ne $($cmdlets.Count)) { exit 2 }; exit 0"
    if ($exit -ne 0) { throw "The extracted package does not import cleanly (exit $exit)." }
    Write-Host "Package: $nupkg (extracted and imported)"
}

function Invoke-Demo {
    Write-Step 'Demo: migrate a realistic corpus with Copy-RegistryImage, then prove and repair parity with Compare-RegistryParity'
    Invoke-Native dotnet @('build', (Join-Path $RepoRoot 'bench/HarborOps.Bench/HarborOps.Bench.csproj'), '-c', $Configuration, '-nologo', '-v', 'quiet', '-m:2')
    $benchDll = Join-Path $RepoRoot "bench/HarborOps.Bench/bin/$Configuration/net10.0/HarborOps.Bench.dll"
    $null = New-Item -ItemType Directory -Force (Join-Path $OutRoot 'demo')
    $lab = $null
    try {
        $lab = Start-Lab -EndpointsFile (Join-Path $OutRoot 'demo/lab-endpoints.json')
        $endpoints = Get-Content -Raw $lab.EndpointsFile | ConvertFrom-Json
        $source = $endpoints.registries.open.host
        $destination = $endpoints.registries.basic
        Write-Host "Seeding $source with the demo corpus (repositories sharing base layers, multi-arch, signed, with SBOMs)..."
        Invoke-Native dotnet @($benchDll, 'seed', '--registry', $source, '--size', 'demo', '--root', 'corp')
        $q = { param($s) "'" + ($s -replace "'", "''") + "'" }
        $command = @"
Import-Module $(& $q $BuiltManifest) -ErrorAction Stop
`$harbor = [pscredential]::new($(& $q $destination.username), (ConvertTo-SecureString $(& $q $destination.password) -AsPlainText -Force))
Write-Host 'PS> Copy-RegistryImage -Source $source/corp/* -Destination $($destination.host)/migrated -StripPrefixSegments 1 -DestinationCredential `$harbor' -ForegroundColor Yellow
Copy-RegistryImage -Source '$source/corp/*' -Destination '$($destination.host)/migrated' -StripPrefixSegments 1 -DestinationCredential `$harbor |
    Tee-Object -Variable output | Out-Host
Write-Host 'A few destination tags:' -ForegroundColor Yellow
Get-RegistryRepository -Registry '$($destination.host)' -Prefix migrated -Credential `$harbor | Select-Object -First 2 |
    Get-RegistryTag -Credential `$harbor -IncludeReferrers | Where-Object Tag -NotLike 'sha256-*' | Out-Host
Write-Host 'Again, with nothing changed:' -ForegroundColor Yellow
Copy-RegistryImage -Source '$source/corp/*' -Destination '$($destination.host)/migrated' -StripPrefixSegments 1 -DestinationCredential `$harbor |
    Where-Object { `$_ -is [HarborOps.Models.CopySummary] } | Out-Host
if (@(`$output | Where-Object { `$_ -is [HarborOps.Models.CopySummary] -and `$_.Failed -gt 0 }).Count) { exit 1 }

# Parity: the dual-registry period. The destination is listed and HEADed only (a GET would count as a pull on Harbor).
`$parity = @{ Source = '$source/corp/*'; Destination = '$($destination.host)/migrated'; StripPrefixSegments = 1; DestinationCredential = `$harbor; IncludeReferrers = `$true }
Write-Host 'PS> Compare-RegistryParity -Source $source/corp/* -Destination $($destination.host)/migrated -StripPrefixSegments 1 -DestinationCredential `$harbor -IncludeReferrers' -ForegroundColor Yellow
`$report = @(Compare-RegistryParity @parity)
`$report | Out-Host
if (`$report[-1].Differences -ne 0) { Write-Host 'The destination differs right after the copy.' -ForegroundColor Red; exit 1 }

`$victim = Get-RegistryRepository -Registry '$($destination.host)' -Prefix migrated -Credential `$harbor | Select-Object -First 1 |
    Get-RegistryTag -Credential `$harbor | Where-Object Tag -NotLike 'sha256-*' | Group-Object Digest | Where-Object Count -EQ 1 | Select-Object -First 1 -ExpandProperty Group
Write-Host "A deliberate difference: deleting `$(`$victim.Reference) at the destination." -ForegroundColor Yellow
`$registryUri = 'http://$($destination.host)/v2/' + `$victim.Repository + '/manifests/' + `$victim.Digest
`$null = Invoke-WebRequest -Method Delete -Uri `$registryUri -Authentication Basic -Credential `$harbor -AllowUnencryptedAuthentication
Write-Host 'PS> Compare-RegistryParity ... | Where-Object Kind -ne ExtraAtDestination | Copy-RegistryImage -DestinationCredential `$harbor' -ForegroundColor Yellow
`$found = @(Compare-RegistryParity @parity)
`$found | Out-Host
`$repair = @(`$found | Where-Object Kind -ne ExtraAtDestination | Copy-RegistryImage -DestinationCredential `$harbor)
`$repair | Out-Host
Write-Host 'PS> Compare-RegistryParity ... (again)' -ForegroundColor Yellow
`$final = @(Compare-RegistryParity @parity)
`$final | Out-Host
if (`$found[-1].MissingAtDestination -ne 1 -or `$found[-1].Differences -ne 1 -or `$final[-1].Differences -ne 0) { Write-Host 'Parity did not find and repair the deleted tag.' -ForegroundColor Red; exit 1 }
"@
        $exit = Invoke-ChildPwsh -Command $command
        if ($exit -ne 0) { throw "The demo failed (exit $exit)." }
    }
    finally {
        Stop-Lab $lab
    }
}

function Invoke-Bench {
    Write-Step "Bench ($BenchSuite): copy on the $BenchSize corpus (skopeo loop, skopeo sync, raw floor, HarborOps) and/or parity (HarborOps vs a skopeo inspect loop)"
    Invoke-Native dotnet @('build', (Join-Path $RepoRoot 'bench/HarborOps.Bench/HarborOps.Bench.csproj'), '-c', 'Release', '-nologo', '-v', 'quiet', '-m:2')
    $null = New-Item -ItemType Directory -Force (Join-Path $OutRoot 'bench')
    $report = Join-Path $OutRoot "bench/bench-$BenchSize.md"
    $benchDll = Join-Path $RepoRoot 'bench/HarborOps.Bench/bin/Release/net10.0/HarborOps.Bench.dll'
    if ($BenchSuite -in 'copy', 'all') {
        # Copy-RegistryImage runs as users call it: the built module imported into a fresh pwsh of this version.
        $pwshArgs = Get-PwshCommand | ForEach-Object { '--pwsh'; $_ }
        Invoke-Native dotnet (@($benchDll, 'run', '--size', $BenchSize, '--report', $report, '--module', $BuiltManifest) + $pwshArgs)
        Write-Host "Report: $report"
    }
    if ($BenchSuite -in 'parity', 'all') {
        $parityReport = Join-Path $OutRoot 'bench/bench-parity.md'
        Invoke-Native dotnet @($benchDll, 'parity', '--size', 'large', '--report', $parityReport)
        Write-Host "Report: $parityReport"
        $harborParityReport = Join-Path $OutRoot 'bench/bench-parity-harbor.md'
        Invoke-Native dotnet @($benchDll, 'parity', '--harbor', '--size', 'large', '--report', $harborParityReport)
        Write-Host "Report: $harborParityReport"
    }
}

$ok = $true
$ordered = 'Clean', 'Build', 'Package', 'Test', 'Demo', 'Bench' | Where-Object { $_ -in $Task }
$built = $false
foreach ($step in $ordered) {
    switch ($step) {
        'Clean' { Invoke-Clean }
        default {
            if (-not $built) { Invoke-Build; $built = $true }
            switch ($step) {
                'Bench' { Invoke-Bench }
                'Package' { Invoke-Package }
                'Test' { $ok = (Invoke-Test) -and $ok }
                'Demo' { Invoke-Demo }
            }
        }
    }
}
if (-not $ok) { exit 1 }
