using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab.Hostile;
using HarborOps.Models;
using Xunit;
using Xunit.Abstractions;

namespace HarborOps.Engine.Tests.Migration;

/// <summary>
/// Names a hostile registry lists (tags in a tag list, repositories in its catalog) that break the distribution grammar:
/// each is the failure of its own item, never a request, and never the end of a listing, a copy or a parity check.
/// </summary>
[Collection(CopyLabCollection.Name)]
public sealed class HostileNameTests(CopyLabFixture lab, ITestOutputHelper output)
{
    private static Task<HostileRegistry> StartHostileAsync() => HostileRegistry.StartAsync(new HostileRegistryOptions { Auth = HostileAuth.None });

    private static async Task<(ParitySummary Summary, List<ParityDifference> Differences, List<HarborOpsException> Failures)> CompareAsync(ParityRequest request)
    {
        using var engine = CopyLabFixture.NewEngine();
        var differences = new ConcurrentQueue<ParityDifference>();
        var failures = new ConcurrentQueue<HarborOpsException>();
        var summary = await new ParityChecker(engine).CompareAsync(request, null, differences.Enqueue, failures.Enqueue, default);
        return (summary, differences.ToList(), failures.ToList());
    }

    private void Log(ParitySummary summary, IEnumerable<ParityDifference> differences, IEnumerable<HarborOpsException> failures)
    {
        output.WriteLine(summary.ToString());
        foreach (var d in differences) output.WriteLine($"{d.Kind} {d.Source} -> {d.DestinationReference} {d.ErrorId} {d.Detail}");
        foreach (var f in failures) output.WriteLine($"failure {f.ErrorId} {f.Target} {f.Message}");
    }

    private static void AssertOneLine(string? text) => Assert.DoesNotContain('\n', text ?? "");

    [Fact]
    public async Task Parity_reports_each_hostile_tag_name_on_either_side_as_its_own_difference_and_compares_every_good_tag()
    {
        await using var hostile = await StartHostileAsync();
        const string source = "team/app", mirrored = "mirror/team/app";
        foreach (var tag in new[] { "good-1", "good-2" })
        {
            var image = hostile.PushImage(source, tag);
            hostile.PutRawManifest(mirrored, tag, image.Manifest);
        }
        var sample = hostile.PushImage(source, "good-3").Manifest;
        var badAtSource = new[] { "..", "a/b", "x\ny", new string('t', 300), "shared\n" };
        var badAtDestination = new[] { "../../v2/team/app/manifests/good-1", "c/d", new string('u', 200), "shared\n" };
        foreach (var tag in badAtSource) hostile.PutRawManifest(source, tag, sample);
        foreach (var tag in badAtDestination) hostile.PutRawManifest(mirrored, tag, sample);

        var (summary, differences, failures) = await CompareAsync(new ParityRequest([$"{hostile.PlainHost}/{source}"], $"{hostile.PlainHost}/mirror"));
        Log(summary, differences, failures);

        Assert.Empty(failures);
        Assert.Equal(3, summary.TagsCompared);
        Assert.Equal(2, summary.Equal);
        Assert.Equal("good-3", Assert.Single(differences, d => d.Kind == ParityDifferenceKind.MissingAtDestination).Tag);
        var unreadable = differences.Where(d => d.Kind == ParityDifferenceKind.SourceUnreadable).ToList();
        Assert.Equal(badAtSource.Order(StringComparer.Ordinal), unreadable.Select(d => d.Tag).Order(StringComparer.Ordinal));
        Assert.All(unreadable, d => Assert.Equal((RegistryErrorIds.TagNameInvalid, false), (d.ErrorId, d.IsRepairable)));
        // The shared bad name is the source's finding; the destination's other bad names are tags the source cannot have.
        var extra = differences.Where(d => d.Kind == ParityDifferenceKind.ExtraAtDestination).ToList();
        Assert.Equal(badAtDestination.Where(t => !badAtSource.Contains(t)).Order(StringComparer.Ordinal), extra.Select(d => d.Tag).Order(StringComparer.Ordinal));
        Assert.All(extra, d => Assert.Equal((RegistryErrorIds.TagNameInvalid, (string?)null), (d.ErrorId, d.DestinationDigest)));
        Assert.Equal((badAtSource.Length, badAtDestination.Length - 1), (summary.SourceUnreadable, summary.ExtraAtDestination));
        Assert.All(differences, d => { AssertOneLine(d.Source); AssertOneLine(d.DestinationReference); AssertOneLine(d.Detail); });
        Assert.All(hostile.Requests, r => Assert.Matches("^/v2/((mirror/)?team/app/(tags/list|manifests/good-[123]))?([?].*)?$", r.PathAndQuery));
    }

    /// <summary>Good repositories under team/ and elsewhere, and every kind of name no repository may have.</summary>
    private static (string[] Good, string[] BadInTeam, string[] BadElsewhere) PlantHostileRepositories(HostileRegistry hostile)
    {
        string[] good = ["team/app", "team/web", "other/tool"];
        string[] badInTeam = ["team/../../escape", "team//double", "team/UPPER", "team/x\ny", "team/trailing\n", "team/" + new string('r', 300), "team/-dash"];
        string[] badElsewhere = ["../x", "a//b", "UPPER", "x\ny", "/rooted"];
        foreach (var name in good.Concat(badInTeam).Concat(badElsewhere)) hostile.PushImage(name, "1.0");
        return (good, badInTeam, badElsewhere);
    }

