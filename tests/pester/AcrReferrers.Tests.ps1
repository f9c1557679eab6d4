# Copy-RegistryImage from Azure Container Registry into Harbor with a signature and an SBOM pushed in OCI 1.1 mode (as
# Notation, or cosign with --registry-referrers-mode=oci-1-1, push them): manifests with a subject and no tag, which ACR
# lists only through its referrers API (the lab's ACR emulator answers it). The test pushes them with raw HTTP, as a
# client of the registry API would, copies as a user does and reads the referrers back at Harbor with Get-RegistryTag.
BeforeAll {
    Import-Module "$PSScriptRoot/HarborOps.TestHelpers.psm1" -Force
    Import-Module (Get-TestModuleManifest) -Force -ErrorAction Stop
    $script:Lab = Get-LabEndpoint
    $script:Acr = $script:Lab.acr
    $script:H = $script:Lab.harbor
    $script:Open = $script:Lab.registries.open.host
    $script:AcrAdmin = New-TestCredential $script:Acr.username $script:Acr.password
    $script:HarborAdmin = New-TestCredential $script:H.username $script:H.password

    function script:Get-Sha256([byte[]] $Bytes) { 'sha256:' + [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant() }

    function script:Get-AcrToken([string] $Repository) {
        $basic = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("$($script:Acr.username):$($script:Acr.password)"))
        $scope = [Uri]::EscapeDataString("repository:${Repository}:pull,push")
        (Invoke-RestMethod -Uri "http://$($script:Acr.host)/oauth2/token?service=$($script:Acr.service)&scope=$scope" -Headers @{ Authorization = "Basic $basic" }).access_token
    }

    # A monolithic blob upload (POST, then PUT with the digest), the way the distribution spec describes it.
    function script:Send-AcrBlob([string] $Repository, [string] $Token, [byte[]] $Bytes) {
        $digest = Get-Sha256 $Bytes
        $started = Invoke-WebRequest -Method Post -Uri "http://$($script:Acr.host)/v2/$Repository/blobs/uploads/" -Headers @{ Authorization = "Bearer $Token" }
        $location = [string] $started.Headers['Location']
        if (-not $location.StartsWith('http')) { $location = "http://$($script:Acr.host)$location" }
        $separator = if ($location.Contains('?')) { '&' } else { '?' }
        $null = Invoke-WebRequest -Method Put -Uri "$location${separator}digest=$digest" -Headers @{ Authorization = "Bearer $Token" } -Body $Bytes -ContentType 'application/octet-stream'
        $digest
    }

    # An OCI 1.1 referrer of $Subject: its own content as the one layer, the empty config, the subject, no tag.
    function script:Send-AcrReferrer([string] $Repository, [string] $Token, [hashtable] $Subject, [string] $ArtifactType, [string] $Content) {
        $empty = [Text.Encoding]::UTF8.GetBytes('{}')
        $emptyDigest = Send-AcrBlob $Repository $Token $empty
        $layer = [Text.Encoding]::UTF8.GetBytes($Content)
        $layerDigest = Send-AcrBlob $Repository $Token $layer
        $manifest = [ordered]@{
            schemaVersion = 2
            mediaType = 'application/vnd.oci.image.manifest.v1+json'
            artifactType = $ArtifactType
            config = [ordered]@{ mediaType = 'application/vnd.oci.empty.v1+json'; digest = $emptyDigest; size = $empty.Length }
            layers = @([ordered]@{ mediaType = 'application/json'; digest = $layerDigest; size = $layer.Length })
            subject = $Subject
        }
        $bytes = [Text.Encoding]::UTF8.GetBytes((ConvertTo-Json $manifest -Depth 5 -Compress))
        $digest = Get-Sha256 $bytes
        $response = Invoke-WebRequest -Method Put -Uri "http://$($script:Acr.host)/v2/$Repository/manifests/$digest" -Headers @{ Authorization = "Bearer $Token" } `
            -Body $bytes -ContentType 'application/vnd.oci.image.manifest.v1+json'
        [pscustomobject]@{ Digest = $digest; Size = $bytes.Length; OciSubject = [string] $response.Headers['OCI-Subject'] }
    }
}

Describe 'Copy-RegistryImage of untagged OCI 1.1 referrers from ACR into Harbor' {
    It 'brings the signature and the SBOM that only ACR''s referrers API lists, and Get-RegistryTag finds them at Harbor' {
        $project = "fromacr-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        $repository = "$project/api"
        $output = & skopeo copy --src-tls-verify=false --dest-tls-verify=false --dest-creds "$($script:Acr.username):$($script:Acr.password)" "docker://$($script:Open)/team-a/api:1.0" "docker://$($script:Acr.host)/${repository}:1.0" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "skopeo copy to the ACR emulator failed: $output" }
        $raw = [Text.Encoding]::UTF8.GetBytes(((& skopeo inspect --raw --tls-verify=false --creds "$($script:Acr.username):$($script:Acr.password)" "docker://$($script:Acr.host)/${repository}:1.0") -join "`n"))
        $image = @{ mediaType = (ConvertFrom-Json ([Text.Encoding]::UTF8.GetString($raw))).mediaType; digest = Get-Sha256 $raw; size = $raw.Length }
        $token = Get-AcrToken $repository
        $signature = Send-AcrReferrer $repository $token $image 'application/vnd.cncf.notary.signature' '{"signature":"lab"}'
        $sbom = Send-AcrReferrer $repository $token $image 'application/spdx+json' '{"spdxVersion":"SPDX-2.3"}'
        # ACR took the subject in (a registry with the referrers API says so), so no tag was written for them.
        $signature.OciSubject | Should -Be $image.digest
        $sbom.OciSubject | Should -Be $image.digest

        $copied = @(Copy-RegistryImage "$($script:Acr.host)/$repository" $script:H.host -SourceCredential $script:AcrAdmin -DestinationCredential $script:HarborAdmin `
                -CreateProject -Harbor $script:H.url -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures)

        $failures | Should -BeNullOrEmpty
        $summary = $copied[-1]
        $summary.Failed | Should -Be 0
        $summary.ReferrersCopied | Should -Be 2
        $tag = Get-RegistryTag -Reference "$($script:H.host)/${repository}:1.0" -IncludeReferrers -Credential $script:HarborAdmin
        $tag.Digest | Should -Be $image.digest
        ($tag.Referrers.Digest | Sort-Object) | Should -Be (@($signature.Digest, $sbom.Digest) | Sort-Object)
        ($tag.Referrers | Where-Object Digest -EQ $sbom.Digest).ArtifactType | Should -Be 'application/spdx+json'
        $tag.Signed | Should -BeTrue
    }
}
