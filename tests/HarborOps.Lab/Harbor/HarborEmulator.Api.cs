using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HarborOps.Lab.Harbor;

public sealed partial class HarborEmulator
{
    private static readonly Regex NamePattern = new("^[a-z0-9]+(?:[._-][a-z0-9]+)*$");
    private static readonly Regex SecretRule = new("^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9]).{8,128}$");
    private static readonly string[] BoolKeys =
        ["public", "enable_content_trust", "enable_content_trust_cosign", "auto_sbom_generation", "prevent_vul", "auto_scan", "reuse_sys_cve_allowlist",
         "proxy_cache_local_on_not_found"];
    private static readonly string[] Severities = ["none", "low", "medium", "high", "critical"];
    private static readonly string[] ReportSeverities = ["None", "Unknown", "Negligible", "Low", "Medium", "High", "Critical"];

    /// <summary>The permission catalogue robots may be granted (research §3.6).</summary>
    private static readonly Dictionary<string, string[]> ProjectCatalogue = new()
    {
        ["project"] = ["read", "update", "delete"], ["metadata"] = ["create", "read", "update", "delete", "list"],
        ["repository"] = ["read", "update", "delete", "list", "pull", "push"], ["artifact"] = ["read", "create", "list", "delete"],
        ["scan"] = ["create", "read", "stop"], ["sbom"] = ["create", "stop", "read"], ["tag"] = ["create", "list", "delete"],
        ["accessory"] = ["list"], ["artifact-addition"] = ["read"], ["artifact-label"] = ["create", "delete"], ["scanner"] = ["create", "read"],
        ["label"] = ["create", "read", "update", "delete", "list"], ["quota"] = ["read"], ["log"] = ["list"],
        ["robot"] = ["create", "read", "list", "delete"], ["member"] = ["create", "read", "update", "list", "delete"],
        ["immutable-tag"] = ["create", "delete", "list", "update"], ["tag-retention"] = ["create", "read", "update", "delete", "list"],
        ["notification-policy"] = ["create", "read", "update", "delete", "list"], ["preheat-policy"] = ["create", "read", "update", "delete", "list"],
        ["export-cve"] = ["create", "read"],
    };

    private static readonly Dictionary<string, string[]> SystemCatalogue = new()
    {
        ["audit-log"] = ["list"], ["project"] = ["list", "create"], ["replication-policy"] = ["create", "read", "update", "delete", "list"],
        ["replication"] = ["read", "create", "list"], ["registry"] = ["create", "read", "update", "delete", "list"],
        ["scan-all"] = ["read", "update", "stop", "create"], ["catalog"] = ["read"], ["quota"] = ["read", "list", "update"],
        ["robot"] = ["create", "read", "list", "delete"], ["user"] = ["create", "read", "update", "delete", "list"],
        ["user-group"] = ["create", "read", "update", "delete", "list"], ["label"] = ["read", "create", "delete", "update"],
        ["scanner"] = ["create", "read", "update", "delete", "list"], ["garbage-collection"] = ["read", "create", "list", "update", "stop"],
    };

    private sealed class ApiCall
    {
        public required HttpContext Context { get; init; }
        public required Identity Who { get; init; }
        public required string[] Segments { get; init; }
        public required byte[] Body { get; init; }
        public required string Path { get; init; }
        public string Method => Context.Request.Method;
        public string? Query(string name) => Context.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;
        public bool ByName => string.Equals(Context.Request.Headers["X-Is-Resource-Name"].ToString(), "true", StringComparison.OrdinalIgnoreCase);
        public bool Is(string method, params string[] pattern) =>
            Method == method && Segments.Length == pattern.Length && pattern.Select((p, i) => p == "*" || p == Segments[i]).All(x => x);
    }

