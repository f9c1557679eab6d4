using System.Collections.Concurrent;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Parity;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>
/// Parity with the ACR emulator as the source (signed in through Azure.Identity) and a real Distribution registry as the
/// destination: the planted corpus of the issue (a deleted tag, a moved tag, a missing signature, an extra tag, a locked
/// source item) is found exactly, the source is read through ACR's bulk listing, and copying the differences repairs
/// everything a copy can.
/// </summary>
[Collection(AcrLabCollection.Name)]
public sealed class AcrParityTests(AcrLabFixture lab) : IDisposable
{
    public void Dispose() => lab.Audit.AssertExchangesMatchContract();

    private static async Task<(ParitySummary Summary, List<ParityDifference> Differences)> CompareAsync(RegistryEngine engine, ParityRequest request)
    {
        var differences = new ConcurrentQueue<ParityDifference>();
        var failures = new ConcurrentQueue<HarborOpsException>();
        var summary = await new ParityChecker(engine).CompareAsync(request, null, differences.Enqueue, failures.Enqueue, default);
        Assert.Empty(failures);
        return (summary, differences.ToList());
    }

    [Fact]
    public async Task The_planted_corpus_from_ACR_is_found_exactly_and_a_copy_of_the_differences_repairs_what_can_be_copied()
    {
        var root = lab.Unique("parity");
        var acr = lab.Acr.AdminEndpoint;
        await LabContent.PushImageAsync(acr, $"{root}/app", "1.0");
        var deleted = await LabContent.PushImageAsync(acr, $"{root}/app", "1.1");
        var signed = await LabContent.PushImageAsync(acr, $"{root}/app", "2.0");
        var signature = await LabContent.PushCosignSignatureAsync(acr, signed);
        var moved = await LabContent.PushImageAsync(acr, $"{root}/web", "b");
        var locked = await LabContent.PushImageAsync(acr, $"{root}/web", "locked");
        await lab.ResetAsync();
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());
        var destination = new LabEndpoint(lab.Destination.BaseUri, null, null);
        var request = new ParityRequest([$"{lab.AcrHost}/{root}/*"], $"{lab.Destination.Host}/mirror") { IncludeReferrers = true };
        var (copy, _) = await AcrLabFixture.CopyAsync(engine, new CopyRequest(request.Sources, request.Destination));
        Assert.Equal(0, copy.Failed);
        Assert.Empty((await CompareAsync(engine, request)).Differences);

        await LabContent.DeleteManifestAsync(destination, $"mirror/{root}/app", deleted.Digest);
        var elsewhere = await LabContent.PushImageAsync(destination, $"mirror/{root}/web", "b");
        await LabContent.DeleteManifestAsync(destination, $"mirror/{root}/app", signature.Digest);
        await LabContent.PushImageAsync(destination, $"mirror/{root}/web", "extra");
        lab.Acr.Lock($"{root}/web", locked.Digest); // the manifest: ACR's _manifests listing shows readEnabled=false
        lab.Acr.ClearRecords();

        var (summary, differences) = await CompareAsync(engine, request);

