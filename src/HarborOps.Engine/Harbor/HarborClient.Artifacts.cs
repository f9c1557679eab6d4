using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Harbor;

/// <summary>The pull gates of a project, as they are or as they would be once switched on.</summary>
public sealed record HarborGatePolicy(bool PreventVulnerable, string Severity, bool RequireCosignSignature);

public sealed partial class HarborClient
{
    public const string VulnerabilityReportMime = "application/vnd.security.vulnerability.report; version=1.1";
    private const string CosignAccessory = "signature.cosign";

    /// <summary>Repository names of a project, without the "project/" prefix.</summary>
    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(string project, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (var repository in ListAsync<RepositoryDto>(new HarborCall(HttpMethod.Get, $"projects/{ProjectSegment(project)}/repositories")
        {
            Target = project, Description = $"listing the repositories of project '{project}'", NotFoundId = HarborErrorIds.ProjectNotFound,
            NotFoundMessage = $"Project '{project}' does not exist on {Connection.Url}",
        }, cancellationToken).ConfigureAwait(false))
        {
            names.Add(repository.Name.StartsWith(project + "/", StringComparison.Ordinal) ? repository.Name[(project.Length + 1)..] : repository.Name);
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Artifacts of one repository, or of every repository of the project when <paramref name="repository"/> is null,
    /// with tags, scan overview and accessories (cosign signatures).</summary>
    public async IAsyncEnumerable<HarborArtifactInfo> ListArtifactsAsync(string project, string? repository,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var repositories = repository is null ? await ListRepositoriesAsync(project, cancellationToken).ConfigureAwait(false) : [repository];
        foreach (var name in repositories)
        {
            await foreach (var dto in ListAsync<ArtifactDto>(ArtifactsCall(project, name, null), cancellationToken).ConfigureAwait(false))
                yield return ToArtifactInfo(project, name, dto);
        }
    }

    /// <summary>One artifact by tag or digest.</summary>
    public async Task<HarborArtifactInfo> GetArtifactAsync(string project, string repository, string reference, CancellationToken cancellationToken)
    {
        var call = ArtifactsCall(project, repository, reference);
        var dto = (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<ArtifactDto>(call);
        return ToArtifactInfo(project, repository, dto);
    }

    private HarborCall ArtifactsCall(string project, string repository, string? reference)
    {
        var path = $"projects/{ProjectSegment(project)}/repositories/{RepositorySegment(repository)}/artifacts";
        if (reference is not null) path += "/" + Uri.EscapeDataString(reference);
        return new HarborCall(HttpMethod.Get, path + "?with_tag=true&with_scan_overview=true&with_accessory=true")
        {
            Target = $"{project}/{repository}{(reference is null ? "" : (reference.Contains(':') ? "@" : ":") + reference)}",
            Description = reference is null ? $"listing the artifacts of '{project}/{repository}'" : $"reading artifact '{project}/{repository}' {reference}",
            NotFoundId = reference is null ? HarborErrorIds.RepositoryNotFound : HarborErrorIds.ArtifactNotFound,
            NotFoundMessage = reference is null
                ? $"Repository '{repository}' does not exist in project '{project}'"
                : $"'{project}/{repository}' has no artifact '{reference}'",
        };
    }

    internal HarborArtifactInfo ToArtifactInfo(string project, string repository, ArtifactDto dto)
    {
        var overview = dto.ScanOverview is { Count: > 0 } map ? map.GetValueOrDefault(VulnerabilityReportMime) ?? map.Values.First() : null;
        var mediaType = dto.ManifestMediaType ?? dto.MediaType;
        return new HarborArtifactInfo
        {
            Harbor = Connection.Url.ToString(), Project = project, Repository = repository, Digest = dto.Digest,
            Tags = dto.Tags?.Select(t => t.Name).Order(StringComparer.Ordinal).ToArray() ?? [],
            MediaType = mediaType, Type = dto.Type, Size = dto.Size, PushTime = dto.PushTime,
            ScanStatus = overview?.ScanStatus, Severity = overview?.ScanStatus == "Success" ? overview.Severity : null,
            VulnerabilityCount = overview?.ScanStatus == "Success" ? overview.Summary?.Total ?? 0 : null,
            FixableCount = overview?.ScanStatus == "Success" ? overview.Summary?.Fixable ?? 0 : null,
            Signed = dto.Accessories?.Any(a => a.Type == CosignAccessory) == true,
            IsIndex = mediaType is "application/vnd.oci.image.index.v1+json" or "application/vnd.docker.distribution.manifest.list.v2+json",
            Reference = $"{Registry}/{project}/{repository}@{dto.Digest}",
        };
    }

    // ---------------------------------------------------------------- gates

    /// <summary>
    /// Every artifact of the project that a pull gate would refuse: unsigned when cosign is required; never scanned,
    /// scanned without success, or vulnerable at or above the severity (after the CVE allowlist) when vulnerable images
    /// are prevented. Indexes are exempt from the vulnerability gate, as in Harbor (their children are checked on pull).
    /// </summary>
    public async Task<IReadOnlyList<HarborGateFinding>> TestProjectGateAsync(string project, HarborGatePolicy? policy,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var dto = await GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false);
        var info = ToProjectInfo(dto, null, null);
        policy ??= new HarborGatePolicy(info.PreventVulnerable, info.Severity ?? "critical", info.RequireCosignSignature);
        var allowlist = !info.ReuseSystemCveAllowlist && (info.CveAllowlistExpiresAt is null || info.CveAllowlistExpiresAt > DateTimeOffset.UtcNow)
            ? info.CveAllowlist.ToHashSet(StringComparer.OrdinalIgnoreCase)
            : [];
        var threshold = SeverityRank(policy.Severity);
        var findings = new List<HarborGateFinding>();
        var activity = $"Checking the gates of project '{project}'";
        var checkedCount = 0;
        await foreach (var artifact in ListArtifactsAsync(project, null, cancellationToken).ConfigureAwait(false))
        {
            checkedCount++;
            progress?.Report(new OperationProgress(activity, $"{checkedCount} artifacts checked, {findings.Count} would be blocked", artifact.Reference, checkedCount));
            var reasons = new List<string>();
            var details = new List<string>();
            string? severity = null;
            if (policy.RequireCosignSignature && !artifact.Signed)
            {
                reasons.Add("Unsigned");
                details.Add("no cosign signature");
            }
            if (policy.PreventVulnerable && !artifact.IsIndex)
            {
                if (artifact.ScanStatus is null)
                {
                    reasons.Add("NeverScanned");
                    details.Add("never scanned");
                }
                else if (artifact.ScanStatus != "Success")
                {
                    reasons.Add("ScanNotSuccessful");
                    details.Add($"last scan is {artifact.ScanStatus}");
                }
                else
                {
                    severity = artifact.Severity;
                    var count = artifact.VulnerabilityCount ?? 0;
                    if (allowlist.Count > 0 && count > 0)
                    {
                        var remaining = (await GetVulnerabilitiesAsync(project, artifact.Repository, artifact.Digest, cancellationToken).ConfigureAwait(false))
                            .Where(v => !allowlist.Contains(v.Id)).ToList();
                        count = remaining.Count;
                        severity = remaining.Count == 0 ? "None" : remaining.MaxBy(v => SeverityRank(v.Severity))!.Severity;
                    }
                    if (count > 0 && SeverityRank(severity) >= threshold)
                    {
                        reasons.Add("Vulnerable");
                        details.Add($"{count} vulnerabilities, highest {severity}, at or above {policy.Severity}");
                    }
                }
            }
            if (reasons.Count == 0) continue;
            findings.Add(new HarborGateFinding
            {
                Project = project, Repository = artifact.Repository, Digest = artifact.Digest, Tags = artifact.Tags,
                Reasons = reasons.ToArray(), Severity = severity, Detail = string.Join("; ", details), Reference = artifact.Reference,
            });
        }
        progress?.Report(new OperationProgress(activity, $"{checkedCount} artifacts checked, {findings.Count} would be blocked", Completed: checkedCount, Total: checkedCount, IsComplete: true));
        return findings;
    }

    // ---------------------------------------------------------------- scans

    /// <summary>Asks for a vulnerability scan of one artifact (202). Returns false when Harbor says it cannot be scanned (422).</summary>
    public async Task<bool> StartScanAsync(string project, string repository, string digest, CancellationToken cancellationToken)
    {
        var response = await SendAsync(new HarborCall(HttpMethod.Post,
            $"projects/{ProjectSegment(project)}/repositories/{RepositorySegment(repository)}/artifacts/{Uri.EscapeDataString(digest)}/scan")
        {
            Body = new ScanTypeDto(), Target = $"{project}/{repository}@{digest}", Description = $"starting a scan of '{project}/{repository}@{digest}'",
            NotFoundId = HarborErrorIds.ArtifactNotFound, AcceptStatus = s => s == 422,
            NotFoundMessage = $"'{project}/{repository}' has no artifact {digest}, or no scanner is configured",
        }, cancellationToken).ConfigureAwait(false);
        return response.Status != 422;
    }

    /// <summary>Polls the artifacts' scan overviews until each scan has finished (Success, Error or Stopped) or the timeout passes.</summary>
    public async Task<IReadOnlyList<HarborScanStatus>> WaitForScansAsync(IReadOnlyList<HarborArtifactInfo> artifacts, TimeSpan timeout,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var pending = artifacts.ToDictionary(a => a.Reference, a => a, StringComparer.Ordinal);
        var done = new Dictionary<string, HarborScanStatus>(StringComparer.Ordinal);
        var deadline = DateTimeOffset.UtcNow + timeout;
        const string activity = "Waiting for Harbor scans";
        while (true)
        {
            foreach (var artifact in pending.Values.ToList())
            {
                var now = await GetArtifactAsync(artifact.Project, artifact.Repository, artifact.Digest, cancellationToken).ConfigureAwait(false);
                if (now.ScanStatus is "Success" or "Error" or "Stopped")
                {
                    done[artifact.Reference] = ToScanStatus(now);
                    pending.Remove(artifact.Reference);
                }
            }
            progress?.Report(new OperationProgress(activity, $"{done.Count} of {artifacts.Count} scans finished", pending.Keys.FirstOrDefault(), done.Count, artifacts.Count, pending.Count == 0));
            if (pending.Count == 0) break;
            if (DateTimeOffset.UtcNow >= deadline)
                throw new HarborException(HarborErrorIds.ScanTimeout, FailureKind.Timeout,
                    $"{pending.Count} of {artifacts.Count} scans had not finished after {timeout.TotalSeconds:0} s (first: {pending.Keys.First()}). They go on in Harbor; check them later with Get-HarborArtifact.",
                    pending.Keys.First());
            await Task.Delay(Options.ScanPollInterval, cancellationToken).ConfigureAwait(false);
        }
        return artifacts.Select(a => done[a.Reference]).ToList();
    }

    /// <summary>Starts Harbor's scan-all job (a 409 means one is already running, which is then awaited) and waits for it
    /// when <paramref name="wait"/> is set.</summary>
    public async Task ScanAllAsync(bool wait, TimeSpan timeout, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        await SendAsync(new HarborCall(HttpMethod.Post, "system/scanAll/schedule")
        {
            Body = new ScanAllScheduleDto(), Description = "starting a scan of all artifacts", AcceptStatus = s => s == 409,
            Target = Connection.Url.ToString(),
        }, cancellationToken).ConfigureAwait(false);
        if (!wait) return;
        var deadline = DateTimeOffset.UtcNow + timeout;
        var call = new HarborCall(HttpMethod.Get, "scans/all/metrics") { Description = "reading the scan-all progress" };
        while (true)
        {
            var stats = (await SendAsync(call, cancellationToken).ConfigureAwait(false)).Read<ScanAllStatsDto>(call);
            var finished = !stats.Ongoing && stats.Completed >= stats.Total;
            progress?.Report(new OperationProgress("Waiting for Harbor's scan of all artifacts", $"{stats.Completed} of {stats.Total} scans finished", null, stats.Completed, stats.Total, finished));
            if (finished) return;
            if (DateTimeOffset.UtcNow >= deadline)
                throw new HarborException(HarborErrorIds.ScanTimeout, FailureKind.Timeout,
                    $"Harbor's scan of all artifacts had finished {stats.Completed} of {stats.Total} after {timeout.TotalSeconds:0} s; it goes on in Harbor.", Connection.Url.ToString());
            await Task.Delay(Options.ScanPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static HarborScanStatus ToScanStatus(HarborArtifactInfo artifact) => new()
    {
        Project = artifact.Project, Repository = artifact.Repository, Digest = artifact.Digest, Status = artifact.ScanStatus ?? "Pending",
        Severity = artifact.Severity, VulnerabilityCount = artifact.VulnerabilityCount, Reference = artifact.Reference,
    };

    /// <summary>The vulnerability report of an artifact as objects, most severe first, with the project's allowlist applied as a flag.</summary>
    public async Task<IReadOnlyList<HarborVulnerability>> GetVulnerabilitiesAsync(string project, string repository, string reference, CancellationToken cancellationToken)
    {
        var call = new HarborCall(HttpMethod.Get,
            $"projects/{ProjectSegment(project)}/repositories/{RepositorySegment(repository)}/artifacts/{Uri.EscapeDataString(reference)}/additions/vulnerabilities")
        {
            Target = $"{project}/{repository}@{reference}", Description = $"reading the vulnerabilities of '{project}/{repository}' {reference}",
            NotFoundId = HarborErrorIds.ArtifactNotFound,
            NotFoundMessage = $"'{project}/{repository}' has no artifact '{reference}'",
        };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        // The swagger says "string"; Harbor sends a JSON object keyed by report MIME type (go-client#20).
        var reports = response.Read<Dictionary<string, JsonElement>>(call);
        if (reports.Count == 0)
            throw new HarborException(HarborErrorIds.ScanNotAvailable, FailureKind.NotFound,
                $"'{project}/{repository}' {reference} has no vulnerability report: it was never scanned. Start-HarborScan -Wait scans it.", call.Target);
        var element = reports.TryGetValue(VulnerabilityReportMime, out var preferred) ? preferred : reports.Values.First();
        var report = element.Deserialize<VulnerabilityReportDto>(HarborHttp.Json) ?? new VulnerabilityReportDto();
        var projectInfo = ToProjectInfo(await GetProjectDtoAsync(project, cancellationToken).ConfigureAwait(false), null, null);
        var allowlist = projectInfo.ReuseSystemCveAllowlist ? [] : projectInfo.CveAllowlist.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var artifactReference = $"{Registry}/{project}/{repository}{(reference.Contains(':') ? "@" : ":")}{reference}";
        return (report.Vulnerabilities ?? [])
            .Select(v => new HarborVulnerability
            {
                Reference = artifactReference, Id = v.Id, Package = v.Package ?? "", Version = v.Version, FixVersion = string.IsNullOrEmpty(v.FixVersion) ? null : v.FixVersion,
                Severity = v.Severity ?? "Unknown", CvssScoreV3 = v.PreferredCvss?.ScoreV3, Description = v.Description, Links = v.Links?.ToArray() ?? [],
                Allowlisted = allowlist.Contains(v.Id),
            })
            .OrderByDescending(v => SeverityRank(v.Severity)).ThenBy(v => v.Id, StringComparer.Ordinal)
            .ToList();
    }
}
