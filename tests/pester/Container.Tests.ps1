# The image a migration Job runs (deploy/container). No container engine runs here and the base images' registry
# (mcr.microsoft.com) is out of reach, so the image itself is never built by the tests: its Dockerfile is checked as
# text, and its runtime stage is put together from this machine as its COPY, RUN, ENV and USER lines say and run the
# way the pod runs it (as user 10001 with a read-only root filesystem).
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)
    $script:RepoRoot = if ($env:HARBOROPS_REPO_ROOT) { $env:HARBOROPS_REPO_ROOT } else { (Resolve-Path "$PSScriptRoot/../..").Path }
    $script:Entrypoint = Join-Path $script:RepoRoot 'deploy/container/entrypoint.ps1'
    $script:Job = @{
        Image = 'harbor.example.com/tools/harborops@sha256:' + ('a' * 64); Source = 'contoso.azurecr.io/team/*'; Destination = 'harbor.example.com/migrated'
        ShardCount = 3; WorkloadIdentityClientId = '11111111-2222-3333-4444-555555555555'; HarborSecretName = 'harbor-robot'
    }
}

Describe 'The container image (deploy/container), checked without building it' {
    BeforeAll {
        # No container engine runs here: the image is never built by the tests. What can be checked is checked.
        $script:Dockerfile = Get-Content -Raw (Join-Path $script:RepoRoot 'deploy/container/Dockerfile')
        $script:Arguments = @{}
        foreach ($match in [regex]::Matches($script:Dockerfile, '(?m)^ARG\s+(\w+)=(\S+)\s*$')) { $script:Arguments[$match.Groups[1].Value] = $match.Groups[2].Value }
        $script:From = [regex]::Matches($script:Dockerfile, '(?m)^FROM\s+(\S+)') | ForEach-Object {
            $image = $_.Groups[1].Value
            if ($image -match '^\$\{(\w+)\}$') { $script:Arguments[$Matches[1]] } else { $image }
        }
    }

    It 'pins every base image by digest' {
        $script:From.Count | Should -BeGreaterOrEqual 2 -Because 'a multi-stage build: the SDK builds, the runtime runs'
        foreach ($image in $script:From) { $image | Should -Match '^mcr\.microsoft\.com/dotnet/[a-z-]+:[\w.-]+@sha256:[0-9a-f]{64}$' }
    }

    It 'runs as a numeric non-root user' {
        $users = @([regex]::Matches($script:Dockerfile, '(?m)^USER\s+(\S+)') | ForEach-Object { $_.Groups[1].Value })
        $users[-1] | Should -Match '^[1-9][0-9]*(:[1-9][0-9]*)?$'
        [int](($users[-1] -split ':')[0]) | Should -Be 10001 -Because 'the Job runs as the same user (MigrationJobContract.RunAsUser)'
    }

    It 'installs the module version the manifest declares, from the build output, and fetches nothing at run time' {
        $version = (Import-PowerShellDataFile (Join-Path $script:RepoRoot 'HarborOps.psd1')).ModuleVersion
        $script:Arguments['HARBOROPS_VERSION'] | Should -Be $version
        $script:Dockerfile | Should -Match 'COPY --from=build /src/out/HarborOps/\$\{HARBOROPS_VERSION\} /opt/harborops/modules/HarborOps/\$\{HARBOROPS_VERSION\}'
        $runtime = $script:Dockerfile.Substring($script:Dockerfile.LastIndexOf("`nFROM "))
        $runtime | Should -Not -Match 'curl|wget|Install-Module|Install-PSResource|apt-get|dotnet tool'
        $runtime | Should -Match 'HOME=/work/home' -Because 'the root filesystem is read-only; the Job mounts an emptyDir at /work'
    }

    It 'runs pwsh with the runtime settings of a batch process that waits on the network' {
        # Measured in bench/README.md ("Shards as the image runs them"); the bench's shard processes take them from here.
        $runtime = $script:Dockerfile.Substring($script:Dockerfile.LastIndexOf("`nFROM "))
        $runtime | Should -Match '(?m)^\s+DOTNET_TieredPGO=0\b'
        $runtime | Should -Match '(?m)^\s+DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0\b'
    }

    It 'starts the entrypoint the Job names, and its exit codes are the ones the failure policy reads' {
        $script:Dockerfile | Should -Match ([regex]::Escape('ENTRYPOINT ["pwsh", "-NoLogo", "-NoProfile", "-NonInteractive", "-File", "/opt/harborops/entrypoint.ps1"]'))
        $script:Dockerfile | Should -Match 'COPY deploy/container/entrypoint.ps1 /opt/harborops/entrypoint.ps1'
        $entrypoint = Get-Content -Raw $script:Entrypoint
        $codes = @{}
        foreach ($match in [regex]::Matches($entrypoint, '(?m)^\$Exit(\w+) = (\d+)$')) { $codes[$match.Groups[1].Value] = [int] $match.Groups[2].Value }
        $codes.Keys | Sort-Object | Should -Be @('BadConfiguration', 'ParityDifference', 'Retryable', 'Success')
        $yaml = (New-RegistryMigrationJob -Name policy @script:Job).Yaml
        $yaml | Should -Match "(?s)action: FailJob\s+onExitCodes:\s+containerName: harborops\s+operator: In\s+values:\s+- $($codes.BadConfiguration)\s"
        $yaml | Should -Match "(?s)action: FailIndex\s+onExitCodes:\s+containerName: harborops\s+operator: In\s+values:\s+- $($codes.ParityDifference)\s"
        $yaml | Should -Match '(?m)^\s+- /opt/harborops/entrypoint.ps1$'
    }
}


