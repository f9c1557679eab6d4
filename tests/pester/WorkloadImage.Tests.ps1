# Get-WorkloadImage as an operator runs it before and after the cut-over: against the lab's Kubernetes emulator,
# with workloads created by the real kubectl, through the kubeconfig the lab wrote (contexts lab-admin, lab-reader).
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:K = (Get-LabEndpoint).kubernetes
    $script:Kubeconfig = $script:K.kubeconfig
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)
    $script:Acr = 'myacr.azurecr.io'

    function Invoke-Kubectl {
        param([string[]] $Arguments, [string] $InputText, [string] $Context = $script:K.adminContext)
        if (-not (Test-Path /usr/bin/kubectl)) { throw 'kubectl is not installed: apt-get install -y kubernetes-client' }
        $output = if ($InputText) { $InputText | & /usr/bin/kubectl --kubeconfig $script:Kubeconfig --context $Context @Arguments 2>&1 }
                  else { & /usr/bin/kubectl --kubeconfig $script:Kubeconfig --context $Context @Arguments 2>&1 }
        if ($LASTEXITCODE -ne 0) { throw "kubectl $Arguments failed: $output" }
        $output
    }
    function Invoke-KubeLab([string] $Method, [string] $Path, $Body) {
        Invoke-RestMethod -Method $Method -Uri "$($script:K.control)$Path" -Body ($Body | ConvertTo-Json -Depth 6) -ContentType 'application/json' -SkipCertificateCheck
    }
    function New-TokenKubeconfig([string] $Token) {
        # the lab's cluster (server and CA) with one user holding this token
        $ca = (Select-String -Path $script:Kubeconfig -Pattern 'certificate-authority-data: (\S+)').Matches[0].Groups[1].Value
        $path = Join-Path ([IO.Path]::GetTempPath()) "harborops-wi-$([guid]::NewGuid().ToString('n')).kubeconfig"
        @"
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: $($script:K.server)
    certificate-authority-data: $ca
contexts:
- name: team
  context: {cluster: lab, user: team}
current-context: team
users:
- name: team
  user:
    token: $Token
"@ | Set-Content -LiteralPath $path
        $path
    }
    function Wait-Pods([string] $Namespace, [int] $Count) {
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        do {
            $pods = (Invoke-Kubectl @('get', 'pods', '-n', $Namespace, '-o', 'json') | ConvertFrom-Json).items
            if (@($pods | Where-Object { $_.status.phase -in 'Running', 'Succeeded' }).Count -ge $Count) { return }
            Start-Sleep -Milliseconds 100
        } while ([DateTime]::UtcNow -lt $deadline)
        throw "namespace $Namespace did not get $Count running pods"
    }
    function New-TeamNamespace([string] $Name) {
        # What a team namespace looks like before the cut-over: most images from ACR, one already from Harbor.
        Invoke-Kubectl @('create', 'namespace', $Name) | Out-Null
        Invoke-Kubectl @('label', 'namespace', $Name, "run=$($script:Run)", "tier=$(if ($Name.EndsWith('-a')) { 'gold' } else { 'bronze' })") | Out-Null
        Invoke-Kubectl @('create', 'secret', 'docker-registry', 'acr-pull', '-n', $Name, "--docker-server=$($script:Acr)", '--docker-username=00000000-0000-0000-0000-000000000000', '--docker-password=not-a-real-token') | Out-Null
        Invoke-Kubectl @('patch', 'serviceaccount', 'default', '-n', $Name, '-p', '{"imagePullSecrets":[{"name":"acr-pull"}]}') | Out-Null
        $manifests = @(
            @{ apiVersion = 'apps/v1'; kind = 'Deployment'; metadata = @{ name = 'web' }; spec = @{ replicas = 2; selector = @{ matchLabels = @{ app = 'web' } }
                template = @{ metadata = @{ labels = @{ app = 'web' } }; spec = @{
                    initContainers = @(@{ name = 'migrate'; image = "$($script:Acr)/team/web-migrate:1.0" })
                    containers = @(@{ name = 'web'; image = "$($script:Acr)/team/web:1.0" }) } } } }
            @{ apiVersion = 'apps/v1'; kind = 'StatefulSet'; metadata = @{ name = 'cache' }; spec = @{ selector = @{ matchLabels = @{ app = 'cache' } }
                template = @{ metadata = @{ labels = @{ app = 'cache' } }; spec = @{ containers = @(@{ name = 'redis'; image = 'harbor.example.com/platform/redis:7' })
                    imagePullSecrets = @(@{ name = 'harbor-pull' }) } } } }
            @{ apiVersion = 'batch/v1'; kind = 'CronJob'; metadata = @{ name = 'report' }; spec = @{ schedule = '0 3 * * *'
                jobTemplate = @{ spec = @{ template = @{ spec = @{ restartPolicy = 'Never'; containers = @(@{ name = 'report'; image = "$($script:Acr)/team/report:2.4" }) } } } } } }
        )
        foreach ($manifest in $manifests) { Invoke-Kubectl @('create', '-n', $Name, '-f', '-') -InputText ($manifest | ConvertTo-Json -Depth 12) | Out-Null }
        $null = Invoke-KubeLab Post 'cronjobs/run' @{ namespace = $Name; name = 'report' }
        Wait-Pods $Name 4
    }

    $script:Teams = @("wi-$($script:Run)-a", "wi-$($script:Run)-b")
    foreach ($team in $script:Teams) { New-TeamNamespace $team }
    $script:Common = @{ Kubeconfig = $script:Kubeconfig; Context = $script:K.adminContext }
}

