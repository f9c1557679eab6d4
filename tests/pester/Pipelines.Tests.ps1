# Issue 18: what a user pipes and what a user mistypes. Workload images bind into Test-RegistryImage and
# Copy-RegistryImage by property name; a plain-http Harbor or registry reached over https is named as such.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:K = $script:Lab.kubernetes
    $script:H = $script:Lab.harbor
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)
    $script:LoopbackName = [System.Net.Dns]::GetHostName()

    function Invoke-Kubectl([string[]] $Arguments, [string] $InputText) {
        if (-not (Test-Path /usr/bin/kubectl)) { throw 'kubectl is not installed: apt-get install -y kubernetes-client' }
        $output = if ($InputText) { $InputText | & /usr/bin/kubectl --kubeconfig $script:K.kubeconfig --context $script:K.adminContext @Arguments 2>&1 }
                  else { & /usr/bin/kubectl --kubeconfig $script:K.kubeconfig --context $script:K.adminContext @Arguments 2>&1 }
        if ($LASTEXITCODE -ne 0) { throw "kubectl $Arguments failed: $output" }
        $output
    }

    # A namespace whose workloads run images of the lab's open registry: one that exists, one that does not.
    $script:Namespace = "pipe-$($script:Run)"
    Invoke-Kubectl @('create', 'namespace', $script:Namespace) | Out-Null
    $deployment = @{ apiVersion = 'apps/v1'; kind = 'Deployment'; metadata = @{ name = 'api' }; spec = @{ replicas = 1; selector = @{ matchLabels = @{ app = 'api' } }
        template = @{ metadata = @{ labels = @{ app = 'api' } }; spec = @{
            initContainers = @(@{ name = 'missing'; image = "$($script:Open)/team-a/not-there:9.9" })
            containers = @(@{ name = 'api'; image = "$($script:Open)/team-a/api:1.0" }) } } } }
    Invoke-Kubectl @('create', '-n', $script:Namespace, '-f', '-') -InputText ($deployment | ConvertTo-Json -Depth 12) | Out-Null
    $script:Kube = @{ Kubeconfig = $script:K.kubeconfig; Context = $script:K.adminContext; Namespace = $script:Namespace }
}

Describe 'Workload images in the pipeline' {
    It 'Get-WorkloadImage | Test-RegistryImage checks each image by its full reference' {
        $rows = @(Get-WorkloadImage @script:Kube -Registry $script:Open)
        $rows.Count | Should -Be 2
        $status = @($rows | Test-RegistryImage -ErrorAction Stop)
        $status.Count | Should -Be 2
        ($status | Where-Object Reference -EQ "$($script:Open)/team-a/api:1.0").State | Should -Be 'Exists'
        ($status | Where-Object Reference -EQ "$($script:Open)/team-a/not-there:9.9").State | Should -Be 'Missing'
    }

    It 'Get-WorkloadImage | Copy-RegistryImage -WhatIf plans the copy of the image the workload runs and writes nothing' {
        $destination = "$($script:Open)/pipe-$($script:Run)"
        $run = Invoke-InRunspace -Script 'param($Kube, $Open, $Destination) Get-WorkloadImage @Kube -Registry $Open | Where-Object Container -EQ api | Copy-RegistryImage -Destination $Destination -WhatIf' -Parameters @{
            Kube = $script:Kube; Open = $script:Open; Destination = $destination
        }
        $run.Errors | Should -BeNullOrEmpty
        @(Get-RegistryRepository -Registry $script:Open -Prefix "pipe-$($script:Run)") | Should -BeNullOrEmpty
    }
}

Describe 'A plain-http server reached over https' {
    It 'Connect-Harbor without a scheme says the server answered plain HTTP, suggests http:// and not -SkipCertificateCheck it was given' {
        $port = ([uri]$script:H.url).Port
        $credential = New-TestCredential $script:H.username $script:H.password
        $failure = { Connect-Harbor -Harbor "$($script:LoopbackName):$port" -Credential $credential -SkipCertificateCheck -ErrorAction Stop 3>$null } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'HarborTlsFailed,*'
        $failure.Exception.Message | Should -Match 'answered plain HTTP'
        $failure.Exception.Message | Should -Match ([regex]::Escape("http://$($script:LoopbackName):$port"))
        $failure.Exception.Message | Should -Not -Match 'SkipCertificateCheck'
        $failure.Exception.Message | Should -Not -Match ([regex]::Escape($script:H.password))
    }

    It 'Get-RegistryTag against a plain-http registry given by a name that means https says so and names HARBOROPS_PLAIN_HTTP_HOSTS' {
        $port = $script:Open.Split(':')[-1]
        $run = Invoke-InRunspace -Script 'param($Reference) Get-RegistryTag $Reference' -Parameters @{ Reference = "$($script:LoopbackName):$port/team-a/api" }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -Be 'RegistryHostUnreachable,HarborOps.Commands.GetRegistryTagCommand'
        $run.Errors[0].Exception.Message | Should -Match 'answered plain HTTP'
        $run.Errors[0].Exception.Message | Should -Match 'HARBOROPS_PLAIN_HTTP_HOSTS'
    }
}