Describe 'The image''s runtime stage, put together on this machine and run as the pod runs it' {
    BeforeAll {
        $dockerfile = Get-Content -Raw (Join-Path $script:RepoRoot 'deploy/container/Dockerfile')
        $runtime = $dockerfile.Substring($dockerfile.LastIndexOf("`nFROM "))
        $version = [regex]::Match($dockerfile, '(?m)^ARG HARBOROPS_VERSION=(\S+)').Groups[1].Value
        $user = [regex]::Matches($runtime, '(?m)^USER\s+(\d+):(\d+)\s*$') | Select-Object -Last 1
        $script:Uid = [int] $user.Groups[1].Value
        $script:Gid = [int] $user.Groups[2].Value
        # Where each path of the image lives here.
        $script:Stage = Join-Path ([IO.Path]::GetTempPath()) "harborops-image-$($script:Run)"
        $script:Paths = [ordered]@{ '/usr/share/powershell' = "$($script:Stage)/usr/share/powershell"; '/opt/harborops' = "$($script:Stage)/opt/harborops"; '/work' = "$($script:Stage)/work" }
        function script:ConvertTo-StagePath([string] $Text) { foreach ($path in $script:Paths.Keys) { $Text = $Text.Replace($path, $script:Paths[$path]) }; $Text }

        # COPY: PowerShell as a .NET tool (the SDK image's /usr/share/powershell; here the same tool from NuGet), the
        # built module at the version the Dockerfile names, the entrypoint.
        $runtime | Should -Match 'COPY --from=build /usr/share/powershell /usr/share/powershell'
        $runtime | Should -Match 'COPY deploy/container/entrypoint.ps1 /opt/harborops/entrypoint.ps1'
        $module = Split-Path (Get-TestModuleManifest)
        (Split-Path $module -Leaf) | Should -Be $version
        $null = New-Item -ItemType Directory -Force "$($script:Paths['/opt/harborops'])/modules/HarborOps", (Split-Path $script:Paths['/usr/share/powershell'])
        Copy-Item $PSHOME $script:Paths['/usr/share/powershell'] -Recurse
        Copy-Item $module "$($script:Paths['/opt/harborops'])/modules/HarborOps/$version" -Recurse
        Copy-Item $script:Entrypoint "$($script:Paths['/opt/harborops'])/entrypoint.ps1"
        # RUN: /work for the user, everything else readable and not writable by it.
        $runtime | Should -Match 'mkdir -p /work && chown 10001:10001 /work'
        $null = New-Item -ItemType Directory -Force $script:Paths['/work']
        & chmod -R 'a+rX,go-w' $script:Stage
        & chmod 'a+x' (Split-Path $script:Stage)
        # ENV, with ${HARBOROPS_VERSION} and the paths of the image.
        $envLines = [regex]::Match($runtime, '(?ms)^ENV\s+(.*?[^\\])$').Groups[1].Value -replace '\\\r?\n', ' '
        $script:ImageEnvironment = @{}
        foreach ($pair in $envLines -split '\s+' | Where-Object { $_ }) {
            $name, $value = $pair -split '=', 2
            $script:ImageEnvironment[$name] = ConvertTo-StagePath ($value.Replace('${HARBOROPS_VERSION}', $version))
        }
        $script:ImageEnvironment['HOME'] | Should -Be "$($script:Paths['/work'])/home"
        $script:Out = Join-Path ([IO.Path]::GetTempPath()) "harborops-image-out-$($script:Run)"
        $null = New-Item -ItemType Directory -Force $script:Out
        & chown "$($script:Uid):$($script:Gid)" $script:Out

        # The pod: a mount namespace where every file system is read-only but an empty tmpfs at /work (the Job's
        # emptyDir) and the directory of the termination log (the kubelet mounts that file); then the user of the
        # image, with only the image's and the Job's environment.
        function script:Invoke-AsPod([hashtable] $JobEnvironment, [string[]] $Command) {
            $work = $script:Paths['/work']
            $script = @"
set -eu
mount -t tmpfs -o mode=0755 emptydir '$work'
chown $($script:Uid):$($script:Gid) '$work'
mount --bind '$($script:Out)' '$($script:Out)'
for mountpoint in `$(awk '{ print `$2 }' /proc/self/mounts | sort -u); do
  case "`$mountpoint" in
    /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|'$work'|'$($script:Out)') ;;
    *) mount -o remount,bind,ro "`$mountpoint" || { echo "cannot make `$mountpoint read-only" >&2; exit 97; } ;;
  esac