    private async Task HandleApiAsync(HttpContext context, string path)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var call = new ApiCall
        {
            Context = context, Who = Authenticate(context.Request.Headers.Authorization.ToString()),
            Segments = path.TrimEnd('/').Split('/'), Body = buffer.ToArray(), Path = path,
        };
        // Harbor's CSRF middleware skips /api/ only when there is no session cookie.
        if (call.Method is "POST" or "PUT" or "PATCH" or "DELETE" && context.Request.Cookies.ContainsKey("sid"))
        {
            await FailAsync(call, 403, "FORBIDDEN", "CSRF token invalid");
            return;
        }
        if (call.Query("page_size") is { } pageSize && (!long.TryParse(pageSize, out var size) || size > 100))
        {
            await FailAsync(call, 422, "UNPROCESSABLE_ENTITY", "page_size in query should be less than or equal to 100");
            return;
        }
        if (call.Method is not ("GET" or "HEAD")) ListingsChanged();
        try
        {
            await RouteAsync(call);
        }
        catch (JsonException ex)
        {
            await FailAsync(call, 400, "BAD_REQUEST", "invalid request body: " + ex.Message);
        }
        finally
        {
            // Again once the change is made: a listing read while it was under way must not be kept.
            if (call.Method is not ("GET" or "HEAD")) ListingsChanged();
        }
    }

    private Task RouteAsync(ApiCall c)
    {
        var s = c.Segments;
        if (c.Is("GET", "systeminfo")) return SystemInfoAsync(c);
        if (c.Is("GET", "users", "current")) return CurrentUserAsync(c);
        if (c.Is("GET", "statistics")) return StatisticsAsync(c);
        if (c.Is("GET", "projects")) return ListProjectsAsync(c);
        if (c.Is("HEAD", "projects")) return HeadProjectAsync(c);
        if (c.Is("POST", "projects")) return CreateProjectAsync(c);
        if (s.Length >= 2 && s[0] == "projects")
        {
            var byName = s.Length >= 3 && s[2] == "repositories" || c.ByName;
            LabHarborProject? project;
            lock (_gate) project = FindProject(s[1], byName);
            if (project is null || !Visible(c.Who, project))
                return c.Who.IsAnonymous && project is not null
                    ? FailAsync(c, 401, "UNAUTHORIZED", "unauthorized")
                    : FailAsync(c, 404, "NOT_FOUND", $"project {s[1]} not found");
            if (c.Is("GET", "projects", "*")) return GetProjectAsync(c, project);
            if (c.Is("PUT", "projects", "*")) return UpdateProjectAsync(c, project);
            if (c.Is("DELETE", "projects", "*")) return DeleteProjectAsync(c, project);
            if (c.Is("GET", "projects", "*", "summary")) return SummaryAsync(c, project);
            if (c.Is("GET", "projects", "*", "members")) return ListMembersAsync(c, project);
            if (c.Is("POST", "projects", "*", "members")) return AddMemberAsync(c, project);
            if (c.Is("GET", "projects", "*", "members", "*")) return GetMemberAsync(c, project, s[3]);
            if (c.Is("PUT", "projects", "*", "members", "*")) return UpdateMemberAsync(c, project, s[3]);
            if (c.Is("DELETE", "projects", "*", "members", "*")) return DeleteMemberAsync(c, project, s[3]);
            if (c.Is("GET", "projects", "*", "repositories")) return ListRepositoriesAsync(c, project);
            if (c.Is("GET", "projects", "*", "artifacts")) return ListProjectArtifactsAsync(c, project);
            if (RouteImmutableAsync(c, project) is { } immutable) return immutable;
            if (s.Length >= 4 && s[2] == "repositories")
            {
                var repository = project.Name + "/" + Uri.UnescapeDataString(s[3]);
                if (c.Is("GET", "projects", "*", "repositories", "*")) return GetRepositoryAsync(c, project, repository);
                if (c.Is("DELETE", "projects", "*", "repositories", "*")) return DeleteRepositoryAsync(c, project, repository);
                if (c.Is("GET", "projects", "*", "repositories", "*", "artifacts")) return ListArtifactsAsync(c, project, repository);
                if (s.Length >= 6 && s[4] == "artifacts")
                {
                    var reference = s[5];
                    if (c.Is("GET", "projects", "*", "repositories", "*", "artifacts", "*")) return GetArtifactAsync(c, project, repository, reference);
                    if (c.Is("POST", "projects", "*", "repositories", "*", "artifacts", "*", "scan")) return ScanArtifactAsync(c, project, repository, reference);
                    if (c.Is("GET", "projects", "*", "repositories", "*", "artifacts", "*", "additions", "vulnerabilities")) return VulnerabilitiesAsync(c, project, repository, reference);
                    if (c.Is("GET", "projects", "*", "repositories", "*", "artifacts", "*", "accessories")) return AccessoriesAsync(c, project, repository, reference);
                }
            }
        }
        if (c.Is("GET", "robots")) return ListRobotsAsync(c);
        if (c.Is("POST", "robots")) return CreateRobotAsync(c);
        if (s.Length == 2 && s[0] == "robots")
        {
            if (!long.TryParse(s[1], out var id)) return FailAsync(c, 400, "BAD_REQUEST", $"invalid robot id {s[1]}");
            if (c.Is("GET", "robots", "*")) return GetRobotAsync(c, id);
            if (c.Is("PUT", "robots", "*")) return UpdateRobotAsync(c, id);
            if (c.Is("PATCH", "robots", "*")) return RefreshRobotAsync(c, id);
            if (c.Is("DELETE", "robots", "*")) return DeleteRobotAsync(c, id);
        }
        if (c.Is("GET", "quotas")) return ListQuotasAsync(c);
        if (c.Is("GET", "quotas", "*")) return GetQuotaAsync(c, s[1]);
        if (c.Is("PUT", "quotas", "*")) return UpdateQuotaAsync(c, s[1]);
        if (c.Is("POST", "system", "scanAll", "schedule")) return ScanAllAsync(c);
        if (c.Is("GET", "scans", "all", "metrics")) return ScanAllMetricsAsync(c);
        if (RouteReplicationAsync(c) is { } replication) return replication;
        if (RouteConfigurationsAsync(c) is { } configurations) return configurations;
        if (RouteSystemAsync(c) is { } system) return system;
        if (RouteGcAsync(c) is { } gc) return gc;
        if (RouteRetentionAsync(c) is { } retention) return retention;
        return FailAsync(c, 404, "NOT_FOUND", $"{c.Method} /api/v2.0/{c.Path} is not emulated");
    }

    // ---------------------------------------------------------------- responses

    private async Task ReplyAsync(ApiCall c, int status, object? body, IDictionary<string, string>? headers = null)
    {
        var bytes = body is null ? [] : body is byte[] raw ? raw : JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), Json);
        await WriteAsync(c, status, body is null ? null : "application/json; charset=utf-8", bytes, headers);
    }

    private Task FailAsync(ApiCall c, int status, string code, string message) =>
        WriteAsync(c, status, "application/json; charset=utf-8",
            JsonSerializer.SerializeToUtf8Bytes(new { errors = new[] { new { code, message } } }, Json), null);

    private async Task WriteAsync(ApiCall c, int status, string? contentType, byte[] bytes, IDictionary<string, string>? headers)
    {
        var response = c.Context.Response;
        var requestId = c.Context.Request.Headers["X-Request-Id"].ToString();
        if (string.IsNullOrEmpty(requestId)) requestId = Guid.NewGuid().ToString();
        response.StatusCode = status;
        response.Headers["X-Request-Id"] = requestId;
        // Real Harbor answers Basic-auth API calls with a session cookie; a client that keeps it trips the CSRF check.
        response.Headers.SetCookie = $"sid={Sha(requestId)[..32]}; Path=/; HttpOnly";
        if (headers is not null) foreach (var (name, value) in headers) response.Headers[name] = value;
        if (contentType is not null) response.ContentType = contentType;
        var recorded = new HarborExchange(c.Method, "/api/v2.0/" + c.Path, c.Context.Request.QueryString.Value ?? "",
            c.Context.Request.Headers.ToDictionary(h => h.Key, h => h.Key == "Authorization" ? "(redacted)" : h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            c.Body, status, contentType, bytes,
            response.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        lock (_gate) _exchanges.Add(recorded);
        if (c.Method != "HEAD" && bytes.Length > 0) await response.Body.WriteAsync(bytes, c.Context.RequestAborted);
    }

    /// <summary>Harbor's paging: page (1-based), page_size (default 10), X-Total-Count and a relative Link header.</summary>
    private static List<T> Page<T>(ApiCall c, IReadOnlyList<T> all, Dictionary<string, string> headers)
    {
        var page = Math.Max(1, int.TryParse(c.Query("page"), out var p) ? p : 1);
        var size = int.TryParse(c.Query("page_size"), out var ps) && ps > 0 ? ps : 10;
        headers["X-Total-Count"] = all.Count.ToString(CultureInfo.InvariantCulture);
        var links = new List<string>();
        string Url(int n)
        {
            var query = c.Context.Request.Query.Where(q => q.Key is not ("page" or "page_size"))
                .Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value.ToString())}").Append($"page={n}").Append($"page_size={size}");
            // Harbor's link is the request's URL with another query (handler/base.go Links: ul := *u ... ul.String()), and
            // Go's URL.String keeps the path as it was sent (RawPath), so a repository name stays encoded twice.
            var raw = c.Context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
            return $"<{(raw.IndexOf('?') is >= 0 and var q ? raw[..q] : raw)}?{string.Join('&', query)}>";
        }
        if (page > 1) links.Add(Url(page - 1) + "; rel=\"prev\"");
        if ((long)page * size < all.Count) links.Add(Url(page + 1) + "; rel=\"next\"");
        if (links.Count > 0) headers["Link"] = string.Join(" , ", links);
        return all.Skip((page - 1) * size).Take(size).ToList();
    }

    private async Task ReplyPagedAsync<T>(ApiCall c, IReadOnlyList<T> all)
    {
        var headers = new Dictionary<string, string>();
        var page = Page(c, all, headers);
        await ReplyAsync(c, 200, page, headers);
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static JsonNode? ParseBody(ApiCall c) => c.Body.Length == 0 ? null : JsonNode.Parse(c.Body);

    private static string? Str(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    // ---------------------------------------------------------------- system

    private Task SystemInfoAsync(ApiCall c)
    {
        var info = new Dictionary<string, object?> { ["auth_mode"] = AuthMode, ["primary_auth_mode"] = false, ["self_registration"] = false };
        if (!c.Who.IsAnonymous)
        {
            info["harbor_version"] = _options.HarborVersion;
            info["external_url"] = BaseUri.ToString().TrimEnd('/');
            info["registry_url"] = Host;
            info["project_creation_restriction"] = "everyone";
            info["read_only"] = false;
            info["registry_storage_provider_name"] = "filesystem";
            info["has_ca_root"] = false;
            info["current_time"] = Time(DateTimeOffset.UtcNow);
        }
        return ReplyAsync(c, 200, info);
    }

    private Task CurrentUserAsync(ApiCall c)
    {
        if (c.Who.Robot is not null) return FailAsync(c, 412, "PRECONDITION", "get current user not available for security context: robot");
        if (c.Who.User is not { } user) return FailAsync(c, 401, "UNAUTHORIZED", "unauthorized");
        return ReplyAsync(c, 200, new
        {
            UserId = user.Id, Username = user.Name, Email = user.Name + "@lab.invalid", Realname = user.Name, Comment = "",
            SysadminFlag = user.SysAdmin, AdminRoleInAuth = false, CreationTime = Time(user.Created), UpdateTime = Time(user.Created),
        });
    }

    private async Task StatisticsAsync(ApiCall c)
    {
        if (c.Who.IsAnonymous) { await FailAsync(c, 401, "UNAUTHORIZED", "unauthorized"); return; }
        List<LabHarborProject> projects;
        lock (_gate) projects = _projects.Where(p => Visible(c.Who, p)).ToList();
        long publicRepos = 0, privateRepos = 0, storage = 0;
        foreach (var project in projects)
        {
            var artifacts = await ArtifactsAsync(project, null, c.Context.RequestAborted);
            var repos = artifacts.Select(a => a.Repository).Distinct().Count();
            if (project.Flag("public")) publicRepos += repos; else privateRepos += repos;
            storage += UsedStorage(artifacts);
        }
        await ReplyAsync(c, 200, new
        {
            PrivateProjectCount = projects.Count(p => !p.Flag("public")), PrivateRepoCount = privateRepos,
            PublicProjectCount = projects.Count(p => p.Flag("public")), PublicRepoCount = publicRepos,
            TotalProjectCount = projects.Count, TotalRepoCount = publicRepos + privateRepos, TotalStorageConsumption = c.Who.SysAdmin ? storage : 0,
        });
    }

    // ---------------------------------------------------------------- projects

    private LabHarborProject? FindProject(string nameOrId, bool byName) =>
        !byName && int.TryParse(nameOrId, out var id) ? _projects.FirstOrDefault(p => p.Id == id) : _projects.FirstOrDefault(p => p.Name == nameOrId);

    private async Task<object> ProjectJsonAsync(ApiCall c, LabHarborProject project)
    {
        var repoCount = (await ArtifactsAsync(project, null, c.Context.RequestAborted)).Select(a => a.Repository).Distinct().Count();
        lock (_gate)
        {
            var role = RoleOf(c.Who, project);
            return new
            {
                ProjectId = project.Id, OwnerId = project.OwnerId, Name = project.Name, RegistryId = project.RegistryId > 0 ? project.RegistryId : (long?)null,
                CreationTime = Time(project.Created), UpdateTime = Time(project.Updated),
                Deleted = false, OwnerName = project.OwnerName, Togglable = true, CurrentUserRoleId = role ?? 0,
                CurrentUserRoleIds = role is null ? Array.Empty<int>() : [role.Value], RepoCount = repoCount,
                Metadata = new Dictionary<string, string>(project.Metadata),
                CveAllowlist = new
                {
                    Id = project.AllowlistId, ProjectId = project.Id, ExpiresAt = project.AllowlistExpiresAt,
                    Items = project.AllowlistItems.Select(i => new { CveId = i }).ToArray(), CreationTime = Time(project.Created), UpdateTime = Time(project.Updated),
                },
            };
        }
    }

    private async Task GetProjectAsync(ApiCall c, LabHarborProject project) => await ReplyAsync(c, 200, await ProjectJsonAsync(c, project));

    private async Task ListProjectsAsync(ApiCall c)
    {
        List<LabHarborProject> visible;
        lock (_gate)
        {
            var name = c.Query("name");
            var exact = c.Query("q") is { } q && q.StartsWith("name=", StringComparison.Ordinal) && !q.StartsWith("name=~", StringComparison.Ordinal) ? q["name=".Length..] : null;
            visible = _projects.Where(p => Visible(c.Who, p))
                .Where(p => name is null || p.Name.Contains(name, StringComparison.Ordinal))
                .Where(p => exact is null || p.Name == exact)
                .OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        }
        var headers = new Dictionary<string, string>();
        var page = Page(c, visible, headers);
        var json = new List<object>();
        foreach (var project in page) json.Add(await ProjectJsonAsync(c, project));
        await ReplyAsync(c, 200, json, headers);
    }

    private Task HeadProjectAsync(ApiCall c)
    {
        var name = c.Query("project_name");
        if (string.IsNullOrEmpty(name)) return FailAsync(c, 400, "BAD_REQUEST", "project_name is required");
        lock (_gate) return _projects.Any(p => p.Name == name) ? ReplyAsync(c, 200, null) : FailAsync(c, 404, "NOT_FOUND", $"project {name} not found");
    }

    /// <summary>Checks metadata as Harbor does: known keys only, string values, bools "true"/"false", a known severity.</summary>
    private static string? MetadataProblem(JsonObject? metadata, bool creating)
    {
        if (metadata is null) return null;
        foreach (var (key, value) in metadata)
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var text)) return $"invalid metadata value for {key}: values are strings";
            if (BoolKeys.Contains(key)) { if (text is not ("true" or "false")) return $"invalid value '{text}' of {key}: expected true or false"; }
            else if (key == "severity") { if (!Severities.Contains(text.ToLowerInvariant()) && text.ToLowerInvariant() != "negligible") return $"invalid severity '{text}'"; }
            else if (key == "retention_id") { if (creating && text.Length > 0) return "retention_id must be empty on create"; }
            else return $"invalid key: {key}";
        }
        return null;
    }

    private static void ApplyMetadata(LabHarborProject project, JsonObject? metadata)
    {
        if (metadata is null) return;
        foreach (var (key, value) in metadata)
        {
            var text = value!.GetValue<string>();
            if (key == "severity") text = text.ToLowerInvariant() == "negligible" ? "none" : text.ToLowerInvariant();
            project.Metadata[key] = text;
        }
    }

    private static string? ApplyAllowlist(LabHarborProject project, JsonNode? allowlist)
    {
        if (allowlist is not JsonObject list) return null;
        if (list["project_id"] is JsonValue pid && pid.GetValue<long>() is var id && id != 0 && id != project.Id) return "cve_allowlist.project_id must be 0 or the project's own id";
        project.AllowlistItems = list["items"] is JsonArray items ? items.Select(i => Str(i, "cve_id") ?? "").Where(i => i.Length > 0).ToList() : [];
        project.AllowlistExpiresAt = list["expires_at"] is JsonValue exp && exp.TryGetValue<long>(out var e) ? e : null;
        return null;
    }

    private async Task CreateProjectAsync(ApiCall c)
    {
        if (c.Who.IsAnonymous) { await FailAsync(c, 401, "UNAUTHORIZED", "unauthorized"); return; }
        if (c.Who.Robot is { } robot && (robot.Level != "system" || !Can(c.Who, null, "project", "create")))
        {
            await FailAsync(c, 403, "FORBIDDEN", "Only system level robot can create project");
            return;
        }
        var body = ParseBody(c);
        var name = Str(body, "project_name") ?? "";
        if (!NamePattern.IsMatch(name) || name.Length > 255) { await FailAsync(c, 400, "BAD_REQUEST", $"project name is not in lower case or contains illegal characters: {name}"); return; }
        var metadata = body?["metadata"] as JsonObject;
        if (MetadataProblem(metadata, creating: true) is { } problem) { await FailAsync(c, 400, "BAD_REQUEST", problem); return; }
        if (ProxyCacheRefusal(c, body, out var registryId) is { } refused) { await refused; return; }
        LabHarborProject project;
        lock (_gate)
        {
            if (_projects.Any(p => p.Name == name)) { project = null!; }
            else
            {
                var owner = c.Who.User ?? _users.First(u => u.SysAdmin);
                project = new LabHarborProject
                {
                    Id = NextId(), Name = name, OwnerId = owner.Id, OwnerName = owner.Name, AllowlistId = NextId(), QuotaId = NextId(), RegistryId = registryId,
                };
                project.Metadata["public"] = body?["public"] is JsonValue pub && pub.TryGetValue<bool>(out var isPublic) && isPublic ? "true" : "false";
                ApplyMetadata(project, metadata);
                if (registryId > 0) BecomeProxyCache(project);
                if (ApplyAllowlist(project, body?["cve_allowlist"]) is null)
                {
                    var limit = body?["storage_limit"] is JsonValue sl && sl.TryGetValue<long>(out var l) ? l : 0;
                    project.StorageLimit = limit == 0 || !c.Who.SysAdmin ? -1 : limit;
                    _projects.Add(project);
                    if (c.Who.User is { } user)
                        _members.Add(new LabHarborMember { Id = NextId(), ProjectId = project.Id, EntityId = user.Id, EntityType = "u", EntityName = user.Name, RoleId = 1 });
                }
            }
        }
        if (project is null) { await FailAsync(c, 409, "CONFLICT", $"The project named {name} already exists"); return; }
        await ReplyAsync(c, 201, null, new Dictionary<string, string> { ["Location"] = $"/api/v2.0/projects/{project.Id}" });
    }

    private async Task UpdateProjectAsync(ApiCall c, LabHarborProject project)
    {
        if (!Can(c.Who, project, "project", "update")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var body = ParseBody(c);
        var metadata = body?["metadata"] as JsonObject;
        if (MetadataProblem(metadata, creating: false) is { } problem) { await FailAsync(c, 400, "BAD_REQUEST", problem); return; }
        string? allowlistProblem;
        lock (_gate)
        {
            ApplyMetadata(project, metadata);
            allowlistProblem = ApplyAllowlist(project, body?["cve_allowlist"]);
            project.Updated = DateTimeOffset.UtcNow;
        }
        if (allowlistProblem is not null) { await FailAsync(c, 400, "BAD_REQUEST", allowlistProblem); return; }
        await ReplyAsync(c, 200, null);
    }

    private async Task DeleteProjectAsync(ApiCall c, LabHarborProject project)
    {
        if (!Can(c.Who, project, "project", "delete")) { await FailAsync(c, 403, "FORBIDDEN", "forbidden"); return; }
        var artifacts = await ArtifactsAsync(project, null, c.Context.RequestAborted);
        if (artifacts.Count > 0)
        {
            await FailAsync(c, 412, "PRECONDITION", $"the project contains repositories, can not be deleted");
            return;
        }
        lock (_gate)
        {
            _projects.Remove(project);
            _members.RemoveAll(m => m.ProjectId == project.Id);
            _robots.RemoveAll(r => r.ProjectId == project.Id);
        }
        await ReplyAsync(c, 200, null);
    }

    private async Task SummaryAsync(ApiCall c, LabHarborProject project)
    {
        var artifacts = await ArtifactsAsync(project, null, c.Context.RequestAborted);
        int Count(int role) { lock (_gate) return _members.Count(m => m.ProjectId == project.Id && m.RoleId == role); }
        await ReplyAsync(c, 200, new
        {
            RepoCount = artifacts.Select(a => a.Repository).Distinct().Count(),
            Registry = ProxyCacheRegistryJson(project),
            ProjectAdminCount = Count(1), MaintainerCount = Count(4), DeveloperCount = Count(2), GuestCount = Count(3), LimitedGuestCount = Count(5),
            Quota = new
            {
                Hard = new Dictionary<string, long> { ["storage"] = project.StorageLimit },
                Used = new Dictionary<string, long> { ["storage"] = UsedStorage(artifacts) },
            },
        });
    }

    /// <summary>Harbor's quota counts each blob once per project.</summary>
    private static long UsedStorage(IEnumerable<LabArtifact> artifacts) =>
        artifacts.SelectMany(a => a.Blobs.Concat(a.Signature is { } s ? [(s.Digest, s.Size)] : Array.Empty<(string, long)>()))
            .DistinctBy(b => b.Item1).Sum(b => b.Item2);
}
