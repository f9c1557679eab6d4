# The cut-over as users run it: Update-ImageReference over the realistic fixture tree (tests/fixtures/cutover), then
# Get-ImageReference piped into Test-RegistryImage against the lab's real Distribution registry.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Open = $script:Lab.registries.open.host
    $script:Fixture = Join-Path $PSScriptRoot '../fixtures/cutover'
    $script:Old = 'contoso.azurecr.io'
    $script:Missing = 'team/retired-worker:0.9'

    function script:New-TreeCopy {
        $root = Join-Path ([IO.Path]::GetTempPath()) "harborops-cutover-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        Copy-Item -Recurse $script:Fixture $root
        $root
    }

    function script:Get-TreeHash([string] $Root) {
        Get-ChildItem -Recurse -File $Root | Sort-Object FullName | ForEach-Object { '{0} {1}' -f $_.FullName, (Get-FileHash -Algorithm SHA256 $_.FullName).Hash }
    }

    # The fixed manifest the fixture's pinned digests were computed from (tests/fixtures/cutover/README.md).
    $script:EmptyConfig = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
    function script:Get-FixtureManifest([string] $Repository, [string] $Tag) {
        [Text.Encoding]::UTF8.GetBytes('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"' +
            $script:EmptyConfig + '","size":2},"layers":[],"annotations":{"org.opencontainers.image.ref.name":"' + "${Repository}:${Tag}" + '"}}')
    }

    # One OCI image layout per repository below $Root, holding a fixed manifest per tag.
    function script:New-ImageLayouts([string] $Root, [object[]] $Images) {
        foreach ($group in $Images | Group-Object Repository) {
            $layout = Join-Path $Root $group.Name
            $blobs = New-Item -ItemType Directory -Force (Join-Path $layout 'blobs/sha256')
            [IO.File]::WriteAllBytes((Join-Path $blobs $script:EmptyConfig.Substring(7)), [Text.Encoding]::UTF8.GetBytes('{}'))
            [IO.File]::WriteAllText((Join-Path $layout 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
            $manifests = foreach ($tag in $group.Group.Tag | Sort-Object -Unique) {
                $bytes = Get-FixtureManifest $group.Name $tag
                $hex = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)).ToLowerInvariant()
                [IO.File]::WriteAllBytes((Join-Path $blobs $hex), $bytes)
                [ordered]@{ mediaType = 'application/vnd.oci.image.manifest.v1+json'; digest = "sha256:$hex"; size = $bytes.Length; annotations = @{ 'org.opencontainers.image.ref.name' = $tag } }
            }
            $index = [ordered]@{ schemaVersion = 2; mediaType = 'application/vnd.oci.image.index.v1+json'; manifests = @($manifests) } | ConvertTo-Json -Depth 5 -Compress
            [IO.File]::WriteAllText((Join-Path $layout 'index.json'), $index)
        }
    }
}

