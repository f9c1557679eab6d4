# Entra ID groups as Harbor project members and the team onboarding pipeline, as an operator runs them: against the
# lab's Harbor emulator and its Graph emulator (Entra authority and Graph over TLS from the lab CA, which this process
# trusts through SSL_CERT_FILE as build.ps1 sets it), and its Kubernetes API emulator for the team's pull secrets. The credential really signs in (ClientSecretCredential against
# the emulator's token endpoint); Graph pages, throttles and answers errors as Graph does.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:H = $script:Lab.harbor
    $script:G = $script:Lab.graph
    if (-not $script:G) { throw 'The lab endpoints file has no "graph" entry: rebuild the lab (./build.ps1 -Task Build).' }
    if ($env:SSL_CERT_FILE -ne $script:G.caBundle) {
        throw "This process does not trust the lab's Graph emulator: start Pester with SSL_CERT_FILE=$($script:G.caBundle) (build.ps1 -Task Test does), since .NET reads it at process start."
    }
    $script:Admin = New-TestCredential $script:H.username $script:H.password
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)
    $script:Entra = @{
        TenantId = $script:G.tenantId; ClientId = $script:G.clientId; ClientSecret = (ConvertTo-SecureString $script:G.clientSecret -AsPlainText -Force)
        GraphEndpoint = $script:G.graphEndpoint; AuthorityHost = $script:G.authorityHost
    }
    $script:Example = Join-Path $env:HARBOROPS_REPO_ROOT 'examples/team-onboarding/New-HarborTeam.ps1'
    $script:K = $script:Lab.kubernetes
    $script:Cluster = @{ Kubeconfig = $script:K.kubeconfig; Context = $script:K.adminContext }

    function Invoke-Kubectl {
        # The real kubectl against the lab's Kubernetes API emulator: an independent reader of what the pipeline wrote.
        $out = & kubectl --kubeconfig $script:K.kubeconfig --context $script:K.adminContext @args 2>&1
        if ($LASTEXITCODE -ne 0) { throw "kubectl $args failed: $out" }
        $out
    }
    function New-TeamNamespace([string] $Name) {
        $null = Invoke-Kubectl create namespace $Name
        # The lab's namespace controller makes the default ServiceAccount shortly after, as a real cluster does.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($true) {
            $null = & kubectl --kubeconfig $script:K.kubeconfig --context $script:K.adminContext get serviceaccount default -n $Name 2>&1
            if ($LASTEXITCODE -eq 0) { break }
            if ([DateTime]::UtcNow -gt $deadline) { throw "no default ServiceAccount in namespace $Name" }
            Start-Sleep -Milliseconds 50
        }
    }

    function Invoke-GraphLab([string] $Path, $Body, [string] $Method = 'Post') {
        $arguments = @{ Method = $Method; Uri = "$($script:G.control)$Path" }
        if ($null -ne $Body) { $arguments.Body = ($Body | ConvertTo-Json -Depth 5); $arguments.ContentType = 'application/json' }
        Invoke-RestMethod @arguments
    }
    function New-EntraGroup([string] $Name, [string[]] $Members = @(), [int] $NewUsers = 0) {
        (Invoke-GraphLab 'groups' @{ displayName = $Name; members = $Members; newUsers = $NewUsers }).id
    }
    function New-EntraUser([string] $Name, [int] $ExtraGroups = 0) {
        (Invoke-GraphLab 'users' @{ displayName = $Name; userPrincipalName = "$Name@lab.example"; extraGroups = $ExtraGroups }).id
    }
    function Get-GraphExchange {
        # Invoke-RestMethod hands a JSON array over as one object: unroll it into exchanges.
        $all = Invoke-GraphLab 'exchanges' $null 'Get'
        foreach ($exchange in $all) { $exchange }
    }
    function Get-GroupMember([string] $Project) {
        @(Get-HarborProjectMember $Project | Where-Object EntityType -EQ 'Group' | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Role)" })
    }

    Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
}

AfterAll {
    Disconnect-Harbor -Confirm:$false -ErrorAction SilentlyContinue
}

