# The Markdown pages of the cmdlets (docs/cmdlets), written by tools/New-HarborOpsHelp.ps1 from the same doc comments
# and command metadata as the MAML help. Dot-sourced by that script: it uses its Get-PlainText, Get-ExampleCode,
# Get-PropertyDoc, Get-PipelineInput and Get-ShownType.

function ConvertTo-MarkdownCell([string] $text) { ($text -replace '\|', '\|') -replace '\s+', ' ' }

function Get-MarkdownPage($cmdlet, [string] $synopsis, [string[]] $description, $examples, $errors) {
    $commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    $b = [System.Text.StringBuilder]::new()
    $line = { param($text = '') $null = $b.Append($text).Append("`n") }
    & $line "# $($cmdlet.Name)"
    & $line
    & $line $synopsis
    & $line
    & $line '## Syntax'
    & $line
    & $line '```'
    $sets = @($cmdlet.ParameterSets)
    for ($i = 0; $i -lt $sets.Count; $i++) {
        if ($i) { & $line }
        & $line "$($cmdlet.Name) $($sets[$i].ToString())".TrimEnd()
    }
    & $line '```'
    & $line
    & $line '## Description'
    & $line
    foreach ($paragraph in $description) { & $line $paragraph; & $line }
    & $line '## Examples'
    $n = 0
    foreach ($example in $examples) {
        $n++
        & $line
        & $line "### Example $n"
        & $line
        & $line '```powershell'
        & $line (Get-ExampleCode $example)
        & $line '```'
        foreach ($p in $example.SelectNodes('para')) { & $line; & $line (Get-PlainText $p) }
    }
    & $line
    & $line '## Parameters'
    $own = $cmdlet.Parameters.GetEnumerator() | Where-Object { $commonParameters -notcontains $_.Key } | Sort-Object Key
    foreach ($entry in $own) {
        $metadata = $entry.Value
        $infos = @($metadata.ParameterSets.Values)
        $doc = Get-PropertyDoc $cmdlet.ImplementingType $entry.Key
        $positions = @($infos | Where-Object Position -GE 0 | ForEach-Object Position | Sort-Object -Unique)
        & $line
        & $line "### -$($entry.Key)"
        & $line
        & $line $(if ($doc) { Get-PlainText $doc.SelectSingleNode('summary') })
        & $line
        & $line '| Type | Required | Position | Pipeline input | Aliases |'
        & $line '|---|---|---|---|---|'
        & $line ('| {0} | {1} | {2} | {3} | {4} |' -f (ConvertTo-MarkdownCell (Get-ShownType $metadata.ParameterType).Name),
            $(if ($infos.IsMandatory -contains $true) { 'True' } else { 'False' }),
            $(if ($positions.Count) { $positions -join ', ' } else { 'Named' }),
            (Get-PipelineInput $infos),
            $(if ($metadata.Aliases.Count) { $metadata.Aliases -join ', ' } else { 'None' }))
    }
    & $line
    & $line '### CommonParameters'
    & $line
    & $line 'This cmdlet supports the common parameters (-Verbose, -ErrorAction, -WarningAction, -ProgressAction and the others); see about_CommonParameters.'
    & $line
    & $line '## Outputs'
    & $line
    foreach ($type in $cmdlet.OutputType) { & $line "- ``$($type.Name)``" }
    if ($errors.Count) {
        & $line
        & $line '## Errors'
        & $line
        & $line 'The error ids this cmdlet can report (the FullyQualifiedErrorId starts with the id; see about_HarborOps_Errors):'
        & $line
        foreach ($e in $errors) { & $line ('- `{0}`: {1}' -f $e.GetAttribute('id'), (Get-PlainText $e)) }
    }
    & $line
    & $line '## Related'
    & $line
    & $line '- `Get-Help about_HarborOps` (the workflows) and `Get-Help about_HarborOps_Errors` (every error id)'
    & $line '- [All cmdlets](README.md)'
    [pscustomobject]@{ Name = $cmdlet.Name; Synopsis = $synopsis; Text = $b.ToString() }
}

function Write-MarkdownPages($pages, [string] $directory) {
    if (Test-Path -LiteralPath $directory) { Remove-Item -LiteralPath $directory -Recurse -Force }
    $null = New-Item -ItemType Directory -Force -Path $directory
    $utf8 = [System.Text.UTF8Encoding]::new($false)
    foreach ($page in $pages) { [System.IO.File]::WriteAllText((Join-Path $directory "$($page.Name).md"), $page.Text, $utf8) }
    $index = [System.Text.StringBuilder]::new()
    $null = $index.Append("# HarborOps cmdlets`n`nGenerated from the cmdlets' own help by ``./build.ps1 -Task Docs``; ``Get-Help <cmdlet> -Online`` opens these pages.`n`n")
    $null = $index.Append("| Cmdlet | What it does |`n|---|---|`n")
    foreach ($page in $pages) { $null = $index.Append(('| [{0}]({0}.md) | {1} |' -f $page.Name, (ConvertTo-MarkdownCell $page.Synopsis))).Append("`n") }
    [System.IO.File]::WriteAllText((Join-Path $directory 'README.md'), $index.ToString(), $utf8)
    Write-Host ("help: {0} cmdlet pages in {1}" -f @($pages).Count, $directory)
}
