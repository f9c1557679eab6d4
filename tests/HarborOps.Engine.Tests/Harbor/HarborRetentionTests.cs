using HarborOps.Engine.Harbor;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Issue 19, item 8: tag retention per project with a dry run whose list is checked against an expectation computed by
/// hand from a fixture of known push times and tags (a signed artifact among them), and tag immutability as Harbor
/// enforces it on push and delete; every exchange checked against the swagger.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborRetentionTests(HarborLabFixture lab) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    public void Dispose() => lab.AssertExchangesMatchContract();

    private sealed record Fixture(string Project, Dictionary<string, PushedImage> Images, PushedImage Signature);

    /// <summary>
    /// app:  a1 v1.0.0 (40 days ago), a2 v1.1.0 (20 days, cosign-signed), a3 v1.2.0 (10), a4 dev-abc (3), a5 dev-def (2),
    ///       a6 v1.3.0 + latest (1 day ago).
    /// tools: t1 nightly-1 (50 days), t2 nightly-2 (5 days).
    /// </summary>
    private async Task<Fixture> PushFixtureAsync()
    {
        var admin = lab.Admin();
        var project = lab.Unique("retain");
        await admin.CreateProjectAsync(project, new HarborProjectSettings(), None);
        var endpoint = lab.Harbor.AdminEndpoint;
        var seed = await LabContent.PushImageAsync(endpoint, project + "/app", "v1.0.0", new LabImageOptions { LayerSize = 512 });
        var images = new Dictionary<string, PushedImage> { ["a1"] = seed };
        var toolsSeed = await LabContent.PushImageAsync(endpoint, project + "/tools", null, new LabImageOptions { LayerSize = 512 });
        async Task<PushedImage> Put(string name, string repository, params string[] tags)
        {
            var manifest = HarborLabFixture.VariantOf(repository == "tools" ? toolsSeed : seed, name);
            PushedImage pushed = null!;
            foreach (var tag in tags) pushed = await LabContent.PutManifestAsync(endpoint, $"{project}/{repository}", tag, seed.MediaType, manifest);
            return images[name] = pushed;
        }
        await Put("a2", "app", "v1.1.0");
        await Put("a3", "app", "v1.2.0");
        await Put("a4", "app", "dev-abc");
        await Put("a5", "app", "dev-def");
        await Put("a6", "app", "v1.3.0", "latest");
        await Put("t1", "tools", "nightly-1");
        await Put("t2", "tools", "nightly-2");
        var signature = await LabContent.PushCosignSignatureAsync(endpoint, images["a2"] with { Repository = project + "/app" });
        var now = DateTimeOffset.UtcNow;
        foreach (var (name, days) in new[] { ("a1", 40), ("a2", 20), ("a3", 10), ("a4", 3), ("a5", 2), ("a6", 1), ("t1", 50), ("t2", 5) })
            lab.Harbor.SetPushTime($"{project}/{(name[0] == 'a' ? "app" : "tools")}", images[name].Digest, now.AddDays(-days));
        return new Fixture(project, images, signature);
    }

    private static readonly HarborRetentionRule[] Rules =
    [
        new() { Template = "latestPushedK", Value = 2, Tags = "v*" },
        new() { Template = "nDaysSinceLastPush", Value = 7, Tags = "dev-*", Repositories = "app" },
        new() { Template = "always", Tags = "v1.0.*" },
    ];

    [Fact]
    public async Task A_dry_run_lists_exactly_the_artifacts_the_rules_do_not_keep_and_says_the_signature_goes_with_its_image()
    {
        var admin = lab.Admin();
        var fixture = await PushFixtureAsync();
        await admin.CreateImmutableTagRuleAsync(fixture.Project, "tools", "nightly-1", false, false, None);
        var policy = await admin.SetRetentionPolicyAsync(fixture.Project, Rules, None);
        Assert.Equal(3, policy.Rules.Length);
        Assert.Equal(("latestPushedK", 2L, "v*", "**"), (policy.Rules[0].Template, policy.Rules[0].Value!.Value, policy.Rules[0].Tags, policy.Rules[0].Repositories));

        var results = await admin.RunRetentionAsync(fixture.Project, dryRun: true, TimeSpan.FromSeconds(20), null, None);

        // By hand: rule 1 keeps the two newest v* artifacts of every repository (app: a6, a3); rule 2 keeps dev-* pushed
        // in the last 7 days in app (a4, a5); rule 3 always keeps v1.0.* (a1). app's a2 is kept by none. tools has no v*,
        // rule 2 does not reach it, so t1 and t2 are not kept: t2 is deleted, t1 is protected by its immutable tag.
        var expected = new[]
        {
            ("app", "v1.1.0", "Delete"),
            ("tools", "nightly-1", "Immutable"),
            ("tools", "nightly-2", "Delete"),
        };
        Assert.Equal(expected, results.Where(r => r.Action != "Retain").Select(r => (r.Repository, string.Join(',', r.Tags), r.Action)).OrderBy(x => x.Item1).ThenBy(x => x.Item2));
        Assert.Equal(["a1", "a3", "a4", "a5", "a6"], results.Where(r => r.Action == "Retain").Select(r => fixture.Images.First(i => i.Value.Digest == r.Digest).Key).Order());
        Assert.Equal(["latest", "v1.3.0"], results.Single(r => r.Digest == fixture.Images["a6"].Digest).Tags.Order());
        var signed = results.Single(r => r.Digest == fixture.Images["a2"].Digest);
        Assert.Equal([fixture.Signature.Digest], signed.Signatures);
        Assert.Contains("would be deleted with the artifact", signed.SignatureNote, StringComparison.Ordinal);
        Assert.All(results, r => Assert.True(r.DryRun));
        Assert.All(results.Where(r => r.Digest != fixture.Images["a2"].Digest), r => Assert.Empty(r.Signatures));
        Assert.Equal(8, (await admin.ListArtifactsAsync(fixture.Project, null, None).ToListAsync()).Count);
    }

    [Fact]
    public async Task A_real_run_deletes_the_same_artifacts_with_the_signature_and_spares_the_immutable_tag()
    {
        var admin = lab.Admin();
        var fixture = await PushFixtureAsync();
        await admin.CreateImmutableTagRuleAsync(fixture.Project, "tools", "nightly-1", false, false, None);
        await admin.SetRetentionPolicyAsync(fixture.Project, Rules, None);

        var results = await admin.RunRetentionAsync(fixture.Project, dryRun: false, TimeSpan.FromSeconds(20), null, None);

        Assert.Equal(2, results.Count(r => r.Action == "Delete"));
        var left = await admin.ListArtifactsAsync(fixture.Project, null, None).ToListAsync();
        Assert.Equal(["a1", "a3", "a4", "a5", "a6", "t1"], left.Select(a => fixture.Images.First(i => i.Value.Digest == a.Digest).Key).Order());
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab.Harbor.BaseUri, $"v2/{fixture.Project}/app/tags/list"));
        request.Headers.Authorization = HarborClient.BasicAuthorization(lab.AdminCredential);
        var appTags = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.Contains("v1.0.0", appTags, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Images["a2"].Digest.Replace(':', '-') + ".sig", appTags, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rule_Harbor_would_refuse_is_refused_before_anything_is_sent()
    {
        lab.Harbor.ClearExchanges();
        var failure = await Assert.ThrowsAsync<HarborException>(() =>
            lab.Admin().SetRetentionPolicyAsync("anything", [new HarborRetentionRule { Template = "latestPushedK" }], None));
        var unknown = await Assert.ThrowsAsync<HarborException>(() =>
            lab.Admin().SetRetentionPolicyAsync("anything", [new HarborRetentionRule { Template = "keepEverything" }], None));

        Assert.Equal(HarborErrorIds.RetentionRuleInvalid, failure.ErrorId);
        Assert.Contains("needs a number", failure.Message, StringComparison.Ordinal);
        Assert.Contains("latestPushedK, latestPulledN", unknown.Message, StringComparison.Ordinal);
        Assert.Empty(lab.Harbor.Exchanges);
    }

    [Fact]
    public async Task A_second_set_replaces_the_rules_of_the_same_policy_and_a_project_without_one_has_none()
    {
        var admin = lab.Admin();
        var project = lab.Unique("retain-set");
        await admin.CreateProjectAsync(project, new HarborProjectSettings(), None);
        Assert.Null(await admin.GetRetentionPolicyAsync(project, None));
        var missing = await Assert.ThrowsAsync<HarborException>(() => admin.RunRetentionAsync(project, true, TimeSpan.FromSeconds(5), null, None));
        Assert.Equal(HarborErrorIds.RetentionPolicyNotFound, missing.ErrorId);

        var first = await admin.SetRetentionPolicyAsync(project, [new HarborRetentionRule { Template = "latestPushedK", Value = 5 }], None);
        var second = await admin.SetRetentionPolicyAsync(project, [new HarborRetentionRule { Template = "nDaysSinceLastPush", Value = 30, Tags = "release-*", ExcludeRepositories = true, Repositories = "scratch/**" }], None);

        Assert.Equal(first.Id, second.Id);
        var rule = Assert.Single(second.Rules);
        Assert.Equal(("nDaysSinceLastPush", 30L, "release-*", "scratch/**", true), (rule.Template, rule.Value!.Value, rule.Tags, rule.Repositories, rule.ExcludeRepositories));
    }

    [Fact]
    public async Task Immutable_tags_refuse_a_push_over_them_and_a_delete_but_a_new_tag_is_pushed()
    {
        var admin = lab.Admin();
        var project = lab.Unique("immutable");
        await admin.CreateProjectAsync(project, new HarborProjectSettings(), None);
        var endpoint = lab.Harbor.AdminEndpoint;
        var release = await LabContent.PushImageAsync(endpoint, project + "/app", "v1.0.0", new LabImageOptions { LayerSize = 256 });
        var rule = await admin.CreateImmutableTagRuleAsync(project, "**", "v*", false, false, None);
        Assert.Equal(("**", "v*"), (rule.Repositories, rule.Tags));

        var overwrite = await Assert.ThrowsAnyAsync<Exception>(() =>
            LabContent.PutManifestAsync(endpoint, project + "/app", "v1.0.0", release.MediaType, HarborLabFixture.VariantOf(release, "changed")));
        var delete = await Assert.ThrowsAnyAsync<Exception>(() => LabContent.DeleteManifestAsync(endpoint, project + "/app", release.Digest));
        var fresh = await LabContent.PutManifestAsync(endpoint, project + "/app", "v1.0.1", release.MediaType, HarborLabFixture.VariantOf(release, "new"));

        Assert.Contains("'app:v1.0.0' configured as immutable", overwrite.Message, StringComparison.Ordinal);
        Assert.Contains("v1.0.0 configured as immutable, cannot be deleted", delete.Message, StringComparison.Ordinal);
        Assert.Equal(release.Digest, (await admin.GetArtifactAsync(project, "app", "v1.0.0", None)).Digest);
        Assert.Equal(fresh.Digest, (await admin.GetArtifactAsync(project, "app", "v1.0.1", None)).Digest);

        await admin.DeleteImmutableTagRuleAsync(project, rule.Id, None);
        Assert.Empty(await admin.ListImmutableTagRulesAsync(project, None));
        await LabContent.DeleteManifestAsync(endpoint, project + "/app", release.Digest);
        var gone = await Assert.ThrowsAsync<HarborException>(() => admin.DeleteImmutableTagRuleAsync(project, rule.Id, None));
        Assert.Equal(HarborErrorIds.ImmutableTagRuleNotFound, gone.ErrorId);
    }

    [Fact]
    public async Task A_developer_may_manage_retention_but_not_immutable_tag_rules_and_a_guest_neither()
    {
        var admin = lab.Admin();
        var project = lab.Unique("retain-rbac");
        await admin.CreateProjectAsync(project, new HarborProjectSettings(), None);
        var developer = lab.Unique("dev");
        var guest = lab.Unique("guest");
        lab.Harbor.AddUser(developer, "Developer123");
        lab.Harbor.AddUser(guest, "Guest1234567");
        await admin.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Developer) { UserName = developer }, None);
        await admin.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { UserName = guest }, None);

        var policy = await lab.As(developer, "Developer123").SetRetentionPolicyAsync(project, [new HarborRetentionRule { Template = "always" }], None);
        var immutable = await Assert.ThrowsAsync<HarborException>(() => lab.As(developer, "Developer123").CreateImmutableTagRuleAsync(project, "**", "v*", false, false, None));
        var guestRun = await Assert.ThrowsAsync<HarborException>(() => lab.As(guest, "Guest1234567").RunRetentionAsync(project, true, TimeSpan.FromSeconds(5), null, None));

        Assert.Equal("always", Assert.Single(policy.Rules).Template);
        Assert.Equal(HarborErrorIds.PermissionDenied, immutable.ErrorId);
        Assert.Equal(HarborErrorIds.PermissionDenied, guestRun.ErrorId);
    }
}
