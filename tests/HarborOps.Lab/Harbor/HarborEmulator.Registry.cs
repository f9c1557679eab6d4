using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Harbor;

public sealed partial class HarborEmulator
{
    private static readonly Regex SignatureTag = new("^sha256-([0-9a-f]{64})\\.sig$");
    /// <summary>cosign's .sig/.att/.sbom tags and the referrers tag-schema index: accessories in Harbor, not artifacts.</summary>
    private static readonly Regex AccessoryTag = new("^sha256-[0-9a-f]{64}(\\.[a-z]+)?$");
    private static readonly Regex ManifestPath = new("^/v2/(?<repo>.+)/manifests/(?<ref>[^/]+)$");
    private static readonly Regex RepositoryPath = new("^/v2/(?<repo>.+)/(manifests|blobs|tags)/");

    // ---------------------------------------------------------------- artifacts derived from the registry

    /// <summary>The project's artifacts as Harbor would list them: one per digest per repository with its tags, cosign
    /// signatures attached to their subject instead of listed, newest first.</summary>
    private async Task<List<LabArtifact>> ArtifactsAsync(LabHarborProject project, string? repository, CancellationToken ct)
    {
        var catalog = await _backing.CatalogAsync(ct);
        var result = new List<LabArtifact>();
        foreach (var repo in catalog.Where(r => r.StartsWith(project.Name + "/", StringComparison.Ordinal) && (repository is null || r == repository)))
            result.AddRange(await ArtifactRowsAsync(repo, ct));
        return result;
    }

    /// <summary>One repository's artifacts derived from the registry, a manifest read per tag (see ArtifactRowsAsync).</summary>
    private async Task<List<LabArtifact>> DeriveArtifactsAsync(string repo, CancellationToken ct)
    {
        {
            var tags = await _backing.TagsAsync(repo, ct);
            var byDigest = new Dictionary<string, LabArtifact>(StringComparer.Ordinal);
            // Harbor reads these from its database; the lab asks its registry, a manifest per tag, several at once so a
            // listing of thousands of tags does not cost seconds of round trips one after another.
            var imageTags = tags.Where(t => !AccessoryTag.IsMatch(t)).Order(StringComparer.Ordinal).ToList();
            var manifests = new LabManifest?[imageTags.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, imageTags.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
                async (i, token) => manifests[i] = await _backing.ManifestAsync(repo, imageTags[i], token));
            foreach (var (tag, manifest) in imageTags.Zip(manifests))
            {
                if (manifest is null) continue;
                if (!byDigest.TryGetValue(manifest.Digest, out var artifact))
                {
                    artifact = NewArtifact(repo, manifest);
                    byDigest[manifest.Digest] = artifact;
                }
                artifact.Tags.Add(tag);
            }
            var signed = tags.Select(t => (Tag: t, Match: SignatureTag.Match(t)))
                .Where(s => s.Match.Success && byDigest.ContainsKey("sha256:" + s.Match.Groups[1].Value)).ToList();
            var signatures = new LabManifest?[signed.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, signed.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
                async (i, token) => signatures[i] = await _backing.ManifestAsync(repo, signed[i].Tag, token));
            foreach (var ((_, match), signature) in signed.Zip(signatures))
                if (signature is not null)
                    byDigest["sha256:" + match.Groups[1].Value].Signature = (signature.Digest, signature.Size, ArtifactId(repo, signature.Digest).Id);
            return byDigest.Values.OrderByDescending(a => a.PushTime).ThenBy(a => a.Digest, StringComparer.Ordinal).ToList();
        }
    }

    private (long Id, DateTimeOffset FirstSeen) ArtifactId(string repository, string digest)
    {
        lock (_gate)
        {
            if (!_artifactIds.TryGetValue((repository, digest), out var id))
            {
                id = (NextId(), DateTimeOffset.UtcNow);
                _artifactIds[(repository, digest)] = id;
            }
            if (!_repositoryIds.ContainsKey(repository)) _repositoryIds[repository] = NextId();
            return id;
        }
    }

    private LabArtifact NewArtifact(string repository, LabManifest manifest)
    {
        var (id, firstSeen) = ArtifactId(repository, manifest.Digest);
        long repositoryId;
        lock (_gate) repositoryId = _repositoryIds[repository];
        return new LabArtifact
        {
            Id = id, RepositoryId = repositoryId, Repository = repository, Digest = manifest.Digest, MediaType = manifest.MediaType, Size = manifest.Size,
            Blobs = manifest.Blobs, Children = manifest.Children, ConfigMediaType = manifest.ConfigMediaType, PushTime = firstSeen,
        };
    }

