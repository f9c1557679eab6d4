<#
.SYNOPSIS
Writes the MAML help of the HarborOps cmdlets from the C# XML documentation comments.

.DESCRIPTION
platyPS and XmlDoc2CmdletDoc are not available to us, so the build generates MAML itself. The parameter
facts (sets, positions, pipeline binding, types, mandatory) come from the built module through
Get-Command, so the help can never disagree with the code; the prose comes from the doc comments:

  class <summary>            synopsis (one sentence)
  class <remarks><para>      description, one paragraph each
  class <example>            <code> the command, <para> what it does; one or more
  class <errors><error id>   the error ids the cmdlet can emit, listed under NOTES
  property <summary>         parameter description
  class <parameter name>     an inherited parameter's description for this cmdlet (and the classes below it)

With -MarkdownDirectory it also writes one Markdown page per cmdlet (and an index, README.md) from the same text:
the pages under docs/cmdlets that each cmdlet's HelpUri names, so Get-Help -Online opens what Get-Help prints. The
MAML's first related link is that HelpUri ("Online Version:", as platyPS writes it), which is what Get-Help -Online
reads first.

Run it in a child pwsh: it imports the module, and a binary module cannot be unloaded again.
It fails (exit 1) when a cmdlet or a parameter has no text, or a cmdlet's HelpUri is not its own page, so
undocumented cmdlets cannot ship.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $XmlDocPath,
    [Parameter(Mandatory)] [string] $OutputPath,
    [string] $MarkdownDirectory
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$module = Import-Module $ModulePath -PassThru -Force
# White space is kept so that multi-line example code keeps its own indentation (see Get-ExampleCode).
$doc = [System.Xml.XmlDocument]::new()
$doc.PreserveWhitespace = $true
$doc.Load((Resolve-Path -LiteralPath $XmlDocPath).ProviderPath)
$members = @{}
foreach ($m in $doc.doc.members.member) { $members[$m.name] = $m }

$commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
$problems = [System.Collections.Generic.List[string]]::new()

function Get-PlainText([System.Xml.XmlNode] $node) {
    if ($null -eq $node) { return '' }
    # <see cref="T:X.Y"/> and <c>x</c> read as their names; white space folds like a browser would.
    $text = foreach ($child in $node.ChildNodes) {
        switch ($child.NodeType) {
            'Text' { $child.Value }
            'Element' {
                if ($child.LocalName -eq 'see' -and $child.GetAttribute('cref')) { ($child.GetAttribute('cref') -replace '^[A-Z]:', '') -replace '^.*\.', '' }
                elseif ($child.LocalName -eq 'paramref' -or $child.LocalName -eq 'typeparamref') { $child.GetAttribute('name') }
                else { Get-PlainText $child }
            }
        }
    }
    (($text -join '') -replace '\s+', ' ').Trim()
}

function Get-Paragraphs([System.Xml.XmlNode] $node) {
    if ($null -eq $node) { return @() }
    $paras = @($node.SelectNodes('para'))
    if ($paras.Count -eq 0) { return @(Get-PlainText $node) | Where-Object { $_ } }
    $paras | ForEach-Object { Get-PlainText $_ } | Where-Object { $_ }
}

function Get-ExampleCode([System.Xml.XmlNode] $example) {
    $codeNode = $example.SelectSingleNode('code')
    if (-not $codeNode) { return '' }
    # The compiler re-indents doc text to the XML file's member indent; the white space in front of the
    # <example> element tells how much to take off each continuation line.
    $before = $example.PreviousSibling
    $indent = if ($before -and $before.NodeType -in 'Whitespace', 'SignificantWhitespace', 'Text') { ($before.Value -replace '(?s)^.*\n', '').Length } else { 0 }
    $lines = $codeNode.InnerText.Trim("`r", "`n") -split "`r?`n"
    $lines = for ($n = 0; $n -lt $lines.Count; $n++) {
        $line = $lines[$n]
        if ($n -gt 0 -and $line.Length -ge $indent -and -not $line.Substring(0, $indent).Trim()) { $line.Substring($indent) } else { $line.TrimEnd() }
    }
    (($lines -join "`n").Trim())
}

function Get-ShownType([type] $type) {
    # An optional value (DateTimeOffset?) reads as its value type in help, as PowerShell's own cmdlets show it.
    $underlying = [Nullable]::GetUnderlyingType($type)
    if ($underlying) { $underlying } else { $type }
}

function Get-MemberDoc([string] $id) { if ($members.ContainsKey($id)) { $members[$id] } else { $null } }

