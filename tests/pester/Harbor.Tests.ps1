# The Harbor cmdlets as an operator uses them, against the lab's Harbor emulator (its API) in front of a real
# Distribution registry (its /v2/): session, projects and gates, robots flowing into the next command, scans,
# usage, members, -WhatIf and errors. Images reach Harbor with skopeo, as a migration would copy them.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:H = $script:Lab.harbor
    $script:Admin = New-TestCredential $script:H.username $script:H.password
    $script:Open = $script:Lab.registries.open.host
    $script:Images = @($script:Lab.seed.images)
    $script:Run = [guid]::NewGuid().ToString('n').Substring(0, 6)

    function Copy-ToHarbor([string] $From, [string] $To) {
        # skopeo as the independent client that migrates an image into Harbor through its token service.
        $out = & skopeo copy --all --src-tls-verify=false --dest-tls-verify=false --dest-creds "$($script:H.username):$($script:H.password)" `
            "docker://$($script:Open)/$From" "docker://$($script:H.host)/$To" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "skopeo copy $From -> $To failed: $out" }
    }
    function Get-SeedDigest([string] $Repository, [string] $Tag) {
        ($script:Images | Where-Object { $_.repository -eq $Repository -and $_.tag -eq $Tag } | Select-Object -First 1).digest
    }
    function Test-RobotPull([string] $UserName, [securestring] $Secret, [string] $Image) {
        # A fresh login each time (skopeo keeps no token), so a disabled robot or an old secret shows at once.
        $plain = [pscredential]::new('x', $Secret).GetNetworkCredential().Password
        $null = & skopeo inspect --raw --tls-verify=false --creds "$($UserName):$plain" "docker://$($script:H.host)/$Image" 2>&1
        $LASTEXITCODE -eq 0
    }
    function Invoke-LabControl([string] $Path, $Body) {
        Invoke-RestMethod -Method Post -Uri "$($script:H.control)$Path" -Body ($Body | ConvertTo-Json -Depth 5) -ContentType 'application/json'
    }

    Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
}

AfterAll {
    Get-RegistryCredential | Remove-RegistryCredential -Confirm:$false -ErrorAction SilentlyContinue
    Disconnect-Harbor -Confirm:$false -ErrorAction SilentlyContinue
}

Describe 'Connect-Harbor' {
    It 'checks the credential for real and keeps the session' {
        $info = Connect-Harbor -Harbor $script:H.url -Credential $script:Admin -Verbose 4>&1
        $verbose = @($info | Where-Object { $_ -is [Management.Automation.VerboseRecord] })
        $session = $info | Where-Object { $_ -is [HarborOps.Models.HarborConnectionInfo] }
        $session.Kind | Should -Be 'User'
        $session.IsSystemAdmin | Should -BeTrue
        $session.Registry | Should -Be $script:H.host
        ($verbose.Message -join "`n") | Should -Match 'X-Request-Id [0-9a-f-]{36}'
    }

    It 'fails with a terminating HarborAuthenticationFailed for a wrong password, naming the request id and never the password' {
        $result = Invoke-InRunspace -Script "param(`$u, `$c) Connect-Harbor -Harbor `$u -Credential `$c" -Parameters @{
            u = $script:H.url; c = (New-TestCredential $script:H.username 'Wrong-Password-1') }
        $result.Errors.Count | Should -Be 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'HarborAuthenticationFailed,*'
        $result.Errors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $result.Errors[0].Exception.Message | Should -Match 'X-Request-Id'
        $result.Errors[0].Exception.Message | Should -Not -Match 'Wrong-Password-1'
    }

    It 'lets a script pass -Harbor and -Credential without a session' {
        Disconnect-Harbor -Confirm:$false
        try {
            { Get-HarborProject -ErrorAction Stop } | Should -Throw -ErrorId 'HarborNotConnected,*'
            $name = "explicit-$($script:Run)"
            New-HarborProject $name -Harbor $script:H.url -Credential $script:Admin | Out-Null
            (Get-HarborProject $name -Harbor $script:H.url -Credential $script:Admin).Name | Should -Be $name
        }
        finally {
            Connect-Harbor -Harbor $script:H.url -Credential $script:Admin | Out-Null
        }
    }
}

