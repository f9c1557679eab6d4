using System.Collections.Concurrent;
using System.Net;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Scope;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Copy-RegistryImage into Harbor (issue 5, item 8): from a real Distribution registry into the emulator's /v2/, where a
/// push into a missing project is refused. Without CreateMissingProjects each item of a missing project fails naming the
/// project and the fix; with it the project is created once per run with the given policies, after one confirmation.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class CopyIntoHarborTests(HarborLabFixture lab) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private DistributionRegistry _source = null!;

    public async Task InitializeAsync() => _source = await DistributionRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        lab.AssertExchangesMatchContract();
    }

    private async Task<(CopySummary Summary, List<CopyResult> Results)> CopyAsync(CopyRequest request)
    {
        using var engine = new RegistryEngine(new RegistryEngineOptions
        {
            DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-none-" + Guid.NewGuid().ToString("N"), "config.json"),
            MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        });
        var results = new ConcurrentQueue<CopyResult>();
        var summary = await new ImageCopier(engine).CopyAsync(request, null, (r, _) => results.Enqueue(r), None);
        return (summary, results.ToList());
    }

    private CopyRequest Request(params string[] repositories) =>
        new(repositories.Select(r => $"{_source.Host}/{r}").ToList(), lab.Harbor.Host)
        {
            DestinationCredential = new NetworkCredential(lab.Harbor.AdminUser, lab.Harbor.AdminPassword),
        };

    private async Task<bool> ProjectExistsAsync(string project)
    {
        try
        {
            await lab.Admin().GetProjectAsync(project, None);
            return true;
        }
        catch (HarborException ex) when (ex.ErrorId == HarborErrorIds.ProjectNotFound)
        {
            return false;
        }
    }

    [Fact]
    public async Task Without_create_project_the_items_of_a_missing_project_fail_naming_it_and_the_fix_while_the_rest_is_copied()
    {
        var missing = lab.Unique("absent");
        var existing = lab.Unique("present");
        await lab.Admin().CreateProjectAsync(existing, new HarborProjectSettings(), None);
        await LabContent.PushImageAsync(_source.Endpoint, $"{missing}/api", "1.0");
        await LabContent.PushImageAsync(_source.Endpoint, $"{missing}/api", "1.1");
        var web = await LabContent.PushImageAsync(_source.Endpoint, $"{existing}/web", "2.0");

        var (summary, results) = await CopyAsync(Request($"{missing}/api", $"{existing}/web") with
        {
            Harbor = new HarborDestination(lab.AdminConnection) { ClientOptions = lab.FastOptions },
        });

        var failure = Assert.Single(results, r => r.Action == CopyAction.Failed);
        Assert.Equal(CopyErrorIds.HarborProjectMissing, failure.ErrorId);
        Assert.Equal($"{missing}/api", failure.DestinationRepository);
        Assert.Contains($"Project '{missing}' does not exist", failure.Error);
        Assert.Contains("-CreateProject", failure.Error);
        Assert.Contains($"New-HarborProject {missing}", failure.Error);
        var copied = Assert.Single(results, r => r.Action == CopyAction.Copied);
        Assert.Equal(web.Digest, copied.Digest);
        Assert.Equal(1, summary.Failed);
        Assert.Empty(summary.ProjectsCreated);
        Assert.False(await ProjectExistsAsync(missing));
        Assert.Equal(web.Digest, (await HarborClientTests.PullAsync(lab.Harbor, $"{existing}/web:2.0", lab.Harbor.AdminUser, lab.Harbor.AdminPassword)).Digest);
    }

    [Fact]
    public async Task Create_project_plans_then_creates_each_missing_project_once_with_its_policies_and_copies_into_it()
    {
        var project = lab.Unique("created");
        var api = await LabContent.PushImageAsync(_source.Endpoint, $"{project}/api", "1.0");
        var signature = await LabContent.PushCosignSignatureAsync(_source.Endpoint, api);
        var worker = await LabContent.PushImageAsync(_source.Endpoint, $"{project}/team/worker", "3.0");
        var settings = new HarborProjectSettings { AutoScan = true, PreventVulnerable = true, Severity = "high", RequireCosignSignature = true };
        var asked = new ConcurrentQueue<string>();
        HarborDestination Harbor(bool confirm) => new(lab.AdminConnection)
        {
            CreateMissingProjects = true, ProjectSettings = settings, ClientOptions = lab.FastOptions,
            ConfirmCreateProject = (name, _) => { asked.Enqueue(name); return Task.FromResult(confirm); },
        };

        // -WhatIf: the plan names the project and every tag, and nothing is created or asked.
        var (plan, planned) = await CopyAsync(Request($"{project}/api", $"{project}/team/worker") with { Harbor = Harbor(true), PlanOnly = true });
        Assert.Equal([project], plan.ProjectsCreated);
        // Two images, and the signature with its tag-schema referrers index after their subject.
        Assert.Equal(4, plan.Planned);
        Assert.Equal(2, planned.Count(r => r.SubjectDigest == api.Digest));
        Assert.Equal(0, plan.Failed);
        Assert.All(planned, r => Assert.Equal(CopyAction.Planned, r.Action));
        Assert.Empty(asked);
        Assert.False(await ProjectExistsAsync(project));

        // Declined: both repositories fail, naming the project, and it stays missing.
        var (declined, declinedResults) = await CopyAsync(Request($"{project}/api", $"{project}/team/worker") with { Harbor = Harbor(false) });
        Assert.Equal([project], asked);
        Assert.Equal(2, declined.Failed);
        Assert.All(declinedResults, r => Assert.Equal(CopyErrorIds.HarborProjectMissing, r.ErrorId));
        Assert.False(await ProjectExistsAsync(project));

        asked.Clear();
        var (summary, results) = await CopyAsync(Request($"{project}/api", $"{project}/team/worker") with { Harbor = Harbor(true) });
        Assert.Equal([project], asked);
        Assert.Equal([project], summary.ProjectsCreated);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(new[] { api.Digest, worker.Digest }.Order(StringComparer.Ordinal),
            results.Where(r => r.Action == CopyAction.Copied && r.SubjectDigest is null).Select(r => r.Digest).Order(StringComparer.Ordinal));
        Assert.Contains(results, r => r.Digest == signature.Digest && r.Action == CopyAction.Copied);

        var created = await lab.Admin().GetProjectAsync(project, None);
        Assert.False(created.Public);
        Assert.True(created.AutoScan);
        Assert.True(created.PreventVulnerable);
        Assert.Equal("high", created.Severity);
        Assert.True(created.RequireCosignSignature);
        var artifacts = await lab.Admin().ListArtifactsAsync(project, null, None).ToListAsync();
        Assert.Contains(artifacts, a => a.Digest == api.Digest && a.Tags.Contains("1.0"));
        Assert.Contains(artifacts, a => a.Digest == worker.Digest && a.Repository == "team/worker" && a.Tags.Contains("3.0"));

        // A second run finds the project there: nothing to create, nothing asked, everything already copied.
        asked.Clear();
        var (again, _) = await CopyAsync(Request($"{project}/api", $"{project}/team/worker") with { Harbor = Harbor(true) });
        Assert.Empty(asked);
        Assert.Empty(again.ProjectsCreated);
        Assert.Equal(0, again.Failed);
        Assert.Equal(0, again.Copied);
    }

    [Fact]
    public async Task A_repository_without_a_project_part_fails_with_the_fix_instead_of_an_unauthorized_push()
    {
        var name = lab.Unique("flat");
        await LabContent.PushImageAsync(_source.Endpoint, name, "1");
        var (summary, results) = await CopyAsync(Request(name) with
        {
            Harbor = new HarborDestination(lab.AdminConnection) { CreateMissingProjects = true, ClientOptions = lab.FastOptions },
        });
        var failure = Assert.Single(results);
        Assert.Equal(CopyErrorIds.MappingInvalid, failure.ErrorId);
        Assert.Contains("has no project part", failure.Error);
        Assert.Contains("-DestinationPrefix", failure.Error);
        Assert.Equal(1, summary.Failed);
        Assert.Empty(summary.ProjectsCreated);
    }
}
