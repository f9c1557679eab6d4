using HarborOps.Engine.MigrationJobs;
using Xunit;

namespace HarborOps.Engine.Tests.MigrationJobs;

/// <summary>The Job status' "1,3-5,7" index lists, read as text from a server that may lie.</summary>
public sealed class CompletionIndexesTests
{
    [Theory]
    [InlineData("", new int[0])]
    [InlineData("0", new[] { 0 })]
    [InlineData("1,3-5,7", new[] { 1, 3, 4, 5, 7 })]
    [InlineData("0-9", new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    public void The_controllers_format_reads_as_its_indexes(string text, int[] expected)
    {
        var (indexes, malformed) = CompletionIndexes.Parse(text, 10);
        Assert.Equal(expected, indexes);
        Assert.False(malformed);
        Assert.Equal(text, CompletionIndexes.Format(expected));
    }

    [Fact]
    public void Two_consecutive_indexes_are_listed_and_three_are_a_range()
    {
        Assert.Equal("1,2", CompletionIndexes.Format([2, 1]));
        Assert.Equal("1-3,5", CompletionIndexes.Format([3, 1, 2, 5, 5]));
    }

    [Theory]
    [InlineData("0-2147483647")]
    [InlineData("0-99999999999999")]
    [InlineData("3,x,-1,5-2,1-,,7")]
    [InlineData("١,٢")] // Arabic-Indic digits are digits to char.IsDigit, not to the controller
    [InlineData(" 1, 2")]
    public void A_hostile_list_is_clipped_to_the_jobs_indexes_and_reported_never_expanded_or_thrown(string text)
    {
        var (indexes, malformed) = CompletionIndexes.Parse(text, 10);
        Assert.True(malformed);
        Assert.All(indexes, i => Assert.InRange(i, 0, 9));
    }

    [Fact]
    public void A_list_far_longer_than_the_job_could_have_is_refused_whole()
    {
        var (indexes, malformed) = CompletionIndexes.Parse(string.Join(',', Enumerable.Range(0, 100_000)), 4);
        Assert.True(malformed);
        Assert.Empty(indexes);
    }
}
