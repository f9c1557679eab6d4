using HarborOps.Engine.CutOver;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.CutOver;

/// <summary>Get-ImageReference's engine: every reference of the fixture tree with its position, form and parts.</summary>
public sealed class ImageReferenceScanTests : IDisposable
{
    private readonly CutOverTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private async Task<List<ImageReferenceFileScan>> ScanAsync(ImageReferenceScanRequest request)
    {
        var scans = new List<ImageReferenceFileScan>();
        await foreach (var scan in ImageReferenceScanner.ScanAsync(request, null, CancellationToken.None)) scans.Add(scan);
        return scans;
    }

    [Fact]
    public async Task Every_form_is_found_with_its_line_column_and_parts()
    {
        var scans = await ScanAsync(new ImageReferenceScanRequest([_tree.Root]) { Recurse = true });
        var all = scans.SelectMany(s => s.References).ToList();
        string Where(ImageReferenceInfo r) => $"{Path.GetRelativePath(_tree.Root, r.Path)}:{r.Line}:{r.Column}";

        var web = Assert.Single(all, r => r.Field == "image" && r.Path.EndsWith("web/values.yaml", StringComparison.Ordinal));
        Assert.Equal(("charts/web/values.yaml:6:15", ImageReferenceForm.HelmSplit, "contoso.azurecr.io/team/web:1.4.2"), (Where(web), web.Kind, web.Reference));

        var metrics = Assert.Single(all, r => r.Field == "metrics.image" && r.Path.EndsWith("web/values.yaml", StringComparison.Ordinal));
        Assert.Equal(("team/metrics-exporter", "0.14.0", "sha256:2244835e4aadb8f19be9aaf31384a5ef4cfb0e0d56a459b734031c5a55be9854"), (metrics.Repository, metrics.Tag, metrics.Digest));

        var controller = Assert.Single(all, r => r.Field == "controller.image");
        Assert.Equal(("contoso.azurecr.io", "ingress/controller", "v1.11.2"), (controller.Registry, controller.Repository, controller.Tag));
        var api = Assert.Single(all, r => r.Field == "api.image");
        Assert.Equal("contoso.azurecr.io/team/api:2.0.0", api.Reference); // global.imageRegistry wins over image.registry

        var cron = Assert.Single(all, r => r.Reference == "contoso.azurecr.io/team/retired-worker:0.9");
        Assert.Equal(("manifests/workloads.yaml:82:22", ImageReferenceForm.Container, "spec.jobTemplate.spec.template.spec.containers[0].image"), (Where(cron), cron.Kind, cron.Field));
        Assert.Contains(all, r => r.Field == "spec.ephemeralContainers[0].image" && r.Kind == ImageReferenceForm.Container);
        Assert.Contains(all, r => r.Field == "spec.template.spec.initContainers[0].image" && r.Kind == ImageReferenceForm.Container);

        var renamed = Assert.Single(all, r => r.Field == "images[1]");
        Assert.Equal((ImageReferenceForm.Kustomize, "contoso.azurecr.io/team/api-v2:2.0.0@sha256:9fb6dd5a4c9ccdf1bd7ee8ac719de6028ddbb7390791d40ee30f3939969c4042"), (renamed.Kind, renamed.Reference));

        var appSetApi = Assert.Single(all, r => r.Kind == ImageReferenceForm.ArgoParameter && r.Repository == "team/api");
        Assert.True(appSetApi.Templated);
        Assert.Equal(("contoso.azurecr.io", null), (appSetApi.Registry, appSetApi.Reference));
        var inline = Assert.Single(all, r => r.Kind == ImageReferenceForm.ArgoValues && r.Repository == "team/audit");
        Assert.Equal("argocd/app-web.yaml:28:21", Where(inline));
        Assert.Contains(all, r => r.Kind == ImageReferenceForm.ArgoValues && r.Field == "spec.source.helm.values.metrics.image" && Where(r) == "argocd/app-web.yaml:24:25");

        var dockerfile = all.Where(r => r.Kind == ImageReferenceForm.Dockerfile).Select(r => $"{r.Line} {r.Field} {r.Text} {r.Templated}").ToList();
        Assert.Equal(
        [
            "2 ARG BASE (line 2) contoso.azurecr.io/base/dotnet-sdk:8.0 False", "3 FROM (line 3) ${BASE} True",
            "8 FROM (line 8) contoso.azurecr.io/base/node:20 False",
            "11 FROM (line 11) contoso.azurecr.io/base/aspnet:8.0@sha256:589ef56b73dc2f89fc55b003bde485d7ac08fb46085392b02c21cfaf6f9879e6 False",
            "14 COPY --from (line 14) contoso.azurecr.io/tools/tini:0.19 False",
        ], dockerfile);

        var crlf = Assert.Single(all, r => r.Path.EndsWith("crlf-deployment.yaml", StringComparison.Ordinal));
        Assert.Equal("manifests/crlf-deployment.yaml:11:19", Where(crlf));

        // Chart.yaml's dependency repository, the ConfigMap's text and comments are no image references.
        Assert.DoesNotContain(all, r => r.Path.EndsWith("Chart.yaml", StringComparison.Ordinal));
        Assert.DoesNotContain(all, r => r.Text.Contains("bitnami", StringComparison.Ordinal));
        Assert.Equal(["broken/malformed.yaml", "broken/packed.yaml"], scans.Where(s => s.Failure is not null).Select(s => Path.GetRelativePath(_tree.Root, s.Path)).ToList());
    }

    [Fact]
    public async Task A_registry_filter_include_exclude_and_recursion_choose_what_is_read()
    {
        var onlyOld = (await ScanAsync(new ImageReferenceScanRequest([_tree.Root]) { Recurse = true, Registries = ["https://contoso.azurecr.io/"] }))
            .SelectMany(s => s.References).ToList();
        Assert.All(onlyOld, r => Assert.Equal(CutOverTree.OldRegistry, r.Registry));
        Assert.DoesNotContain(onlyOld, r => r.Registry == "docker.io");

        var topOnly = await ScanAsync(new ImageReferenceScanRequest([_tree.PathOf("manifests")]));
        Assert.Equal(["crlf-deployment.yaml", "workloads.yaml"], topOnly.Select(s => Path.GetFileName(s.Path)).ToList());

        var noRecurse = await ScanAsync(new ImageReferenceScanRequest([_tree.Root]));
        Assert.Empty(noRecurse);

        var filtered = await ScanAsync(new ImageReferenceScanRequest([_tree.Root]) { Recurse = true, Include = ["Dockerfile", "*.yaml"], Exclude = ["broken", "argocd/*", "Chart.yaml"] });
        var names = filtered.Select(s => Path.GetRelativePath(_tree.Root, s.Path)).ToList();
        Assert.Contains("docker/Dockerfile", names);
        Assert.DoesNotContain(names, n => n.StartsWith("broken", StringComparison.Ordinal) || n.StartsWith("argocd", StringComparison.Ordinal) || n.EndsWith("Chart.yaml", StringComparison.Ordinal));
        Assert.All(filtered, s => Assert.Null(s.Failure));
    }
}
