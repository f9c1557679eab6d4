using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Harbor;

/// <summary>
/// Proxy-cache projects, as goharbor/harbor serves them:
/// <list type="bullet">
/// <item>src/server/v2.0/handler/project.go CreateProject: a body with registry_id makes a proxy cache; only a system admin
/// may ("Only system admin can create proxy cache project", 403); enable_content_trust is dropped (#12940); a 7-day
/// retention policy is created and its id stored as metadata retention_id. validateProjectReq: registry_id &lt;= 0 is a 400
/// "%d is invalid value of registry_id, it should be geater than 0" (sic); the registry is read with registry.Ctl.Get and
/// its error wrapped by fmt.Errorf("failed to get the registry %d: %v"), which drops the NOT_FOUND code, so a missing
/// registry is a 500 UNKNOWN "internal server error" (lib/http/error.go SendError); a type outside
/// config.GetPermittedRegistryTypesForProxyCache() (env PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE, whose install default in
/// make/photon/prepare/templates/core/env.jinja is the list below) is a 400 "unsupported registry type %s".</item>
/// <item>handler/model/project.go ToSwagger returns registry_id (omitted when 0); getProjectRegistrySummary puts the
/// registry, credential removed, into the project summary.</item>
/// <item>src/server/registry/route.go, GET and HEAD manifest: repoproxy.ManifestMiddleware, THEN contenttrust.ContentTrust,
/// THEN vulnerable.Middleware. repoproxy/proxy.go handleManifest asks proxy.Controller.UseLocalManifest
/// (src/controller/proxy/controller.go): local by digest, or local by tag whose digest equals the remote's (a HEAD to the
/// remote), is served locally by calling next, so the gates run. Otherwise proxyManifestGet writes the remote's manifest
/// itself and never calls next: a pull of an image not yet cached is served WITHOUT the signature and vulnerability
/// gates, by design (goharbor/harbor#13242, #16732). ProxyManifest then caches it in the background, where the scan on
/// push follows, so the gates apply from the first pull after the image is cached. A remote 404 is a 404 unless
/// proxy_cache_local_on_not_found and a local copy exist; an unreachable remote falls back to the local copy.</item>
/// <item>handleBlob: a blob the project has is served locally, any other is streamed from the remote (and cached).</item>
/// <item>defaultLibrary: for a docker-hub registry a repository without a namespace is redirected (301) to library/.</item>
/// <item>DisableBlobAndManifestUploadMiddleware (PUT manifest, POST blob upload): 403 DENIED "can not push artifact to a
/// proxy project: %v" for anyone but the proxy cache's own session.</item>
/// </list>
/// The lab's stand-in for Docker Hub is a registry at the endpoint's url; Harbor's docker-hub adapter always talks to
/// registry-1.docker.io (pkg/reg/adapter/dockerhub registryURL) whatever the endpoint's url.
/// </summary>
public sealed partial class HarborEmulator
{
    private static readonly string[] ProxyCacheRegistryTypes =
        ["docker-hub", "harbor", "azure-acr", "ali-acr", "aws-ecr", "google-gcr", "docker-registry", "github-ghcr", "jfrog-artifactory"];

    private static readonly Regex BlobPath = new("^/v2/(?<repo>.+)/blobs/(?<digest>sha256:[0-9a-f]{64})$");

    private readonly List<Task> _proxyCacheRuns = [];
    private readonly HashSet<string> _proxyCacheInFlight = new(StringComparer.Ordinal);
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The refusal of a create whose registry_id Harbor would not accept; null (and the id, 0 for none) when fine.</summary>
    private Task? ProxyCacheRefusal(ApiCall c, JsonNode? body, out long registryId)
    {
        registryId = 0;
        if (body?["registry_id"] is not JsonValue value) return null;
        if (!c.Who.SysAdmin) return FailAsync(c, 403, "FORBIDDEN", "Only system admin can create proxy cache project");
        if (!value.TryGetValue<long>(out var id)) return FailAsync(c, 400, "BAD_REQUEST", "registry_id in body must be of type int64");
        if (id <= 0) return FailAsync(c, 400, "BAD_REQUEST", $"{id} is invalid value of registry_id, it should be geater than 0");
        LabRegistryEndpoint? endpoint;
        lock (_gate) endpoint = _registryEndpoints.FirstOrDefault(r => r.Id == id);
        if (endpoint is null) return FailAsync(c, 500, "UNKNOWN", "internal server error");
        if (!ProxyCacheRegistryTypes.Contains(endpoint.Type)) return FailAsync(c, 400, "BAD_REQUEST", $"unsupported registry type {endpoint.Type}");
        registryId = id;
        return null;
    }

