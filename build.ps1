#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages HarborOps.
.DESCRIPTION
    Plain PowerShell on purpose (no psake or Invoke-Build: they are not reachable from the build machines).
    Tasks:
      Build    dotnet build, then lay out out/HarborOps/<version>/ as a publishable module (engine and its
               dependencies under Dependencies/, MAML help generated from the C# doc comments).
      Docs     Build, then copy the generated cmdlet pages (out/docs/cmdlets) to docs/cmdlets, the pages each cmdlet's
               HelpUri names (Get-Help -Online). Run it after changing a cmdlet's help and commit the result; a Pester
               test fails while docs/cmdlets differs from what the build generates.
      Test     Build, then the xunit suite, then Pester in a fresh pwsh against the built module with one lab
               (real registries) up for the run. Ends with one line "N passed, N failed". -PesterPath runs just
               the named Pester files (no xunit), for the inner loop.
      Package  Build, then out/HarborOps.<version>.nupkg, checked by installing it with PSResourceGet from a
               throwaway folder repository and importing it by name in a fresh pwsh. Not Authenticode-signed (the
               build has no code-signing certificate), and it says so.
      Publish  Package, then pushes that same .nupkg to the PSResourceGet repository -Repository names.
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
               (~2,400 tags), requests counted through a fault proxy per side. -BenchSuite shards runs the
               network-bound copy: both registries behind the fault proxy with 20 ms per request and a
               per-connection bandwidth cap; 1, 2 and 4 shards as separate processes, one Copy-RegistryImage,
               the skopeo copy loop and skopeo sync through the same proxies. Not part of Test; takes minutes.
      Clean    Removes out/ and the build output.
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Docs', 'Test', 'Package', 'Publish', 'Demo', 'Bench', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    # Corpus size of the Bench task (memory: only the 1 GiB layer).
    [ValidateSet('small', 'large', 'both', 'memory')]
    [string] $BenchSize = 'small',

    # What the Bench task measures: the copy (default), parity (the ~2,400-tag comparison), shards (the network-bound
    # sharded copy), or all of them.
    [ValidateSet('copy', 'parity', 'shards', 'all')]
    [string] $BenchSuite = 'copy',

    # The PSResourceGet repository the Publish task pushes to (registered with Register-PSResourceRepository). Its API
    # key, if the repository needs one, comes from the environment variable HARBOROPS_PUBLISH_API_KEY, never a parameter
    # (a command line ends up in logs).
    [string] $Repository,

    # Test only: run just these Pester files (paths or names under tests/pester, e.g. Views.Tests.ps1) against the
    # built module with the lab up, and skip the xunit suites. For a contributor's inner loop; CI runs everything.
    [string[]] $PesterPath
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
# The cmdlet pages the build generates, and where they live in the repository (what each cmdlet's HelpUri names).
$GeneratedCmdletPages = Join-Path $OutRoot 'docs/cmdlets'
$CmdletPages = Join-Path $RepoRoot 'docs/cmdlets'

# Assemblies that must not be in Dependencies/: the cmdlets and models load in the default context, and
# System.Management.Automation is PowerShell's own.
$DefaultContextAssemblies = @('HarborOps.dll', 'HarborOps.Models.dll', 'System.Management.Automation.dll')

. (Join-Path $RepoRoot 'tools/build/Common.ps1')
. (Join-Path $RepoRoot 'tools/build/Packaging.ps1')

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
    Copy-Item (Join-Path $RepoRoot 'LICENSE') $ModuleRoot
    # The examples the help names ship with the module, so a user of the installed package has the files it cites.
    Copy-Item (Join-Path $RepoRoot 'examples') $ModuleRoot -Recurse
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
        $command = "& '$($generator -replace "'", "''")' -ModulePath '$($BuiltManifest -replace "'", "''")' -XmlDocPath '$((Join-Path $cmdletBin 'HarborOps.xml') -replace "'", "''")' -OutputPath '$($helpXml -replace "'", "''")' -MarkdownDirectory '$($GeneratedCmdletPages -replace "'", "''")'; exit [int](-not `$?)"
        $exit = Invoke-ChildPwsh -Command $command
        if ($exit -ne 0 -or -not (Test-Path $helpXml)) { throw "tools/New-HarborOpsHelp.ps1 failed (exit $exit) or wrote no $helpXml." }
    }
    else {
        Write-Warning 'tools/New-HarborOpsHelp.ps1 is not there yet: the module is laid out without MAML help.'
    }

    Write-Host "Module laid out in $ModuleRoot"
}

function Update-CmdletPages {
    Write-Step 'Docs: docs/cmdlets from the generated cmdlet pages'
    if (-not (Test-Path $GeneratedCmdletPages)) { throw "The build wrote no cmdlet pages to $GeneratedCmdletPages." }
    if (Test-Path $CmdletPages) { Remove-Item $CmdletPages -Recurse -Force }
    Copy-Item $GeneratedCmdletPages $CmdletPages -Recurse
    Write-Host "docs/cmdlets updated; commit it with the help change."
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

    $pesterRunPaths = @(Join-Path $RepoRoot 'tests/pester')
    if ($PesterPath) {
        # From bash (pwsh -File) a list arrives as one comma-separated string.
        $pesterRunPaths = foreach ($path in ($PesterPath -split ',' | Where-Object { $_ })) {
            $candidates = @($path, (Join-Path $RepoRoot "tests/pester/$path"), (Join-Path $RepoRoot "tests/pester/$path.Tests.ps1"))
            $found = $candidates | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
            if (-not $found) { throw "No Pester file '$path' (looked for it as a path and under tests/pester); pass a file such as Views.Tests.ps1." }
            (Resolve-Path -LiteralPath $found).Path
        }
    }
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
`$configuration.Run.Path = @($(($pesterRunPaths | ForEach-Object { & $q $_ }) -join ', '))
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
        if (-not $PesterPath) {
            Invoke-XunitSuite -Project 'HarborOps.Engine.Tests' -Suite 'xunit (engine)'
            Invoke-XunitSuite -Project 'HarborOps.Lab.Tests' -Suite 'xunit (lab)'
        }
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
    if ($BenchSuite -in 'shards', 'all') {
        $shardsReport = Join-Path $OutRoot 'bench/bench-shards.md'
        $pwshArgs = Get-PwshCommand | ForEach-Object { '--pwsh'; $_ }
        Invoke-Native dotnet (@($benchDll, 'shards', '--report', $shardsReport, '--module', $BuiltManifest) + $pwshArgs)
        Write-Host "Report: $shardsReport"
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
if ($Task -contains 'Publish' -and -not $Repository) {
    throw "The Publish task needs -Repository <name of a PSResourceGet repository> (see Get-PSResourceRepository; register one with Register-PSResourceRepository)."
}
$ordered = 'Clean', 'Build', 'Docs', 'Package', 'Publish', 'Test', 'Demo', 'Bench' | Where-Object { $_ -in $Task }
$nupkg = $null
$built = $false
foreach ($step in $ordered) {
    switch ($step) {
        'Clean' { Invoke-Clean }
        default {
            if (-not $built) { Invoke-Build; $built = $true }
            switch ($step) {
                'Bench' { Invoke-Bench }
                'Docs' { Update-CmdletPages }
                'Package' { $nupkg = New-ModulePackage -ModuleRoot $ModuleRoot -OutputDirectory $OutRoot }
                'Publish' {
                    if (-not $nupkg) { $nupkg = New-ModulePackage -ModuleRoot $ModuleRoot -OutputDirectory $OutRoot }
                    Publish-ModulePackage -NupkgPath $nupkg -Repository $Repository -ApiKey $env:HARBOROPS_PUBLISH_API_KEY
                }
                'Test' { $ok = (Invoke-Test) -and $ok }
                'Demo' { Invoke-Demo }
            }
        }
    }
}
if (-not $ok) { exit 1 }
