using HarborOps.Engine.Errors;
using HarborOps.Engine.Harbor;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>
/// Group members follow Harbor's auth mode: the client reads it (GET /systeminfo, once per client) and refuses, before
/// any write, what the mode cannot onboard. The collection's tests run one after another, so a test may switch the
/// shared emulator's mode; each puts it back.
/// </summary>
[Collection(HarborLabCollection.Name)]
public sealed class HarborMemberAuthModeTests(HarborLabFixture lab) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;

    public void Dispose() => lab.Harbor.SetAuthMode(HarborAuthModes.Database);

    private async Task<string> NewProjectAsync()
    {
        var name = lab.Unique("auth-mode");
        await lab.Admin().CreateProjectAsync(name, new HarborProjectSettings(), None);
        return name;
    }

    private int WritesTo(string project) =>
        lab.Harbor.Exchanges.Count(x => x.Method != "GET" && x.Path.Contains($"/projects/{project}/members", StringComparison.Ordinal));

    [Fact]
    public async Task In_db_auth_a_group_fails_before_any_write_naming_the_mode_and_what_to_configure()
    {
        var project = await NewProjectAsync();
        var client = lab.Admin();
        var failure = await Assert.ThrowsAsync<HarborException>(() =>
            client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Developer) { GroupName = "team-a-devs", GroupType = HarborGroupType.Oidc }, None));
        Assert.Equal(HarborErrorIds.GroupsUnsupported, failure.ErrorId);
        Assert.Equal(FailureKind.NotSupported, failure.Kind);
        Assert.Contains("'db_auth'", failure.Message);
        Assert.Contains("oidc_auth", failure.Message);
        Assert.Contains("ldap_auth", failure.Message);
        Assert.Contains("-User", failure.Message);
        Assert.Equal(0, WritesTo(project));

        // A user is not a group: the database mode takes it, and nothing asks for the mode.
        var before = lab.Harbor.Exchanges.Count(x => x.Path.EndsWith("/systeminfo", StringComparison.Ordinal));
        var admin = await Assert.ThrowsAsync<HarborException>(() =>
            lab.Admin().AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { UserName = lab.Harbor.AdminUser }, None));
        Assert.Equal(HarborErrorIds.MemberExists, admin.ErrorId);
        Assert.Equal(before, lab.Harbor.Exchanges.Count(x => x.Path.EndsWith("/systeminfo", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task In_oidc_auth_any_group_name_becomes_an_OIDC_group_member_and_the_mode_is_read_once()
    {
        lab.Harbor.SetAuthMode(HarborAuthModes.Oidc);
        var project = await NewProjectAsync();
        var client = lab.Admin();
        var before = lab.Harbor.Exchanges.Count(x => x.Path.EndsWith("/systeminfo", StringComparison.Ordinal));
        var devs = await client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Maintainer) { GroupName = "team-a-devs", GroupType = HarborGroupType.Oidc }, None);
        var leads = await client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Developer) { GroupName = "team-a-leads", GroupType = HarborGroupType.Oidc }, None);
        Assert.Equal(("team-a-devs", "Group", "Maintainer"), (devs.Name, devs.EntityType, devs.Role));
        Assert.Equal("team-a-leads", leads.Name);
        Assert.Equal(before + 1, lab.Harbor.Exchanges.Count(x => x.Path.EndsWith("/systeminfo", StringComparison.Ordinal)));

        var byDn = await Assert.ThrowsAsync<HarborException>(() =>
            client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { LdapGroupDn = "cn=ops,dc=example,dc=com", GroupType = HarborGroupType.Ldap }, None));
        Assert.Equal(HarborErrorIds.GroupsUnsupported, byDn.ErrorId);
        Assert.Contains("'oidc_auth'", byDn.Message);
    }

    [Fact]
    public async Task In_ldap_auth_a_group_given_by_DN_becomes_an_LDAP_group_member_and_a_plain_name_fails_asking_for_a_DN()
    {
        lab.Harbor.SetAuthMode(HarborAuthModes.Ldap);
        lab.Harbor.AddLdapGroup("cn=ops,ou=groups,dc=example,dc=com");
        lab.Harbor.AddLdapGroup("cn=auditors,ou=groups,dc=example,dc=com");
        var project = await NewProjectAsync();
        var client = lab.Admin();

        // A DN given as the group's name (Add-HarborProjectMember -Group 'cn=...') is sent as ldap_group_dn.
        var ops = await client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { GroupName = "cn=ops,ou=groups,dc=example,dc=com" }, None);
        Assert.Equal(("ops", "Group", "Guest"), (ops.Name, ops.EntityType, ops.Role));
        var sent = lab.Harbor.Exchanges.Last(x => x.Method == "POST" && x.Path.EndsWith($"/projects/{project}/members", StringComparison.Ordinal));
        Assert.Contains("\"ldap_group_dn\":\"cn=ops,ou=groups,dc=example,dc=com\"", System.Text.Encoding.UTF8.GetString(sent.RequestBody));
        Assert.Contains("\"group_type\":1", System.Text.Encoding.UTF8.GetString(sent.RequestBody));
        var auditors = await client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Developer) { LdapGroupDn = "cn=auditors,ou=groups,dc=example,dc=com", GroupType = HarborGroupType.Ldap }, None);
        Assert.Equal("auditors", auditors.Name);
        var writes = WritesTo(project);

        var byName = await Assert.ThrowsAsync<HarborException>(() =>
            client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { GroupName = "team-a-devs", GroupType = HarborGroupType.Oidc }, None));
        Assert.Equal(HarborErrorIds.LdapGroupDnRequired, byName.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, byName.Kind);
        Assert.Contains("'ldap_auth'", byName.Message);
        Assert.Contains("cn=team-a-devs,", byName.Message);
        Assert.Equal(writes, WritesTo(project));

        var unknown = await Assert.ThrowsAsync<HarborException>(() =>
            client.AddMemberAsync(project, new HarborMemberRequest(HarborProjectRole.Guest) { LdapGroupDn = "cn=nobody,dc=example,dc=com" }, None));
        Assert.Equal(HarborErrorIds.MemberNotFound, unknown.ErrorId);
        Assert.Contains("LDAP directory", unknown.Message);
    }

    [Theory]
    [InlineData("cn=team-a-devs,ou=groups,dc=example,dc=com", true)]
    [InlineData("CN=Team A\\, Devs,OU=Groups,DC=example,DC=com", true)]
    [InlineData("uid=ops+cn=ops,dc=example", true)]
    [InlineData("team-a-devs", false)]
    [InlineData("1b4e28ba-2fa1-11d2-883f-0016d3cca427", false)]
    [InlineData("=ops,dc=example", false)]
    [InlineData("", false)]
    public void A_distinguished_name_is_told_from_a_group_name(string text, bool isDn) =>
        Assert.Equal(isDn, LdapDistinguishedName.IsDistinguishedName(text));
}
