using HarborOps.Engine.CutOver;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.CutOver;

/// <summary>Update-ImageReference's engine over the realistic fixture tree: what moves, what stays byte for byte, what is reported.</summary>
public sealed class ImageReferenceRewriteTests : IDisposable
{
    private const string Destination = "harbor.example.com/migrated";
    private readonly CutOverTree _tree = new();
    private readonly RegistryEngine _engine = new(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/harborops/config.json" });

    public void Dispose()
    {
        _engine.Dispose();
        _tree.Dispose();
    }

    private async Task<List<ImageReferenceFilePlan>> RewriteAsync(ImageReferenceRewriteRequest request, bool commit = true)
    {
        var rewriter = new ImageReferenceRewriter(_engine);
        var plans = new List<ImageReferenceFilePlan>();
        await foreach (var plan in rewriter.PlanAsync(request, null, CancellationToken.None))
        {
            plans.Add(plan);
            if (commit && plan.HasRewrite) await rewriter.CommitAsync(plan, CancellationToken.None);
        }
        return plans;
    }

    private ImageReferenceRewriteRequest TreeRequest() => new([_tree.Root], [CutOverTree.OldRegistry], Destination) { Recurse = true };

    [Fact]
    public async Task Every_reference_to_the_old_registry_is_rewritten_and_nothing_else_changes_byte_for_byte()
    {
        var plans = await RewriteAsync(TreeRequest());

        var rewritten = plans.Where(p => p.HasRewrite).ToList();
        Assert.Equal(10, rewritten.Count);
        foreach (var plan in rewritten)
        {
            // The reported spans, applied to the original, give the written file exactly: the rest is untouched.
            var expected = CutOverTree.ApplyReportedChanges(_tree.OriginalBytes(plan.Path), plan.Changes);
            Assert.Equal(expected, File.ReadAllBytes(plan.Path));
        }

        // Read the rewritten tree back: no image outside a template still comes from the old registry.
        var after = new List<ImageReferenceInfo>();
        await foreach (var scan in ImageReferenceScanner.ScanAsync(new ImageReferenceScanRequest([_tree.Root]) { Recurse = true }, null, CancellationToken.None))
            after.AddRange(scan.References);
        var stillOld = after.Where(r => !r.Templated && r.Registry == CutOverTree.OldRegistry).Select(r => $"{r.Path}:{r.Line} {r.Text}").ToList();
        Assert.Empty(stillOld);
        var moved = after.Where(r => r.Registry == "harbor.example.com").ToList();
        Assert.All(moved, r => Assert.StartsWith("migrated/", r.Repository));
        Assert.Equal(32, moved.Count); // every image of the old registry in the tree (counted by hand in tests/fixtures/cutover)

        // Images of other registries stay.
        Assert.Contains(after, r => r.Reference == "docker.io/library/busybox:1.36");
        Assert.Contains(after, r => r.Reference == "docker.io/library/postgres:16.3");
        Assert.Contains("  - name: redis\n    newTag: \"7.2\"", _tree.Text("kustomize/overlays/prod/kustomization.yaml"));
    }

    [Fact]
    public async Task Split_values_quoting_comments_digests_and_forms_come_out_as_expected()
    {
        await RewriteAsync(TreeRequest());

        var web = _tree.Text("charts/web/values.yaml");
        Assert.Contains("  registry: harbor.example.com   # moved to Harbor in the cut-over\n  repository: migrated/team/web\n  tag: \"1.4.2\"", web);
        Assert.Contains("sidecarImage: 'harbor.example.com/migrated/team/proxy:2.0'", web);
        Assert.Contains("    registry: \"harbor.example.com\"\n    repository: migrated/team/metrics-exporter\n    tag: 0.14.0\n    digest: \"sha256:2244835e4aadb8f19be9aaf31384a5ef4cfb0e0d56a459b734031c5a55be9854\"", web);
        Assert.Contains("  image: \"{{ .Values.global.mirror }}/team/init:{{ .Chart.AppVersion }}\"", web);
        Assert.Contains("args: [\"--to\", \"contoso.azurecr.io is only text here\"]", web);

        var platform = _tree.Text("charts/platform/values.yaml");
        Assert.Contains("global:\n  imageRegistry: harbor.example.com\n", platform);
        Assert.Contains("    registry: docker.io\n    repository: migrated/team/api\n", platform);
        Assert.Contains("      repository: harbor.example.com/migrated/team/queue\n", platform);
        Assert.Contains("    registry: harbor.example.com\n    image: migrated/ingress/controller\n", platform);

        var template = _tree.Text("charts/web/templates/deployment.yaml");
        Assert.Contains("image: harbor.example.com/migrated/team/web-migrate:1.4.2 # pinned by the chart, not by values", template);
        Assert.Contains("image: \"{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}\"", template);

        var overlay = _tree.Text("kustomize/overlays/prod/kustomization.yaml");
        Assert.Contains("  - name: harbor.example.com/migrated/team/web\n    newTag: \"1.5.0\"", overlay);
        Assert.Contains("  - name: harbor.example.com/migrated/team/api   # renamed image in prod\n    newName: harbor.example.com/migrated/team/api-v2\n", overlay);
        Assert.Contains("image: harbor.example.com/migrated/team/web\n", _tree.Text("kustomize/base/deployment.yaml"));

        var app = _tree.Text("argocd/app-web.yaml");
        Assert.Contains("- name: image.registry\n          value: harbor.example.com\n", app);
        Assert.Contains("value: harbor.example.com/migrated/team/proxy:2.0", app);
        Assert.Contains("            registry: harbor.example.com\n            repository: migrated/team/metrics-exporter\n", app);
        Assert.Contains("image: \"harbor.example.com/migrated/team/audit:1.0\"", app);

        var appSet = _tree.Text("argocd/appset-api.yaml");
        Assert.Contains("value: harbor.example.com/migrated/team/api\n              - name: api.image.tag\n                value: '{{version}}'", appSet);
        Assert.Contains("repository: harbor.example.com/migrated/team/queue", appSet);
        Assert.Contains("              - harbor.example.com/migrated/tools/wait-for:2.2\n              - harbor.example.com/migrated/team/web=harbor.example.com/migrated/team/web:1.5.0\n", appSet);

        var workloads = _tree.Text("manifests/workloads.yaml");
        Assert.StartsWith("# Every workload kind, one file; the registry name in this comment stays: contoso.azurecr.io\n", workloads);
        foreach (var expected in new[]
                 {
                     "image: harbor.example.com/migrated/tools/netshoot:0.13", "image: \"harbor.example.com/migrated/tools/probe:1.0\"",
                     "image: harbor.example.com/migrated/tools/wait-for:2.2", "{name: api, image: harbor.example.com/migrated/team/api:1.9.0}",
                     "image: harbor.example.com/migrated/platform/node-agent:4.0.1", "image: harbor.example.com/migrated/team/web:1.4.2",
                     "image: harbor.example.com/migrated/team/batch:5.2@sha256:7d7c1fcff3cb2799e5196be0b4ba772335232a24be55fa1b75d1c09c4a6f52b0",
                     "image: harbor.example.com/migrated/team/retired-worker:0.9", "image: postgres:16.3", "  registry: contoso.azurecr.io\n",
                 })
            Assert.Contains(expected, workloads);

        var crlf = File.ReadAllBytes(_tree.PathOf("manifests/crlf-deployment.yaml"));
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, crlf[..3]);
        var crlfText = System.Text.Encoding.UTF8.GetString(crlf, 3, crlf.Length - 3);
        Assert.Equal(11, crlfText.Split("\r\n").Length - 1);
        Assert.DoesNotContain("\n", crlfText.Replace("\r\n", ""));
        Assert.Contains("          image: \"harbor.example.com/migrated/team/report:3.0\"   # CRLF\r\n", crlfText);

        var dockerfile = _tree.Text("docker/Dockerfile");
        Assert.Contains("ARG BASE=harbor.example.com/migrated/base/dotnet-sdk:8.0\nFROM ${BASE} AS build\n", dockerfile);
        Assert.Contains("FROM --platform=$BUILDPLATFORM harbor.example.com/migrated/base/node:20 AS assets\n", dockerfile);
        Assert.Contains("FROM harbor.example.com/migrated/base/aspnet:8.0@sha256:589ef56b73dc2f89fc55b003bde485d7ac08fb46085392b02c21cfaf6f9879e6 AS final\n", dockerfile);
        Assert.Contains("COPY --from=build /out /app\nCOPY --from=assets /dist /app/wwwroot\nCOPY --from=harbor.example.com/migrated/tools/tini:0.19 /tini /tini\n", dockerfile);
    }

