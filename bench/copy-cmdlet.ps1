<#
    The benchmark's Copy-RegistryImage run, as a user calls it: a fresh pwsh imports the built module and copies.
    Timed from before Import-Module to the summary (pwsh's own start-up, which every PowerShell tool pays, is not
    HarborOps'; the bench prints the whole process's wall time next to it). Prints one JSON line.
#>
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string[]] $Source,
    [Parameter(Mandatory)] [string] $Destination,
    [int] $ThrottleLimit = 8
)
$ErrorActionPreference = 'Stop'
$clock = [Diagnostics.Stopwatch]::StartNew()
Import-Module $Module
$importSeconds = $clock.Elapsed.TotalSeconds
$results = Copy-RegistryImage -Source $Source -Destination $Destination -ThrottleLimit $ThrottleLimit -ProgressAction SilentlyContinue
$elapsed = $clock.Elapsed.TotalSeconds
$summary = $results | Where-Object { $_ -is [HarborOps.Models.CopySummary] } | Select-Object -Last 1
$peak = (Get-Content /proc/self/status | Where-Object { $_ -like 'VmHWM:*' }) -replace '\D', ''
[ordered]@{
    seconds = $elapsed
    importSeconds = $importSeconds
    tags = $summary.Tags
    failed = $summary.Failed
    bytes = $summary.BytesMoved
    mounted = $summary.BlobsMounted
    peakBytes = [long]$peak * 1024
    cpuSeconds = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalSeconds
} | ConvertTo-Json -Compress
