using HarborOps.Engine.Entra;
using HarborOps.Engine.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Entra;

public sealed class DesiredGroupMemberTests
{
    [Theory]
    [InlineData("developer", HarborProjectRole.Developer)]
    [InlineData("LIMITEDGUEST", HarborProjectRole.LimitedGuest)]
    [InlineData("ProjectAdmin", HarborProjectRole.ProjectAdmin)]
    public void A_table_entry_takes_a_Harbor_role_in_any_case(string role, HarborProjectRole expected) =>
        Assert.Equal(new DesiredGroupMember("team-a-devs", expected), DesiredGroupMember.FromTableEntry("team-a-devs", role, "team-a"));

    [Fact]
    public void A_table_entry_names_what_is_wrong()
    {
        var empty = Assert.Throws<HarborException>(() => DesiredGroupMember.FromTableEntry(" ", "Guest", "team-a"));
        Assert.Equal(HarborErrorIds.RequestInvalid, empty.ErrorId);
        Assert.Equal("team-a", empty.Target);
        var role = Assert.Throws<HarborException>(() => DesiredGroupMember.FromTableEntry("devs", "Owner", "team-a"));
        Assert.Equal("'Owner' (for group 'devs') is not a Harbor role; use one of ProjectAdmin, Maintainer, Developer, Guest, LimitedGuest.", role.Message);
        Assert.Equal("devs", role.Target);
    }
}