function Get-PropertyDoc([type] $type, [string] $name) {
    $property = $type.GetProperty($name)
    if (-not $property) { return $null }
    # A parameter inherited from a base class can be described again by a class between the cmdlet and that base,
    # in a <parameter name="..."> element, where what the parameter means there differs (what omitting it selects).
    for ($owner = $type; $owner -and $owner.IsSubclassOf($property.DeclaringType); $owner = $owner.BaseType) {
        $own = (Get-MemberDoc "T:$($owner.FullName)")?.SelectSingleNode("parameter[@name='$name']")
        if ($own) { return [xml]"<member><summary>$($own.InnerXml)</summary></member>" | ForEach-Object DocumentElement }
    }
    Get-MemberDoc ("P:{0}.{1}" -f $property.DeclaringType.FullName, $name)
}

function Get-PipelineInput($parameterInfos) {
    $byValue = $parameterInfos.ValueFromPipeline -contains $true
    $byName = $parameterInfos.ValueFromPipelineByPropertyName -contains $true
    if ($byValue -and $byName) { 'True (ByValue, ByPropertyName)' }
    elseif ($byValue) { 'True (ByValue)' }
    elseif ($byName) { 'True (ByPropertyName)' }
    else { 'False' }
}

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $OutputPath)
$tempPath = "$OutputPath.tmp"
$w = [System.Xml.XmlWriter]::Create($tempPath, $settings)
$maml = 'http://schemas.microsoft.com/maml/2004/10'
$command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-Para([string] $text) { $w.WriteStartElement('maml', 'para', $maml); $w.WriteString($text); $w.WriteEndElement() }
function Write-Description([string[]] $paragraphs) {
    $w.WriteStartElement('maml', 'description', $maml)
    foreach ($p in $paragraphs) { Write-Para $p }
    $w.WriteEndElement()
}
function Write-Type([string] $name) {
    $w.WriteStartElement('dev', 'type', $dev); $w.WriteElementString('name', $maml, $name); $w.WriteEndElement()
}

function Write-Parameter($cmdlet, [string] $name, $metadata, $setInfo) {
    $infos = @($metadata.ParameterSets.Values)
    $required = if ($setInfo) { $setInfo.IsMandatory } else { $infos.IsMandatory -contains $true }
    $position = if ($setInfo) { $setInfo.Position } else { ($infos | Select-Object -First 1).Position }
    $isSwitch = $metadata.SwitchParameter
    $w.WriteStartElement('command', 'parameter', $command)
    $w.WriteAttributeString('required', "$required".ToLowerInvariant())
    $w.WriteAttributeString('variableLength', "$($metadata.ParameterType.IsArray)".ToLowerInvariant())
    $w.WriteAttributeString('globbing', 'false')
    $w.WriteAttributeString('pipelineInput', (Get-PipelineInput ($(if ($setInfo) { $setInfo } else { $infos }))))
    $w.WriteAttributeString('position', $(if ($position -lt 0) { 'named' } else { "$position" }))
    $w.WriteAttributeString('aliases', $(if ($metadata.Aliases.Count) { $metadata.Aliases -join ', ' } else { 'none' }))
    $w.WriteElementString('name', $maml, $name)
    $propertyDoc = Get-PropertyDoc $cmdlet.ImplementingType $name
    $text = if ($propertyDoc) { Get-PlainText $propertyDoc.SelectSingleNode('summary') } else { '' }
    if (-not $text) { $problems.Add("$($cmdlet.Name) -$name has no <summary>") }
    Write-Description @($text)
    if (-not $isSwitch) {
        $w.WriteStartElement('command', 'parameterValue', $command)
        $w.WriteAttributeString('required', 'true'); $w.WriteAttributeString('variableLength', "$($metadata.ParameterType.IsArray)".ToLowerInvariant())
        $w.WriteString((Get-ShownType $metadata.ParameterType).Name); $w.WriteEndElement()
    }
    Write-Type (Get-ShownType $metadata.ParameterType).FullName
    $w.WriteElementString('defaultValue', $dev, 'None')
    $w.WriteEndElement()
}

. (Join-Path $PSScriptRoot 'build/HelpMarkdown.ps1')

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')

