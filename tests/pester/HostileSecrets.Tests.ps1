# The cmdlets as a user runs them (-Verbose -Debug, every stream captured) against the lab's hostile registry, one
# HostileMode at a time: no credential may show up in any stream, error record or file we write, and no request may
# carry one to another scheme, host or port than the one it was given for. The modes come from the lab itself
# (Enum.GetNames over its control API), so a mode added later is scanned without editing this file.
BeforeDiscovery {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    $control = (Get-LabEndpoint).hostile.control.TrimEnd('/')
    # Invoke-RestMethod hands a JSON array over as one object; ForEach-Object unrolls it.
    $script:Modes = @(Invoke-RestMethod -Uri "$control/mode-names" | ForEach-Object { $_ })
}

BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Hostile = (Get-LabEndpoint).hostile
    $script:Control = $script:Hostile.control.TrimEnd('/')
    $script:Credential = New-TestCredential $script:Hostile.username $script:Hostile.password
    $script:HttpsPort = if ($script:Hostile.httpsHost -match ':(\d+)$') { [int] $Matches[1] } else { 443 }
    $script:Run = "scan-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:Source = "$($script:Hostile.httpsHost)/$($script:Run)/app"
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "harborops-secret-scan-$($script:Run)"
    $script:Layout = Join-Path $script:Work 'layout'
    $null = New-Item -ItemType Directory -Force $script:Work

    function script:Set-HostileMode([string[]] $Mode) {
        $null = Invoke-RestMethod -Method Put -Uri "$($script:Control)/modes" -ContentType 'application/json' -Body (ConvertTo-Json -InputObject @($Mode))
    }

    function script:Get-EverythingWritten($Run) {
        # Output, every error record with its exception chain, every other stream, as a user could see or log them.
        $text = [Text.StringBuilder]::new()
        foreach ($item in $Run.Output) {
            $null = $text.AppendLine(($item | Format-List * -Force | Out-String)).AppendLine(($item | ConvertTo-Json -Depth 6 -WarningAction SilentlyContinue))
        }
        foreach ($record in $Run.Errors) {
            $null = $text.AppendLine(($record | Format-List * -Force | Out-String)).AppendLine("$($record.ErrorDetails)").AppendLine("$($record.TargetObject)")
            for ($e = $record.Exception; $null -ne $e; $e = $e.InnerException) { $null = $text.AppendLine($e.Message).AppendLine($e.ToString()) }
        }
        foreach ($record in @($Run.Verbose) + @($Run.Debug) + @($Run.Warning) + @($Run.Information)) { $null = $text.AppendLine("$record") }
        foreach ($record in $Run.Progress) { $null = $text.AppendLine("$($record.Activity) $($record.StatusDescription) $($record.CurrentOperation)") }
        $text.ToString()
    }

    foreach ($tag in '1.0', '2.0') {
        $null = Invoke-RestMethod -Method Post -Uri "$($script:Control)/images" -ContentType 'application/json' -Body (@{ repository = "$($script:Run)/app"; tag = $tag } | ConvertTo-Json)
    }
    $null = Invoke-RestMethod -Method Put -Uri "$($script:Control)/server-error-tags" -ContentType 'application/json' -Body '["2.0"]'
    Set-HostileMode @()
    # A layout to push from, read while no mode is on.
    $seeded = @(Copy-RegistryImage -Source $script:Source -Destination "oci:$($script:Layout)" -SourceCredential $script:Credential)
    if ($seeded[-1].Failed -ne 0) { throw "Seeding the layout from the hostile registry failed: $($seeded[-1].Failures -join '; ')" }
}

AfterAll {
    Set-HostileMode @()
    $null = Invoke-RestMethod -Method Put -Uri "$($script:Control)/server-error-tags" -ContentType 'application/json' -Body '[]'
    Remove-Item -Recurse -Force $script:Work -ErrorAction SilentlyContinue
}

Describe 'The hostile registry, one mode at a time, through the cmdlets' {
    It 'under <_>: no credential in any stream, error record or journal, and none sent to another scheme, host or port' -ForEach $Modes {
        $mode = $_
        $name = $mode.ToLowerInvariant()
        Set-HostileMode $mode
        $null = Invoke-RestMethod -Method Delete -Uri "$($script:Control)/requests"
        $pushed = "$($script:Hostile.httpsHost)/pushed-$name"
        $pullJournal = Join-Path $script:Work "$name.pull.journal"
        $pushJournal = Join-Path $script:Work "$name.push.journal"
        $common = @{ Credential = $script:Credential; Source = $script:Source; Pushed = $pushed; Layout = $script:Layout }

        $runs = @(
            # A missing tag too: its error record carries the registry's own text, which a hostile registry fills with what it got.
            Invoke-InRunspace -TimeoutSeconds 300 -Parameters $common -Script 'param($Credential, $Source, $Pushed, $Layout)
                Get-RegistryTag -Reference $Source, "${Source}:no-such-tag" -Credential $Credential -IncludeReferrers -Verbose -Debug'
            Invoke-InRunspace -TimeoutSeconds 300 -Parameters ($common + @{ Journal = $pullJournal; Pulled = (Join-Path $script:Work "pulled-$name") }) -Script 'param($Credential, $Source, $Pushed, $Layout, $Journal, $Pulled)
                Copy-RegistryImage -Source $Source -Destination "oci:$Pulled" -SourceCredential $Credential -JournalPath $Journal -Verbose -Debug'
            Invoke-InRunspace -TimeoutSeconds 300 -Parameters ($common + @{ Journal = $pushJournal }) -Script 'param($Credential, $Source, $Pushed, $Layout, $Journal)
                Copy-RegistryImage -Source "oci:$Layout" -Destination $Pushed -DestinationCredential $Credential -JournalPath $Journal -Verbose -Debug'
            Invoke-InRunspace -TimeoutSeconds 300 -Parameters $common -Script 'param($Credential, $Source, $Pushed, $Layout)
                Compare-RegistryParity -Source $Source -Destination $Pushed -SourceCredential $Credential -DestinationCredential $Credential -IncludeReferrers -Verbose -Debug'
        )
        $written = ($runs | ForEach-Object { Get-EverythingWritten $_ }) -join "`n"
        foreach ($journal in $pullJournal, $pushJournal) {
            if (Test-Path $journal) { $written += "`n" + (Get-Content -Raw $journal) }
        }

        $secrets = @(Invoke-RestMethod -Uri "$($script:Control)/secrets" | ForEach-Object { $_ })
        $secrets.Count | Should -BeGreaterOrEqual 3
        foreach ($secret in $secrets) {
            $written.Contains([string] $secret) | Should -BeFalse -Because "no form of a credential ($(([string] $secret).Substring(0, 6))...) may appear in what the cmdlets wrote under $mode"
        }
        $requests = @(Invoke-RestMethod -Uri "$($script:Control)/requests" | ForEach-Object { $_ })
        $requests.Count | Should -BeGreaterThan 0
        $withCredentials = @($requests | Where-Object {
                $request = $_
                $request.Authorization -or ($request.FormBody -and @($secrets | Where-Object { $request.FormBody.Contains([string] $_) }).Count -gt 0)
            })
        foreach ($request in $withCredentials) {
            "$($request.Scheme)://$($request.Host):$($request.Port)" | Should -Be "https://$($script:Hostile.hostName):$($script:HttpsPort)" -Because "credentials given for $($script:Hostile.httpsHost) went with $($request.Method) $($request.PathAndQuery) under $mode"
        }
    }
}
