namespace HarborOps.Lab.Harbor;

/// <summary>
/// The artifact listings a client reads as an inventory (tag -> digest), as Harbor serves them:
/// - per repository, GET /projects/{p}/repositories/{r}/artifacts (goharbor/harbor src/server/v2.0/handler/artifact.go
///   ListArtifacts: RequireProjectAccess(list, artifact), X-Total-Count and a Link from a.Links, the repository name
///   encoded twice for '/', page_size at most 100 per the swagger);
/// - per project, GET /projects/{project_name_or_id}/artifacts (handler/project.go ListArtifactsOfProject, Harbor 2.11
///   and later: RequireAuthenticated first, so anonymous is 401 even on a public project, then list on artifact; every
///   artifact names its repository_name).
/// Both list tags with each artifact (with_tag defaults to true; controller/artifact/controller.go populateTags lists
/// all of an artifact's tags) and leave cosign signatures out, as accessories.
/// </summary>
public sealed partial class HarborEmulator
{
    private static readonly TimeSpan ListingSnapshotLifetime = TimeSpan.FromSeconds(60);
    private readonly Dictionary<string, (DateTimeOffset Taken, int Generation, List<LabArtifact> Artifacts)> _listingSnapshots = new(StringComparer.Ordinal);
    private int _listingGeneration;

    /// <summary>Something was pushed or deleted: a paging walk begun before it starts over from the registry.</summary>
    private void ListingsChanged() => Interlocked.Increment(ref _listingGeneration);

    private async Task ListProjectArtifactsAsync(ApiCall c, LabHarborProject project)
    {
        if (c.Who.IsAnonymous) { await FailAsync(c, 401, "UNAUTHORIZED", "unauthorized"); return; }
        if (!Can(c.Who, project, "artifact", "list") && !Can(c.Who, project, "artifact", "read")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var artifacts = await ListedArtifactsAsync(c, project, null);
        await ReplyPagedAsync(c, artifacts.Select(a => ArtifactJson(c, project, a)).ToList());
    }

    /// <summary>
    /// The artifacts a listing pages over. Harbor reads them from its database; the lab derives them from the registry,
    /// a manifest read per tag, so a walk's later pages reuse what its first page derived (until something is pushed or
    /// deleted through the emulator, or a minute passes) instead of reading every tag again for each page.
    /// </summary>
    private async Task<List<LabArtifact>> ListedArtifactsAsync(ApiCall c, LabHarborProject project, string? repository)
    {
        var key = $"{project.Name}|{repository}";
        var generation = Volatile.Read(ref _listingGeneration);
        var laterPage = int.TryParse(c.Query("page"), out var page) && page > 1;
        lock (_gate)
            if (laterPage && _listingSnapshots.TryGetValue(key, out var snapshot) && snapshot.Generation == generation
                && DateTimeOffset.UtcNow - snapshot.Taken < ListingSnapshotLifetime)
                return snapshot.Artifacts;
        var artifacts = await ArtifactsAsync(project, repository, c.Context.RequestAborted);
        lock (_gate) _listingSnapshots[key] = (DateTimeOffset.UtcNow, generation, artifacts);
        return artifacts;
    }
}
