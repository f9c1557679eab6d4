# The image a migration Job runs (deploy/container). Its Dockerfile is checked as text, then built with buildah
# (deploy/container/build-image.sh; no daemon needed) and the image run the way the pod runs it: as user 10001, with a
# read-only root filesystem, an emptyDir at /work and the termination log file. mcr.microsoft.com is out of reach here,
# so the build uses stand-in base images (Debian with this machine's .NET and PowerShell, laid out as Microsoft's
# images are); everything the Dockerfile does itself runs as written.
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

Describe 'The container image (deploy/container), checked as text' {
    BeforeAll {
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


Describe 'The image, built from the Dockerfile and run as the pod runs it' {
    BeforeAll {
        $script:ImageTag = "localhost/harborops-test:$($script:Run)"
        $build = [Diagnostics.ProcessStartInfo]::new((Join-Path $script:RepoRoot 'deploy/container/build-image.sh'))
        foreach ($argument in '--stand-in-bases', '--tag', $script:ImageTag) { $build.ArgumentList.Add($argument) }
        $built = Invoke-CapturedProcess $build -What 'the image build' -TimeoutSeconds 900
        $built.ExitCode | Should -Be 0 -Because "$($built.Output)`n$($built.Error)"
        $script:Config = (& buildah inspect --type image $script:ImageTag | ConvertFrom-Json).OCIv1.config
        $script:Container = & buildah from -q $script:ImageTag
        $script:Root = & buildah mount $script:Container
        $script:Out = Join-Path ([IO.Path]::GetTempPath()) "harborops-image-out-$($script:Run)"
        $null = New-Item -ItemType Directory -Force $script:Out
        $null = New-Item -ItemType File -Force (Join-Path $script:Out 'termination-log')
        & chown -R 10001:10001 $script:Out

        # The pod, as a container runtime and the kubelet set it up: the image's root file system read-only, a /dev of
        # the usual devices, an empty tmpfs at /work (the Job's emptyDir, the image's WORKDIR), the node's /etc/hosts and
        # resolv.conf, the termination log file; then the image's user, in its working directory, with only the image's
        # and the Job's environment. The network is this machine's, so the lab's registries are reachable.
        function script:Invoke-AsPod([hashtable] $JobEnvironment, [string[]] $Command) {
            $user = $script:Config.User
            $script = @"
set -eu
root='$($script:Root)'
mount --bind "`$root" "`$root"
mount -t proc proc "`$root/proc"
mount -t tmpfs -o mode=0755 dev "`$root/dev"
for device in null zero full random urandom tty; do touch "`$root/dev/`$device"; mount --bind "/dev/`$device" "`$root/dev/`$device"; done
ln -s /proc/self/fd "`$root/dev/fd"
mkdir "`$root/dev/shm" && mount -t tmpfs -o mode=1777 shm "`$root/dev/shm"
touch "`$root/dev/termination-log" && mount --bind '$($script:Out)/termination-log' "`$root/dev/termination-log"
mount -t tmpfs -o mode=0755 emptydir "`$root/work" && chown $user "`$root/work"
for file in /etc/hosts /etc/resolv.conf; do touch "`$root`$file"; mount --bind "`$file" "`$root`$file"; done
mount -o remount,bind,ro "`$root"
exec chroot --userspec=$user --groups= "`$root" /usr/bin/env -C '$($script:Config.WorkingDir)' -- "`$@"
"@
            $startInfo = [Diagnostics.ProcessStartInfo]::new('unshare')
            foreach ($argument in @('--mount', '--propagation', 'private', 'sh', '-c', $script, 'pod') + $Command) { $startInfo.ArgumentList.Add($argument) }
            $startInfo.Environment.Clear()
            foreach ($pair in $script:Config.Env) { $name, $value = $pair -split '=', 2; $startInfo.Environment[$name] = $value }
            foreach ($name in 'HARBOROPS_PLAIN_HTTP_HOSTS') { if ([Environment]::GetEnvironmentVariable($name)) { $startInfo.Environment[$name] = [Environment]::GetEnvironmentVariable($name) } }
            foreach ($name in $JobEnvironment.Keys) { $startInfo.Environment[$name] = [string] $JobEnvironment[$name] }
            Invoke-CapturedProcess $startInfo -What 'the pod'
        }
    }

    AfterAll {
        if ($script:Container) { $null = & buildah rm $script:Container 2>&1 }
        if ($script:ImageTag) { $null = & buildah rmi $script:ImageTag 2>&1 }
        if ($script:Out -and (Test-Path $script:Out)) { Remove-Item $script:Out -Recurse -Force }
    }

    It 'has the user, working directory, environment and entrypoint the Job relies on' {
        $script:Config.User | Should -Be '10001:10001'
        $script:Config.WorkingDir | Should -Be '/work'
        $script:Config.Entrypoint | Should -Be @('pwsh', '-NoLogo', '-NoProfile', '-NonInteractive', '-File', '/opt/harborops/entrypoint.ps1')
        $version = (Import-PowerShellDataFile (Join-Path $script:RepoRoot 'HarborOps.psd1')).ModuleVersion
        foreach ($setting in "HARBOROPS_VERSION=$version", 'PSModulePath=/opt/harborops/modules', 'HOME=/work/home', 'TMPDIR=/work/tmp', 'DOTNET_TieredPGO=0', 'DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0') {
            $script:Config.Env | Should -Contain $setting
        }
    }

    It 'runs as user 10001, with the root filesystem read-only and only the emptyDir writable' {
        $probe = @('sh', '-c', 'id -u; pwd; mkdir -p "$HOME" "$TMPDIR"; for file in /usr/probe /tmp/probe /opt/harborops/probe "$HOME/probe" "$TMPDIR/probe"; do if touch "$file" 2>/dev/null; then echo "wrote $file"; else echo "read-only $file"; fi; done')
        $result = Invoke-AsPod @{} $probe
        $result.ExitCode | Should -Be 0 -Because $result.Error
        $lines = @($result.Output -split "`n" | Where-Object { $_ })
        $lines[0..1] | Should -Be @('10001', '/work')
        $lines | Should -Contain 'read-only /usr/probe'
        $lines | Should -Contain 'read-only /tmp/probe'
        $lines | Should -Contain 'read-only /opt/harborops/probe'
        $lines | Should -Contain 'wrote /work/home/probe'
        $lines | Should -Contain 'wrote /work/tmp/probe'
    }

    It 'copies its shard from the lab as that user, leaving its summary in the termination log' {
        $basic = $script:Lab.registries.basic
        $source = "$($script:Lab.registries.open.host)/team-a/*"
        $destination = "$($basic.host)/image-$($script:Run)"
        $result = Invoke-AsPod @{
            HARBOROPS_COPY_PARAMETERS = (@{ Source = @($source); Destination = $destination } | ConvertTo-Json -Compress)
            HARBOROPS_SHARD_COUNT = '1'; JOB_COMPLETION_INDEX = '0'
            HARBOROPS_DESTINATION_USERNAME = $basic.username; HARBOROPS_DESTINATION_PASSWORD = $basic.password
        } $script:Config.Entrypoint
        $result.ExitCode | Should -Be 0 -Because "$($result.Output)`n$($result.Error)"
        $result.Output + $result.Error | Should -Not -Match ([regex]::Escape($basic.password))
        $summary = Get-Content -Raw (Join-Path $script:Out 'termination-log') | ConvertFrom-Json
        $summary.copied | Should -BeGreaterThan 0
        $summary.failed | Should -Be 0
        $parity = @(Compare-RegistryParity -Source $source -Destination $destination -DestinationCredential (New-TestCredential $basic.username $basic.password))
        @($parity | Where-Object { $_ -isnot [HarborOps.Models.ParitySummary] }) | Should -BeNullOrEmpty
    }
}
