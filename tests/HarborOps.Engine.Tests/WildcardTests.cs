using Xunit;

namespace HarborOps.Engine.Tests;

public sealed class WildcardTests
{
    [Theory]
    [InlineData("team-*", "team-a", true)]
    [InlineData("team-*", "TEAM-A", true)]
    [InlineData("v1.?", "v1.2", true)]
    [InlineData("v1.?", "v1x2", false)]
    [InlineData("1.0", "1.0\n", false)]
    [InlineData("*", "", true)]
    [InlineData("a[b]", "a[b]", true)]
    public void Star_and_question_mark_are_the_only_wildcards_and_the_whole_name_must_match(string pattern, string name, bool matches) =>
        Assert.Equal(matches, Wildcard.ToRegex(pattern).IsMatch(name));
}