Describe 'Update-ImageReference' {
    BeforeEach { $script:Tree = New-TreeCopy }
    AfterEach { Remove-Item -Recurse -Force $script:Tree -ErrorAction SilentlyContinue }

    It '-WhatIf prints a unified diff per file, emits the planned changes and writes nothing' {
        $before = Get-TreeHash $script:Tree
        $output = @(Update-ImageReference $script:Tree -Recurse -From $script:Old -To harbor.example.com/migrated -WhatIf -ErrorAction SilentlyContinue 6>&1)

        Get-TreeHash $script:Tree | Should -Be $before
        $diff = @($output | Where-Object { $_ -is [Management.Automation.InformationRecord] } | ForEach-Object { "$($_.MessageData)" })
        $diff.Count | Should -Be 10
        $crlf = $diff | Where-Object { $_ -match 'crlf-deployment\.yaml' }
        $crlf | Should -Match '(?m)^-          image: "contoso\.azurecr\.io/team/report:3\.0"   # CRLF$'
        $crlf | Should -Match '(?m)^\+          image: "harbor\.example\.com/migrated/team/report:3\.0"   # CRLF$'
        $crlf | Should -Match '(?m)^@@ -8,4 \+8,4 @@$'
        $changes = @($output | Where-Object { $_ -is [HarborOps.Models.ImageReferenceChange] })
        @($changes | Where-Object Action -EQ Planned).Count | Should -Be 40
        @($changes | Where-Object Action -EQ Templated).Count | Should -Be 4
    }

    It 'rewrites every reference to the old registry in place, reports the broken files and the templated values' {
        $output = @(Update-ImageReference $script:Tree -Recurse -From $script:Old -To harbor.example.com/migrated -ErrorVariable failures -ErrorAction SilentlyContinue)

        @($output | Where-Object Action -EQ Rewritten).Count | Should -Be 40
        ($output | Where-Object Action -EQ Templated | ForEach-Object { Split-Path -Leaf $_.Path } | Sort-Object) -join ',' | Should -Be 'deployment.yaml,deployment.yaml,Dockerfile,values.yaml'
        $failures.Count | Should -Be 2
        ($failures | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | Sort-Object) -join ',' | Should -Be 'ImageReferenceFileBinary,ImageReferenceFileMalformed'
        ($failures.TargetObject | ForEach-Object { Split-Path -Leaf $_ } | Sort-Object) -join ',' | Should -Be 'malformed.yaml,packed.yaml'
        foreach ($broken in 'broken/malformed.yaml', 'broken/packed.yaml') {
            (Get-FileHash (Join-Path $script:Tree $broken)).Hash | Should -Be (Get-FileHash (Join-Path $script:Fixture $broken)).Hash
        }

        $left = @(Get-ImageReference $script:Tree -Recurse -Registry $script:Old -ErrorAction SilentlyContinue | Where-Object { -not $_.Templated })
        $left | Should -BeNullOrEmpty
        $values = Get-Content -Raw (Join-Path $script:Tree 'charts/web/values.yaml')
        $values | Should -Match "(?m)^  registry: harbor\.example\.com   # moved to Harbor in the cut-over\n  repository: migrated/team/web\n"
        $values | Should -Match "sidecarImage: 'harbor\.example\.com/migrated/team/proxy:2\.0'"
        $bytes = [IO.File]::ReadAllBytes((Join-Path $script:Tree 'manifests/crlf-deployment.yaml'))
        $bytes[0..2] | Should -Be @(0xEF, 0xBB, 0xBF)
        [Text.Encoding]::UTF8.GetString($bytes) | Should -Match 'image: "harbor\.example\.com/migrated/team/report:3\.0"   # CRLF\r\n$'
    }
}

