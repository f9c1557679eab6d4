# Helpers shared by build.ps1 and the packaging functions (tools/build/Packaging.ps1), which Pester also loads.

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