    private async Task<LabArtifact?> FindArtifactAsync(LabHarborProject project, string repository, string reference, CancellationToken ct)
    {
        var artifacts = await ArtifactsAsync(project, repository, ct);
        return reference.StartsWith("sha256:", StringComparison.Ordinal)
            ? artifacts.FirstOrDefault(a => a.Digest == reference)
            : artifacts.FirstOrDefault(a => a.Tags.Contains(reference));
    }

    private object ArtifactJson(ApiCall c, LabHarborProject project, LabArtifact a)
    {
        bool Flag(string name, bool fallback) => c.Query(name) is { } v ? string.Equals(v, "true", StringComparison.OrdinalIgnoreCase) : fallback;
        var escapedRepository = Uri.EscapeDataString(Uri.EscapeDataString(a.Repository[(project.Name.Length + 1)..]));
        lock (_gate)
        {
            return new
            {
                Id = a.Id, Type = "IMAGE", MediaType = a.IsIndex ? a.MediaType : a.ConfigMediaType ?? a.MediaType, ManifestMediaType = a.MediaType,
                ProjectId = project.Id, RepositoryId = a.RepositoryId, RepositoryName = a.Repository, Digest = a.Digest, Size = a.Size, Icon = "",
                PushTime = Time(a.PushTime), PullTime = Time(a.PushTime),
                References = a.IsIndex
                    ? a.Children.Select(ch => new
                    {
                        ParentId = a.Id, ChildId = ArtifactId(a.Repository, ch.Digest).Id, ChildDigest = ch.Digest,
                        Platform = new { Architecture = ch.Architecture, Os = ch.Os },
                    }).ToArray()
                    : null,
                Tags = Flag("with_tag", true)
                    ? a.Tags.Select(t => new
                    {
                        Id = Math.Abs(Sha(a.Repository + ":" + t)[..12].GetHashCode()), RepositoryId = a.RepositoryId, ArtifactId = a.Id, Name = t,
                        PushTime = Time(a.PushTime), PullTime = Time(a.PushTime), Immutable = false,
                    }).ToArray()
                    : null,
                AdditionLinks = new Dictionary<string, object>
                {
                    ["vulnerabilities"] = new
                    {
                        Href = $"/api/v2.0/projects/{project.Name}/repositories/{escapedRepository}/artifacts/{a.Digest}/additions/vulnerabilities", Absolute = false,
                    },
                },
                Labels = Array.Empty<object>(),
                ScanOverview = Flag("with_scan_overview", false) ? ScanOverviewJson(a.Digest) : null,
                Accessories = Flag("with_accessory", false)
                    ? (a.Signature is { } s
                        ? new[]
                        {
                            new
                            {
                                Id = s.Id, ArtifactId = s.Id, SubjectArtifactId = a.Id, SubjectArtifactDigest = a.Digest, SubjectArtifactRepo = a.Repository,
                                Size = s.Size, Digest = s.Digest, Type = "signature.cosign", Icon = "", CreationTime = Time(a.PushTime),
                            },
                        }
                        : [])
                    : null,
            };
        }
    }

    /// <summary>Scan overview keyed by report MIME type; missing when never scanned. Called under the lock.</summary>
    private Dictionary<string, object>? ScanOverviewJson(string digest)
    {
        if (!_scans.TryGetValue(digest, out var scan)) return null;
        var now = DateTimeOffset.UtcNow;
        var status = scan.Status(now);
        var done = status == "Success";
        return new Dictionary<string, object>
        {
            [ReportMime] = new
            {
                ReportId = scan.ReportId, ScanStatus = status, Severity = done ? HighestSeverity(scan.Vulnerabilities) : null,
                Duration = (long)(scan.Finishes - scan.Started).TotalSeconds,
                Summary = done
                    ? new
                    {
                        Total = scan.Vulnerabilities.Count, Fixable = scan.Vulnerabilities.Count(v => !string.IsNullOrEmpty(v.FixVersion)),
                        Summary = scan.Vulnerabilities.GroupBy(v => v.Severity).ToDictionary(g => g.Key, g => g.Count()),
                    }
                    : null,
                StartTime = Time(scan.Started), EndTime = status is "Success" or "Error" ? Time(scan.Finishes) : null,
                CompletePercent = status is "Success" or "Error" ? 100 : 0,
                Scanner = new { Name = "LabScanner", Vendor = "HarborOps lab", Version = "1.0" },
            },
        };
    }