Describe 'Tab completion' {
    BeforeAll {
        function Get-Completion([string] $Line) {
            @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
        }
        $script:Quoted = "'$($script:K.kubeconfig -replace "'", "''")'"
    }
    AfterAll {
        Remove-RegistryCredential -Registry $script:Open -Confirm:$false -ErrorAction SilentlyContinue
        Disconnect-Harbor -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'completes -Context from -Kubeconfig, and from KUBECONFIG when none is given' {
        $contexts = Get-Completion "Get-WorkloadImage -Kubeconfig $($script:Quoted) -Context "
        $contexts | Should -Contain $script:K.adminContext
        $contexts | Should -Contain $script:K.readerContext
        Get-Completion "Sync-PullSecret -Kubeconfig $($script:Quoted) -Context lab-r" | Should -Be @($script:K.readerContext)

        $saved = $env:KUBECONFIG
        try {
            $env:KUBECONFIG = $script:K.kubeconfig
            Get-Completion 'Get-PullSecretStatus -Context ' | Should -Contain $script:K.adminContext
        } finally { $env:KUBECONFIG = $saved }
    }

    It 'completes -Namespace from the cluster of the line''s kubeconfig and context' {
        Get-Completion "Get-WorkloadImage -Kubeconfig $($script:Quoted) -Context $($script:K.adminContext) -Namespace pipe-$($script:Run)" | Should -Be @($script:Namespace)
    }

    It 'completes nothing, within its deadline and without an error, when the cluster does not answer' {
        # A server that accepts the connection and never says a word: the TLS handshake would wait forever.
        $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $silent.Start()
        $kubeconfig = Join-Path ([IO.Path]::GetTempPath()) "harborops-silent-$($script:Run).kubeconfig"
        @"
apiVersion: v1
kind: Config
clusters:
- name: silent
  cluster: {server: 'https://127.0.0.1:$($silent.LocalEndpoint.Port)', insecure-skip-tls-verify: true}
contexts:
- name: silent
  context: {cluster: silent, user: silent}
current-context: silent
users:
- name: silent
  user: {token: not-a-token}
"@ | Set-Content -LiteralPath $kubeconfig
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Get-Completion "Get-WorkloadImage -Kubeconfig '$kubeconfig' -Namespace " | Should -BeNullOrEmpty
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $silent.Stop()
        Remove-Item -LiteralPath $kubeconfig
    }

    It 'completes Harbor projects and robots from the Connect-Harbor session, never a secret' {
        Get-Completion 'Get-HarborArtifact -Project ' | Should -BeNullOrEmpty -Because 'there is no session yet'
        Connect-Harbor -Harbor $script:H.url -Credential (New-TestCredential $script:H.username $script:H.password) | Out-Null
        $project = "tab-$($script:Run)"
        New-HarborProject -Name $project | Out-Null
        $robot = New-HarborRobot -Name 'tabbot' -Project $project -DurationDays 1
        Get-Completion "Get-HarborArtifact -Project tab-$($script:Run)" | Should -Be @($project)
        Get-Completion "Set-HarborProject -Name tab-$($script:Run)" | Should -Be @($project)
        $robots = Get-Completion "Remove-HarborRobot -Project $project -Name "
        $robots | Should -Be @("'$($robot.UserName)'")
        $plain = [pscredential]::new('x', $robot.Secret).GetNetworkCredential().Password
        ($robots -join ' ') | Should -Not -Match ([regex]::Escape($plain))
    }

    It 'completes -Registry with the registries that have a credential, never the credential' {
        $password = 'tab-completion-Secret-1'
        Set-RegistryCredential -Registry $script:Open -Credential (New-TestCredential 'tabuser' $password)
        $registries = Get-Completion 'Get-RegistryRepository -Registry '
        $registries | Should -Contain $script:Open
        ($registries -join ' ') | Should -Not -Match $password
        Get-Completion "Remove-RegistryCredential -Registry $($script:Open.Substring(0, 5))" | Should -Contain $script:Open
    }

    It 'has a completer on every parameter named Context, Namespace, Project or Registry' {
        $missing = foreach ($command in Get-Command -Module HarborOps -CommandType Cmdlet) {
            foreach ($parameter in $command.Parameters.Values | Where-Object Name -In 'Context', 'Namespace', 'Project', 'Registry') {
                if (-not ($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] })) { "$($command.Name) -$($parameter.Name)" }
            }
        }
        $missing | Should -BeNullOrEmpty
    }
}

AfterAll {
    if ($script:Namespace) { Invoke-Kubectl @('delete', 'namespace', $script:Namespace, '--wait=false') -ErrorAction SilentlyContinue | Out-Null }
}
