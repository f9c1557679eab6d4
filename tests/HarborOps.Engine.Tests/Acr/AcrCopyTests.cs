using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;
using HarborOps.Lab;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>
/// Copy-RegistryImage's engine from the ACR emulator to a real Distribution registry: Entra, Basic and anonymous
/// sign-in, token reuse, no Authorization on the storage host, throttling waited out, locked items reported, and
/// -Since answered from ACR's listing.
/// </summary>
[Collection(AcrLabCollection.Name)]
public sealed class AcrCopyTests(AcrLabFixture lab) : IDisposable
{
    public void Dispose() => lab.Audit.AssertExchangesMatchContract();

    private async Task<(string Repository, PushedImage[] Images)> SeedAsync(string name, params string[] tags)
    {
        var repository = lab.Unique(name);
        var images = new List<PushedImage>();
        foreach (var tag in tags)
            images.Add(tag.StartsWith("index", StringComparison.Ordinal)
                ? await LabContent.PushIndexAsync(lab.Acr.AdminEndpoint, repository, tag, ["linux/amd64", "linux/arm64"])
                : await LabContent.PushImageAsync(lab.Acr.AdminEndpoint, repository, tag, new LabImageOptions { LayerCount = 2 }));
        await lab.ResetAsync();
        return (repository, images.ToArray());
    }

    /// <summary>The destination prefix: each source repository lands at migrated[/sub]/&lt;its path&gt;.</summary>
    private string Destination(string? sub = null) => $"{lab.Destination.Host}/migrated" + (sub is null ? "" : "/" + sub);

    private async Task AssertAtDestinationAsync(string repository, PushedImage image)
    {
        var destination = new LabEndpoint(lab.Destination.BaseUri, null, null);
        using var inspected = await LabSkopeo.InspectAsync(destination, $"migrated/{repository}", image.Tag!);
        Assert.Equal(image.Digest, inspected.RootElement.GetProperty("Digest").GetString());
    }

    [Fact]
    public async Task Entra_identity_copies_a_repository_with_two_tokens_and_no_authorization_at_the_storage_host()
    {
        var (repository, images) = await SeedAsync("copy/entra", "1.0", "2.0", "index-3.0");
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());

        var (summary, results) = await AcrLabFixture.CopyAsync(engine, new CopyRequest([$"{lab.AcrHost}/{repository}"], Destination()));

