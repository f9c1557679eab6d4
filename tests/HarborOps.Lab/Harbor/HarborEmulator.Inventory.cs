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
    // Harbor keeps its artifacts as rows of its database (src/pkg/artifact/dao, src/pkg/tag/dao), written by the core
    // when a push or delete passes through it (src/controller/event/handler/internal/artifact.go), and a listing is a
    // query over them: its cost does not grow with a manifest read per tag. The lab derives the rows from its registry,
    // a manifest read per tag, so it keeps them per repository until a push or delete passes through the emulator (its
    // /v2/ proxy or its API), as Harbor's rows change. Like Harbor's database, the rows do not see what is written to
    // the registry behind the emulator's back: a test that does so gets a listing out of step with the registry.
    private readonly Dictionary<string, (int Generation, List<LabArtifact> Rows)> _artifactRows = new(StringComparer.Ordinal);
    private int _listingGeneration;

    /// <summary>Something was pushed or deleted: every repository's rows are derived again on their next read.</summary>
    private void ListingsChanged() => Interlocked.Increment(ref _listingGeneration);

    /// <summary>The repository's artifact rows: kept from the last derivation unless something changed since it began.</summary>
    private async Task<List<LabArtifact>> ArtifactRowsAsync(string repository, CancellationToken ct)
    {
        var generation = Volatile.Read(ref _listingGeneration);
        lock (_gate)
            if (_artifactRows.TryGetValue(repository, out var kept) && kept.Generation == generation)
                return kept.Rows;
        var rows = await DeriveArtifactsAsync(repository, ct);
        lock (_gate) _artifactRows[repository] = (generation, rows);
        return rows;
    }

    private async Task ListProjectArtifactsAsync(ApiCall c, LabHarborProject project)
    {
        if (c.Who.IsAnonymous) { await FailAsync(c, 401, "UNAUTHORIZED", "unauthorized"); return; }
        if (!Can(c.Who, project, "artifact", "list") && !Can(c.Who, project, "artifact", "read")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var artifacts = await ArtifactsAsync(project, null, c.Context.RequestAborted);
        await ReplyPagedAsync(c, artifacts.Select(a => ArtifactJson(c, project, a)).ToList());
    }
}
