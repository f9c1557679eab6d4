using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Lab;
using HarborOps.Lab.Harbor;
using Xunit;
using static HarborOps.Engine.Tests.Harbor.HarborClientTests;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// The "done when" of issue 5: a migrated project with prevent_vul and cosign enforcement. Signed and scanned images pull
/// fine through /v2/ with a robot; an unsigned one and a never-scanned one are refused with 412, and the gate test listed
/// exactly those two before the gates were switched on.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborGateScenarioTests(HarborLabFixture lab) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    public void Dispose() => lab.AssertExchangesMatchContract();

    [Fact]
    public async Task Gates_refuse_exactly_the_artifacts_the_gate_test_listed_beforehand()
    {
        var admin = lab.Admin();
        var project = lab.Unique("migrated");
        await admin.CreateProjectAsync(project, new HarborProjectSettings(), None);
        var endpoint = lab.Harbor.AdminEndpoint;
        // Migrated content: images copied with their signatures.
        var good = await LabContent.PushImageAsync(endpoint, $"{project}/api", "1.0");
        await LabContent.PushCosignSignatureAsync(endpoint, good);
        var unsigned = await LabContent.PushImageAsync(endpoint, $"{project}/api", "1.1");
        var unscanned = await LabContent.PushImageAsync(endpoint, $"{project}/worker", "2.0");
        await LabContent.PushCosignSignatureAsync(endpoint, unscanned);
        // A low finding stays below the "high" gate.
        lab.Harbor.SeedScanReport(good.Digest, [new LabVulnerability("CVE-2025-1111", "Low", "busybox", "1.36")]);
        var toScan = (await admin.ListArtifactsAsync(project, null, None).ToListAsync()).Where(a => a.Digest != unscanned.Digest).ToList();
        foreach (var artifact in toScan) await admin.StartScanAsync(project, artifact.Repository, artifact.Digest, None);
        await admin.WaitForScansAsync(toScan, TimeSpan.FromSeconds(20), null, None);

        var policy = new HarborGatePolicy(PreventVulnerable: true, Severity: "high", RequireCosignSignature: true);
        var findings = await admin.TestProjectGateAsync(project, policy, null, None);
        Assert.Equal(2, findings.Count);
        var unsignedFinding = Assert.Single(findings, f => f.Digest == unsigned.Digest);
        Assert.Equal(["Unsigned"], unsignedFinding.Reasons);
        Assert.Equal(["1.1"], unsignedFinding.Tags);
        var unscannedFinding = Assert.Single(findings, f => f.Digest == unscanned.Digest);
        Assert.Equal(["NeverScanned"], unscannedFinding.Reasons);
        Assert.Equal($"{lab.Harbor.Host}/{project}/worker@{unscanned.Digest}", unscannedFinding.Reference);
        // With the gates still off, everything pulls.
        var robot = await admin.CreateRobotAsync(new HarborRobotRequest("k8s") { Projects = [project] }, None);
        var secret = Plain(robot.Secret);
        await PullAsync(lab.Harbor, $"{project}/api:1.1", robot.UserName, secret);

        await admin.UpdateProjectAsync(project, new HarborProjectSettings { PreventVulnerable = true, Severity = "high", RequireCosignSignature = true }, None);
        Assert.Equal(findings.Select(f => f.Digest).Order(), (await admin.TestProjectGateAsync(project, null, null, None)).Select(f => f.Digest).Order());

        var pulled = await PullAsync(lab.Harbor, $"{project}/api:1.0", robot.UserName, secret);
        Assert.Equal(good.Digest, pulled.Digest);
        foreach (var (reference, message) in new[] { ($"{project}/api:1.1", "not signed by cosign"), ($"{project}/worker:2.0", "without vulnerability scanning") })
        {
            var refused = await Assert.ThrowsAnyAsync<HarborOpsException>(() => PullAsync(lab.Harbor, reference, robot.UserName, secret));
            var registryFailure = Assert.IsAssignableFrom<HarborOps.Engine.Errors.RegistryException>(refused);
            Assert.Equal(412, registryFailure.StatusCode);
            Assert.Equal("PROJECTPOLICYVIOLATION", registryFailure.RegistryErrorCode);
            // A gate refuses that image only: a migration or listing reports it and goes on with the rest.
            Assert.Equal(HarborOps.Engine.Errors.RegistryErrorIds.PolicyViolation, refused.ErrorId);
            Assert.Equal(HarborOps.Engine.Errors.FailureKind.PermissionDenied, refused.Kind);
            Assert.False(refused.IsTerminating);
            Assert.Contains(message, refused.Message);
        }

        // An independent client (skopeo) sees the same: the good image inspects, the unsigned one is refused.
        var robotEndpoint = lab.Endpoint(robot.UserName, secret);
        var ok = await LabSkopeo.RunAsync(robotEndpoint, ["inspect", "--raw", "--tls-verify=false", $"docker://{lab.Harbor.Host}/{project}/api:1.0"]);
        Assert.True(ok.ExitCode == 0, ok.StandardError);
        var blocked = await LabSkopeo.RunAsync(robotEndpoint, ["inspect", "--raw", "--tls-verify=false", $"docker://{lab.Harbor.Host}/{project}/api:1.1"]);
        Assert.NotEqual(0, blocked.ExitCode);
        Assert.Contains("not signed by cosign", blocked.StandardError);

        // Once scanned, the unscanned image passes: the gate was about the scan, nothing else.
        var worker = (await admin.ListArtifactsAsync(project, "worker", None).ToListAsync()).Single();
        await admin.StartScanAsync(project, "worker", worker.Digest, None);
        await admin.WaitForScansAsync([worker], TimeSpan.FromSeconds(20), null, None);
        Assert.Equal(unscanned.Digest, (await PullAsync(lab.Harbor, $"{project}/worker:2.0", robot.UserName, secret)).Digest);
    }

    [Fact]
    public async Task A_vulnerable_image_is_listed_and_refused_until_its_cves_are_allowlisted()
    {
        var admin = lab.Admin();
        var project = lab.Unique("vuln");
        await admin.CreateProjectAsync(project, new HarborProjectSettings(), None);
        var image = await LabContent.PushImageAsync(lab.Harbor.AdminEndpoint, $"{project}/app", "1.0");
        lab.Harbor.SeedScanReport(image.Digest, [new LabVulnerability("CVE-2025-0001", "Critical", "openssl", "3.0.0", "3.0.9"), new LabVulnerability("CVE-2025-0002", "Medium")]);
        await admin.StartScanAsync(project, "app", image.Digest, None);
        await admin.WaitForScansAsync([(await admin.ListArtifactsAsync(project, null, None).ToListAsync()).Single()], TimeSpan.FromSeconds(20), null, None);
        await admin.UpdateProjectAsync(project, new HarborProjectSettings { PreventVulnerable = true, Severity = "high" }, None);

        var finding = Assert.Single(await admin.TestProjectGateAsync(project, null, null, None));
        Assert.Equal(["Vulnerable"], finding.Reasons);
        Assert.Equal("Critical", finding.Severity);
        var refused = await Assert.ThrowsAnyAsync<HarborOpsException>(() => PullAsync(lab.Harbor, $"{project}/app:1.0", lab.Harbor.AdminUser, lab.Harbor.AdminPassword));
        Assert.Contains("1 vulnerabilities", refused.Message);

        await admin.UpdateProjectAsync(project, new HarborProjectSettings { CveAllowlist = ["CVE-2025-0001"] }, None);
        Assert.Empty(await admin.TestProjectGateAsync(project, null, null, None));
        Assert.Equal(image.Digest, (await PullAsync(lab.Harbor, $"{project}/app:1.0", lab.Harbor.AdminUser, lab.Harbor.AdminPassword)).Digest);
    }
}