    /// <summary>Every request stayed on the good repositories' own paths (and the catalog).</summary>
    private static void AssertOnlyGoodRepositoriesRequested(HostileRegistry hostile) =>
        Assert.All(hostile.Requests, r => Assert.Matches("^/v2/(_catalog|(team/app|team/web|other/tool)/(tags/list|manifests/[^/]+|blobs/sha256:[0-9a-f]{64}|referrers/sha256:[0-9a-f]{64}))?([?].*)?$", r.PathAndQuery));

    [Fact]
    public async Task Listing_a_hostile_catalog_lists_every_good_repository_and_reports_each_bad_name_without_a_request()
    {
        await using var hostile = await StartHostileAsync();
        var (good, badInTeam, badElsewhere) = PlantHostileRepositories(hostile);
        using var engine = CopyLabFixture.NewEngine();

        foreach (var (prefix, expectedGood, expectedBad) in new[] { ((string?)null, good, badInTeam.Concat(badElsewhere).ToArray()), ("team", good[..2], badInTeam) })
        {
            var failures = new ConcurrentQueue<HarborOpsException>();
            var listed = new List<RegistryRepositoryInfo>();
            await foreach (var repository in engine.GetRepositoriesAsync(new GetRepositoriesRequest(hostile.PlainHost) { Prefix = prefix }, null, failures.Enqueue, default))
                listed.Add(repository);
            foreach (var failure in failures) output.WriteLine($"{failure.ErrorId} {failure.Target} {failure.Message}");

            Assert.Equal(expectedGood.Order(StringComparer.Ordinal), listed.Select(r => r.Repository));
            Assert.Equal(expectedBad.Length, failures.Count);
            Assert.All(failures, f => Assert.Equal(RegistryErrorIds.RepositoryNameInvalid, f.ErrorId));
            Assert.All(failures, f => { Assert.False(f.IsTerminating); AssertOneLine(f.Target?.ToString()); AssertOneLine(f.Message); });
        }
        AssertOnlyGoodRepositoriesRequested(hostile);
    }

    [Fact]
    public async Task A_whole_registry_or_prefix_copy_of_a_hostile_catalog_fails_each_bad_repository_name_alone_and_copies_the_rest()
    {
        await using var hostile = await StartHostileAsync();
        var (good, badInTeam, badElsewhere) = PlantHostileRepositories(hostile);

        foreach (var (sourceText, goodCount, bad) in new[] { (hostile.PlainHost, good.Length, badInTeam.Concat(badElsewhere).ToArray()), ($"{hostile.PlainHost}/team/*", 2, badInTeam) })
        {
            var destination = lab.Unique("hostile-catalog");
            var (summary, results) = await lab.CopyAsync(new CopyRequest([sourceText], $"{lab.DestinationHost}/{destination}"));
            output.WriteLine(summary.ToString());
            foreach (var r in results) output.WriteLine($"{r.Action} {r.Source} {r.ErrorId} {r.Error}");

            Assert.Equal(goodCount, summary.Copied);
            Assert.Equal(bad.Length, summary.Failed);
            var failed = results.Where(r => r.Action == CopyAction.Failed).ToList();
            Assert.All(failed, r => Assert.Equal(RegistryErrorIds.RepositoryNameInvalid, r.ErrorId));
            Assert.All(failed, r => { AssertOneLine(r.Source); AssertOneLine(r.Destination); AssertOneLine(r.Error); });
            Assert.DoesNotContain(lab.DestinationProxy.Requests, r => r.PathAndQuery.Contains("..", StringComparison.Ordinal) || r.PathAndQuery.Contains("escape", StringComparison.Ordinal));
        }
        AssertOnlyGoodRepositoriesRequested(hostile);
    }

    [Fact]
    public async Task Parity_of_a_hostile_catalog_reports_each_bad_repository_name_as_source_unreadable_and_compares_the_rest()
    {
        await using var hostile = await StartHostileAsync();
        var (good, badInTeam, badElsewhere) = PlantHostileRepositories(hostile);

        var (summary, differences, failures) = await CompareAsync(new ParityRequest([hostile.PlainHost], $"{lab.DestinationHost}/{lab.Unique("hostile-parity")}"));
        Log(summary, differences, failures);

        Assert.Empty(failures);
        Assert.Equal(good.Length, summary.RepositoriesCompared);
        Assert.Equal(good.Length, summary.MissingAtDestination);
        var unreadable = differences.Where(d => d.Kind == ParityDifferenceKind.SourceUnreadable).ToList();
        Assert.Equal(badInTeam.Length + badElsewhere.Length, unreadable.Count);
        Assert.All(unreadable, d => Assert.Equal((RegistryErrorIds.RepositoryNameInvalid, false), (d.ErrorId, d.IsRepairable)));
        Assert.All(differences, d => { AssertOneLine(d.Source); AssertOneLine(d.SourceRepository); AssertOneLine(d.Detail); });
        AssertOnlyGoodRepositoriesRequested(hostile);
    }
}
