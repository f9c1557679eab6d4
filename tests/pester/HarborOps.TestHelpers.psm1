# Shared by the Pester suites. They run in a fresh pwsh started by build.ps1 -Task Test, against the BUILT
# module (HARBOROPS_MODULE_MANIFEST) and one lab (HARBOROPS_LAB_ENDPOINTS) that build.ps1 brings up.
Set-StrictMode -Version 3.0

function Get-TestModuleManifest {
    $manifest = $env:HARBOROPS_MODULE_MANIFEST
    if (-not $manifest -or -not (Test-Path $manifest)) {
        throw "HARBOROPS_MODULE_MANIFEST does not name the built module ('$manifest'). Run the tests with ./build.ps1 -Task Test."
    }
    (Resolve-Path $manifest).Path
}

function Get-LabEndpoint {
    $file = $env:HARBOROPS_LAB_ENDPOINTS
    if (-not $file -or -not (Test-Path $file)) {
        throw "HARBOROPS_LAB_ENDPOINTS does not name a running lab's endpoints file ('$file'). Run the tests with ./build.ps1 -Task Test, which starts the lab."
    }
    Get-Content -Raw $file | ConvertFrom-Json
}

function New-TestCredential([string] $UserName, [string] $Password) {
    [pscredential]::new($UserName, (ConvertTo-SecureString $Password -AsPlainText -Force))
}

function Get-FreeLoopbackPort {
    # A port nothing listens on: bind, read, release.
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Get-ErrorRecordFromException([Exception] $Exception) {
    for ($e = $Exception; $null -ne $e; $e = $e.InnerException) {
        if ($e -is [Management.Automation.IContainsErrorRecord] -and $e -isnot [Management.Automation.MethodInvocationException]) {
            return $e.ErrorRecord
        }
    }
    $null
}

function Invoke-InRunspace {
    <#
        Runs a script in a new runspace of this process with HarborOps imported there, and returns its output,
        every error (terminating or not) and the progress records. A second runspace also proves the module's
        load-context hook tolerates several imports.
    #>
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Parameters = @{}, [int] $TimeoutSeconds = 120)
    $ps = [powershell]::Create()
    try {
        $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Get-TestModuleManifest)).AddParameter('ErrorAction', 'Stop').AddStatement()
        $null = $ps.AddScript($Script)
        foreach ($key in $Parameters.Keys) { $null = $ps.AddParameter($key, $Parameters[$key]) }
        $errors = [Collections.Generic.List[Management.Automation.ErrorRecord]]::new()
        $output = $null
        $async = $ps.BeginInvoke()
        if (-not $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSeconds))) {
            $ps.Stop()
            throw "The script did not finish within $TimeoutSeconds s: $Script"
        }
        try {
            $output = $ps.EndInvoke($async)
        }
        catch {
            $record = Get-ErrorRecordFromException $_.Exception
            if ($null -eq $record) { throw }
            $errors.Add($record)
        }
        foreach ($record in $ps.Streams.Error) { $errors.Insert(0, $record) }
        [pscustomobject]@{
            Output   = @($output)
            Errors   = @($errors)
            Progress = @($ps.Streams.Progress)
            Verbose  = @($ps.Streams.Verbose)
            Debug    = @($ps.Streams.Debug)
            Information = @($ps.Streams.Information)
            Warning  = @($ps.Streams.Warning)
        }
    }
    finally {
        $ps.Dispose()
    }
}

function New-FreshPwshStartInfo {
    <#
        The start of a brand-new pwsh (the same pwsh as this one, also when it runs as a dotnet tool) that runs $Script,
        with its standard output redirected. Invoke-FreshPwsh runs it to the end; a test that must act while the child
        runs (a second run on the same journal) starts it itself.
    #>
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{})
    $processPath = [Environment]::ProcessPath
    $startInfo = [Diagnostics.ProcessStartInfo]::new($processPath)
    # Settings a user makes before starting pwsh (HARBOROPS_*, AZURE_*, SSL_CERT_FILE) reach only the child.
    foreach ($name in $Environment.Keys) { $startInfo.Environment[$name] = [string] $Environment[$name] }
    if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') {
        $startInfo.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll'))
    }
    foreach ($argument in '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Script))) {
        $startInfo.ArgumentList.Add($argument)
    }
    $startInfo.RedirectStandardOutput = $true
    $startInfo.UseShellExecute = $false
    $startInfo
}

function Invoke-CapturedProcess {
    <#
        Starts $StartInfo with both outputs captured (read as they come, so a chatty child never blocks on a full pipe)
        and returns ExitCode, Output and Error once it exits; a child still running after $TimeoutSeconds is killed and
        the test fails naming $What.
    #>
    param([Parameter(Mandatory)] [Diagnostics.ProcessStartInfo] $StartInfo, [Parameter(Mandatory)] [string] $What, [int] $TimeoutSeconds = 180)
    $StartInfo.RedirectStandardOutput = $true
    $StartInfo.RedirectStandardError = $true
    $StartInfo.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($StartInfo)
    try {
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) { $process.Kill($true); throw "$What did not finish within $TimeoutSeconds s" }
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.GetAwaiter().GetResult(); Error = $stderr.GetAwaiter().GetResult() }
    }
    finally { $process.Dispose() }
}

function Invoke-FreshPwsh {
    <#
        Runs a script in a brand-new pwsh process (same pwsh as this one) and returns the object the script
        writes with "##RESULT##" + JSON on its last line. Needed where the default load context must be pristine.
    #>
    param([Parameter(Mandatory)] [string] $Script, [int] $TimeoutSeconds = 120, [hashtable] $Environment = @{})
    $startInfo = New-FreshPwshStartInfo -Script $Script -Environment $Environment
    $startInfo.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($startInfo)
    try {
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $process.Kill($true)
            throw "The fresh pwsh did not finish within $TimeoutSeconds s."
        }
        $process.WaitForExit()
        $text = $stdout.GetAwaiter().GetResult()
        $resultLine = $text -split "`r?`n" | Where-Object { $_.StartsWith('##RESULT##') } | Select-Object -Last 1
        if ($process.ExitCode -ne 0 -or -not $resultLine) {
            throw "The fresh pwsh failed (exit $($process.ExitCode)).`nstdout:`n$text`nstderr:`n$($stderr.GetAwaiter().GetResult())"
        }
        $resultLine.Substring('##RESULT##'.Length) | ConvertFrom-Json
    }
    finally {
        $process.Dispose()
    }
}

function Get-LoadedAssemblyReport {
    # Script text for a fresh pwsh: every loaded assembly with its load context and version.
    @'
function Get-LoadedAssemblyReport {
    [AppDomain]::CurrentDomain.GetAssemblies() | ForEach-Object {
        $name = $_.GetName()
        [pscustomobject]@{
            Name    = $name.Name
            Version = $name.Version.ToString()
            Context = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name
        }
    }
}
'@
}

# Names that must never be in PowerShell's default load context because of HarborOps.
$script:IsolatedAssemblyPattern = '^(Azure\.|Microsoft\.Identity\.|Microsoft\.Graph|Microsoft\.Kiota|Kiota|KubernetesClient|YamlDotNet)'
function Get-IsolatedAssemblyPattern { $script:IsolatedAssemblyPattern }

Export-ModuleMember -Function *
