using HarborOps.Engine.Entra;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Entra;

[Collection(EntraLabFixture.Name)]
public sealed class ProjectGroupSyncTests(EntraLabFixture lab) : IDisposable
{
    /// <summary>Every Graph response the test caused is held to Graph's OpenAPI when it ends.</summary>
    public void Dispose() => lab.GraphAudit.AssertExchangesMatchContract();

    private async Task<(string Project, HarborClient Harbor, ProjectGroupSync Sync, EntraDirectory Directory)> NewProjectAsync()
    {
        var harbor = lab.HarborAdmin();
        var project = lab.Unique("team");
        await harbor.CreateProjectAsync(project, new HarborProjectSettings(), default);
        var directory = lab.Directory();
        return (project, harbor, new ProjectGroupSync(harbor, directory), directory);
    }

    private static async Task<List<HarborOps.Models.HarborProjectGroupChange>> ApplyAllAsync(ProjectGroupSync sync, ProjectGroupPlan plan)
    {
        var results = new List<HarborOps.Models.HarborProjectGroupChange>();
        foreach (var change in plan.Changes) results.Add(await sync.ApplyAsync(change, default));
        return results;
    }

    [Fact]
    public async Task Adds_changes_roles_and_prunes_only_the_Entra_groups_it_manages_and_a_second_run_changes_nothing()
    {
        var (project, harbor, sync, directory) = await NewProjectAsync();
        using var _ = directory;
        var devs = lab.Graph.AddGroup(lab.Unique("devs"));
        var leads = lab.Graph.AddGroup(lab.Unique("leads"));
        var readers = lab.Graph.AddGroup(lab.Unique("readers"));

        var first = await sync.PlanAsync(project, [new(devs, HarborProjectRole.Developer), new(leads, HarborProjectRole.Maintainer), new(readers, HarborProjectRole.Guest)], prune: false, default);
        var added = await ApplyAllAsync(sync, first);
        Assert.Equal(3, added.Count);
        Assert.All(added, a => Assert.Equal("Added", a.Action));
        Assert.Equal("Maintainer", added.Single(a => a.GroupId == leads).NewRole);

        // Users (the creator is the project's admin) and non-GUID groups (LDAP, or another provider's OIDC groups) are not ours to touch.
        await harbor.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { GroupName = "ldap-auditors", GroupType = HarborGroupType.Ldap }, default);
        // A GUID Entra does not know (a deleted group) is reported, never removed.
        var stale = Guid.NewGuid().ToString();
        await harbor.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { GroupName = stale, GroupType = HarborGroupType.Oidc }, default);

        var second = await sync.PlanAsync(project, [new(devs, HarborProjectRole.Maintainer), new(leads, HarborProjectRole.Maintainer)], prune: true, default);
        var changed = await ApplyAllAsync(sync, second);
        Assert.Equal(2, changed.Count);
        var role = changed.Single(c => c.Action == "RoleChanged");
        Assert.Equal((devs, "Developer", "Maintainer"), (role.GroupId, role.OldRole, role.NewRole));
        var removed = changed.Single(c => c.Action == "Removed");
        Assert.Equal((readers, "Guest", (string?)null), (removed.GroupId, removed.OldRole, removed.NewRole));
        Assert.Equal([stale], second.UnknownGuidGroups);

        var members = await harbor.ListMembersAsync(project, default);
        Assert.Contains(members, m => m.Name == "ldap-auditors");
        Assert.Contains(members, m => m.Name == lab.Harbor.AdminUser && m.EntityType == "User");
        Assert.Contains(members, m => m.Name == stale);
        Assert.DoesNotContain(members, m => m.Name == readers);
        Assert.Equal("Maintainer", members.Single(m => m.Name == devs).Role);

        var third = await sync.PlanAsync(project, [new(devs, HarborProjectRole.Maintainer), new(leads, HarborProjectRole.Maintainer)], prune: true, default);
        Assert.Empty(third.Changes);

        // Every member call the sync made (list, add, PUT role, delete) has the shape Harbor's swagger gives it.
        var problems = HarborOps.Lab.Tests.Judges.SwaggerContract.Harbor.ProblemsIn(
            lab.Harbor.Exchanges.Where(x => x.Path.Contains($"/projects/{project}/members", StringComparison.Ordinal)).ToList(), 0);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Contains(lab.Harbor.Exchanges, x => x.Method == "PUT" && x.Path.Contains($"/projects/{project}/members/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task In_db_auth_the_sync_fails_before_Entra_or_any_write_naming_the_auth_mode()
    {
        var (project, _, sync, directory) = await NewProjectAsync();
        using var _ = directory;
        var devs = lab.Graph.AddGroup(lab.Unique("devs"));
        lab.Harbor.SetAuthMode(HarborAuthModes.Database);
        try
        {
            var graphCalls = lab.Graph.Exchanges.Count;
            var failure = await Assert.ThrowsAsync<HarborException>(() => sync.PlanAsync(project, [new(devs, HarborProjectRole.Developer)], prune: true, default));
            Assert.Equal(HarborErrorIds.GroupsUnsupported, failure.ErrorId);
            Assert.Contains("'db_auth'", failure.Message);
            Assert.Contains("oidc_auth", failure.Message);
            Assert.Equal(graphCalls, lab.Graph.Exchanges.Count);
            Assert.DoesNotContain(lab.Harbor.Exchanges, x => x.Path.Contains($"/projects/{project}/members", StringComparison.Ordinal));
        }
        finally
        {
            lab.Harbor.SetAuthMode(HarborAuthModes.Oidc);
        }
    }

    [Fact]
    public async Task In_ldap_auth_groups_given_by_DN_become_LDAP_group_members_and_a_second_run_changes_nothing()
    {
        var (project, harbor, sync, directory) = await NewProjectAsync();
        using var _ = directory;
        var ops = $"cn={lab.Unique("ops")},ou=groups,dc=example,dc=com";
        lab.Harbor.SetAuthMode(HarborAuthModes.Ldap);
        lab.Harbor.AddLdapGroup(ops);
        try
        {
            var graphCalls = lab.Graph.Exchanges.Count;
            var notDn = await Assert.ThrowsAsync<HarborException>(() => sync.PlanAsync(project, [new(ops, HarborProjectRole.Developer), new("team-a-devs", HarborProjectRole.Guest)], false, default));
            Assert.Equal(HarborErrorIds.LdapGroupDnRequired, notDn.ErrorId);
            Assert.Contains("'team-a-devs'", notDn.Message);

            var first = await ApplyAllAsync(sync, await sync.PlanAsync(project, [new(ops, HarborProjectRole.Developer)], false, default));
            var added = Assert.Single(first);
            Assert.Equal(("Added", ops, "Developer"), (added.Action, added.GroupId, added.NewRole));
            var member = Assert.Single(await harbor.ListMembersAsync(project, default), m => m.EntityType == "Group");
            Assert.Equal((LdapDistinguishedName.FirstValue(ops), "Developer"), (member.Name, member.Role));
            Assert.Equal(graphCalls, lab.Graph.Exchanges.Count);

            Assert.Empty((await sync.PlanAsync(project, [new(ops, HarborProjectRole.Developer)], true, default)).Changes);
            var changed = Assert.Single((await sync.PlanAsync(project, [new(ops, HarborProjectRole.Maintainer)], false, default)).Changes);
            Assert.Equal((PlannedGroupChange.RoleChanged, member.MemberId), (changed.Action, changed.MemberId));
            Assert.StartsWith("Change the role of LDAP group 'cn=", changed.Describe(), StringComparison.Ordinal);
        }
        finally
        {
            lab.Harbor.SetAuthMode(HarborAuthModes.Oidc);
        }
    }

    [Fact]
    public async Task A_misspelt_group_stops_the_plan_before_Harbor_is_touched()
    {
        var (project, harbor, sync, directory) = await NewProjectAsync();
        using var _ = directory;
        var devs = lab.Graph.AddGroup(lab.Unique("devs"));
        var failure = await Assert.ThrowsAsync<EntraException>(() => sync.PlanAsync(project, [new(devs, HarborProjectRole.Developer), new("tema-a-devs", HarborProjectRole.Developer)], false, default));
        Assert.Equal(EntraErrorIds.GroupNotFound, failure.ErrorId);
        Assert.DoesNotContain(await harbor.ListMembersAsync(project, default), m => m.EntityType == "Group");
    }

    [Fact]
    public async Task The_same_group_wanted_with_two_roles_is_refused()
    {
        var (project, _, sync, directory) = await NewProjectAsync();
        using var __ = directory;
        var name = lab.Unique("devs");
        var id = lab.Graph.AddGroup(name);
        var failure = await Assert.ThrowsAsync<EntraException>(() => sync.PlanAsync(project, [new(name, HarborProjectRole.Developer), new(id, HarborProjectRole.Guest)], false, default));
        Assert.Equal(FailureKind.InvalidArgument, failure.Kind);
        Assert.Contains("Developer", failure.Message);
        Assert.Contains("Guest", failure.Message);
    }

    [Fact]
    public async Task The_claim_check_reports_users_over_the_threshold_through_the_projects_groups()
    {
        var (project, _, sync, directory) = await NewProjectAsync();
        using var _ = directory;
        var team = lab.Graph.AddGroup(lab.Unique("team"));
        var heavy = lab.Graph.AddUser("Heavy User", lab.Unique("heavy") + "@lab.example");
        var light = lab.Graph.AddUser("Light User", lab.Unique("light") + "@lab.example");
        lab.Graph.AddMembers(team, [heavy, light]);
        for (var i = 0; i < 201; i++) lab.Graph.AddMembers(lab.Graph.AddGroup(lab.Unique("filler")), [heavy]);
        await ApplyAllAsync(sync, await sync.PlanAsync(project, [new(team, HarborProjectRole.Developer)], false, default));

        var groups = await sync.ProjectGroupsAsync(project, default);
        var progress = new List<OperationProgress>();
        var report = await new GroupClaimCheck(directory).CheckAsync(project, groups, GroupClaimCheck.JwtGroupLimit, new SyncProgress(progress), default);

        Assert.Equal(2, report.UsersChecked);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((heavy, 202, 200), (finding.UserId, finding.GroupCount, finding.Threshold));
        Assert.Equal([groups.Single().DisplayName], finding.ProjectGroups);
        Assert.True(progress.Last().IsComplete);

        var stricter = await new GroupClaimCheck(directory).CheckAsync(project, groups, 0, null, default);
        Assert.Equal(2, stricter.Findings.Count);
    }

    private sealed class SyncProgress(List<OperationProgress> sink) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