Describe 'Team onboarding (examples/team-onboarding/New-HarborTeam.ps1), then the team''s groups change' {
    BeforeAll {
        $script:Team = "payments-$($script:Run)"
        $script:Devs = New-EntraGroup "$($script:Team)-devs"
        $script:Leads = New-EntraGroup "$($script:Team)-leads"
        $script:Readers = New-EntraGroup "$($script:Team)-readers"
        $script:Auditors = New-EntraGroup "$($script:Team)-auditors"
        $script:Namespaces = @("$($script:Team)-api", "$($script:Team)-jobs")
        $script:Namespaces | ForEach-Object { New-TeamNamespace $_ }
        $script:Onboarded = & $script:Example -Team $script:Team -StorageQuotaGB 5 -Severity Critical -EntraSignIn $script:Entra `
            -Namespace $script:Namespaces @script:Cluster -Group @{
            "$($script:Team)-devs" = 'Developer'; "$($script:Team)-leads" = 'Maintainer'; $script:Readers = 'Guest'
        }
    }

    It 'creates the project with its gates and quota' {
        $project = Get-HarborProject -Name $script:Team
        $project.AutoScan | Should -BeTrue
        $project.PreventVulnerable | Should -BeTrue
        $project.Severity | Should -Be 'critical'
        $project.RequireCosignSignature | Should -BeTrue
    }

    It 'makes the Entra groups members by object id, names and ids resolved through Graph' {
        Get-GroupMember $script:Team | Should -Be (@("$($script:Devs)=Developer", "$($script:Leads)=Maintainer", "$($script:Readers)=Guest") | Sort-Object)
        $script:Onboarded.MemberChanges.Action | Sort-Object -Unique | Should -Be 'Added'
        ($script:Onboarded.MemberChanges | Where-Object GroupId -EQ $script:Leads).GroupName | Should -Be "$($script:Team)-leads"
    }

    It 'creates a pull-only robot and a CI push robot for the project' {
        $robots = @(Get-HarborRobot -Project $script:Team)
        $robots.Name | Sort-Object | Should -Be @("robot`$$($script:Team)+ci-push", "robot`$$($script:Team)+k8s-pull")
        $script:Onboarded.PullRobot.UserName | Should -Be "robot`$$($script:Team)+k8s-pull"
        $script:Onboarded.PushRobot.Secret | Should -BeOfType [securestring]
        $script:Onboarded.PullRobot.ExpiresAt | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddDays(89))
    }

    It 'ends with the team''s line of the usage report' {
        $script:Onboarded.Usage.Project | Should -Be $script:Team
        $script:Onboarded.Usage.QuotaBytes | Should -Be (5GB)
    }

    It 'writes the pull robot''s secret into each of the team''s namespaces and their default ServiceAccounts (read back with kubectl)' {
        @($script:Onboarded.PullSecrets).Count | Should -Be 2
        $script:Onboarded.PullSecrets.Action | Sort-Object -Unique | Should -Be 'Created'
        foreach ($namespace in $script:Namespaces) {
            $secret = Invoke-Kubectl get secret harbor-pull -n $namespace -o json | ConvertFrom-Json
            $secret.type | Should -Be 'kubernetes.io/dockerconfigjson'
            $auths = ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($secret.data.'.dockerconfigjson')) | ConvertFrom-Json -AsHashtable).auths
            $auths[$script:H.host].username | Should -Be $script:Onboarded.PullRobot.UserName
            (Invoke-Kubectl get serviceaccount default -n $namespace -o json | ConvertFrom-Json).imagePullSecrets.name | Should -Contain 'harbor-pull'
        }
    }

    It 'then applies exactly the group changes asked for: one add, one role change, one removal' {
        $changes = @(Sync-HarborProjectMember $script:Team -Prune @script:Entra -Group @{
            "$($script:Team)-devs" = 'Maintainer'; "$($script:Team)-leads" = 'Maintainer'; "$($script:Team)-auditors" = 'LimitedGuest' })
        $changes.Count | Should -Be 3
        $summary = $changes | Sort-Object Action | ForEach-Object { "$($_.Action) $($_.GroupId) $($_.OldRole)->$($_.NewRole)" }
        $summary | Should -Be @("Added $($script:Auditors) ->LimitedGuest", "Removed $($script:Readers) Guest->", "RoleChanged $($script:Devs) Developer->Maintainer")
        $changes[0].PSObject.TypeNames[0] | Should -Be 'HarborOps.Models.HarborProjectGroupChange'
        Get-GroupMember $script:Team | Should -Be (@("$($script:Devs)=Maintainer", "$($script:Leads)=Maintainer", "$($script:Auditors)=LimitedGuest") | Sort-Object)
        # The project's creator (a user) is not a group the sync manages.
        (Get-HarborProjectMember $script:Team | Where-Object EntityType -EQ 'User').Name | Should -Be $script:H.username
    }

    It 'changes nothing on a second run of the pipeline' {
        $again = & $script:Example -Team $script:Team -StorageQuotaGB 5 -Severity Critical -EntraSignIn $script:Entra -Namespace $script:Namespaces @script:Cluster -Group @{
            "$($script:Team)-devs" = 'Maintainer'; "$($script:Team)-leads" = 'Maintainer'; "$($script:Team)-auditors" = 'LimitedGuest' }
        $again.MemberChanges | Should -BeNullOrEmpty
        $again.PullRobot | Should -BeNullOrEmpty -Because 'the existing robots are kept'
        @(Get-HarborRobot -Project $script:Team).Count | Should -Be 2
        Get-GroupMember $script:Team | Should -Be (@("$($script:Devs)=Maintainer", "$($script:Leads)=Maintainer", "$($script:Auditors)=LimitedGuest") | Sort-Object)
    }

    It '-WhatIf lists each change and makes none; piped rows work like the hashtable' {
        # What if: lines go to the host, so they are read from a child pwsh's output (it inherits SSL_CERT_FILE).
        $q = { param($v) "'" + ($v -replace "'", "''") + "'" }
        $script = @"
Import-Module $(& $q (Get-TestModuleManifest)) -ErrorAction Stop
Connect-Harbor -Harbor $(& $q $script:H.url) -Credential ([pscredential]::new($(& $q $script:H.username), (ConvertTo-SecureString $(& $q $script:H.password) -AsPlainText -Force))) | Out-Null
`$entra = @{ TenantId = $(& $q $script:G.tenantId); ClientId = $(& $q $script:G.clientId); ClientSecret = (ConvertTo-SecureString $(& $q $script:G.clientSecret) -AsPlainText -Force); GraphEndpoint = $(& $q $script:G.graphEndpoint); AuthorityHost = $(& $q $script:G.authorityHost) }
`$out = @([pscustomobject]@{ GroupName = $(& $q "$($script:Team)-devs"); Role = 'Guest' }, [pscustomobject]@{ GroupId = $(& $q $script:Leads); Role = 'Maintainer' } |
    Sync-HarborProjectMember -Project $(& $q $script:Team) -Prune @entra -WhatIf -ErrorVariable failures)
"##OUTPUT## `$(`$out.Count) ##ERRORS## `$(`$failures.Count)"
"@
        $processPath = [Environment]::ProcessPath
        $pwshArgs = @()
        if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') { $pwshArgs += Join-Path $PSHOME 'pwsh.dll' }
        $text = (& $processPath @pwshArgs -NoProfile -NonInteractive -EncodedCommand ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))) -join "`n"
        $text | Should -Match "What if: Performing the operation `"Change the role of Entra group '$($script:Team)-devs' \($($script:Devs)\) from Maintainer to Guest`" on target `"$($script:Team)`""
        $text | Should -Match "What if: Performing the operation `"Remove Entra group '$($script:Team)-auditors' \($($script:Auditors)\) \(was LimitedGuest\)`""
        ([regex]::Matches($text, 'What if:')).Count | Should -Be 2 -Because 'leads already has Maintainer'
        $text | Should -Match '##OUTPUT## 0 ##ERRORS## 0'
        Get-GroupMember $script:Team | Should -Be (@("$($script:Devs)=Maintainer", "$($script:Leads)=Maintainer", "$($script:Auditors)=LimitedGuest") | Sort-Object)
    }
}

Describe 'Sync-HarborProjectMember refuses what it cannot resolve' {
    BeforeAll {
        $script:Project = "errors-$($script:Run)"
        New-HarborProject $script:Project | Out-Null
        $script:Twin = "twin-$($script:Run)"
        $script:TwinIds = @((New-EntraGroup $script:Twin), (New-EntraGroup $script:Twin))
    }

    It 'fails an ambiguous name with EntraGroupAmbiguous listing every candidate id, and changes nothing' {
        $result = Invoke-InRunspace -Script "param(`$p, `$n, `$entra) Sync-HarborProjectMember `$p -Group @{ `$n = 'Developer' } @entra" -Parameters @{ p = $script:Project; n = $script:Twin; entra = $script:Entra }
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'EntraGroupAmbiguous,*'
        foreach ($id in $script:TwinIds) { $result.Errors[0].Exception.Message | Should -Match $id }
        $result.Errors[0].TargetObject | Should -Be $script:Twin
        Get-GroupMember $script:Project | Should -BeNullOrEmpty
    }

    It 'fails an unknown name with EntraGroupNotFound naming it' {
        $result = Invoke-InRunspace -Script "param(`$p, `$entra) Sync-HarborProjectMember `$p -Group @{ 'no-such-team' = 'Developer' } @entra" -Parameters @{ p = $script:Project; entra = $script:Entra }
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'EntraGroupNotFound,*'
        $result.Errors[0].Exception.Message | Should -Match "'no-such-team'"
    }

    It 'refuses a role that is not Harbor''s before asking Graph, and a wrong secret without showing it' {
        $badRole = Invoke-InRunspace -Script "param(`$p, `$entra) Sync-HarborProjectMember `$p -Group @{ 'x' = 'Owner' } @entra" -Parameters @{ p = $script:Project; entra = $script:Entra }
        $badRole.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborRequestInvalid,*'
        $badRole.Errors[0].Exception.Message | Should -Match 'ProjectAdmin, Maintainer, Developer, Guest, LimitedGuest'

        $wrong = $script:Entra.Clone()
        $wrong.ClientSecret = ConvertTo-SecureString 'Not-The-Secret-42' -AsPlainText -Force
        $denied = Invoke-InRunspace -Script "param(`$p, `$entra) Sync-HarborProjectMember `$p -Group @{ 'x' = 'Guest' } @entra -Verbose" -Parameters @{ p = $script:Project; entra = $wrong }
        $denied.Errors[0].FullyQualifiedErrorId | Should -BeLike 'EntraAuthenticationFailed,*'
        $denied.Errors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $text = ($denied.Errors | Out-String) + ($denied.Verbose | Out-String)
        $text | Should -Not -Match 'Not-The-Secret-42'
        $text | Should -Not -Match ([regex]::Escape($script:G.clientSecret))
    }

    It 'rides out 429s with Retry-After through Graph''s retry handler' {
        $group = New-EntraGroup "throttled-$($script:Run)"
        Invoke-GraphLab 'throttle' @{ count = 2; retryAfterSeconds = 1 } | Out-Null
        $changes = @(Sync-HarborProjectMember $script:Project -Group @{ $group = 'Guest' } @script:Entra)
        $changes.Action | Should -Be 'Added'
        $statuses = @(Get-GraphExchange | Where-Object { $_.Listener -eq 'graph' -and $_.Path -eq "/v1.0/groups/$group" }).Status
        $statuses | Should -Be @(429, 429, 200)
    }
}