Describe 'Get-WorkloadImage' {
    It 'answers "what still pulls from ACR" grouped by namespace' {
        $groups = Get-WorkloadImage @script:Common -Namespace "wi-$($script:Run)-*" -Registry $script:Acr | Group-Object Namespace
        $groups.Name | Should -Be $script:Teams
        foreach ($group in $groups) {
            $group.Group | ForEach-Object { "$($_.WorkloadKind)/$($_.Workload)/$($_.Container)" } |
                Should -Be @('CronJob/report/report', 'Deployment/web/migrate', 'Deployment/web/web')
            $group.Group | ForEach-Object { $_.PullSecrets -join ',' } | Should -Be @('acr-pull', 'acr-pull', 'acr-pull')
        }
        $web = $groups[0].Group | Where-Object Container -eq 'web'
        $web.PodCount | Should -Be 2
        $web.Digest | Should -Match '^sha256:[0-9a-f]{64}$'
        ($groups[0].Group | Where-Object Container -eq 'migrate').ContainerKind | Should -Be 'Init'
        ($groups[0].Group | Where-Object Workload -eq 'report').Pods[0] | Should -BeLike 'report-*'
    }

    It 'shows a readable table grouped by namespace and lists every registry without -Registry' {
        $rows = Get-WorkloadImage @script:Common -Namespace $script:Teams[0]
        ($rows | Where-Object Registry -eq 'harbor.example.com').PullSecrets | Should -Be @('harbor-pull')
        $table = $rows | Format-Table | Out-String -Width 200
        $table | Should -Match "Namespace: $($script:Teams[0])"
        $table | Should -Match 'deploy/web\s+migrate \(init\)\s+myacr\.azurecr\.io/team/web-migrate:1\.0\s'
        $table | Should -Match 'sts/cache\s+redis\s+harbor\.example\.com/'
    }

    It 'uses KUBECONFIG and its current context when no -Kubeconfig is given, and binds -Namespace from the pipeline' {
        $result = Invoke-InRunspace -Script "param(`$kc, `$ns) `$env:KUBECONFIG = `$kc; try { [pscustomobject]@{ Namespace = `$ns } | Get-WorkloadImage -Registry myacr.azurecr.io } finally { `$env:KUBECONFIG = `$null }" -Parameters @{
            kc = $script:Kubeconfig; ns = $script:Teams[1] }
        $result.Errors | Should -BeNullOrEmpty
        @($result.Output).Count | Should -Be 3
        $result.Output.Namespace | Select-Object -Unique | Should -Be $script:Teams[1]
    }

    It 'selects namespaces by label and says what is wrong with a bad selector' {
        $rows = Get-WorkloadImage @script:Common -NamespaceSelector "run=$($script:Run),tier in (gold,silver)" -Registry '*.azurecr.io'
        $rows.Namespace | Select-Object -Unique | Should -Be $script:Teams[0]
        $result = Invoke-InRunspace -Script "param(`$kc) Get-WorkloadImage -Kubeconfig `$kc -NamespaceSelector 'tier in gold'" -Parameters @{ kc = $script:Kubeconfig }
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'KubeRequestInvalid,*'
        $result.Errors[0].Exception.Message | Should -Match 'unable to parse requirement'
    }

    It 'refuses -InCluster together with -Context' {
        $result = Invoke-InRunspace -Script 'Get-WorkloadImage -InCluster -Context lab-admin'
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'KubeConnectionConflict,*'
    }

    It 'stops with KubeContextNotFound naming the contexts the kubeconfig has' {
        $result = Invoke-InRunspace -Script "param(`$kc) Get-WorkloadImage -Kubeconfig `$kc -Context prod" -Parameters @{ kc = $script:Kubeconfig }
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'KubeContextNotFound,*'
        $result.Errors[0].Exception.Message | Should -Match 'its contexts are: lab-admin, lab-reader'
    }

    It 'reports KubePermissionDenied with the RBAC rule to add, and never the token' {
        $grant = Invoke-KubeLab Post 'tokens' @{ user = 'team-a-ci'; rules = @(@{ verbs = @('list'); resources = @('*'); apiGroups = @('*'); namespaces = @($script:Teams[0]) }) }
        $config = New-TokenKubeconfig $grant.token
        try {
            $denied = Invoke-InRunspace -Script "param(`$kc) Get-WorkloadImage -Kubeconfig `$kc" -Parameters @{ kc = $config }
            $denied.Errors.Count | Should -Be 1
            $denied.Errors[0].FullyQualifiedErrorId | Should -BeLike 'KubePermissionDenied,*'
            $denied.Errors[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            $denied.Errors[0].Exception.Message | Should -Match 'User "team-a-ci" cannot list resource'
            $denied.Errors[0].Exception.Message | Should -Match 'kubectl create clusterrole harborops --verb=list'
            $denied.Errors[0].Exception.ToString() | Should -Not -Match ([regex]::Escape($grant.token))
            $allowed = Invoke-InRunspace -Script "param(`$kc, `$ns) Get-WorkloadImage -Kubeconfig `$kc -Namespace `$ns" -Parameters @{ kc = $config; ns = $script:Teams[0] }
            $allowed.Errors | Should -BeNullOrEmpty
            @($allowed.Output).Count | Should -Be 4
        }
        finally { Remove-Item $config -ErrorAction SilentlyContinue }
    }
}


Describe 'Get-WorkloadImage next to a module that already loaded an older YamlDotNet' {
    BeforeAll {
        # powershell-yaml ships its own YamlDotNet; KubernetesClient reads kubeconfig files with a newer one.
        $stubPath = Join-Path $TestDrive 'powershell-yaml/YamlDotNet.dll'
        $null = New-Item -ItemType Directory -Force (Split-Path $stubPath)
        $q = { param($s) "'" + ($s -replace "'", "''") + "'" }
        $script:Report = Invoke-FreshPwsh -Script @"
`$ErrorActionPreference = 'Stop'
$(Get-LoadedAssemblyReport)
Add-Type -TypeDefinition 'public static class RoslynWarmUp { }'
`$tree = [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree]::ParseText(@'
[assembly: System.Reflection.AssemblyVersion("11.0.0.0")]
namespace YamlDotNet.Serialization { public sealed class Deserializer { public string StubOnly => "stub"; } }
'@)
`$runtimeDirectory = [IO.Path]::GetDirectoryName([object].Assembly.Location)
`$references = [Microsoft.CodeAnalysis.MetadataReference[]]@(
    [Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile([object].Assembly.Location),
    [Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile((Join-Path `$runtimeDirectory 'System.Runtime.dll')))
`$compilation = [Microsoft.CodeAnalysis.CSharp.CSharpCompilation]::Create('YamlDotNet', [Microsoft.CodeAnalysis.SyntaxTree[]]@(`$tree), `$references,
    [Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions]::new([Microsoft.CodeAnalysis.OutputKind]::DynamicallyLinkedLibrary))
`$emitted = [Microsoft.CodeAnalysis.FileSystemExtensions]::Emit(`$compilation, $(& $q $stubPath))
if (-not `$emitted.Success) { throw "The YamlDotNet stub did not compile: `$(`$emitted.Diagnostics)" }
`$null = [Reflection.Assembly]::LoadFrom($(& $q $stubPath)).GetType('YamlDotNet.Serialization.Deserializer', `$true)
Import-Module $(& $q (Get-TestModuleManifest))
`$rows = @(Get-WorkloadImage -Kubeconfig $(& $q $script:Kubeconfig) -Context lab-admin -Namespace $(& $q $script:Teams[0]))
'##RESULT##' + ([ordered]@{ Rows = `$rows.Count; Assemblies = @(Get-LoadedAssemblyReport) } | ConvertTo-Json -Depth 4 -Compress)
"@
    }

    It 'reads the kubeconfig and lists the images, with KubernetesClient and the real YamlDotNet in the HarborOps context' {
        $script:Report.Rows | Should -Be 4
        $yaml = @($script:Report.Assemblies | Where-Object Name -EQ 'YamlDotNet')
        ($yaml | Where-Object Context -EQ 'Default').Version | Should -Be '11.0.0.0'
        [version](($yaml | Where-Object Context -EQ 'HarborOps').Version) | Should -BeGreaterThan ([version]'11.0.0.0')
        ($script:Report.Assemblies | Where-Object Name -EQ 'KubernetesClient').Context | Should -Be 'HarborOps'
    }
}
