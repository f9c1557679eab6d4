using HarborOps.Engine.Harbor;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Issue 5, item 7: a registry endpoint for a real Distribution registry, a pull policy with name and tag filters that
/// keep cosign's sha256-*.sig tags, an execution awaited with progress, and its tasks; the emulator's tasks copy with
/// skopeo into its /v2/, so what landed is read back from the real registry behind it.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborReplicationTests(HarborLabFixture lab) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private DistributionRegistry _source = null!;

    public async Task InitializeAsync() => _source = await DistributionRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        lab.AssertExchangesMatchContract();
    }

    [Theory]
    [InlineData("1.*", true, "{1.*,sha256-*.sig}")]
    [InlineData("{1.*,2.*}", true, "{1.*,2.*,sha256-*.sig}")]
    [InlineData("1.*", false, "1.*")]
    [InlineData("**", true, "**")]
    [InlineData(null, true, null)]
    public void The_tag_filter_is_widened_to_keep_signature_tags(string? filter, bool keep, string? stored) =>
        Assert.Equal(stored, HarborClient.EffectiveTagFilter(filter, keep));

    [Fact]
    public async Task A_pull_policy_replicates_the_filtered_tags_with_their_signatures_and_reports_its_tasks()
    {
        var admin = lab.Admin();
        var project = lab.Unique("mirror");
        var repository = lab.Unique("team") + "/api";
        var signedImage = await LabContent.PushImageAsync(_source.Endpoint, repository, "1.0");
        var signature = await LabContent.PushCosignSignatureAsync(_source.Endpoint, signedImage);
        await LabContent.PushImageAsync(_source.Endpoint, repository, "1.1");
        await LabContent.PushImageAsync(_source.Endpoint, repository, "dev");
        await LabContent.PushImageAsync(_source.Endpoint, lab.Unique("other") + "/tool", "1.0");

        var endpointName = lab.Unique("lab-source");
        var endpoint = await admin.CreateRegistryEndpointAsync(new HarborRegistryEndpointRequest(endpointName, "docker-registry", _source.BaseUri), None);
        Assert.Equal(endpointName, endpoint.Name);
        Assert.Equal("docker-registry", endpoint.Type);
        Assert.Contains(await admin.ListRegistryEndpointsAsync(endpointName, None), e => e.Id == endpoint.Id);
        var duplicate = await Assert.ThrowsAsync<HarborException>(() =>
            admin.CreateRegistryEndpointAsync(new HarborRegistryEndpointRequest(endpointName, "docker-registry", _source.BaseUri), None));
        Assert.Equal(HarborErrorIds.RegistryEndpointExists, duplicate.ErrorId);
        var unknownType = await Assert.ThrowsAnyAsync<HarborException>(() =>
            admin.CreateRegistryEndpointAsync(new HarborRegistryEndpointRequest(lab.Unique("bad"), "no-such-adapter", _source.BaseUri), None));
        Assert.Equal(400, unknownType.StatusCode);

        var policy = await admin.CreatePullReplicationPolicyAsync(new HarborPullReplicationRequest(lab.Unique("pull"), endpoint.Id)
        {
            NameFilter = repository.Split('/')[0] + "/**", TagFilter = "1.*", DestinationNamespace = project, DestinationNamespaceReplaceCount = 1,
        }, None);
        Assert.Equal("{1.*,sha256-*.sig}", policy.TagFilter);
        Assert.Equal(endpoint.Id, policy.SourceRegistryId);
        Assert.Equal(project, policy.DestinationNamespace);
        Assert.Equal(policy.Id, (await admin.FindReplicationPolicyAsync(policy.Name, None)).Id);

        var started = await admin.StartReplicationAsync(policy.Id, None);
        Assert.Equal(policy.Id, started.PolicyId);
        var reports = new List<OperationProgress>();
        var finished = await admin.WaitForReplicationAsync(started.Id, TimeSpan.FromSeconds(90), new SyncProgress(reports), None);

        Assert.Equal("Succeed", finished.Status);
        Assert.True(reports.Last().IsComplete);
        var task = Assert.Single(finished.Tasks);
        Assert.Equal("Succeed", task.Status);
        Assert.Equal($"{repository}:[1.0,1.1,{signature.Tag}]", task.Source);
        Assert.Equal($"{project}/api:[1.0,1.1,{signature.Tag}]", task.Destination);
        var landed = await LabSkopeo.ListTagsAsync(lab.Harbor.AdminEndpoint, $"{project}/api");
        Assert.Equal(new[] { "1.0", "1.1", signature.Tag! }.Order(StringComparer.Ordinal), landed.Order(StringComparer.Ordinal));
        Assert.Contains(await admin.ListReplicationExecutionsAsync(policy.Id, None), e => e.Id == started.Id && e.Status == "Succeed");
    }
}