Describe 'Projects' {
    BeforeAll { $script:Team = "team-$($script:Run)" }

    It 'New-HarborProject -WhatIf creates nothing' {
        New-HarborProject $script:Team -AutoScan -WhatIf | Should -BeNullOrEmpty
        Get-HarborProject $script:Team -ErrorAction SilentlyContinue -ErrorVariable missing | Should -BeNullOrEmpty
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'HarborProjectNotFound,*'
        $missing[0].TargetObject | Should -Be $script:Team
    }

    It 'creates a project with its policies and quota and reads them back' {
        $project = New-HarborProject $script:Team -AutoScan -PreventVulnerable -Severity High -CveAllowlist 'CVE-2024-1' -StorageQuotaGB 2
        $project | Should -BeOfType ([HarborOps.Models.HarborProjectInfo])
        $read = Get-HarborProject $script:Team
        $read.AutoScan | Should -BeTrue
        $read.PreventVulnerable | Should -BeTrue
        $read.Severity | Should -Be 'high'
        $read.CveAllowlist | Should -Be @('CVE-2024-1')
        $read.StorageLimit | Should -Be (2GB)
        (Get-HarborProject "team-$($script:Run)*").Name | Should -Contain $script:Team
    }

    It 'reports an existing name as a non-terminating HarborProjectExists and goes on with the next' {
        $other = "other-$($script:Run)"
        $created = @($script:Team, $other | New-HarborProject -ErrorAction SilentlyContinue -ErrorVariable failures)
        $created.Name | Should -Be @($other)
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'HarborProjectExists,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ResourceExists'
    }

    It 'Set-HarborProject changes only what it is given; Remove-HarborProject -WhatIf keeps the project' {
        $updated = Set-HarborProject $script:Team -AutoScan:$false -StorageQuotaGB -1
        $updated.AutoScan | Should -BeFalse
        $updated.PreventVulnerable | Should -BeTrue
        $updated.StorageLimit | Should -Be -1
        Remove-HarborProject "other-$($script:Run)" -WhatIf
        Get-HarborProject "other-$($script:Run)" | Should -Not -BeNullOrEmpty
        Remove-HarborProject "other-$($script:Run)" -Confirm:$false
        Get-HarborProject "other-$($script:Run)" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Robots' {
    BeforeAll {
        $script:Proj = "robots-$($script:Run)"
        New-HarborProject $script:Proj | Out-Null
        Copy-ToHarbor 'team-a/api:1.0' "$($script:Proj)/api:1.0"
    }

    It 'New-HarborRobot returns a credential that binds by property name into the pull-secret parameters' {
        $robot = New-HarborRobot k8s-pull -Project $script:Proj -DurationDays 30
        $robot | Should -BeOfType ([HarborOps.Models.HarborRobotCredential])
        $robot.UserName | Should -Be "robot`$$($script:Proj)+k8s-pull"
        $robot.Registry | Should -Be $script:H.host
        $robot.Secret | Should -BeOfType ([securestring])
        $robot.ExpiresAt | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddDays(29))
        ($robot | Out-String) | Should -Not -Match ([regex]::Escape([pscredential]::new('x', $robot.Secret).GetNetworkCredential().Password))

        # Sync-PullSecret's binding contract: Registry, UserName, Secret (SecureString), ExpiresAt by property name.
        function Receive-PullSecret {
            param(
                [Parameter(Mandatory, ValueFromPipelineByPropertyName)] [string] $Registry,
                [Parameter(Mandatory, ValueFromPipelineByPropertyName)] [string] $UserName,
                [Parameter(Mandatory, ValueFromPipelineByPropertyName)] [securestring] $Secret,
                [Parameter(ValueFromPipelineByPropertyName)] [Nullable[DateTimeOffset]] $ExpiresAt)
            process { [pscustomobject]@{ Registry = $Registry; UserName = $UserName; HasSecret = $Secret.Length -gt 0; ExpiresAt = $ExpiresAt } }
        }
        $bound = $robot | Receive-PullSecret
        $bound.Registry | Should -Be $script:H.host
        $bound.UserName | Should -Be $robot.UserName
        $bound.HasSecret | Should -BeTrue
        $bound.ExpiresAt | Should -Be $robot.ExpiresAt
    }

    It 'pipes into Set-RegistryCredential, and the robot then pulls through Harbor but cannot push' {
        $robot = New-HarborRobot ci-read -Project $script:Proj
        $script:CiSecret = $robot.Secret
        $robot | Set-RegistryCredential
        $tag = Get-RegistryTag "$($script:H.host)/$($script:Proj)/api:1.0"
        $tag.Digest | Should -Be (Get-SeedDigest 'team-a/api' '1.0')
        $out = & skopeo copy --src-tls-verify=false --dest-tls-verify=false --dest-creds "$($robot.UserName):$([pscredential]::new('x', $robot.Secret).GetNetworkCredential().Password)" `
            "docker://$($script:Open)/team-a/api:1.1" "docker://$($script:H.host)/$($script:Proj)/api:pushed" 2>&1
        $LASTEXITCODE | Should -Not -Be 0 -Because "a pull-only robot's token has no push ($out)"
    }

    It 'lists robots with days left, extends, disables through the pipeline and re-enables them' {
        $listed = Get-HarborRobot -Project $script:Proj -RobotName k8s-pull
        $listed.DaysLeft | Should -BeIn 29, 30
        (Get-HarborRobot -Project $script:Proj -ExpiringWithinDays 31).ShortName | Should -Contain 'k8s-pull'
        $extended = $listed | Set-HarborRobot -ExtendDays 120
        $extended.DaysLeft | Should -BeIn 119, 120
        $script:CiSecret | Should -Not -BeNullOrEmpty
        Get-HarborRobot -Project $script:Proj -RobotName ci-read | Set-HarborRobot -Disable | Select-Object -ExpandProperty Disabled | Should -BeTrue
        Test-RobotPull "robot`$$($script:Proj)+ci-read" $script:CiSecret "$($script:Proj)/api:1.0" | Should -BeFalse
        (Set-HarborRobot ci-read -Project $script:Proj -Enable).Disabled | Should -BeFalse
        Test-RobotPull "robot`$$($script:Proj)+ci-read" $script:CiSecret "$($script:Proj)/api:1.0" | Should -BeTrue
    }

    It 'Reset-HarborRobotSecret warns that the old secret stops at once and returns the new one' {
        $robot = Get-HarborRobot -Project $script:Proj -RobotName ci-read
        $reset = $robot | Reset-HarborRobotSecret -Confirm:$false -WarningVariable warnings
        $warnings[0] | Should -Match 'stopped working now'
        $reset.UserName | Should -Be $robot.Name
        $reset.ExpiresAt | Should -Be $robot.ExpiresAt -Because 'a refresh does not move the expiry'
        Test-RobotPull $robot.Name $script:CiSecret "$($script:Proj)/api:1.0" | Should -BeFalse -Because 'the old secret stops at once'
        Test-RobotPull $reset.UserName $reset.Secret "$($script:Proj)/api:1.0" | Should -BeTrue
        $reset | Set-RegistryCredential
        (Get-RegistryTag "$($script:H.host)/$($script:Proj)/api:1.0").Tag | Should -Be '1.0'
    }

    It 'reports duplicate and invalid names and ungrantable permissions clearly' {
        New-HarborRobot k8s-pull -Project $script:Proj -ErrorAction SilentlyContinue -ErrorVariable dup | Should -BeNullOrEmpty
        $dup[0].FullyQualifiedErrorId | Should -BeLike 'HarborRobotNameConflict,*'
        { New-HarborRobot 'Bad$Name' -Project $script:Proj -ErrorAction Stop } | Should -Throw -ErrorId 'HarborRobotNameInvalid,*'
        { New-HarborRobot fly -Project $script:Proj -Permission 'repository:fly' -ErrorAction Stop } | Should -Throw -ErrorId 'HarborRobotPermissionInvalid,*'
    }

    It 'Remove-HarborRobot -WhatIf keeps the robot; -Confirm:$false removes it' {
        Get-HarborRobot -Project $script:Proj -RobotName k8s-pull | Remove-HarborRobot -WhatIf
        Get-HarborRobot -Project $script:Proj -RobotName k8s-pull | Should -Not -BeNullOrEmpty
        Get-HarborRobot -Project $script:Proj -RobotName k8s-pull | Remove-HarborRobot -Confirm:$false
        Get-HarborRobot -Project $script:Proj -RobotName k8s-pull | Should -BeNullOrEmpty
        { Remove-HarborRobot k8s-pull -Project $script:Proj -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'HarborRobotNotFound,*'
    }
}

Describe 'Gates on a migrated project' {
    BeforeAll {
        $script:Gated = "migrated-$($script:Run)"
        New-HarborProject $script:Gated | Out-Null
        # Migrated with their signatures: debian is signed at the source; api:1.1 gets a signature copied under its digest tag.
        $debian = Get-SeedDigest 'platform/base/debian' 'bookworm'
        $sigTag = $debian.Replace(':', '-') + '.sig'
        Copy-ToHarbor 'platform/base/debian:bookworm' "$($script:Gated)/base/debian:bookworm"
        Copy-ToHarbor "platform/base/debian:$sigTag" "$($script:Gated)/base/debian:$sigTag"
        Copy-ToHarbor 'team-a/api:1.0' "$($script:Gated)/api:1.0"
        Copy-ToHarbor 'team-a/api:1.1' "$($script:Gated)/api:1.1"
        $script:Unsigned = Get-SeedDigest 'team-a/api' '1.0'
        $script:Unscanned = Get-SeedDigest 'team-a/api' '1.1'
        Copy-ToHarbor "platform/base/debian:$sigTag" "$($script:Gated)/api:$($script:Unscanned.Replace(':', '-')).sig"
        Invoke-LabControl 'scan-reports' @{ digest = $debian; vulnerabilities = @(@{ id = 'CVE-2025-7'; severity = 'Low'; package = 'libc'; version = '2.36'; fix_version = '2.37' }) }
        Get-HarborArtifact $script:Gated | Where-Object Digest -ne $script:Unscanned | Start-HarborScan -Wait | Out-Null
    }

    It 'Test-HarborProjectGate lists exactly the unsigned and the never-scanned artifact' {
        $findings = @(Get-HarborProject $script:Gated | Test-HarborProjectGate -Severity High)
        $findings.Count | Should -Be 2
        ($findings | Where-Object Digest -EQ $script:Unsigned).Reasons | Should -Be @('Unsigned')
        ($findings | Where-Object Digest -EQ $script:Unscanned).Reasons | Should -Be @('NeverScanned')
    }

    It 'Set-HarborProject -WhatIf says how many artifacts the gates would block and changes nothing' {
        Set-HarborProject $script:Gated -PreventVulnerable -Severity High -RequireCosignSignature -WhatIf -WarningVariable warnings
        ($warnings -join ' ') | Should -Match 'would refuse pulls of 2 artifact'
        (Get-HarborProject $script:Gated).PreventVulnerable | Should -BeFalse
    }

    It 'with -Force switches the gates on; the signed and scanned image pulls, the other two are refused with 412' {
        $project = Set-HarborProject $script:Gated -PreventVulnerable -Severity High -RequireCosignSignature -Force -WarningAction SilentlyContinue
        $project.PreventVulnerable | Should -BeTrue
        $project.RequireCosignSignature | Should -BeTrue
        New-HarborRobot puller -Project $script:Gated | Set-RegistryCredential
        (Get-RegistryTag "$($script:H.host)/$($script:Gated)/base/debian:bookworm").Tag | Should -Be 'bookworm'
        foreach ($case in @(@('api:1.0', 'not signed by cosign'), @('api:1.1', 'without vulnerability scanning'))) {
            $refused = $null
            try { $null = Get-RegistryTag "$($script:H.host)/$($script:Gated)/$($case[0])" -ErrorAction Stop } catch { $refused = $_ }
            $refused | Should -Not -BeNullOrEmpty -Because "$($case[0]) must not pull"
            $refused.Exception.StatusCode | Should -Be 412
            $refused.Exception.RegistryErrorCode | Should -Be 'PROJECTPOLICYVIOLATION'
            $refused.Exception.Message | Should -Match $case[1]
        }
    }

    It 'shows the scan and signature state per artifact and the report as objects' {
        $debian = Get-HarborArtifact $script:Gated -Repository base/debian -Reference bookworm
        $debian.Signed | Should -BeTrue
        $debian.ScanStatus | Should -Be 'Success'
        $debian.Severity | Should -Be 'Low'
        $vulnerability = $debian | Get-HarborVulnerability
        $vulnerability.Id | Should -Be 'CVE-2025-7'
        $vulnerability.FixVersion | Should -Be '2.37'
        $debian | Get-HarborVulnerability -MinimumSeverity High | Should -BeNullOrEmpty
    }
}

Describe 'Usage and members' {
    It 'Get-HarborProjectUsage reports every project largest first' {
        $usage = @(Get-HarborProjectUsage)
        $usage.Count | Should -BeGreaterThan 2
        $usage[0].UsedBytes | Should -BeGreaterThan 0
        ($usage.UsedBytes | Sort-Object -Descending) | Should -Be $usage.UsedBytes
        (Get-HarborProjectUsage "migrated-$($script:Run)").Project | Should -Be "migrated-$($script:Run)"
    }

    It 'adds users and OIDC/LDAP groups with a role and removes them through the pipeline' {
        $project = "members-$($script:Run)"
        New-HarborProject $project | Out-Null
        Invoke-LabControl 'users' @{ username = "bob$($script:Run)"; password = 'Bob-Pass-1' }
        (Add-HarborProjectMember $project -User "bob$($script:Run)" -Role Developer).Role | Should -Be 'Developer'
        # The lab's Harbor signs people in through OIDC; an LDAP group needs Harbor in ldap_auth and the DN in its directory.
        (Add-HarborProjectMember $project -Group devs -GroupType Oidc -Role Maintainer).EntityType | Should -Be 'Group'
        Invoke-LabControl 'auth-mode' @{ auth_mode = 'ldap_auth' }
        try {
            Invoke-LabControl 'ldap-groups' @{ dn = 'cn=ops,dc=example,dc=com' }
            (Add-HarborProjectMember $project -LdapGroupDn 'cn=ops,dc=example,dc=com' -Role Guest).Role | Should -Be 'Guest'
        }
        finally { Invoke-LabControl 'auth-mode' @{ auth_mode = 'oidc_auth' } }
        Add-HarborProjectMember $project -User "bob$($script:Run)" -Role Guest -ErrorAction SilentlyContinue -ErrorVariable dup
        $dup[0].FullyQualifiedErrorId | Should -BeLike 'HarborMemberExists,*'
        Get-HarborProjectMember $project | Where-Object Role -EQ Guest | Remove-HarborProjectMember -WhatIf
        (Get-HarborProjectMember $project).Role | Should -Contain 'Guest'
        Get-HarborProjectMember $project | Where-Object Role -EQ Guest | Remove-HarborProjectMember -Confirm:$false
        (Get-HarborProjectMember $project).Role | Should -Not -Contain 'Guest'
        Remove-HarborProjectMember $project -Name devs -Confirm:$false
        (Get-HarborProjectMember $project).Name | Should -Be @('admin', "bob$($script:Run)")
    }
}

Describe 'Add-HarborProjectMember follows Harbor''s auth mode' {
    AfterEach { Invoke-LabControl 'auth-mode' @{ auth_mode = 'oidc_auth' } }

    It 'in db_auth refuses a group before any write, naming the mode, and still adds users' {
        $project = "db-auth-$($script:Run)"
        New-HarborProject $project | Out-Null
        Invoke-LabControl 'auth-mode' @{ auth_mode = 'db_auth' }
        Add-HarborProjectMember $project -Group devs -GroupType Oidc -Role Developer -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'HarborGroupsUnsupported,*'
        $failures[0].Exception.Message | Should -Match "auth mode 'db_auth'"
        $failures[0].Exception.Message | Should -Match '-User'
        (Get-HarborProjectMember $project).EntityType | Should -Not -Contain 'Group'
        Invoke-LabControl 'users' @{ username = "carol$($script:Run)"; password = 'Carol-Pass-1' }
        (Add-HarborProjectMember $project -User "carol$($script:Run)" -Role Developer).EntityType | Should -Be 'User'
    }

    It 'in ldap_auth takes a DN given as -Group as an LDAP group, and refuses a plain name asking for a DN' {
        $project = "ldap-auth-$($script:Run)"
        New-HarborProject $project | Out-Null
        Invoke-LabControl 'auth-mode' @{ auth_mode = 'ldap_auth' }
        Invoke-LabControl 'ldap-groups' @{ dn = 'cn=qa,ou=groups,dc=example,dc=com'; name = 'quality' }
        $qa = Add-HarborProjectMember $project -Group 'cn=qa,ou=groups,dc=example,dc=com' -Role Developer
        ($qa.Name, $qa.EntityType) | Should -Be @('quality', 'Group')
        # Invalid input for this Harbor: a terminating error, as every InvalidArgument is.
        $failure = { Add-HarborProjectMember $project -Group devs -Role Developer } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'HarborLdapGroupDnRequired,*'
        $failure.Exception.Message | Should -Match 'distinguished name'
    }
}

Describe 'Copy-RegistryImage into Harbor' {
    It 'without -CreateProject fails the images of a missing project with one error naming it and the fix' {
        $project = "copy-missing-$($script:Run)"
        # The session (Connect-Harbor) is for this registry, so the copier checks the projects without being told.
        $output = @(Copy-RegistryImage "$($script:Open)/team-a/api" "$($script:H.host)/$project" -DestinationCredential $script:Admin -ErrorAction SilentlyContinue -ErrorVariable failures)
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'CopyHarborProjectMissing,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].Exception.Message | Should -Match "Project '$project' does not exist"
        $failures[0].Exception.Message | Should -Match '-CreateProject'
        $failures[0].Exception.Message | Should -Match "New-HarborProject $project"
        $output[-1].Failed | Should -Be 1
        $output[-1].Copied | Should -Be 0
        Get-HarborProject $project -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It '-CreateProject -WhatIf lists the project it would create and creates nothing' {
        $project = "copy-whatif-$($script:Run)"
        $script = @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$((Get-TestModuleManifest) -replace "'", "''")' -ErrorAction Stop
`$credential = [pscredential]::new('$($script:H.username)', (ConvertTo-SecureString '$($script:H.password)' -AsPlainText -Force))
`$objects = @(Copy-RegistryImage '$($script:Open)/team-a/api' '$($script:H.host)/$project' -Harbor '$($script:H.url)' -DestinationCredential `$credential -CreateProject -ProjectSettings @{ AutoScan = `$true } -WhatIf)
'##RESULT##' + (@{ Objects = `$objects.Count } | ConvertTo-Json -Compress)
"@
        $processPath = [Environment]::ProcessPath
        $pwshArgs = @()
        if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') { $pwshArgs += Join-Path $PSHOME 'pwsh.dll' }
        $stdout = & $processPath @pwshArgs -NoProfile -NonInteractive -EncodedCommand ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))
        $text = $stdout -join "`n"
        $text | Should -Match "What if: Performing the operation `"Create Harbor project \(AutoScan=True\)`" on target `"$project`""
        $text | Should -Match "What if: Performing the operation `"Copy from $([regex]::Escape($script:Open))/team-a/api:1\.0"
        ($text -split "`n" | Where-Object { $_ -like '##RESULT##*' }) | Should -Be '##RESULT##{"Objects":0}'
        Get-HarborProject $project -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It '-CreateProject creates the missing project once with -ProjectSettings and copies into it' {
        $project = "copy-created-$($script:Run)"
        $output = @(Copy-RegistryImage "$($script:Open)/team-a/api", "$($script:Open)/team-a/web" "$($script:H.host)/$project" -DestinationCredential $script:Admin `
                -CreateProject -ProjectSettings @{ AutoScan = $true; StorageQuotaGB = 1 } -Confirm:$false)
        $summary = $output[-1]
        $summary | Should -BeOfType ([HarborOps.Models.CopySummary])
        $summary.ProjectsCreated | Should -Be @($project)
        $summary.Failed | Should -Be 0
        $summary.Copied | Should -BeGreaterThan 1
        $created = Get-HarborProject $project
        $created.AutoScan | Should -BeTrue
        $created.Public | Should -BeFalse
        $created.StorageLimit | Should -Be (1GB)
        $digest = (Get-RegistryTag -Reference "$($script:H.host)/$project/team-a/api:1.0" -Credential $script:Admin).Digest
        $digest | Should -Be (Get-SeedDigest 'team-a/api' '1.0')
    }

    It 'refuses an unknown -ProjectSettings key before copying anything' {
        $project = "copy-badkey-$($script:Run)"
        $failure = $null
        try { Copy-RegistryImage "$($script:Open)/team-a/api" "$($script:H.host)/$project" -DestinationCredential $script:Admin -CreateProject -ProjectSettings @{ ScanOnPush = $true } -Confirm:$false }
        catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'HarborRequestInvalid,*'
        $failure.Exception.Message | Should -Match "unknown key 'ScanOnPush'"
        Get-HarborProject $project -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Replication' {
    It 'adds an endpoint (-WhatIf adds nothing), pulls the filtered tags with their signatures through a piped policy, and reports the tasks' {
        $endpointName = "lab-open-$($script:Run)"
        New-HarborRegistryEndpoint $endpointName -Type DockerRegistry -Url "http://$($script:Open)" -WhatIf | Should -BeNullOrEmpty
        Get-HarborRegistryEndpoint $endpointName | Should -BeNullOrEmpty

        $endpoint = New-HarborRegistryEndpoint $endpointName -Type DockerRegistry -Url "http://$($script:Open)"
        $endpoint | Should -BeOfType ([HarborOps.Models.HarborRegistryEndpointInfo])
        $endpoint.Type | Should -Be 'docker-registry'
        (Get-HarborRegistryEndpoint "lab-open-$($script:Run)*").Id | Should -Be @($endpoint.Id)
        New-HarborRegistryEndpoint $endpointName -Type DockerRegistry -Url "http://$($script:Open)" -ErrorAction SilentlyContinue -ErrorVariable duplicate | Should -BeNullOrEmpty
        $duplicate[0].FullyQualifiedErrorId | Should -BeLike 'HarborRegistryEndpointExists,*'

        $namespace = "repl-$($script:Run)"
        $execution = New-HarborReplicationPolicy "pull-$($script:Run)" -SourceRegistry $endpointName -NameFilter 'platform/**' -TagFilter 'book*' `
            -DestinationNamespace $namespace -ReplaceCount 2 | Start-HarborReplication -Wait -TimeoutSeconds 120
        $execution | Should -BeOfType ([HarborOps.Models.HarborReplicationExecutionInfo])
        $execution.Status | Should -Be 'Succeed'
        $execution.Tasks.Count | Should -Be 1
        $execution.Tasks[0].Source | Should -Match '^platform/base/debian:\[bookworm,sha256-[0-9a-f]{64}\.sig\]$'
        $execution.Tasks[0].Destination | Should -Match "^$namespace/debian:\[bookworm,sha256-[0-9a-f]{64}\.sig\]$"

        $landed = (& skopeo list-tags --tls-verify=false --creds "$($script:H.username):$($script:H.password)" "docker://$($script:H.host)/$namespace/debian" | ConvertFrom-Json).Tags
        $landed.Count | Should -Be 2
        $landed | Should -Contain 'bookworm'
        ($landed | Where-Object { $_ -match '^sha256-[0-9a-f]{64}\.sig$' }).Count | Should -Be 1
        (Get-HarborProject $namespace).Public | Should -BeFalse

        $read = $execution | Get-HarborReplicationExecution
        $read.Id | Should -Be $execution.Id
        $read.Tasks.Count | Should -Be 1
        (Get-HarborReplicationExecution -Policy "pull-$($script:Run)")[0].Id | Should -Be $execution.Id
    }

    It 'reports an unknown policy and an unknown endpoint as non-terminating not-found errors' {
        Start-HarborReplication "no-such-policy-$($script:Run)" -ErrorAction SilentlyContinue -ErrorVariable missing | Should -BeNullOrEmpty
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'HarborReplicationPolicyNotFound,*'
        New-HarborReplicationPolicy "orphan-$($script:Run)" -SourceRegistry "no-such-endpoint-$($script:Run)" -ErrorAction SilentlyContinue -ErrorVariable noEndpoint | Should -BeNullOrEmpty
        $noEndpoint[0].FullyQualifiedErrorId | Should -BeLike 'HarborRegistryEndpointNotFound,*'
        $noEndpoint[0].Exception.Message | Should -Match 'New-HarborRegistryEndpoint'
    }
}
