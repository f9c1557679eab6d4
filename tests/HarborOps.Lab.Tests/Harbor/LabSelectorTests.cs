using System.Text.Json.Nodes;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Lab.Tests.Harbor;

/// <summary>
/// The emulator's doublestar selector against Harbor's own cases (goharbor/harbor v2.15.2
/// src/lib/selector/selectors/doublestar/selector_test.go): harbor:latest, redis:4.0, redis:4.1 and an untagged
/// artifact of repository special; retention and immutability in the lab stand on it.
/// </summary>
public sealed class LabSelectorTests
{
    private static readonly (string Repository, string[] Tags)[] Artifacts = [("harbor", ["latest"]), ("redis", ["4.0"]), ("redis", ["4.1"]), ("special", [])];

    private static JsonObject Selector(string decoration, string pattern, bool? untagged = null) => new()
    {
        ["kind"] = "doublestar", ["decoration"] = decoration, ["pattern"] = pattern,
        ["extras"] = untagged is { } u ? $"{{\"untagged\":{(u ? "true" : "false")}}}" : null,
    };

    private static int CountTags(JsonObject selector) => Artifacts.Count(a => LabSelector.SelectsTags(selector, a.Tags));

    private static int CountRepositories(JsonObject selector) => Artifacts.Count(a => LabSelector.SelectsRepository(selector, a.Repository));

    [Theory]
    [InlineData("matches", "{latest,4.*}", false, 3)]
    [InlineData("matches", "4.*", false, 2)]
    [InlineData("matches", "4.*", null, 3)]
    [InlineData("excludes", "{latest,4.*}", true, 0)]
    [InlineData("excludes", "{latest,4.*}", null, 1)]
    [InlineData("excludes", "4.*", true, 1)]
    public void Tag_selection_follows_Harbors_own_cases(string decoration, string pattern, bool? untagged, int selected) =>
        Assert.Equal(selected, CountTags(Selector(decoration, pattern, untagged)));

    [Theory]
    [InlineData("repoMatches", "{redis}", 2)]
    [InlineData("repoMatches", "har*", 1)]
    [InlineData("repoExcludes", "{redis}", 2)]
    [InlineData("repoExcludes", "har*", 3)]
    public void Repository_selection_follows_Harbors_own_cases(string decoration, string pattern, int selected) =>
        Assert.Equal(selected, CountRepositories(Selector(decoration, pattern)));

    [Theory]
    [InlineData("**", "team/app/api", true)]
    [InlineData("*", "team/app", false)]
    [InlineData("team/**", "team/app/api", true)]
    [InlineData("team/*", "team/app/api", false)]
    [InlineData("**/api", "api", true)]
    [InlineData("v?.*", "v1.2", true)]
    [InlineData("v?.*", "v10.2", false)]
    [InlineData("[!d]*", "dev", false)]
    [InlineData("release-[0-9]*", "release-7", true)]
    [InlineData("", "anything/at/all", true)]
    [InlineData("v1.0.*", "v1.0.0", true)]
    [InlineData("v1.0.*", "v1x0.0", false)]
    public void Doublestar_matches_as_bmatcuk_doublestar_does(string pattern, string value, bool matched) =>
        Assert.Equal(matched, LabSelector.Match(pattern, value));
}
