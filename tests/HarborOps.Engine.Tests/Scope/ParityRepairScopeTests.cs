using HarborOps.Engine.Errors;
using HarborOps.Engine.Scope;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Scope;

/// <summary>A repair of piped parity differences maps names exactly as their one comparison did.</summary>
public sealed class ParityRepairScopeTests
{
    private static ParityDifference Missing(string tag, string destination = "dest.example.com/migrated", int strip = 0, Dictionary<string, string>? rename = null) => new()
    {
        Kind = ParityDifferenceKind.MissingAtDestination,
        Source = $"source.example.com/team/app:{tag}",
        Destination = destination,
        Tag = tag,
        StripPrefixSegments = strip,
        Rename = rename ?? new Dictionary<string, string>(),
    };

    [Fact]
    public void The_first_difference_sets_the_destination_and_mapping_and_later_ones_of_the_same_comparison_join()
    {
        var scope = new ParityRepairScope();
        Assert.Null(scope.Comparison);
        var first = Missing("1.0", strip: 1, rename: new() { ["b"] = "y", ["a"] = "x" });

        Assert.True(scope.Admit(first, mappingParametersGiven: false));
        Assert.False(scope.Admit(Missing("2.0", strip: 1, rename: new() { ["a"] = "x", ["b"] = "y" }), mappingParametersGiven: false));
        Assert.Same(first, scope.Comparison);
    }

    [Theory]
    [InlineData("other.example.com/migrated", 1, "x")]
    [InlineData("dest.example.com/migrated", 0, "x")]
    [InlineData("dest.example.com/migrated", 1, "z")]
    public void A_difference_of_another_comparison_is_refused(string destination, int strip, string renamedTo)
    {
        var scope = new ParityRepairScope();
        scope.Admit(Missing("1.0", strip: 1, rename: new() { ["a"] = "x" }), mappingParametersGiven: false);

        var error = Assert.Throws<HarborOpsException>(() => scope.Admit(Missing("2.0", destination, strip, new() { ["a"] = renamedTo }), mappingParametersGiven: false));
        Assert.Equal(ScopeErrorIds.MappingInvalid, error.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Equal($"The piped parity results come from comparisons with different destinations or mappings (dest.example.com/migrated and {destination}); pipe one comparison at a time.", error.Message);
        Assert.Equal("source.example.com/team/app:2.0", error.Target);
    }

    [Fact]
    public void Mapping_parameters_given_with_piped_results_are_refused()
    {
        var scope = new ParityRepairScope();
        var error = Assert.Throws<HarborOpsException>(() => scope.Admit(Missing("1.0"), mappingParametersGiven: true));
        Assert.Equal(ScopeErrorIds.MappingInvalid, error.ErrorId);
        Assert.Contains("leave out -DestinationPrefix, -StripPrefixSegments and -Rename", error.Message);
        Assert.Null(scope.Comparison);
    }
}