        Assert.Equal(3, summary.Copied);
        Assert.Equal(0, summary.Failed);
        foreach (var image in images) await AssertAtDestinationAsync(repository, image);
        // One Entra sign-in, one exchange, and two access tokens: metadata_read for the listing, then that plus pull.
        Assert.Equal(1, lab.Acr.Entra.TokenRequestCount);
        Assert.Equal(1, lab.Acr.ExchangeCount);
        Assert.Equal(2, lab.Acr.TokenRequestCount);
        Assert.All(lab.Acr.TokenCalls.Where(c => c.Endpoint == "token"), c => Assert.Equal(("POST", "refresh_token", 200), (c.Method, c.GrantType, c.Status)));
        // The source was listed once with ACR's API; no tag was read one by one before its copy.
        var requests = lab.Acr.Front.Requests;
        Assert.Single(requests, r => r.PathAndQuery.StartsWith($"/acr/v1/{repository}/_manifests", StringComparison.Ordinal) && r.StatusCode == 200);
        Assert.DoesNotContain(requests, r => r.Method == "HEAD" && r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal));
        // Every blob came from the storage host, and none of those requests carried the registry's Authorization.
        var blobs = images.SelectMany(i => i.Children.Count > 0 ? i.Children.SelectMany(c => c.BlobDigests) : i.BlobDigests).Distinct().Count();
        var storage = lab.Acr.Front.StorageHostRequests;
        Assert.Equal(blobs, storage.Count(r => r.Method == "GET" && r.StatusCode == 200));
        Assert.All(storage, r => Assert.False(r.HadAuthorization, $"{r} carried Authorization to the storage host"));
        Assert.All(requests.Where(r => r.PathAndQuery.Contains("/blobs/", StringComparison.Ordinal) && r.Method == "GET"), r => Assert.Equal(307, r.StatusCode));
    }

    [Fact]
    public async Task Many_parallel_requests_share_one_exchange_and_one_access_token()
    {
        var (repository, images) = await SeedAsync("copy/parallel", "1.0");
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());
        var store = engine.OpenStore(lab.AcrHost);

        var heads = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => store.HeadManifestAsync(repository, "1.0", default)));

        Assert.All(heads, h => Assert.Equal(images[0].Digest, h!.Digest));
        Assert.Equal(1, lab.Acr.Entra.TokenRequestCount);
        Assert.Equal(1, lab.Acr.ExchangeCount);
        Assert.Equal(1, lab.Acr.TokenRequestCount);
    }

    [Fact]
    public async Task Basic_credentials_work_for_the_admin_user_and_a_repository_scoped_token()
    {
        var (repository, images) = await SeedAsync("copy/basic", "1.0", "2.0");
        var (other, _) = await SeedAsync("copy/basic-other", "1.0");
        var tokenPassword = "scoped-" + Guid.NewGuid().ToString("N");
        lab.Acr.AddUser("ci-pull-token", tokenPassword, new LabGrant("repository", repository, ["pull", "metadata_read"]));
        using var engine = lab.NewEngine();

        var (scoped, _) = await AcrLabFixture.CopyAsync(engine, new CopyRequest([$"{lab.AcrHost}/{repository}", $"{lab.AcrHost}/{other}"], Destination("scoped"))
        {
            SourceCredential = new NetworkCredential("ci-pull-token", tokenPassword),
        });
        var (admin, _) = await AcrLabFixture.CopyAsync(engine, new CopyRequest([$"{lab.AcrHost}/{other}"], Destination())
        {
            SourceCredential = new NetworkCredential(lab.Acr.AdminUser, lab.Acr.AdminPassword),
        });

        // The scoped token copies its repository and is refused the other one, which fails alone.
        Assert.Equal((2, 1), (scoped.Copied, scoped.Failed));
        Assert.Contains(scoped.Failures, f => f.Contains(other, StringComparison.Ordinal));
        Assert.Equal((1, 0), (admin.Copied, admin.Failed));
        Assert.All(lab.Acr.TokenCalls.Where(c => c.Endpoint == "token"), c => Assert.Equal(("GET", "basic"), (c.Method, c.GrantType)));
        Assert.Equal(0, lab.Acr.ExchangeCount);
        foreach (var image in images) await AssertAtDestinationAsync("scoped/" + repository, image);
    }

    [Fact]
    public async Task An_identity_without_a_role_is_refused_per_repository_with_the_permission_hint()
    {
        var (repository, _) = await SeedAsync("copy/no-role", "1.0");
        var stranger = lab.Acr.Entra.AddApplication(); // signs in to Entra fine, but has no role on the registry
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential(stranger));

        var (summary, _) = await AcrLabFixture.CopyAsync(engine, new CopyRequest([$"{lab.AcrHost}/{repository}"], Destination()));

        Assert.Equal((0, 1), (summary.Copied, summary.Failed));
        var failure = Assert.Single(summary.Failures);
        Assert.Contains("does not allow", failure);
        Assert.Contains("metadata_read", failure);
        Assert.Equal(1, lab.Acr.ExchangeCount); // the exchange itself succeeds: ACR checks roles when it grants scopes
    }

    [Fact]
    public async Task Anonymous_pull_copies_named_tags_when_the_registry_allows_it()
    {
        var (repository, images) = await SeedAsync("copy/anonymous", "1.0", "2.0");
        using var engine = lab.NewEngine();
        lab.Acr.AnonymousPull = true;
        try
        {
            var (summary, _) = await AcrLabFixture.CopyAsync(engine, new CopyRequest(
                [$"{lab.AcrHost}/{repository}:1.0", $"{lab.AcrHost}/{repository}:2.0"], Destination()));
            Assert.Equal((2, 0), (summary.Copied, summary.Failed));
        }
        finally
        {
            lab.Acr.AnonymousPull = false;
        }
        foreach (var image in images) await AssertAtDestinationAsync(repository, image);
        Assert.All(lab.Acr.TokenCalls.Where(c => c.Endpoint == "token"), c => Assert.Equal("", c.Subject));
        Assert.Equal(0, lab.Acr.ExchangeCount);
    }

    [Fact]
    public async Task Throttling_of_the_token_endpoints_and_the_registry_is_waited_out_and_never_reported_as_missing()
    {
        var (repository, images) = await SeedAsync("copy/throttled", "1.0", "2.0");
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());
        // ACR's front door answers 429 with a plain-text body, on the token endpoints as on the registry.
        const string FrontDoor = "Too many requests. Ref A: 5C1E2B4D Ref B: AMS231 Ref C: 2026-11-26T04:00:00Z";
        var faults = new[]
        {
            lab.Acr.Front.Inject(FaultRule.TooManyRequests("^/oauth2/exchange$", TimeSpan.FromSeconds(1), times: 1, body: FrontDoor)),
            lab.Acr.Front.Inject(FaultRule.TooManyRequests("^/oauth2/token$", TimeSpan.Zero, times: 2, body: FrontDoor)),
            lab.Acr.Front.Inject(FaultRule.TooManyRequests("^/acr/v1/.+/_manifests$", TimeSpan.Zero, times: 1, body: FrontDoor)),
            lab.Acr.Front.Inject(FaultRule.TooManyRequests(FaultRule.ManifestPathPattern, TimeSpan.Zero, method: "GET", times: 1, body: FrontDoor)),
            lab.Acr.Front.Inject(new FaultRule { Kind = FaultKind.Status, StatusCode = 429, PathPattern = "^/storage/blobs/", OnStorageHost = true, Times = 1, Body = FrontDoor }),
        };

        var (summary, results) = await AcrLabFixture.CopyAsync(engine, new CopyRequest([$"{lab.AcrHost}/{repository}"], Destination()));

        Assert.All(faults, f => Assert.Equal(f.Rule.Times, f.Fired));
        Assert.Equal((2, 0), (summary.Copied, summary.Failed));
        Assert.All(results, r => Assert.Null(r.ErrorId));
        foreach (var image in images) await AssertAtDestinationAsync(repository, image);
    }

    [Fact]
    public async Task A_locked_item_is_reported_by_itself_and_the_rest_is_copied()
    {
        var (repository, images) = await SeedAsync("copy/locked", "1.0", "2.0", "3.0");
        lab.Acr.Lock(repository, images[1].Digest); // the manifest: _manifests shows readEnabled=false
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());

        var (summary, results) = await AcrLabFixture.CopyAsync(engine, new CopyRequest([$"{lab.AcrHost}/{repository}"], Destination()));

        Assert.Equal((2, 1), (summary.Copied, summary.Failed));
        await AssertAtDestinationAsync(repository, images[0]);
        await AssertAtDestinationAsync(repository, images[2]);
        var locked = Assert.Single(results, r => r.Tag == "2.0");
        Assert.Equal((CopyAction.Failed, RegistryErrorIds.ReadDisabled), (locked.Action, locked.ErrorId));
        Assert.Contains("readEnabled", locked.Error);
        // The listed lock cost no request: nothing of 2.0 was asked for.
        Assert.DoesNotContain(lab.Acr.Front.Requests, r => r.PathAndQuery.Contains(images[1].Digest, StringComparison.Ordinal) || r.PathAndQuery.EndsWith("/manifests/2.0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tag_locked_at_the_source_fails_alone_when_its_pull_is_refused()
    {
        var (repository, images) = await SeedAsync("copy/tag-locked", "1.0", "2.0");
        lab.Acr.Lock(repository, "2.0"); // a tag lock is not in the _manifests listing: ACR refuses the pull by tag
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());

        var (summary, results) = await AcrLabFixture.CopyAsync(engine, new CopyRequest(
            [$"{lab.AcrHost}/{repository}:2.0", $"{lab.AcrHost}/{repository}:1.0"], Destination()));

        Assert.Equal((1, 1), (summary.Copied, summary.Failed));
        await AssertAtDestinationAsync(repository, images[0]);
        var refused = Assert.Single(results, r => r.Tag == "2.0");
        Assert.Equal((CopyAction.Failed, RegistryErrorIds.PermissionDenied), (refused.Action, refused.ErrorId));
        Assert.Contains("does not allow", refused.Error);
    }

    [Fact]
    public async Task Since_is_answered_from_the_listing_times_and_unchanged_tags_read_no_manifest()
    {
        var (repository, images) = await SeedAsync("copy/since", "old-1", "old-2", "new-1");
        var longAgo = DateTimeOffset.UtcNow.AddDays(-400);
        lab.Acr.SetTimes(repository, images[0].Digest, longAgo, longAgo);
        lab.Acr.SetTimes(repository, images[1].Digest, longAgo, longAgo.AddDays(1));
        using var engine = lab.NewEngine();
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());
        var request = new CopyRequest([$"{lab.AcrHost}/{repository}"], Destination()) { Since = DateTimeOffset.UtcNow.AddDays(-30) };

        var (first, results) = await AcrLabFixture.CopyAsync(engine, request);

        Assert.Equal((1, 2, 0), (first.Copied, first.Skipped, first.Failed));
        Assert.All(results.Where(r => r.Tag.StartsWith("old", StringComparison.Ordinal)), r => Assert.StartsWith("last updated", r.Reason));
        var oldPaths = images.Take(2).SelectMany(i => new[] { i.Digest, "/manifests/" + i.Tag }.Concat(i.BlobDigests.Except(images[2].BlobDigests))).ToList();
        Assert.DoesNotContain(lab.Acr.Front.Requests, r => oldPaths.Any(p => r.PathAndQuery.Contains(p, StringComparison.Ordinal)));

        // A second run finds everything in place: the source answers with its listing only.
        await lab.ResetAsync();
        var (second, _) = await AcrLabFixture.CopyAsync(engine, request);
        Assert.Equal((0, 3, 0), (second.Copied, second.Skipped, second.Failed));
        var sourceRequests = lab.Acr.Front.Requests;
        Assert.Single(sourceRequests, r => r.PathAndQuery.StartsWith($"/acr/v1/{repository}/_manifests", StringComparison.Ordinal));
        Assert.DoesNotContain(sourceRequests, r => r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal) || r.PathAndQuery.Contains("/blobs/", StringComparison.Ordinal));
        Assert.Empty(lab.Acr.Front.StorageHostRequests);
    }

    [Fact]
    public async Task The_inventory_and_the_catalog_come_from_acr_listings_page_by_page()
    {
        var (repository, images) = await SeedAsync("inventory/paged", "a", "b", "c", "d", "e");
        using var engine = new RegistryEngine(new RegistryEngineOptions
        {
            AcrHosts = [lab.AcrHost],
            PageSize = 2,
            DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-tests-no-docker-config.json"),
        });
        engine.Credentials.SetAzureIdentity(lab.AcrHost, lab.ReaderCredential());
        var store = engine.OpenStore(lab.AcrHost);
        Assert.True(store.HasBulkInventory);

        var pages = new List<IReadOnlyList<TaggedManifest>>();
        await foreach (var page in store.ListTaggedManifestPagesAsync(repository, default)) pages.Add(page);

        Assert.Equal(3, pages.Count);
        var inventory = pages.SelectMany(p => p).OrderBy(t => t.Tag, StringComparer.Ordinal).ToList();
        Assert.Equal(images.Select(i => (i.Tag!, i.Digest, i.MediaType)), inventory.Select(t => (t.Tag, t.Manifest.Digest, t.Manifest.MediaType)));
        Assert.All(inventory, t => Assert.True(t.ReadEnabled && t.CreatedOn is not null && t.UpdatedOn >= t.CreatedOn));
        Assert.Equal(3, lab.Acr.Front.Requests.Count(r => r.PathAndQuery.StartsWith($"/acr/v1/{repository}/_manifests", StringComparison.Ordinal) && r.StatusCode == 200));
        Assert.DoesNotContain(lab.Acr.Front.Requests, r => r.Method is "GET" or "HEAD" && r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal));

        await lab.ResetAsync();
        var repositories = new List<string>();
        await foreach (var info in engine.GetRepositoriesAsync(new GetRepositoriesRequest(lab.AcrHost) { Prefix = "inventory" }, null, default)) repositories.Add(info.Repository);
        Assert.Contains(repository, repositories);
        Assert.Contains(lab.Acr.Front.Requests, r => r.PathAndQuery.StartsWith("/acr/v1/_catalog", StringComparison.Ordinal) && r.StatusCode == 200);
        Assert.DoesNotContain(lab.Acr.Front.Requests, r => r.PathAndQuery.StartsWith("/v2/_catalog", StringComparison.Ordinal));
    }
}
