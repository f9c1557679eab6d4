using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Manifests;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Registry;

/// <summary>
/// Harbor's own inventory API on the registry's host: every artifact of a repository (or of a whole project) with its
/// tags, digest and manifest media type, 100 a page, where the registry API needs a HEAD per tag. Listing is not a pull.
/// Harbor (goharbor/harbor src/server/v2.0/handler/artifact.go ListArtifacts, project.go ListArtifactsOfProject) checks
/// "list artifact" on the project: a caller without it gets 401 (anonymous) or 403, and the caller falls back to HEADs.
/// The requests go through the registry pipeline, so they share its retries, per-host windows and request counts, and
/// carry the Harbor credential as Basic only to the registry's own origin.
/// </summary>
internal sealed class HarborInventory(RemoteRegistryStore store, NetworkCredential? credential)
{
    /// <summary>Harbor's largest page: page_size above 100 is answered 422 (the swagger's pageSize maximum).</summary>
    public const int PageSize = 100;

    private string Registry => store.Registry;

    private AuthenticationHeaderValue? Authorization => credential is null || string.IsNullOrEmpty(credential.UserName)
        ? null
        : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}")));

    /// <summary>
    /// Harbor wants a repository name inside a path segment encoded twice ('/' as %252F): its router decodes the path
    /// once and would otherwise split the name (swagger: repository_name "If it contains slash, encode it twice").
    /// </summary>
    public static string EncodeRepositoryName(string nameInProject) => Uri.EscapeDataString(Uri.EscapeDataString(nameInProject));

    /// <summary>The project part of a repository (Harbor keeps every repository in one), or null when there is none.</summary>
    public static string? ProjectOf(string repository) => repository.IndexOf('/') is > 0 and var slash ? repository[..slash] : null;

    /// <summary>
    /// The tags of one repository with their manifests, one page of artifacts at a time; null when Harbor refuses the
    /// caller the listing (401, 403), so the caller asks the registry API instead. A missing repository is
    /// RegistryRepositoryNotFound, as the tag list says it.
    /// </summary>
    public IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ListRepositoryPagesAsync(string repository, CancellationToken cancellationToken)
    {
        var project = ProjectOf(repository) ?? throw new RegistryException(RegistryErrorIds.RepositoryNotFound, FailureKind.NotFound,
            $"'{Registry}/{repository}' has no project part, and Harbor keeps every repository in a project.", $"{Registry}/{repository}");
        var path = $"/api/v2.0/projects/{Uri.EscapeDataString(project)}/repositories/{EncodeRepositoryName(repository[(project.Length + 1)..])}/artifacts?with_tag=true&page_size={PageSize}";
        return ReadAsync(path, $"the artifact list of '{Registry}/{repository}' (Harbor API)", $"{Registry}/{repository}", expectedRepository: repository, cancellationToken);
    }

    /// <summary>
    /// Every artifact of a project with its repository (Harbor 2.11 and later): the inventory of all its repositories in
    /// as many requests as it has pages of 100. An older Harbor answers 404 (RegistryRequestFailed); a missing project
    /// too. Each page is handed out with the total Harbor announced, so the caller can stop when that costs more than
    /// listing repository by repository.
    /// </summary>
    public IAsyncEnumerable<HarborInventoryPage> ListProjectPagesAsync(string project, CancellationToken cancellationToken) =>
        ReadPagesAsync($"/api/v2.0/projects/{Uri.EscapeDataString(project)}/artifacts?with_tag=true&page_size={PageSize}",
            $"the artifact list of project '{project}' on '{Registry}' (Harbor API)", $"{Registry}/{project}", expectedProject: project, cancellationToken);

    /// <summary>
    /// The repositories of a project, 100 a page (GET /projects/{p}/repositories; handler/repository.go ListRepositories
    /// checks "list repository" on the project): each name is checked like a catalog's, and must be in the project.
    /// Refused (401, 403) as the artifact listing is.
    /// </summary>
    public IAsyncEnumerable<IReadOnlyList<string>> ListProjectRepositoryPagesAsync(string project, CancellationToken cancellationToken)
    {
        var description = $"the repository list of project '{project}' on '{Registry}' (Harbor API)";
        return store.ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, $"/api/v2.0/projects/{Uri.EscapeDataString(project)}/repositories?page_size={PageSize}")
        {
            AbsoluteUri = next,
            Authenticate = false,
            SendsRequestId = true,
            Authorization = Authorization,
            Accept = ["application/json"],
            Target = $"{Registry}/{project}",
            Description = description,
            NotFoundErrorId = RegistryErrorIds.RepositoryNotFound,
            AcceptStatus = status => status is 401 or 403,
        }, (response, request) => response.StatusCode is 401 or 403
            ? throw new HarborInventoryRefusedException(response.StatusCode, description, request.Target)
            : ReadRepositoryNames(response, request, project), cancellationToken);
    }

    private IReadOnlyList<string> ReadRepositoryNames(RegistryResponse response, RegistryRequest request, string project)
    {
        var names = new List<string>();
        try
        {
            using var doc = JsonDocument.Parse(response.Body ?? []);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw Invalid(request.Description, request.Target, "a body that is not an array of repositories");
            foreach (var repository in doc.RootElement.EnumerateArray())
            {
                var name = repository.ValueKind == JsonValueKind.Object ? ListingJson.String(repository, "name") : null;
                if (name is null || ProjectOf(name) != project || !ImageReference.IsValidRepository(store.Registry, name))
                    throw Invalid(request.Description, request.Target, $"a repository '{ManifestChecks.Shown(name ?? "")}', which is not a repository of project '{project}'");
                names.Add(name);
            }
        }
        catch (JsonException ex)
        {
            throw Invalid(request.Description, request.Target, $"something that is not JSON ({ex.Message})");
        }
        return names;
    }

    private async IAsyncEnumerable<IReadOnlyList<TaggedManifest>> ReadAsync(string path, string description, string target, string expectedRepository,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in ReadPagesAsync(path, description, target, ProjectOf(expectedRepository)!, cancellationToken).ConfigureAwait(false))
        {
            // The per-repository listing names the repository in every artifact: one that names another is not ours.
            var wrong = page.Items.FirstOrDefault(i => i.Repository != expectedRepository);
            if (wrong.Repository is not null)
                throw Invalid(description, target, $"an artifact of '{ManifestChecks.Shown(wrong.Repository)}' in the listing of '{expectedRepository}'");
            yield return page.Items.Select(i => i.Item).ToList();
        }
    }

    private IAsyncEnumerable<HarborInventoryPage> ReadPagesAsync(string path, string description, string target, string expectedProject, CancellationToken cancellationToken) =>
        store.ReadPagesAsync(next => new RegistryRequest(HttpMethod.Get, Registry, path)
        {
            AbsoluteUri = next,
            // Harbor's API takes Basic on every call; the registry's token dance does not apply to /api.
            Authenticate = false,
            SendsRequestId = true,
            Authorization = Authorization,
            Accept = ["application/json"],
            Target = target,
            Description = description,
            NotFoundErrorId = RegistryErrorIds.RepositoryNotFound,
            AcceptStatus = status => status is 401 or 403,
        }, (response, request) => response.StatusCode is 401 or 403
            ? throw new HarborInventoryRefusedException(response.StatusCode, description, target)
            : ReadPage(response, request, expectedProject), cancellationToken);

    private HarborInventoryPage ReadPage(RegistryResponse response, RegistryRequest request, string expectedProject)
    {
        long? total = long.TryParse(response.Headers("X-Total-Count").FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : null;
        var items = new List<(string Repository, TaggedManifest Item)>();
        try
        {
            using var doc = JsonDocument.Parse(response.Body ?? []);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw Invalid(request.Description, request.Target, "a body that is not an array of artifacts");
            foreach (var artifact in doc.RootElement.EnumerateArray())
            {
                if (artifact.ValueKind != JsonValueKind.Object) throw Invalid(request.Description, request.Target, "an entry that is not an artifact");
                // What Harbor sends is checked like any registry data before it decides anything: a digest must be one,
                // and a repository must be a valid name inside the project listed.
                var digest = ListingJson.String(artifact, "digest");
                if (digest is null || !ImageReference.IsValidDigest(digest))
                    throw Invalid(request.Description, request.Target, $"an artifact without a valid digest ('{ManifestChecks.Shown(digest ?? "")}')");
                var repository = ListingJson.String(artifact, "repository_name");
                if (repository is null || ProjectOf(repository) != expectedProject || !ImageReference.IsValidRepository(store.Registry, repository))
                    throw Invalid(request.Description, request.Target, $"an artifact of repository '{ManifestChecks.Shown(repository ?? "")}', which is not a repository of project '{expectedProject}'");
                if (!artifact.TryGetProperty("tags", out var tags) || tags.ValueKind != JsonValueKind.Array) continue;
                // manifest_media_type is the manifest's; media_type is the config's (or the index's) in Harbor's model.
                // Harbor's size is the whole artifact's, not the manifest's, which the listing does not give: 0 says unknown.
                var descriptor = new OciDescriptor(MediaTypes.Normalize(ListingJson.String(artifact, "manifest_media_type") ?? ListingJson.String(artifact, "media_type")), digest, 0);
                foreach (var tag in tags.EnumerateArray())
                    if (tag.ValueKind == JsonValueKind.Object && ListingJson.String(tag, "name") is { Length: > 0 } name)
                        items.Add((repository, new TaggedManifest(name, descriptor) { CreatedOn = ListingJson.Time(tag, "push_time") }));
            }
        }
        catch (JsonException ex)
        {
            throw Invalid(request.Description, request.Target, $"something that is not JSON ({ex.Message})");
        }
        return new HarborInventoryPage(items, total);
    }

    private static RegistryException Invalid(string description, object? target, string what) =>
        new(RegistryErrorIds.RequestFailed, FailureKind.InvalidData, $"Harbor answered {description} with {what}; the listing is not used.", target);
}

/// <summary>One page of a Harbor artifact listing: each tag with its repository, and the total Harbor announced (X-Total-Count).</summary>
internal sealed record HarborInventoryPage(IReadOnlyList<(string Repository, TaggedManifest Item)> Items, long? Total);

/// <summary>Harbor refused the caller its inventory API (401 or 403): the caller reads the registry API instead.</summary>
internal sealed class HarborInventoryRefusedException(int statusCode, string description, object? target)
    : RegistryException(RegistryErrorIds.PermissionDenied, FailureKind.PermissionDenied, $"Harbor refused {description} (HTTP {statusCode}).", target, statusCode: statusCode);