done
exec setpriv --reuid=$($script:Uid) --regid=$($script:Gid) --clear-groups -- "`$@"
"@
            $startInfo = [Diagnostics.ProcessStartInfo]::new('unshare')
            foreach ($argument in @('--mount', '--propagation', 'private', 'sh', '-c', $script, 'pod') + $Command) { $startInfo.ArgumentList.Add($argument) }
            $startInfo.Environment.Clear()
            $startInfo.Environment['PATH'] = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
            foreach ($name in 'HARBOROPS_PLAIN_HTTP_HOSTS', 'SSL_CERT_FILE') { if ([Environment]::GetEnvironmentVariable($name)) { $startInfo.Environment[$name] = [Environment]::GetEnvironmentVariable($name) } }
            foreach ($name in $script:ImageEnvironment.Keys) { $startInfo.Environment[$name] = $script:ImageEnvironment[$name] }
            foreach ($name in $JobEnvironment.Keys) { $startInfo.Environment[$name] = [string] $JobEnvironment[$name] }
            Invoke-CapturedProcess $startInfo -What 'the pod'
        }
        # The image's ENTRYPOINT, with the image's paths.
        $entrypoint = [regex]::Match($runtime, '(?m)^ENTRYPOINT\s+(\[.*\])\s*$').Groups[1].Value | ConvertFrom-Json
        $entrypoint[0] | Should -Be 'pwsh' -Because 'the image links /usr/bin/pwsh to /usr/share/powershell/pwsh'
        $script:PodCommand = @("$($script:Paths['/usr/share/powershell'])/pwsh") + @($entrypoint | Select-Object -Skip 1 | ForEach-Object { ConvertTo-StagePath $_ })
    }

    AfterAll {
        foreach ($path in $script:Stage, $script:Out) { if ($path -and (Test-Path $path)) { Remove-Item $path -Recurse -Force } }
    }

    It 'runs as user 10001, with the root filesystem read-only and only the emptyDir writable' {
        $probe = @('sh', '-c', 'id -u; mkdir -p "$HOME" "$TMPDIR"; for file in /usr/probe /tmp/probe "$HOME/probe" "$TMPDIR/probe"; do if touch "$file" 2>/dev/null; then echo "wrote $file"; else echo "read-only $file"; fi; done')
        $result = Invoke-AsPod @{} $probe
        $result.ExitCode | Should -Be 0 -Because $result.Error
        $lines = @($result.Output -split "`n" | Where-Object { $_ })
        $lines[0] | Should -Be '10001'
        $lines | Should -Contain 'read-only /usr/probe'
        $lines | Should -Contain 'read-only /tmp/probe'
        $lines | Should -Contain "wrote $($script:Paths['/work'])/home/probe"
        $lines | Should -Contain "wrote $($script:Paths['/work'])/tmp/probe"
    }

    It 'copies its shard from the lab as that user, leaving its summary in the termination log' {
        $basic = $script:Lab.registries.basic
        $source = "$($script:Lab.registries.open.host)/team-a/*"
        $destination = "$($basic.host)/image-$($script:Run)"
        $log = Join-Path $script:Out 'termination-log'
        $result = Invoke-AsPod @{
            HARBOROPS_COPY_PARAMETERS = (@{ Source = @($source); Destination = $destination } | ConvertTo-Json -Compress)
            HARBOROPS_SHARD_COUNT = '1'; JOB_COMPLETION_INDEX = '0'; HARBOROPS_SHARD_SUMMARY_PATH = $log
            HARBOROPS_DESTINATION_USERNAME = $basic.username; HARBOROPS_DESTINATION_PASSWORD = $basic.password
        } $script:PodCommand
        $result.ExitCode | Should -Be 0 -Because "$($result.Output)`n$($result.Error)"
        $result.Output + $result.Error | Should -Not -Match ([regex]::Escape($basic.password))
        $summary = Get-Content -Raw $log | ConvertFrom-Json
        $summary.copied | Should -BeGreaterThan 0
        $summary.failed | Should -Be 0
        $parity = @(Compare-RegistryParity -Source $source -Destination $destination -DestinationCredential (New-TestCredential $basic.username $basic.password))
        @($parity | Where-Object { $_ -isnot [HarborOps.Models.ParitySummary] }) | Should -BeNullOrEmpty
    }
}
