#Requires -Version 7.4
<#
.SYNOPSIS
    Runs one shard of a HarborOps migration in a pod of the Indexed Job that New-RegistryMigrationJob makes.

.DESCRIPTION
    Reads everything from the environment the Job sets (src/HarborOps.Engine/MigrationJobs/MigrationJobContract.cs):
      HARBOROPS_COPY_PARAMETERS            the Copy-RegistryImage parameters, one JSON object; only known names,
                                           each of its expected type, are accepted, and they are splatted as data:
                                           no value is ever parsed as PowerShell.
      HARBOROPS_SHARD_COUNT                how many shards the migration has.
      JOB_COMPLETION_INDEX                 this pod's index (set by the Job controller).
      HARBOROPS_SHARDS                     which shard each index runs ("1,3": index 0 runs shard 1); a re-run
                                           of failed shards sets it, otherwise index = shard.
      HARBOROPS_MODE                       copy (a Job) or sync (a CronJob run: copy, then parity).
      HARBOROPS_AZURE_IDENTITY_REGISTRIES  registries to sign in to with Azure workload identity.
      HARBOROPS_DESTINATION_USERNAME/_PASSWORD  Harbor's robot, from a Secret.
      HARBOROPS_SINCE_WINDOW_SECONDS       on a schedule: copy only tags created within this window.
      HARBOROPS_SHARD_SUMMARY_PATH         where the shard's summary goes (the termination message file).

    Exit codes (MigrationJobExitCodes; the Job's podFailurePolicy reads them):
      0  the shard copied everything (and, in sync mode, parity found no difference)
      1  some tags failed, or a registry could not be reached or refused the credential: retried
      2  bad input or configuration (an unknown or mistyped parameter, a reference the copy refuses, a shard
         that does not exist, no module): the policy fails the whole Job, since every index would fail alike
      3  sync mode: the copy ran, but Compare-RegistryParity -FailOnDifference found a difference: the policy
         fails the index without retrying it; the next scheduled run copies again
#>
[CmdletBinding()]
param()

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$ExitSuccess = 0
$ExitRetryable = 1
$ExitBadConfiguration = 2
$ExitParityDifference = 3

function Stop-Shard([int] $Code, [string] $Message) {
    # one line on stderr: with terminationMessagePolicy FallbackToLogsOnError it is what Get-RegistryMigrationJob shows
    [Console]::Error.WriteLine("harborops-shard: $Message")
    exit $Code
}

# Copy-RegistryImage parameters a shard may be given, with the JSON type each must have.
$CopyParameterTypes = [ordered]@{
    Source = 'strings'; Destination = 'string'; DestinationPrefix = 'string'; StripPrefixSegments = 'int'
    Rename = 'map'; Include = 'strings'; Exclude = 'strings'; IncludeRegex = 'string'; ExcludeRegex = 'string'
    Platform = 'strings'; NoClobber = 'bool'; ExcludeReferrers = 'bool'; CreateProject = 'bool'; ThrottleLimit = 'int'
}
# What Compare-RegistryParity shares with the copy (RegistryMappingCommandBase), for sync mode.
$ParityParameterNames = 'Source', 'Destination', 'DestinationPrefix', 'StripPrefixSegments', 'Rename', 'Include', 'Exclude',
    'IncludeRegex', 'ExcludeRegex', 'ThrottleLimit'

function ConvertTo-CopyParameters([string] $Json) {
    if ([string]::IsNullOrWhiteSpace($Json)) { Stop-Shard $ExitBadConfiguration 'HARBOROPS_COPY_PARAMETERS is not set.' }
    try { $document = ConvertFrom-Json -InputObject $Json -AsHashtable -Depth 4 -NoEnumerate }
    catch { Stop-Shard $ExitBadConfiguration "HARBOROPS_COPY_PARAMETERS is not JSON: $($_.Exception.Message)" }
    if ($document -isnot [System.Collections.IDictionary]) { Stop-Shard $ExitBadConfiguration 'HARBOROPS_COPY_PARAMETERS is not a JSON object.' }
    $parameters = @{}
    foreach ($name in @($document.Keys)) {
        if (-not $CopyParameterTypes.Contains($name)) { Stop-Shard $ExitBadConfiguration "HARBOROPS_COPY_PARAMETERS names '$name', which is not a Copy-RegistryImage parameter a shard takes." }
        $value = $document[$name]
        $ok = switch ($CopyParameterTypes[$name]) {
            'string' { $value -is [string] }
            'int' { $value -is [long] -or $value -is [int] }
            'bool' { $value -is [bool] }
            'strings' { $value -is [System.Collections.IList] -and $value.Count -gt 0 -and @($value | Where-Object { $_ -isnot [string] }).Count -eq 0 }
            'map' { $value -is [System.Collections.IDictionary] -and @($value.Values | Where-Object { $_ -isnot [string] }).Count -eq 0 }
        }
        if (-not $ok) { Stop-Shard $ExitBadConfiguration "HARBOROPS_COPY_PARAMETERS: '$name' must be a $($CopyParameterTypes[$name])." }
        $parameters[$name] = switch ($CopyParameterTypes[$name]) {
            'strings' { [string[]] @($value) }
            'int' { [int] $value }
            'bool' { [bool] $value }
            'map' { $map = @{}; foreach ($key in $value.Keys) { $map[[string] $key] = [string] $value[$key] }; $map }
            default { $value }
        }
    }
    if (-not $parameters.ContainsKey('Source') -or -not $parameters.ContainsKey('Destination')) {
        Stop-Shard $ExitBadConfiguration 'HARBOROPS_COPY_PARAMETERS must name Source and Destination.'
    }
    $parameters
}

function Get-Number([string] $Variable, [string] $Text) {
    if ($Text -notmatch '^[0-9]{1,6}$') { Stop-Shard $ExitBadConfiguration "$Variable is '$Text', not a number." }
    [int] $Text
}

function Get-ExitCode([System.Management.Automation.ErrorRecord] $Record) {
    # what cannot succeed on a retry: the input (parameter binding, a value the cmdlet refuses); the rest may pass later
    if ($Record.Exception -is [System.Management.Automation.ParameterBindingException]) { return $ExitBadConfiguration }
    if ($Record.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::InvalidArgument) { return $ExitBadConfiguration }
    $ExitRetryable
}

foreach ($directory in $env:HOME, $env:TMPDIR) {
    if ($directory) { $null = New-Item -ItemType Directory -Force -Path $directory -ErrorAction SilentlyContinue }
}

$copy = ConvertTo-CopyParameters $env:HARBOROPS_COPY_PARAMETERS
$shardCount = Get-Number 'HARBOROPS_SHARD_COUNT' $env:HARBOROPS_SHARD_COUNT
$completionIndex = Get-Number 'JOB_COMPLETION_INDEX' $env:JOB_COMPLETION_INDEX
$shard = $completionIndex
if ($env:HARBOROPS_SHARDS) {
    $shards = @($env:HARBOROPS_SHARDS -split ',')
    if ($completionIndex -ge $shards.Count) { Stop-Shard $ExitBadConfiguration "JOB_COMPLETION_INDEX $completionIndex has no entry in HARBOROPS_SHARDS ($($shards.Count) shards)." }
    $shard = Get-Number 'HARBOROPS_SHARDS' $shards[$completionIndex]
}
if ($shard -ge $shardCount) { Stop-Shard $ExitBadConfiguration "shard $shard is not one of the $shardCount shards." }
$mode = if ($env:HARBOROPS_MODE) { $env:HARBOROPS_MODE } else { 'copy' }
if ($mode -notin 'copy', 'sync') { Stop-Shard $ExitBadConfiguration "HARBOROPS_MODE is '$mode'; it must be copy or sync." }
if ($mode -eq 'sync' -and $copy.ContainsKey('Platform')) {
    # New-RegistryMigrationJob refuses it too: parity compares every platform, so every run would fail
    Stop-Shard $ExitBadConfiguration 'sync mode with Platform: parity compares every platform, and an index the copy filtered has another digest. Leave Platform out of a CronJob.'
}
$summaryPath = if ($env:HARBOROPS_SHARD_SUMMARY_PATH) { $env:HARBOROPS_SHARD_SUMMARY_PATH } else { '/dev/termination-log' }

try {
    if ($env:HARBOROPS_VERSION) { Import-Module HarborOps -RequiredVersion $env:HARBOROPS_VERSION } else { Import-Module HarborOps }
}
catch { Stop-Shard $ExitBadConfiguration "the HarborOps module cannot be loaded: $($_.Exception.Message)" }

try {
    foreach ($registry in @($env:HARBOROPS_AZURE_IDENTITY_REGISTRIES -split ',' | Where-Object { $_ })) {
        Set-RegistryCredential -Registry $registry -UseAzureIdentity
    }
    if ($env:HARBOROPS_DESTINATION_USERNAME) {
        $password = ConvertTo-SecureString -String $env:HARBOROPS_DESTINATION_PASSWORD -AsPlainText -Force
        $copy.DestinationCredential = [pscredential]::new($env:HARBOROPS_DESTINATION_USERNAME, $password)
        # the secret stays in the credential only, not in the environment of anything this process starts
        Remove-Item Env:HARBOROPS_DESTINATION_PASSWORD -ErrorAction SilentlyContinue
    }
}
catch { Stop-Shard (Get-ExitCode $_) "signing in failed: $($_.Exception.Message)" }

$parity = @{}
foreach ($name in $ParityParameterNames) { if ($copy.ContainsKey($name)) { $parity[$name] = $copy[$name] } }
if ($copy.ContainsKey('DestinationCredential')) { $parity.DestinationCredential = $copy.DestinationCredential }
# A scheduled run copies what changed since the last one: reading what every shard copies, on every run, would cost
# more source reads (ACR counts them) than the few shared layers such a run moves.
if ($mode -eq 'sync') { $copy.SharedBlobWait = [TimeSpan]::Zero }
if ($mode -eq 'sync' -and $env:HARBOROPS_SINCE_WINDOW_SECONDS) {
    $window = Get-Number 'HARBOROPS_SINCE_WINDOW_SECONDS' $env:HARBOROPS_SINCE_WINDOW_SECONDS
    $copy.Since = [DateTime]::UtcNow.AddSeconds(-$window)
}

Write-Host "harborops-shard: shard $shard of $shardCount (index $completionIndex), mode $mode"
$itemErrors = $null
try {
    Copy-RegistryImage @copy -ShardCount $shardCount -ShardIndex $shard -ShardSummaryPath $summaryPath -Confirm:$false `
        -ErrorAction Continue -ErrorVariable itemErrors | Out-Host
}
catch { Stop-Shard (Get-ExitCode $_) "the copy stopped: $($_.Exception.Message)" }
if ($itemErrors) { Stop-Shard $ExitRetryable "$(@($itemErrors).Count) tags failed; the Job controller retries this shard." }

if ($mode -eq 'sync') {
    try {
        Compare-RegistryParity @parity -ShardCount $shardCount -ShardIndex $shard -FailOnDifference `
            -ShardSummaryPath (Join-Path ([IO.Path]::GetTempPath()) 'parity-summary.json') | Out-Host
    }
    catch {
        if ($_.FullyQualifiedErrorId -like 'ParityDifferencesFound*') { Stop-Shard $ExitParityDifference "parity found a difference after the copy: $($_.Exception.Message)" }
        Stop-Shard (Get-ExitCode $_) "the parity check stopped: $($_.Exception.Message)"
    }
}
exit $ExitSuccess
