using System.Text.RegularExpressions;
using Xunit;

namespace HarborOps.Engine.Tests.Architecture;

/// <summary>
/// Test names are sentences a failing run reads out (A_read_only_file_is_its_own_error): words joined by '_', the first
/// capitalized (or an all-capitals name such as TOOMANYREQUESTS). .editorconfig cannot single out [Fact] and [Theory] methods, so this reads every test source of the
/// repository's xunit projects.
/// </summary>
public sealed class TestNameStyleTests
{
    private static readonly Regex TestMethod = new(
        @"\[(?:Fact|Theory)\b[^\]]*\]\s*(?:\[[^\]]*\]\s*)*public\s+(?:async\s+)?(?:Task|void)\s+(?<name>\w+)\s*\(", RegexOptions.CultureInvariant);

    private static readonly Regex Sentence = new(@"^(?:[A-Z][a-z0-9]*|[A-Z][A-Z0-9]+)(?:_[A-Za-z0-9]+)*$", RegexOptions.CultureInvariant);

    [Fact]
    public void Every_xunit_test_is_named_as_a_sentence()
    {
        var tests = Directory.EnumerateFiles(Path.Combine(RepositoryFiles.Root(), "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(path => TestMethod.Matches(File.ReadAllText(path)).Select(m => (Path: Path.GetFileName(path), Name: m.Groups["name"].Value)))
            .ToList();

        Assert.True(tests.Count > 300, $"Only {tests.Count} tests found: the pattern no longer sees the test methods.");
        var misnamed = tests.Where(t => !Sentence.IsMatch(t.Name)).Select(t => $"{t.Path}: {t.Name}").ToList();
        Assert.True(misnamed.Count == 0, "Name these tests as sentences (Words_joined_like_this):\n" + string.Join("\n", misnamed));
    }

    [Theory]
    [InlineData("A_read_only_file_is_its_own_error", true)]
    [InlineData("Kubectl_is_installed", true)]
    [InlineData("Copies", true)]
    [InlineData("TOOMANYREQUESTS_in_the_body_counts", true)]
    [InlineData("FindsOperationsByTemplate", false)]
    [InlineData("finds_operations", false)]
    public void The_sentence_rule_tells_the_styles_apart(string name, bool isSentence) => Assert.Equal(isSentence, Sentence.IsMatch(name));
}