Describe 'Sync-HarborProjectMember follows Harbor''s auth mode' {
    BeforeAll {
        function Set-HarborAuthMode([string] $Mode) {
            Invoke-RestMethod -Method Post -Uri "$($script:H.control)auth-mode" -Body (@{ auth_mode = $Mode } | ConvertTo-Json) -ContentType 'application/json' | Out-Null
        }
        $script:Project = "auth-mode-$($script:Run)"
        New-HarborProject $script:Project | Out-Null
        $script:Devs = New-EntraGroup "auth-mode-devs-$($script:Run)"
    }
    AfterEach { Set-HarborAuthMode 'oidc_auth' }

    It 'in db_auth fails before Entra or any write, naming the auth mode and what to configure' {
        Set-HarborAuthMode 'db_auth'
        $graphCalls = @(Get-GraphExchange).Count
        $result = Invoke-InRunspace -Script "param(`$p, `$g, `$entra) Sync-HarborProjectMember `$p -Group @{ `$g = 'Developer' } -Prune @entra" -Parameters @{ p = $script:Project; g = $script:Devs; entra = $script:Entra }
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborGroupsUnsupported,*'
        $result.Errors[0].CategoryInfo.Category | Should -Be 'NotImplemented'
        $result.Errors[0].Exception.Message | Should -Match "auth mode 'db_auth'"
        $result.Errors[0].Exception.Message | Should -Match 'oidc_auth'
        @(Get-GraphExchange).Count | Should -Be $graphCalls
        Get-GroupMember $script:Project | Should -BeNullOrEmpty
    }

    It 'in oidc_auth adds the Entra group as today' {
        $changes = @(Sync-HarborProjectMember $script:Project -Group @{ $script:Devs = 'Developer' } @script:Entra)
        $changes.Action | Should -Be 'Added'
        Get-GroupMember $script:Project | Should -Be @("$($script:Devs)=Developer")
    }

    It 'in ldap_auth makes a group given by DN an LDAP group member, and refuses a name asking for a DN' {
        Set-HarborAuthMode 'ldap_auth'
        $dn = "cn=ldap-ops-$($script:Run),ou=groups,dc=example,dc=com"
        Invoke-RestMethod -Method Post -Uri "$($script:H.control)ldap-groups" -Body (@{ dn = $dn } | ConvertTo-Json) -ContentType 'application/json' | Out-Null
        $byName = Invoke-InRunspace -Script "param(`$p, `$entra) Sync-HarborProjectMember `$p -Group @{ 'team-a-devs' = 'Guest' } @entra" -Parameters @{ p = $script:Project; entra = $script:Entra }
        $byName.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborLdapGroupDnRequired,*'
        $byName.Errors[0].Exception.Message | Should -Match "'team-a-devs' is not one"

        $changes = @(Sync-HarborProjectMember $script:Project -Group @{ $dn = 'Guest' } @script:Entra)
        $changes.Action | Should -Be 'Added'
        $changes.GroupId | Should -Be $dn
        Get-GroupMember $script:Project | Should -Contain "ldap-ops-$($script:Run)=Guest"
        @(Sync-HarborProjectMember $script:Project -Group @{ $dn = 'Guest' } @script:Entra) | Should -BeNullOrEmpty
    }
}