    [Fact]
    public async Task Templated_values_are_reported_and_broken_files_are_reported_and_left_alone()
    {
        var plans = await RewriteAsync(TreeRequest());

        var templated = plans.SelectMany(p => p.Changes).Where(c => c.Action == ImageReferenceAction.Templated)
            .Select(c => $"{Path.GetFileName(c.Path)}:{c.Line} {c.Kind} {c.OldValue}").OrderBy(s => s, StringComparer.Ordinal).ToList();
        Assert.Equal(
        [
            "Dockerfile:3 Dockerfile ${BASE}",
            "deployment.yaml:13 HelmTemplate {{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}",
            "deployment.yaml:15 HelmTemplate {{ .Values.sidecarImage | quote }}",
            "values.yaml:23 HelmValue {{ .Values.global.mirror }}/team/init:{{ .Chart.AppVersion }}",
        ], templated);

        var malformed = Assert.Single(plans, p => p.Path.EndsWith("malformed.yaml", StringComparison.Ordinal));
        Assert.Equal(CutOverErrorIds.FileMalformed, malformed.Failure!.ErrorId);
        Assert.Equal(malformed.Path, malformed.Failure.Target);
        Assert.False(malformed.Failure.IsTerminating);
        var binary = Assert.Single(plans, p => p.Path.EndsWith("packed.yaml", StringComparison.Ordinal));
        Assert.Equal(CutOverErrorIds.FileBinary, binary.Failure!.ErrorId);
        foreach (var broken in new[] { malformed, binary })
        {
            Assert.False(broken.HasRewrite);
            Assert.Equal(_tree.OriginalBytes(broken.Path), File.ReadAllBytes(broken.Path));
        }
        Assert.Equal(2, plans.Count(p => p.Failure is not null));
        Assert.Empty(Directory.GetFiles(_tree.Root, "*harborops-tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task What_if_plans_carry_a_unified_diff_and_write_nothing()
    {
        var plans = await RewriteAsync(TreeRequest(), commit: false);

        foreach (var file in Directory.GetFiles(_tree.Root, "*", SearchOption.AllDirectories))
            Assert.Equal(_tree.OriginalBytes(file), File.ReadAllBytes(file));
        var crlf = Assert.Single(plans, p => p.Path.EndsWith("crlf-deployment.yaml", StringComparison.Ordinal));
        var header = "--- a/" + crlf.Path.TrimStart('/') + "\n+++ b/" + crlf.Path.TrimStart('/') + "\n";
        Assert.Equal(header
            + "@@ -8,4 +8,4 @@\n"
            + "     spec:\n"
            + "       containers:\n"
            + "         - name: report\n"
            + "-          image: \"contoso.azurecr.io/team/report:3.0\"   # CRLF\n"
            + "+          image: \"harbor.example.com/migrated/team/report:3.0\"   # CRLF\n", crlf.Diff);
        var change = Assert.Single(crlf.Changes);
        Assert.Equal((11, 19, ImageReferenceForm.Container, ImageReferenceAction.Planned), (change.Line, change.Column, change.Kind, change.Action));
        Assert.Equal(("contoso.azurecr.io/team/report:3.0", "harbor.example.com/migrated/team/report:3.0"), (change.OldValue, change.NewValue));
        Assert.Equal("spec.template.spec.containers[0].image", change.Field);
    }

    [Fact]
    public async Task Copy_mapping_options_strip_rename_and_a_from_path_apply_as_Copy_RegistryImage_applies_them()
    {
        var request = new ImageReferenceRewriteRequest([_tree.PathOf("manifests/workloads.yaml")], [CutOverTree.OldRegistry + "/team/*"], "harbor.example.com")
        {
            StripPrefixSegments = 1,
            RenameRepositories = new Dictionary<string, string> { ["api"] = "apps/api-service" },
        };
        var plans = await RewriteAsync(request);

        var changes = Assert.Single(plans).Changes.Select(c => c.NewValue).ToList();
        Assert.Equal(
        [
            "harbor.example.com/apps/api-service:1.9.0", "harbor.example.com/web:1.4.2",
            "harbor.example.com/batch:5.2@sha256:7d7c1fcff3cb2799e5196be0b4ba772335232a24be55fa1b75d1c09c4a6f52b0", "harbor.example.com/retired-worker:0.9",
        ], changes);
        var workloads = _tree.Text("manifests/workloads.yaml");
        Assert.Contains("image: contoso.azurecr.io/tools/netshoot:0.13", workloads); // outside -From's path

        // Stripping every segment of a repository leaves no name: each such file fails and stays, and the run goes on to the next.
        var files = new[] { _tree.PathOf("manifests/crlf-deployment.yaml"), _tree.PathOf("docker/Dockerfile") };
        var stripped = await RewriteAsync(new ImageReferenceRewriteRequest(files, [CutOverTree.OldRegistry], "harbor.example.com") { StripPrefixSegments = 2 });
        Assert.Equal([CopyErrorIds.MappingInvalid, CopyErrorIds.MappingInvalid], stripped.Select(p => p.Failure?.ErrorId));
        Assert.All(files, file => Assert.Equal(_tree.OriginalBytes(file), File.ReadAllBytes(file)));
    }

    [Fact]
    public async Task A_file_that_changed_after_it_was_read_is_not_replaced_and_the_mode_of_a_rewritten_file_stays()
    {
        var path = _tree.PathOf("manifests/workloads.yaml");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var rewriter = new ImageReferenceRewriter(_engine);
        var request = new ImageReferenceRewriteRequest([path, _tree.PathOf("manifests/crlf-deployment.yaml")], [CutOverTree.OldRegistry], Destination);
        var plans = new List<ImageReferenceFilePlan>();
        await foreach (var plan in rewriter.PlanAsync(request, null, CancellationToken.None)) plans.Add(plan);

        await rewriter.CommitAsync(plans[0], CancellationToken.None);
        Assert.Contains("harbor.example.com/migrated/team/batch", File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path));

        var other = plans[1].Path;
        File.AppendAllText(other, "# edited by someone else\r\n");
        var edited = File.ReadAllBytes(other);
        var failure = await Assert.ThrowsAsync<HarborOpsException>(() => rewriter.CommitAsync(plans[1], CancellationToken.None));
        Assert.Equal(CutOverErrorIds.WriteFailed, failure.ErrorId);
        Assert.Equal(edited, File.ReadAllBytes(other));
    }

    [Fact]
    public async Task A_value_written_with_escapes_is_reported_as_skipped_with_its_whole_image_and_a_symlinked_file_is_written_through_its_link()
    {
        var folder = _tree.PathOf("extra");
        Directory.CreateDirectory(folder);
        var escaped = Path.Combine(folder, "escaped.yaml");
        const string escapedText = "image:\n  registry: \"contoso\\x2eazurecr.io\"\n  repository: \"team/web\"\n  tag: \"1.0\"\n";
        File.WriteAllText(escaped, escapedText);
        Directory.CreateDirectory(_tree.PathOf("extra/linked"));
        var target = _tree.PathOf("extra/linked/real-values.yaml"); // inside the folder, in a subfolder not read: only the link leads to it
        File.WriteAllText(target, "image: contoso.azurecr.io/team/web:1.0 # linked\n");
        var link = Path.Combine(folder, "values.yaml");
        File.CreateSymbolicLink(link, target);

        var plans = await RewriteAsync(new ImageReferenceRewriteRequest([folder], [CutOverTree.OldRegistry], Destination));

        var skipped = Assert.Single(plans.Single(p => p.Path == escaped).Changes);
        Assert.Equal((ImageReferenceAction.Skipped, "image.registry", "harbor.example.com"), (skipped.Action, skipped.Field, skipped.NewValue));
        Assert.Equal(escapedText, File.ReadAllText(escaped)); // neither part moved: half an image would point nowhere
        Assert.Single(plans, p => p.Path == link && p.HasRewrite);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal("image: harbor.example.com/migrated/team/web:1.0 # linked\n", File.ReadAllText(target));
    }

    [Fact]
    public async Task Bad_requests_stop_before_any_file_is_read()
    {
        var rewriter = new ImageReferenceRewriter(_engine);
        async Task<HarborOpsException> Fails(ImageReferenceRewriteRequest request) =>
            await Assert.ThrowsAnyAsync<HarborOpsException>(async () => { await foreach (var _ in rewriter.PlanAsync(request, null, CancellationToken.None)) { } });

        Assert.Equal(CutOverErrorIds.RequestInvalid, (await Fails(new([_tree.Root], [], Destination))).ErrorId);
        Assert.Equal(CutOverErrorIds.RequestInvalid, (await Fails(new([_tree.Root], [CutOverTree.OldRegistry], "oci:/tmp/layout"))).ErrorId);
        Assert.Equal(RegistryErrorIds.ReferenceInvalid, (await Fails(new([_tree.Root], [CutOverTree.OldRegistry], "harbor.example.com/Upper"))).ErrorId);
        var missing = new List<ImageReferenceFilePlan>();
        await foreach (var plan in rewriter.PlanAsync(new([_tree.PathOf("nope")], [CutOverTree.OldRegistry], Destination), null, CancellationToken.None)) missing.Add(plan);
        Assert.Equal(CutOverErrorIds.PathNotFound, Assert.Single(missing).Failure!.ErrorId);
    }
}
