using HarborOps.Engine.CutOver;
using HarborOps.Engine.Tests.Registry;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.CutOver;

/// <summary>-PinDigest against a real Distribution registry: the digest the destination serves is written, or the file is left alone.</summary>
[Collection(RegistryLabCollection.Name)]
public sealed class ImageReferencePinTests(RegistryLabFixture lab) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harborops-pin-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Rewritten_references_are_pinned_to_the_destination_digest_and_a_file_naming_a_missing_image_is_not_written()
    {
        var prefix = "pin-" + Guid.NewGuid().ToString("N")[..8];
        var api = await LabContent.PushImageAsync(lab.Open, $"{prefix}/team/api", "2.0.0");
        var proxy = await LabContent.PushImageAsync(lab.Open, $"{prefix}/team/proxy", "1.0");
        const string kept = "sha256:2244835e4aadb8f19be9aaf31384a5ef4cfb0e0d56a459b734031c5a55be9854";
        Directory.CreateDirectory(Path.Combine(_root, "chart"));
        Directory.CreateDirectory(Path.Combine(_root, "docker"));
        var values = Path.Combine(_root, "chart", "values.yaml");
        File.WriteAllText(values, $"""
            image:
              registry: contoso.azurecr.io
              repository: team/api
              tag: "2.0.0"
              digest: ""
            sidecarImage: contoso.azurecr.io/team/proxy:1.0
            pinned:
              image: contoso.azurecr.io/team/proxy:1.0@{kept}
            """);
        var dockerfile = Path.Combine(_root, "docker", "Dockerfile");
        const string missing = "FROM contoso.azurecr.io/team/api:2.0.0\nFROM contoso.azurecr.io/team/never-copied:1\n";
        File.WriteAllText(dockerfile, missing);

        using var engine = lab.NewEngine();
        var rewriter = new ImageReferenceRewriter(engine);
        var request = new ImageReferenceRewriteRequest([_root], ["contoso.azurecr.io"], $"{lab.Open.Host}/{prefix}") { Recurse = true, PinDigest = true };
        var plans = new List<ImageReferenceFilePlan>();
        await foreach (var plan in rewriter.PlanAsync(request, null, CancellationToken.None))
        {
            plans.Add(plan);
            if (plan.HasRewrite) await rewriter.CommitAsync(plan, CancellationToken.None);
        }

        Assert.Equal($"""
            image:
              registry: {lab.Open.Host}
              repository: {prefix}/team/api
              tag: "2.0.0"
              digest: "{api.Digest}"
            sidecarImage: {lab.Open.Host}/{prefix}/team/proxy:1.0@{proxy.Digest}
            pinned:
              image: {lab.Open.Host}/{prefix}/team/proxy:1.0@{kept}
            """, File.ReadAllText(values));
        var failed = Assert.Single(plans, p => p.Failure is not null);
        Assert.Equal((dockerfile, CutOverErrorIds.PinTargetMissing), (failed.Path, failed.Failure!.ErrorId));
        Assert.Contains($"{lab.Open.Host}/{prefix}/team/never-copied:1", failed.Failure.Message);
        Assert.Equal(missing, File.ReadAllText(dockerfile));
        Assert.DoesNotContain(plans.SelectMany(p => p.Changes), c => c.Action == ImageReferenceAction.Skipped);
    }
}