Describe 'Get-ImageReference | Test-RegistryImage' {
    It 'finds exactly the one image the copy left out, after the rewrite' {
        $tree = New-TreeCopy
        $layouts = Join-Path ([IO.Path]::GetTempPath()) "harborops-layouts-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        try {
            $prefix = "cutover-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
            $referenced = @(Get-ImageReference $tree -Recurse -Registry $script:Old -ErrorAction SilentlyContinue | Where-Object Reference)
            $referenced.Count | Should -Be 31   # every image of the old registry but the ApplicationSet's templated tag
            $images = @($referenced | ForEach-Object { [pscustomobject]@{ Repository = $_.Repository; Tag = if ($_.Tag) { $_.Tag } else { 'latest' } } } |
                Where-Object { "$($_.Repository):$($_.Tag)" -ne $script:Missing })
            New-ImageLayouts $layouts $images
            $copied = @(Copy-RegistryImage -Source "oci:$layouts" -Destination "$($script:Open)/$prefix")
            $copied[-1].Failed | Should -Be 0

            $null = Update-ImageReference $tree -Recurse -From $script:Old -To "$($script:Open)/$prefix" -ErrorAction SilentlyContinue
            $status = @(Get-ImageReference $tree -Recurse -Registry $script:Open -ErrorAction SilentlyContinue | Test-RegistryImage)

            $missing = @($status | Where-Object State -EQ Missing)
            $missing.Count | Should -Be 1
            $missing[0].Reference | Should -Be "$($script:Open)/$prefix/$($script:Missing)"
            (Split-Path -Leaf $missing[0].Path), $missing[0].Line | Should -Be 'workloads.yaml', 82
            @($status | Where-Object State -EQ Templated).Count | Should -Be 1
            @($status | Where-Object State -EQ Exists).Count | Should -Be 30
            # Digest-pinned references kept their digests and those exist too.
            @($status | Where-Object { $_.State -eq 'Exists' -and $_.Reference -like '*@sha256:*' }).Count | Should -Be 5
        }
        finally {
            Remove-Item -Recurse -Force $tree, $layouts -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Get-ImageReference next to a module that already loaded an older YamlDotNet' {
    It 'reads the charts with its own YamlDotNet in the HarborOps context, leaving the old one in the default context' {
        $quote = { param($s) "'" + ($s -replace "'", "''") + "'" }
        $stubDirectory = Join-Path $TestDrive 'powershell-yaml'
        $null = New-Item -ItemType Directory -Force $stubDirectory
        $stubPath = Join-Path $stubDirectory 'YamlDotNet.dll'
        $report = Invoke-FreshPwsh -Script @"
`$ErrorActionPreference = 'Stop'
$(Get-LoadedAssemblyReport)
# What powershell-yaml does first: a YamlDotNet of another version with the same type names, in the default context.
Add-Type -TypeDefinition 'public static class RoslynWarmUp { }'
`$tree = [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree]::ParseText(@'
[assembly: System.Reflection.AssemblyVersion("11.0.0.0")]
namespace YamlDotNet.RepresentationModel { public class YamlStream { public string StubOnly => "stub"; } }
'@)
`$runtimeDirectory = [IO.Path]::GetDirectoryName([object].Assembly.Location)
`$references = [Microsoft.CodeAnalysis.MetadataReference[]]@(
    [Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile([object].Assembly.Location),
    [Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile((Join-Path `$runtimeDirectory 'System.Runtime.dll')))
`$compilation = [Microsoft.CodeAnalysis.CSharp.CSharpCompilation]::Create('YamlDotNet', [Microsoft.CodeAnalysis.SyntaxTree[]]@(`$tree), `$references,
    [Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions]::new([Microsoft.CodeAnalysis.OutputKind]::DynamicallyLinkedLibrary))
`$emitted = [Microsoft.CodeAnalysis.FileSystemExtensions]::Emit(`$compilation, $(& $quote $stubPath))
if (-not `$emitted.Success) { throw "The YamlDotNet stub did not compile: `$(`$emitted.Diagnostics)" }
`$null = [Reflection.Assembly]::LoadFrom($(& $quote $stubPath)).GetType('YamlDotNet.RepresentationModel.YamlStream', `$true)
Import-Module $(& $quote (Get-TestModuleManifest))
`$found = @(Get-ImageReference $(& $quote (Join-Path $script:Fixture 'manifests')) -Registry contoso.azurecr.io)
'##RESULT##' + ([ordered]@{ Count = `$found.Count; Assemblies = @(Get-LoadedAssemblyReport) } | ConvertTo-Json -Depth 4 -Compress)
"@
        $report.Count | Should -Be 9
        $yaml = @($report.Assemblies | Where-Object Name -EQ 'YamlDotNet')
        ($yaml | Where-Object Context -EQ 'Default').Version | Should -Be '11.0.0.0'
        [version]($yaml | Where-Object Context -EQ 'HarborOps').Version | Should -BeGreaterOrEqual ([version]'18.0.0.0')
    }
}

Describe 'Get-ImageReference and Update-ImageReference in a tree with links and read-only files' {
    BeforeEach {
        $script:Root = Join-Path ([IO.Path]::GetTempPath()) "harborops-links-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        $script:Deploy = Join-Path $script:Root 'deploy'
        $manifest = "image: contoso.azurecr.io/team/web:1.0`n"
        $null = New-Item -ItemType Directory -Force (Join-Path $script:Deploy 'charts'), (Join-Path $script:Root 'outside')
        [IO.File]::WriteAllText((Join-Path $script:Deploy 'app.yaml'), $manifest)
        $script:Locked = Join-Path $script:Deploy 'locked.yaml'
        [IO.File]::WriteAllText($script:Locked, $manifest)
        [IO.File]::SetUnixFileMode($script:Locked, [IO.UnixFileMode]'UserRead, GroupRead, OtherRead')   # 0444
        $script:Shared = Join-Path $script:Root 'outside/shared.yaml'
        [IO.File]::WriteAllText($script:Shared, $manifest)
        $script:Link = Join-Path $script:Deploy 'values.yaml'
        $null = New-Item -ItemType SymbolicLink -Path $script:Link -Target $script:Shared
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $script:Deploy 'charts/loop') -Target $script:Deploy   # back into the tree
        $script:Up = Join-Path $script:Deploy 'up'
        $null = New-Item -ItemType SymbolicLink -Path $script:Up -Target $script:Root                                # out of it
    }
    AfterEach { Remove-Item -Recurse -Force $script:Root -ErrorAction SilentlyContinue }

    It 'rewrites what it may, and reports each link out of the folder and each read-only file as its own error' {
        $output = @(Update-ImageReference $script:Deploy -Recurse -From $script:Old -To harbor.example.com/migrated -ErrorVariable failures -ErrorAction SilentlyContinue)

        @($output | Where-Object Action -EQ Rewritten).Path | Should -Be (Join-Path $script:Deploy 'app.yaml')
        Get-Content -Raw (Join-Path $script:Deploy 'app.yaml') | Should -Be "image: harbor.example.com/migrated/team/web:1.0`n"
        Get-Content -Raw $script:Shared | Should -Be "image: contoso.azurecr.io/team/web:1.0`n"
        Get-Content -Raw $script:Locked | Should -Be "image: contoso.azurecr.io/team/web:1.0`n"
        [IO.File]::GetUnixFileMode($script:Locked) | Should -Be ([IO.UnixFileMode]'UserRead, GroupRead, OtherRead')
        ($failures | ForEach-Object { '{0} {1}' -f $_.FullyQualifiedErrorId.Split(',')[0], (Split-Path -Leaf $_.TargetObject) } | Sort-Object) -join '; ' |
            Should -Be 'ImageReferenceFileReadOnly locked.yaml; ImageReferenceLinkOutsideFolder up; ImageReferenceLinkOutsideFolder values.yaml'
        "$($failures | Where-Object TargetObject -EQ $script:Link)" | Should -BeLike '*-FollowSymlink*'

        $found = @(Get-ImageReference $script:Deploy -Recurse -ErrorVariable readFailures -ErrorAction SilentlyContinue)
        ($found.Path | ForEach-Object { Split-Path -Leaf $_ } | Sort-Object) -join ',' | Should -Be 'app.yaml,locked.yaml'
        ($readFailures | ForEach-Object { Split-Path -Leaf $_.TargetObject } | Sort-Object) -join ',' | Should -Be 'up,values.yaml'
    }

    It '-FollowSymlink follows links out of the folder in both cmdlets, and still reads each real folder once' {
        $found = @(Get-ImageReference $script:Deploy -Recurse -FollowSymlink -ErrorVariable readFailures -ErrorAction SilentlyContinue)
        $readFailures | Should -BeNullOrEmpty
        # app, locked, values (the link) and outside/shared.yaml (through up -> the root); deploy is not read again through up or loop.
        ($found.Path | ForEach-Object { [IO.Path]::GetRelativePath($script:Root, $_) } | Sort-Object) -join ',' |
            Should -Be 'deploy/app.yaml,deploy/locked.yaml,deploy/up/outside/shared.yaml,deploy/values.yaml'

        $null = Update-ImageReference $script:Link -From $script:Old -To harbor.example.com/migrated -FollowSymlink
        Get-Content -Raw $script:Shared | Should -Be "image: harbor.example.com/migrated/team/web:1.0`n"
        (Get-Item $script:Link).LinkTarget | Should -Be $script:Shared
    }
}