        var source = $"{lab.AcrHost}/{root}";
        Assert.Equal(new List<(ParityDifferenceKind, string)>
        {
            (ParityDifferenceKind.MissingAtDestination, $"{source}/app:1.1"),
            (ParityDifferenceKind.ExtraAtDestination, $"{source}/web:extra"),
            (ParityDifferenceKind.DigestDiffers, $"{source}/web:b"),
            (ParityDifferenceKind.ReferrerMissing, $"{source}/app:2.0"),
            (ParityDifferenceKind.SourceUnreadable, $"{source}/web:locked"),
        }.Order(), differences.Select(d => (d.Kind, d.Source)).Order());
        var unreadable = differences.Single(d => d.Kind == ParityDifferenceKind.SourceUnreadable);
        Assert.Equal(locked.Digest, unreadable.SourceDigest);
        Assert.Contains("readEnabled=false", unreadable.Detail, StringComparison.Ordinal);
        Assert.Equal(elsewhere.Digest, differences.Single(d => d.Kind == ParityDifferenceKind.DigestDiffers).DestinationDigest);
        Assert.Equal(moved.Digest, differences.Single(d => d.Kind == ParityDifferenceKind.DigestDiffers).SourceDigest);
        Assert.Equal(signature.Tag, differences.Single(d => d.Kind == ParityDifferenceKind.ReferrerMissing).ReferrerTag);
        Assert.Equal(5, summary.Differences);
        // ACR answered each repository's inventory in one _manifests call: no tag list, no HEAD, no manifest read at the source.
        var acrRequests = lab.Acr.Front.Requests;
        Assert.Equal(2, acrRequests.Count(r => r.PathAndQuery.Contains("/_manifests", StringComparison.Ordinal) && r.StatusCode == 200));
        Assert.DoesNotContain(acrRequests, r => r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal) || r.PathAndQuery.Contains("/tags/list", StringComparison.Ordinal));

        // Repair: every difference but the extra tag goes to the copy, as the pipeline into Copy-RegistryImage does. The
        // locked item fails alone (ACR refuses to serve it); everything else is repaired.
        var (repair, results) = await AcrLabFixture.CopyAsync(engine, new CopyRequest(
            differences.Where(d => d.Kind != ParityDifferenceKind.ExtraAtDestination).Select(d => d.Source).ToList(), request.Destination));
        var failed = Assert.Single(results, r => r.Action == CopyAction.Failed);
        // ACR answers a read of the locked manifest with 403; the copy of that one image fails alone.
        Assert.Equal("locked", failed.Tag);
        Assert.Equal(1, repair.Failed);

        var (_, after) = await CompareAsync(engine, request);
        Assert.Equal(new List<(ParityDifferenceKind, string)>
        {
            (ParityDifferenceKind.ExtraAtDestination, "extra"),
            (ParityDifferenceKind.SourceUnreadable, "locked"),
        }, after.Select(d => (d.Kind, d.Tag)).Order().ToList());
    }

    [Fact]
    public async Task Parity_works_with_the_admin_user_as_Basic_and_with_anonymous_pull_for_named_tags()
    {
        var root = lab.Unique("parity-auth");
        var acr = lab.Acr.AdminEndpoint;
        await LabContent.PushImageAsync(acr, $"{root}/app", "1.0");
        var gone = await LabContent.PushImageAsync(acr, $"{root}/app", "2.0");
        await lab.ResetAsync();
        using var engine = lab.NewEngine();
        var admin = new System.Net.NetworkCredential(lab.Acr.AdminUser, lab.Acr.AdminPassword);
        var repository = new ParityRequest([$"{lab.AcrHost}/{root}/app"], $"{lab.Destination.Host}/mirror") { SourceCredential = admin };
        var (copy, _) = await AcrLabFixture.CopyAsync(engine, new CopyRequest(repository.Sources, repository.Destination) { SourceCredential = admin });
        Assert.Equal((2, 0), (copy.Copied, copy.Failed));
        await LabContent.DeleteManifestAsync(new LabEndpoint(lab.Destination.BaseUri, null, null), $"mirror/{root}/app", gone.Digest);

        // Basic: the whole repository, listed through /acr/v1 with the admin user's metadata_read.
        var (_, byAdmin) = await CompareAsync(engine, repository);
        Assert.Equal([(ParityDifferenceKind.MissingAtDestination, $"{lab.AcrHost}/{root}/app:2.0")], byAdmin.Select(d => (d.Kind, d.Source)));

        // Anonymous pull lists too: a real ACR with anonymous pull on grants its anonymous token the catalog and the
        // listings (tests/contracts/acr/recordings, CanGetRepositoriesWithCustomPageSize(True): sub acr_anon_pull).
        lab.Acr.AnonymousPull = true;
        try
        {
            using var anonymousEngine = lab.NewEngine();
            var named = new ParityRequest([$"{lab.AcrHost}/{root}/app:1.0", $"{lab.AcrHost}/{root}/app:2.0"], $"{lab.Destination.Host}/mirror");
            var (summary, anonymous) = await CompareAsync(anonymousEngine, named);
            Assert.Equal([(ParityDifferenceKind.MissingAtDestination, $"{lab.AcrHost}/{root}/app:2.0")], anonymous.Select(d => (d.Kind, d.Source)));
            Assert.Equal(2, summary.TagsCompared);
            var (_, wholeRepository) = await CompareAsync(anonymousEngine, new ParityRequest([$"{lab.AcrHost}/{root}/app"], $"{lab.Destination.Host}/mirror"));
            Assert.Equal([(ParityDifferenceKind.MissingAtDestination, $"{lab.AcrHost}/{root}/app:2.0")], wholeRepository.Select(d => (d.Kind, d.Source)));
            Assert.Equal(0, lab.Acr.ExchangeCount);
        }
        finally
        {
            lab.Acr.AnonymousPull = false;
        }
    }

    [Fact]
    public async Task With_anonymous_pull_a_whole_repository_copies_and_compares_without_any_credential()
    {
        var root = lab.Unique("anonymous");
        var acr = lab.Acr.AdminEndpoint;
        var first = await LabContent.PushImageAsync(acr, $"{root}/app", "1.0");
        var second = await LabContent.PushImageAsync(acr, $"{root}/app", "2.0");
        await lab.ResetAsync();
        lab.Acr.AnonymousPull = true;
        try
        {
            using var engine = lab.NewEngine();
            var request = new ParityRequest([$"{lab.AcrHost}/{root}/*"], $"{lab.Destination.Host}/anonymous");

            var (copy, results) = await AcrLabFixture.CopyAsync(engine, new CopyRequest(request.Sources, request.Destination));

            Assert.Equal((2, 0), (copy.Copied, copy.Failed));
            Assert.Equal(new[] { first.Digest, second.Digest }.Order(), results.Select(r => r.Digest).Order());
            var (summary, differences) = await CompareAsync(engine, request);
            Assert.Empty(differences);
            Assert.Equal(2, summary.TagsCompared);
            Assert.Equal(0, lab.Acr.ExchangeCount);
            Assert.All(lab.Acr.TokenCalls, call => Assert.Equal("", call.Subject));
        }
        finally
        {
            lab.Acr.AnonymousPull = false;
        }
    }
}