$cmdlets = Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name
$pages = [System.Collections.Generic.List[object]]::new()
foreach ($cmdlet in $cmdlets) {
    $typeDoc = Get-MemberDoc ("T:{0}" -f $cmdlet.ImplementingType.FullName)
    $synopsis = if ($typeDoc) { Get-PlainText $typeDoc.SelectSingleNode('summary') } else { '' }
    # @() around the if: its output unrolls, and one paragraph or example would otherwise be a scalar without Count.
    $description = @(if ($typeDoc) { Get-Paragraphs $typeDoc.SelectSingleNode('remarks') })
    $examples = @(if ($typeDoc) { $typeDoc.SelectNodes('example') })
    $errors = @(if ($typeDoc) { $typeDoc.SelectNodes('errors/error') })
    if (-not $synopsis) { $problems.Add("$($cmdlet.Name) has no <summary> (synopsis)") }
    if ($description.Count -eq 0) { $problems.Add("$($cmdlet.Name) has no <remarks> (description)") }
    if ($examples.Count -eq 0) { $problems.Add("$($cmdlet.Name) has no <example>") }
    if ("$($cmdlet.HelpUri)" -notmatch "^https://[^/]+/.+/docs/cmdlets/$([regex]::Escape($cmdlet.Name))\.md$") {
        $problems.Add("$($cmdlet.Name) has HelpUri '$($cmdlet.HelpUri)'; set HelpUri = OnlineHelp.CmdletPages + ""$($cmdlet.Name).md"" in its [Cmdlet] attribute")
    }
    if ($MarkdownDirectory) { $pages.Add((Get-MarkdownPage $cmdlet $synopsis $description $examples $errors)) }

    $w.WriteStartElement('command', 'command', $command)
    $w.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $w.WriteAttributeString('xmlns', 'dev', $null, $dev)

    $w.WriteStartElement('command', 'details', $command)
    $w.WriteElementString('name', $command, $cmdlet.Name)
    Write-Description @($synopsis)
    $w.WriteElementString('verb', $command, $cmdlet.Verb)
    $w.WriteElementString('noun', $command, $cmdlet.Noun)
    $w.WriteEndElement()

    Write-Description $description

    $ownParameters = $cmdlet.Parameters.GetEnumerator() | Where-Object { $commonParameters -notcontains $_.Key }
    $w.WriteStartElement('command', 'syntax', $command)
    foreach ($set in $cmdlet.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $command)
        $w.WriteElementString('name', $maml, $cmdlet.Name)
        foreach ($p in $set.Parameters | Where-Object { $commonParameters -notcontains $_.Name }) {
            $metadata = $cmdlet.Parameters[$p.Name]
            $setInfo = $metadata.ParameterSets[$set.Name]
            if (-not $setInfo) { $setInfo = $metadata.ParameterSets['__AllParameterSets'] }
            Write-Parameter $cmdlet $p.Name $metadata $setInfo
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $command)
    foreach ($entry in $ownParameters | Sort-Object Key) { Write-Parameter $cmdlet $entry.Key $entry.Value $null }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'inputTypes', $command)
    $pipelineTypes = $ownParameters | Where-Object { $_.Value.ParameterSets.Values.ValueFromPipeline -contains $true -or $_.Value.ParameterSets.Values.ValueFromPipelineByPropertyName -contains $true }
    foreach ($entry in $pipelineTypes) {
        $w.WriteStartElement('command', 'inputType', $command)
        Write-Type (Get-ShownType $entry.Value.ParameterType).FullName
        Write-Description @("Binds to -$($entry.Key) ($(Get-PipelineInput @($entry.Value.ParameterSets.Values)))")
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'returnValues', $command)
    foreach ($type in $cmdlet.OutputType) {
        $w.WriteStartElement('command', 'returnValue', $command)
        Write-Type $type.Name
        Write-Description @()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    if ($errors.Count) {
        $w.WriteStartElement('maml', 'alertSet', $maml)
        $w.WriteStartElement('maml', 'alert', $maml)
        Write-Para 'Errors this cmdlet can report (FullyQualifiedErrorId starts with the id; see about_HarborOps_Errors):'
        foreach ($e in $errors) { Write-Para ("{0}: {1}" -f $e.GetAttribute('id'), (Get-PlainText $e)) }
        $w.WriteEndElement(); $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'examples', $command)
    $i = 0
    foreach ($example in $examples) {
        $i++
        $w.WriteStartElement('command', 'example', $command)
        $w.WriteElementString('title', $maml, "-------------------------- Example $i --------------------------")
        $code = Get-ExampleCode $example
        if (-not $code) { $problems.Add("$($cmdlet.Name) example $i has no <code>") }
        $w.WriteElementString('code', $dev, $code)
        $w.WriteStartElement('dev', 'remarks', $dev)
        foreach ($p in $example.SelectNodes('para')) { Write-Para (Get-PlainText $p) }
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $command)
    $links = @(@{ Text = 'Online Version:'; Uri = "$($cmdlet.HelpUri)" }) + @('about_HarborOps', 'about_HarborOps_Errors' | ForEach-Object { @{ Text = $_; Uri = '' } })
    foreach ($link in $links) {
        $w.WriteStartElement('maml', 'navigationLink', $maml)
        $w.WriteElementString('linkText', $maml, $link.Text); $w.WriteElementString('uri', $maml, $link.Uri)
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()

if ($problems.Count) {
    Remove-Item -LiteralPath $tempPath -ErrorAction SilentlyContinue
    $problems | ForEach-Object { Write-Host "help: $_" }
    Write-Error "Help is incomplete for $($problems.Count) item(s); document them in the C# doc comments (see the list above)."
    exit 1
}
Move-Item -Force -LiteralPath $tempPath -Destination $OutputPath
if ($MarkdownDirectory) { Write-MarkdownPages $pages $MarkdownDirectory }
Write-Host ("help: {0} cmdlets documented in {1}" -f @($cmdlets).Count, $OutputPath)