Describe 'Test-HarborOidcGroupClaim' {
    It 'reads a group with 1,000 transitive members through every page' {
        $nested = New-EntraGroup "nested-$($script:Run)" -NewUsers 400
        $big = New-EntraGroup "big-$($script:Run)" -Members @($nested) -NewUsers 600
        $findings = @(Test-HarborOidcGroupClaim -Project unused -Group $big -Threshold 0 @script:Entra)
        $findings.Count | Should -Be 1000
        @($findings.UserId | Sort-Object -Unique).Count | Should -Be 1000
        # 1,001 members (the nested group too) at Graph's largest page of 999: one @odata.nextLink follow-up.
        $pages = @(Get-GraphExchange | Where-Object { $_.Path -eq "/v1.0/groups/$big/transitiveMembers" })
        $pages.Count | Should -Be 2
        $pages[1].Query | Should -Match 'skiptoken'
    }

    It 'reports the project''s user who is over the 200-group limit, and only that user' {
        $project = "claims-$($script:Run)"
        New-HarborProject $project | Out-Null
        $heavy = New-EntraUser "heavy-$($script:Run)" -ExtraGroups 205
        $light = New-EntraUser "light-$($script:Run)" -ExtraGroups 3
        $team = New-EntraGroup "claims-team-$($script:Run)" -Members @($heavy, $light)
        Sync-HarborProjectMember $project -Group @{ $team = 'Developer' } @script:Entra | Out-Null
        $output = Test-HarborOidcGroupClaim $project @script:Entra -Verbose 4>&1
        $findings = @($output | Where-Object { $_ -is [HarborOps.Models.HarborOidcGroupClaimFinding] })
        $findings.Count | Should -Be 1
        $findings[0].UserId | Should -Be $heavy
        $findings[0].GroupCount | Should -Be 206
        $findings[0].Threshold | Should -Be 200
        $findings[0].ProjectGroups | Should -Be "claims-team-$($script:Run)"
        ($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join "`n" | Should -Match '2 user\(s\) in 1 Entra group\(s\) checked; 1 above 200'
    }
}