    /// <summary>What CreateProject does beyond an ordinary project for a proxy cache. Called under the lock.</summary>
    private void BecomeProxyCache(LabHarborProject project)
    {
        project.Metadata.Remove("enable_content_trust");
        project.Metadata["retention_id"] = NextId().ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The summary's registry of a proxy cache (no credential), null for an ordinary project.</summary>
    private object? ProxyCacheRegistryJson(LabHarborProject project)
    {
        lock (_gate)
            return _registryEndpoints.FirstOrDefault(r => project.RegistryId > 0 && r.Id == project.RegistryId) is { } r
                ? new
                {
                    r.Id, r.Name, r.Url, r.Type, r.Insecure, r.Description, Status = "healthy", CreationTime = Time(r.Created), UpdateTime = Time(r.Created),
                }
                : null;
    }

    /// <summary>
    /// repoproxy's part of /v2/ for a proxy-cache project: true when the request was answered here, false when it goes on
    /// to the local registry (through the pull gates). <paramref name="authorization"/> is what the registry will see.
    /// </summary>
    private async Task<bool> ServeFromProxyCacheAsync(HttpContext context, string path, string? repository, string authorization)
    {
        if (repository is null) return false;
        LabHarborProject? project;
        LabRegistryEndpoint? endpoint;
        lock (_gate)
        {
            project = _projects.FirstOrDefault(p => repository.StartsWith(p.Name + "/", StringComparison.Ordinal));
            endpoint = project is { RegistryId: > 0 } ? _registryEndpoints.FirstOrDefault(r => r.Id == project.RegistryId) : null;
        }
        // An anonymous caller gets the registry's challenge first, as v2auth runs before repoproxy.
        if (project is null || endpoint is null || string.IsNullOrEmpty(authorization)) return false;
        var request = context.Request;
        var manifest = ManifestPath.Match(path);
        if ((request.Method == "PUT" && manifest.Success) || (request.Method == "POST" && path.Contains("/blobs/uploads", StringComparison.Ordinal)))
        {
            await WriteErrorAsync(context, 403, "DENIED", $"can not push artifact to a proxy project: {project.Name}");
            return true;
        }
        var blob = BlobPath.Match(path);
        if (!(manifest.Success && request.Method is "GET" or "HEAD") && !(blob.Success && request.Method == "GET")) return false;
        var remoteRepository = repository[(project.Name.Length + 1)..];
        if (endpoint.Type == "docker-hub" && !remoteRepository.Contains('/'))
        {
            context.Response.StatusCode = 301;
            context.Response.Headers.Location = manifest.Success
                ? $"/v2/{project.Name}/library/{remoteRepository}/manifests/{manifest.Groups["ref"].Value}"
                : $"/v2/{project.Name}/library/{remoteRepository}/blobs/{blob.Groups["digest"].Value}";
            return true;
        }
        var upstream = new ProxyCacheUpstream(endpoint, remoteRepository);
        return manifest.Success
            ? await ProxyManifestAsync(context, project, repository, upstream, manifest.Groups["ref"].Value, authorization)
            : await ProxyBlobAsync(context, repository, upstream, blob.Groups["digest"].Value, authorization);
    }

    private sealed record ProxyCacheUpstream(LabRegistryEndpoint Endpoint, string Repository);

    private async Task<bool> ProxyManifestAsync(HttpContext context, LabHarborProject project, string repository, ProxyCacheUpstream upstream,
        string reference, string authorization)
    {
        var ct = context.RequestAborted;
        var accept = context.Request.Headers.Accept.ToString();
        var (localStatus, localDigest) = await LocalAsync(HttpMethod.Head, $"v2/{repository}/manifests/{reference}", authorization, accept, ct);
        if (localStatus == HttpStatusCode.Unauthorized) return false;
        var byDigest = reference.StartsWith("sha256:", StringComparison.Ordinal);
        if (byDigest && localDigest is not null) return false;
        HttpResponseMessage remote;
        try
        {
            remote = await UpstreamAsync(upstream, context.Request.Method == "HEAD" ? HttpMethod.Head : HttpMethod.Get, $"manifests/{reference}", accept, ct);
        }
        catch (HttpRequestException)
        {
            return false; // "Proxy to remote failed, fallback to local repo"
        }
        using (remote)
        {
            if (remote.StatusCode == HttpStatusCode.NotFound)
            {
                if (localDigest is not null && project.Flag("proxy_cache_local_on_not_found")) return false;
                await WriteErrorAsync(context, 404, "NOT_FOUND", $"repo {repository}, tag {reference} not found");
                return true;
            }
            var remoteDigest = remote.Headers.TryGetValues("Docker-Content-Digest", out var digests) ? digests.First() : null;
            if (!remote.IsSuccessStatusCode || remoteDigest is null || remoteDigest == localDigest) return false;
            var bytes = await remote.Content.ReadAsByteArrayAsync(ct);
            var response = context.Response;
            response.StatusCode = 200;
            response.ContentType = remote.Content.Headers.ContentType?.ToString();
            response.Headers["Docker-Content-Digest"] = remoteDigest;
            response.Headers.ETag = remoteDigest;
            response.ContentLength = context.Request.Method == "HEAD" ? remote.Content.Headers.ContentLength : bytes.Length;
            if (context.Request.Method == "GET")
            {
                await response.Body.WriteAsync(bytes, ct);
                CacheInBackground(repository, upstream, byDigest ? null : reference, remoteDigest);
            }
            return true;
        }
    }

    private async Task<bool> ProxyBlobAsync(HttpContext context, string repository, ProxyCacheUpstream upstream, string digest, string authorization)
    {
        var ct = context.RequestAborted;
        var (localStatus, _) = await LocalAsync(HttpMethod.Head, $"v2/{repository}/blobs/{digest}", authorization, null, ct);
        if (localStatus is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return false;
        using var remote = await UpstreamAsync(upstream, HttpMethod.Get, $"blobs/{digest}", null, ct);
        if (!remote.IsSuccessStatusCode) return false;
        context.Response.StatusCode = 200;
        context.Response.ContentLength = remote.Content.Headers.ContentLength;
        context.Response.ContentType = "application/octet-stream";
        context.Response.Headers["Docker-Content-Digest"] = digest;
        context.Response.Headers.ETag = digest;
        await using var body = await remote.Content.ReadAsStreamAsync(ct);
        await body.CopyToAsync(context.Response.Body, ct);
        return true;
    }

    /// <summary>Asks the local registry as the caller: its status and the digest it has (null when it has none).</summary>
    private async Task<(HttpStatusCode Status, string? Digest)> LocalAsync(HttpMethod method, string path, string authorization, string? accept, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(_backing.Registry.BaseUri, path));
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Headers.TryAddWithoutValidation("Accept", string.IsNullOrEmpty(accept) ? string.Join(", ", LabContent.OciManifest, LabContent.OciIndex, LabContent.DockerManifest, LabContent.DockerManifestList) : accept);
        using var response = await _backing.Http.SendAsync(request, ct);
        var digest = response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
        return (response.StatusCode, digest);
    }

    private Task<HttpResponseMessage> UpstreamAsync(ProxyCacheUpstream upstream, HttpMethod method, string path, string? accept, CancellationToken ct)
    {
        var request = new HttpRequestMessage(method, $"{upstream.Endpoint.Url}/v2/{upstream.Repository}/{path}");
        request.Headers.TryAddWithoutValidation("Accept", string.IsNullOrEmpty(accept)
            ? string.Join(", ", LabContent.OciManifest, LabContent.OciIndex, LabContent.DockerManifest, LabContent.DockerManifestList) : accept);
        if (upstream.Endpoint.AccessKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{upstream.Endpoint.AccessKey}:{upstream.Endpoint.AccessSecret}")));
        return _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    /// <summary>
    /// ProxyManifest's background push into the project (once per digest at a time, as controller/proxy/inflight.go keeps
    /// it), with skopeo straight into the registry as Harbor's own session, then the scan on push of auto_scan.
    /// </summary>
    private void CacheInBackground(string repository, ProxyCacheUpstream upstream, string? tag, string digest)
    {
        lock (_gate)
        {
            if (!_proxyCacheInFlight.Add($"{repository}@{digest}")) return;
            _proxyCacheRuns.Add(Task.Run(async () =>
            {
                try
                {
                    var now = DateTimeOffset.UtcNow;
                    var token = LabTokenService.SignJwt(LabTokenService.SharedSigningCertificate, TokenIssuer, TokenService, "harbor-proxy-cache",
                        [new LabAccess("repository", repository, ["pull", "push"])], now, now.AddMinutes(5));
                    var arguments = new List<string> { "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-registry-token", token };
                    if (upstream.Endpoint.AccessKey is not null) arguments.AddRange(["--src-creds", $"{upstream.Endpoint.AccessKey}:{upstream.Endpoint.AccessSecret}"]);
                    arguments.Add($"docker://{new Uri(upstream.Endpoint.Url).Authority}/{upstream.Repository}@{digest}");
                    arguments.Add($"docker://{_backing.Registry.Host}/{repository}" + (tag is null ? "@" + digest : ":" + tag));
                    var result = await LabSkopeo.RunAsync(new LabEndpoint(_backing.Registry.BaseUri, null, null), arguments);
                    if (result.ExitCode != 0)
                    {
                        lock (_gate) _failures.Add($"proxy cache of {repository}@{digest} failed: {result.StandardError.Replace(token, "(token)", StringComparison.Ordinal)}");
                        return;
                    }
                    ListingsChanged();
                    await AutoScanAsync(repository, digest, CancellationToken.None);
                }
                finally
                {
                    lock (_gate) _proxyCacheInFlight.Remove($"{repository}@{digest}");
                }
            }));
        }
    }
}