    private static string HighestSeverity(IEnumerable<LabVulnerability> vulnerabilities) =>
        vulnerabilities.Select(v => v.Severity).OrderByDescending(s => Array.IndexOf(ReportSeverities, s)).FirstOrDefault() ?? "None";

    private async Task ListRepositoriesAsync(ApiCall c, LabHarborProject project)
    {
        var artifacts = await ArtifactsAsync(project, null, c.Context.RequestAborted);
        var repositories = artifacts.GroupBy(a => a.Repository).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => RepositoryJson(project, g.Key, g.ToList())).ToList();
        await ReplyPagedAsync(c, repositories);
    }

    private object RepositoryJson(LabHarborProject project, string repository, List<LabArtifact> artifacts)
    {
        lock (_gate)
            return new
            {
                Id = _repositoryIds[repository], ProjectId = project.Id, Name = repository, Description = "", ArtifactCount = artifacts.Count, PullCount = 0,
                CreationTime = Time(artifacts.Min(a => a.PushTime)), UpdateTime = Time(artifacts.Max(a => a.PushTime)),
            };
    }

    private async Task GetRepositoryAsync(ApiCall c, LabHarborProject project, string repository)
    {
        var artifacts = await ArtifactsAsync(project, repository, c.Context.RequestAborted);
        if (artifacts.Count == 0) { await FailAsync(c, 404, "NOT_FOUND", $"repository {repository} not found"); return; }
        await ReplyAsync(c, 200, RepositoryJson(project, repository, artifacts));
    }

    private async Task DeleteRepositoryAsync(ApiCall c, LabHarborProject project, string repository)
    {
        if (!Can(c.Who, project, "repository", "delete")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var artifacts = await ArtifactsAsync(project, repository, c.Context.RequestAborted);
        if (artifacts.Count == 0) { await FailAsync(c, 404, "NOT_FOUND", $"repository {repository} not found"); return; }
        foreach (var artifact in artifacts)
        {
            await TrashArtifactAsync(artifact, c.Context.RequestAborted);
            if (artifact.Signature is { } signature) await _backing.DeleteManifestAsync(repository, signature.Digest, c.Context.RequestAborted);
            await _backing.DeleteManifestAsync(repository, artifact.Digest, c.Context.RequestAborted);
        }
        await ReplyAsync(c, 200, null);
    }

    private async Task ListArtifactsAsync(ApiCall c, LabHarborProject project, string repository)
    {
        if (!Can(c.Who, project, "artifact", "list") && !Can(c.Who, project, "artifact", "read")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var artifacts = await ArtifactsAsync(project, repository, c.Context.RequestAborted);
        if (artifacts.Count == 0) { await FailAsync(c, 404, "NOT_FOUND", $"repository {repository} not found"); return; }
        await ReplyPagedAsync(c, artifacts.Select(a => ArtifactJson(c, project, a)).ToList());
    }

    private async Task GetArtifactAsync(ApiCall c, LabHarborProject project, string repository, string reference)
    {
        if (!Can(c.Who, project, "artifact", "read")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var artifact = await FindArtifactAsync(project, repository, reference, c.Context.RequestAborted);
        if (artifact is null) { await FailAsync(c, 404, "NOT_FOUND", $"artifact {repository}:{reference} not found"); return; }
        await ReplyAsync(c, 200, ArtifactJson(c, project, artifact));
    }

    private async Task AccessoriesAsync(ApiCall c, LabHarborProject project, string repository, string reference)
    {
        var artifact = await FindArtifactAsync(project, repository, reference, c.Context.RequestAborted);
        if (artifact is null) { await FailAsync(c, 404, "NOT_FOUND", $"artifact {repository}:{reference} not found"); return; }
        var accessories = artifact.Signature is { } s
            ? new[]
            {
                new
                {
                    Id = s.Id, ArtifactId = s.Id, SubjectArtifactId = artifact.Id, SubjectArtifactDigest = artifact.Digest, SubjectArtifactRepo = artifact.Repository,
                    Size = s.Size, Digest = s.Digest, Type = "signature.cosign", Icon = "", CreationTime = Time(artifact.PushTime),
                },
            }
            : [];
        await ReplyPagedAsync(c, accessories);
    }

    // ---------------------------------------------------------------- scanning

    private void StartScan(LabArtifact artifact)
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            _scans[artifact.Digest] = NewScan(artifact.Digest, now, _options.ScanDuration);
            // An index is scanned through its children, as Harbor's scanner does.
            foreach (var child in artifact.Children) _scans[child.Digest] = NewScan(child.Digest, now, _options.ScanDuration);
        }
    }

    private async Task ScanArtifactAsync(ApiCall c, LabHarborProject project, string repository, string reference)
    {
        if (!Can(c.Who, project, "scan", "create")) { await FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden"); return; }
        var scanType = ParseBody(c) is { } body ? Str(body, "scan_type") : null;
        if (scanType is not (null or "vulnerability")) { await FailAsync(c, 400, "BAD_REQUEST", $"scan type {scanType} is not supported by the lab scanner"); return; }
        var artifact = await FindArtifactAsync(project, repository, reference, c.Context.RequestAborted);
        if (artifact is null) { await FailAsync(c, 404, "NOT_FOUND", $"artifact {repository}:{reference} not found"); return; }
        StartScan(artifact);
        await ReplyAsync(c, 202, null);
    }

    private async Task VulnerabilitiesAsync(ApiCall c, LabHarborProject project, string repository, string reference)
    {
        if (!Can(c.Who, project, "artifact", "read")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var artifact = await FindArtifactAsync(project, repository, reference, c.Context.RequestAborted);
        if (artifact is null) { await FailAsync(c, 404, "NOT_FOUND", $"artifact {repository}:{reference} not found"); return; }
        var report = new Dictionary<string, object>();
        lock (_gate)
        {
            if (_scans.TryGetValue(artifact.Digest, out var scan) && scan.Status(DateTimeOffset.UtcNow) == "Success")
            {
                report[ReportMime] = new
                {
                    GeneratedAt = Time(scan.Finishes), Scanner = new { Name = "LabScanner", Vendor = "HarborOps lab", Version = "1.0" },
                    Severity = HighestSeverity(scan.Vulnerabilities),
                    Vulnerabilities = scan.Vulnerabilities.Select(v => new
                    {
                        v.Id, v.Package, v.Version, FixVersion = v.FixVersion ?? "", v.Severity, v.Description, Links = new[] { $"https://avd.aquasec.com/nvd/{v.Id.ToLowerInvariant()}" },
                        PreferredCvss = new { ScoreV3 = v.CvssV3 }, ArtifactDigests = new[] { artifact.Digest },
                    }).ToArray(),
                };
            }
        }
        await ReplyAsync(c, 200, report);
    }

    private async Task ScanAllAsync(ApiCall c)
    {
        if (!Can(c.Who, null, "scan-all", "create")) { await FailAsync(c, c.Who.IsAnonymous ? 401 : 403, c.Who.IsAnonymous ? "UNAUTHORIZED" : "FORBIDDEN", "forbidden"); return; }
        var type = ParseBody(c)?["schedule"]?["type"] is JsonValue t ? t.GetValue<string>() : null;
        if (type != "Manual") { await FailAsync(c, 400, "BAD_REQUEST", $"the lab emulates only manual scan-all schedules, not '{type}'"); return; }
        if (ScanAllOngoing()) { await FailAsync(c, 409, "CONFLICT", "a previous scan all job aren't finished"); return; }
        List<LabHarborProject> projects;
        lock (_gate) projects = _projects.ToList();
        var digests = new List<string>();
        foreach (var project in projects)
            foreach (var artifact in await ArtifactsAsync(project, null, c.Context.RequestAborted))
            {
                StartScan(artifact);
                digests.Add(artifact.Digest);
            }
        lock (_gate) _scanAll = (DateTimeOffset.UtcNow, digests);
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = "/api/v2.0/system/scanAll/schedule" });
    }

    private bool ScanAllOngoing()
    {
        lock (_gate)
            return _scanAll is { } run && run.Digests.Any(d => _scans.TryGetValue(d, out var s) && s.Status(DateTimeOffset.UtcNow) is "Pending" or "Running");
    }

    private Task ScanAllMetricsAsync(ApiCall c)
    {
        if (c.Who.IsAnonymous) return FailAsync(c, 401, "UNAUTHORIZED", "unauthorized");
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            var statuses = (_scanAll?.Digests ?? []).Select(d => _scans.TryGetValue(d, out var s) ? s.Status(now) : "Pending").ToList();
            var completed = statuses.Count(s => s is "Success" or "Error" or "Stopped");
            return ReplyAsync(c, 200, new
            {
                Total = statuses.Count, Completed = completed, Metrics = statuses.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count()),
                Ongoing = completed < statuses.Count, Trigger = "Manual",
            });
        }
    }

    // ---------------------------------------------------------------- /v2/ with Harbor's pull gates

    private async Task ProxyV2Async(HttpContext context, string rawTarget)
    {
        var request = context.Request;
        var ct = context.RequestAborted;
        var path = Uri.UnescapeDataString(rawTarget.Split('?')[0]);
        var authorization = request.Headers.Authorization.ToString();
        var repository = RepositoryPath.Match(path) is { Success: true } rm ? rm.Groups["repo"].Value : null;
        AuthenticationHeaderValue? forwardAuthorization = null;
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            // Harbor takes Basic on /v2/ directly; the emulator turns it into the token the registry checks.
            var who = Authenticate(authorization);
            if (who.IsAnonymous)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"harbor\"";
                await WriteErrorAsync(context, 401, "UNAUTHORIZED", "unauthorized: authentication required");
                return;
            }
            var actions = request.Method is "GET" or "HEAD" ? "pull" : request.Method == "DELETE" ? "delete" : "pull,push";
            var scopes = repository is null ? (path.StartsWith("/v2/_catalog", StringComparison.Ordinal) ? ["registry:catalog:*"] : Array.Empty<string>()) : [$"repository:{repository}:{actions}"];
            var now = DateTimeOffset.UtcNow;
            forwardAuthorization = new AuthenticationHeaderValue("Bearer", LabTokenService.SignJwt(LabTokenService.SharedSigningCertificate, TokenIssuer, TokenService,
                NameOf(who), GrantScopes(who, scopes), now, now + _options.TokenLifetime));
        }
        // repoproxy runs before the gates (route.go): an image not yet cached is answered from upstream, ungated.
        if (await ServeFromProxyCacheAsync(context, path, repository, forwardAuthorization?.ToString() ?? authorization)) return;
        // Harbor gates HEAD as it gates GET: src/server/registry/route.go mounts contenttrust.ContentTrust() and
        // vulnerable.Middleware() on both the GET and the HEAD route of /v2/*/manifests/:reference, and neither
        // middleware (middleware/contenttrust/contentrust.go, middleware/vulnerable/vulnerable.go, both BeforeRequest
        // hooks without a skipper) looks at the method. A blocked HEAD is the same 412, without a body.
        if (request.Method is "GET" or "HEAD" && !string.IsNullOrEmpty(authorization) && ManifestPath.Match(path) is { Success: true } mm)
        {
            var refused = await GateAsync(mm.Groups["repo"].Value, mm.Groups["ref"].Value, ct);
            if (refused is not null)
            {
                await WriteErrorAsync(context, 412, "PROJECTPOLICYVIOLATION", refused);
                return;
            }
        }

        if (!string.IsNullOrEmpty(authorization) && ManifestPath.Match(path) is { Success: true } target && await ImmutableRefusalAsync(request.Method, target.Groups["repo"].Value, target.Groups["ref"].Value, ct) is { } immutable)
        {
            await WriteErrorAsync(context, 412, "PRECONDITION", immutable);
            return;
        }
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_backing.Registry.BaseUri, rawTarget.TrimStart('/')));
        foreach (var (name, values) in request.Headers)
        {
            if (name is "Host" or "Connection" or "Transfer-Encoding" or "Content-Length" or "Content-Type" or "Authorization" || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)) continue;
            forward.Headers.TryAddWithoutValidation(name, values.ToArray());
        }
        if (forwardAuthorization is not null) forward.Headers.Authorization = forwardAuthorization;
        else if (!string.IsNullOrEmpty(authorization)) forward.Headers.TryAddWithoutValidation("Authorization", authorization);
        // The registry builds upload Locations from Host, so they point back at the emulator.
        forward.Headers.Host = Host;
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(request.Body);
            if (request.ContentType is not null) forward.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            if (request.ContentLength is { } length) forward.Content.Headers.ContentLength = length;
        }
        if (request.Method is "PUT" or "DELETE") ListingsChanged();
        using var response = await _backing.Http.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, ct);
        if (request.Method is "PUT" or "DELETE") ListingsChanged();
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (name is "Transfer-Encoding" or "Connection") continue;
            context.Response.Headers[name] = values.ToArray();
        }
        await using (var body = await response.Content.ReadAsStreamAsync(ct))
            await body.CopyToAsync(context.Response.Body, ct);

        if (request.Method == "PUT" && (int)response.StatusCode == 201 && ManifestPath.Match(path) is { Success: true } pushed
            && response.Headers.TryGetValues("Docker-Content-Digest", out var digests))
            await AutoScanAsync(pushed.Groups["repo"].Value, digests.First(), ct);
    }

    /// <summary>Harbor's scan on push for projects with auto_scan.</summary>
    private async Task AutoScanAsync(string repository, string digest, CancellationToken ct)
    {
        LabHarborProject? project;
        lock (_gate) project = _projects.FirstOrDefault(p => repository.StartsWith(p.Name + "/", StringComparison.Ordinal));
        if (project is null || !project.Flag("auto_scan")) return;
        var manifest = await _backing.ManifestAsync(repository, digest, ct);
        if (manifest is null || manifest.IsCosignSignature || manifest.ArtifactType is not null) return;
        StartScan(NewArtifact(repository, manifest));
    }

    /// <summary>
    /// The pull gates of middleware/contenttrust and middleware/vulnerable: null when the pull may go on, else the message of
    /// the 412. Signature pulls are exempt; indexes skip the vulnerability gate (their children are checked when pulled).
    /// </summary>
    private async Task<string?> GateAsync(string repository, string reference, CancellationToken ct)
    {
        LabHarborProject? project;
        lock (_gate) project = _projects.FirstOrDefault(p => repository.StartsWith(p.Name + "/", StringComparison.Ordinal));
        if (project is null) return null;
        var cosign = project.Flag("enable_content_trust_cosign");
        var preventVulnerable = project.Flag("prevent_vul");
        if (!cosign && !preventVulnerable) return null;
        if (AccessoryTag.IsMatch(reference)) return null;
        var manifest = await _backing.ManifestAsync(repository, reference, ct);
        if (manifest is null || manifest.IsCosignSignature || manifest.ArtifactType is not null) return null;
        var isIndex = manifest.MediaType is LabContent.OciIndex or LabContent.DockerManifestList;
        if (cosign)
        {
            var tags = await _backing.TagsAsync(repository, ct);
            bool Signed(string digest) => tags.Contains(digest.Replace(':', '-') + ".sig");
            var signed = Signed(manifest.Digest);
            if (!signed)
            {
                // A child of a signed index is covered by the index's signature.
                var artifacts = await ArtifactsAsync(project, repository, ct);
                signed = artifacts.Any(a => a.IsIndex && a.Signature is not null && a.Children.Any(ch => ch.Digest == manifest.Digest));
            }
            if (!signed) return "The image is not signed by cosign.";
        }
        if (preventVulnerable && !isIndex)
        {
            var severity = project.Metadata.GetValueOrDefault("severity", "critical");
            var policy = $"'Prevent images with vulnerability severity of \"{severity}\" or higher from running.'";
            lock (_gate)
            {
                if (!_scans.TryGetValue(manifest.Digest, out var scan))
                    return $"current image without vulnerability scanning cannot be pulled due to configured policy in {policy} To continue with pull, please contact your project administrator for help.";
                var status = scan.Status(DateTimeOffset.UtcNow);
                if (status != "Success")
                    return $"current image with \"{status}\" status of vulnerability scanning cannot be pulled due to configured policy in {policy} To continue with pull, please contact your project administrator for help.";
                var allowlist = project.Metadata.GetValueOrDefault("reuse_sys_cve_allowlist") == "false"
                    && (project.AllowlistExpiresAt is null or <= 0 || project.AllowlistExpiresAt > DateTimeOffset.UtcNow.ToUnixTimeSeconds())
                    ? project.AllowlistItems.ToHashSet(StringComparer.OrdinalIgnoreCase)
                    : [];
                var threshold = Array.IndexOf(ReportSeverities, char.ToUpperInvariant(severity[0]) + severity[1..]);
                var blocking = scan.Vulnerabilities.Where(v => !allowlist.Contains(v.Id) && Array.IndexOf(ReportSeverities, v.Severity) >= threshold).ToList();
                if (blocking.Count > 0)
                    return $"current image with {blocking.Count} vulnerabilities cannot be pulled due to configured policy in {policy} To continue with pull, please contact your project administrator to exempt matched vulnerabilities through configuring the CVE allowlist.";
            }
        }
        return null;
    }
}
