using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;

namespace HarborOps.Lab.Harbor;

public sealed record HarborEmulatorOptions
{
    /// <summary>The built-in admin's password; random when null.</summary>
    public string? AdminPassword { get; init; }
    /// <summary>How long the fake scanner takes per artifact (Pending/Running until then).</summary>
    public TimeSpan ScanDuration { get; init; } = TimeSpan.FromMilliseconds(300);
    public string HarborVersion { get; init; } = "v2.15.2-lab";
    /// <summary>Registry token lifetime (Harbor's token_expiration, 30 minutes by default).</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>Harbor's system setting robot_name_prefix (default robot$); an admin may change it later over PUT /configurations.</summary>
    public string RobotNamePrefix { get; init; } = HarborEmulator.DefaultRobotNamePrefix;
    /// <summary>Harbor's auth_mode: db_auth (Harbor's default), oidc_auth or ldap_auth; it decides how groups are onboarded.</summary>
    public string AuthMode { get; init; } = HarborAuthModes.Database;
    /// <summary>The LDAP directory's groups (DN to group name; the name defaults to the DN's first value) that ldap_auth finds.</summary>
    public IReadOnlyDictionary<string, string?> LdapGroups { get; init; } = new Dictionary<string, string?>();
}

/// <summary>One API call the emulator answered, for contract validation in the tests.</summary>
public sealed record HarborExchange(string Method, string Path, string Query, IReadOnlyDictionary<string, string> RequestHeaders,
    byte[] RequestBody, int Status, string? ContentType, byte[] ResponseBody, IReadOnlyDictionary<string, string> ResponseHeaders);

/// <summary>
/// An emulator of the Harbor v2.0 API subset HarborOps uses, in front of a real Distribution registry that trusts the
/// emulator's token service at /service/token: projects with metadata and CVE allowlists, quotas, v2 robots with
/// Harbor's naming, secret and duration rules, members, repositories and artifacts derived from the registry's real
/// content (cosign .sig tags become signature accessories), a deterministic fake scanner whose reports tests seed,
/// scan-all, statistics, and /v2/ with Harbor's pull gates (412 PROJECTPOLICYVIOLATION). Strict like Harbor: Set-Cookie
/// sid on API responses and a CSRF 403 for a mutating call that sends it back, 422 for page_size above 100, 409s, 400s
/// for invalid names, and wrong credentials treated as anonymous.
/// </summary>
public sealed partial class HarborEmulator : IAsyncDisposable
{
    public const string TokenService = "harbor-registry";
    public const string TokenIssuer = "harbor-token-issuer";
    /// <summary>Harbor's default robot_name_prefix (src/lib/config/metadata/metadatalist.go).</summary>
    public const string DefaultRobotNamePrefix = "robot$";
    public const string ReportMime = "application/vnd.security.vulnerability.report; version=1.1";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly HarborEmulatorOptions _options;
    private readonly List<HarborExchange> _exchanges = [];
    private readonly List<string> _failures = [];
    private readonly List<LabHarborUser> _users = [];
    private readonly List<LabHarborGroup> _groups = [];
    private readonly List<LabHarborProject> _projects = [];
    private readonly List<LabHarborMember> _members = [];
    private readonly List<LabHarborRobot> _robots = [];
    private readonly Dictionary<string, LabScan> _scans = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (IReadOnlyList<LabVulnerability> Vulnerabilities, bool Fails)> _seededReports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _repositoryIds = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Repository, string Digest), (long Id, DateTimeOffset FirstSeen)> _artifactIds = [];
    private (DateTimeOffset Started, List<string> Digests)? _scanAll;
    private int _nextId = 1;
    private HarborBackingRegistry _backing = null!;

    private HarborEmulator(WebApplication app, HarborEmulatorOptions options, Uri baseUri)
    {
        _app = app;
        _options = options;
        _robotNamePrefix = ValidRobotNamePrefix(options.RobotNamePrefix)
            ?? throw new ArgumentException("robot_name_prefix cannot be empty or contain only spaces", nameof(options));
        BaseUri = baseUri;
        AdminPassword = options.AdminPassword ?? "Harbor" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        _users.Add(new LabHarborUser { Id = NextId(), Name = AdminUser, Password = AdminPassword, SysAdmin = true });
        SetAuthMode(options.AuthMode);
        foreach (var (dn, name) in options.LdapGroups) AddLdapGroup(dn, name);
    }

    public Uri BaseUri { get; }
    /// <summary>host:port, the registry name image references and pull secrets use.</summary>
    public string Host => BaseUri.Authority;
    public string AdminUser => "admin";
    public string AdminPassword { get; }
    /// <summary>The real registry behind /v2/ (reach it through the emulator; its own token realm is the emulator).</summary>
    public DistributionRegistry Registry => _backing.Registry;
    /// <summary>The admin as a lab endpoint, for LabContent pushes through the emulator's /v2/ and token service.</summary>
    public LabEndpoint AdminEndpoint => new(BaseUri, AdminUser, AdminPassword);
    public TimeSpan ScanDuration => _options.ScanDuration;

    /// <summary>Every API call answered so far (not /v2/ or /service/token traffic).</summary>
    public IReadOnlyList<HarborExchange> Exchanges { get { lock (_gate) return _exchanges.ToArray(); } }

    public static async Task<HarborEmulator> StartAsync(HarborEmulatorOptions? options = null, CancellationToken ct = default)
    {
        options ??= new HarborEmulatorOptions();
        var builder = LabKestrel.CreateBuilder();
        var app = builder.Build();
        HarborEmulator? emulator = null;
        app.Run(context => emulator!.HandleAsync(context));
        await app.StartAsync(ct);
        emulator = new HarborEmulator(app, options, LabKestrel.BoundAddresses(app)[0]);
        try
        {
            var certificate = LabTokenService.SharedSigningCertificate;
            var registry = await DistributionRegistry.StartAsync(new DistributionRegistryOptions
            {
                Auth = RegistryAuthMode.Token,
                ExternalTokenIssuer = new LabExternalTokenIssuer(new Uri(emulator.BaseUri, "service/token"), TokenService, TokenIssuer, certificate.ExportCertificatePem()),
            }, ct);
            emulator._backing = new HarborBackingRegistry(registry, access =>
                LabTokenService.SignJwt(certificate, TokenIssuer, TokenService, "harbor-core", access, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5)));
        }
        catch
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            throw;
        }
        return emulator;
    }

    // ---------------------------------------------------------------- lab control (in process; also over /_lab/)

    /// <summary>Adds a local user; with a CLI secret it behaves like an OIDC user (the secret is its Basic password).</summary>
    public void AddUser(string name, string password, bool sysAdmin = false, string? cliSecret = null)
    {
        lock (_gate)
        {
            _users.RemoveAll(u => u.Name == name);
            _users.Add(new LabHarborUser { Id = NextId(), Name = name, Password = password, SysAdmin = sysAdmin, CliSecret = cliSecret });
        }
    }

    /// <summary>What the fake scanner will report for this digest the next time it scans it (clean when never seeded).</summary>
    public void SeedScanReport(string digest, IEnumerable<LabVulnerability> vulnerabilities, bool fails = false)
    {
        lock (_gate) _seededReports[digest] = (vulnerabilities.ToList(), fails);
    }

    /// <summary>Marks an artifact scanned with the seeded (or a clean) report at once, as if a scan had finished.</summary>
    public void CompleteScan(string digest)
    {
        lock (_gate) _scans[digest] = NewScan(digest, DateTimeOffset.UtcNow.AddSeconds(-1), TimeSpan.Zero);
    }

    public void ClearExchanges()
    {
        lock (_gate) _exchanges.Clear();
    }

    private int NextId() => _nextId++;

    private LabScan NewScan(string digest, DateTimeOffset started, TimeSpan duration)
    {
        var seeded = _seededReports.TryGetValue(digest, out var report) ? report : ([], false);
        return new LabScan
        {
            ReportId = Guid.NewGuid().ToString(), Started = started, Finishes = started + duration,
            Vulnerabilities = seeded.Vulnerabilities, Fails = seeded.Fails,
        };
    }

    // ---------------------------------------------------------------- dispatch

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var question = raw.IndexOf('?');
        var rawPath = question < 0 ? raw : raw[..question];
        // Like Go's URL.Path: decoded once, so a single-encoded '/' in a repository name splits the path (Harbor wants %252F).
        var path = Uri.UnescapeDataString(rawPath);
        try
        {
            if (path.StartsWith("/api/v2.0/", StringComparison.Ordinal)) await HandleApiAsync(context, path["/api/v2.0/".Length..]);
            else if (path == "/v2" || path.StartsWith("/v2/", StringComparison.Ordinal)) await ProxyV2Async(context, raw);
            else if (path == "/service/token") await TokenAsync(context);
            else if (path.StartsWith("/_lab/", StringComparison.Ordinal)) await ControlAsync(context, path["/_lab/".Length..]);
            else context.Response.StatusCode = 404;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
        catch (Exception ex)
        {
            // Harbor hides the cause of a 500 behind its request id; the lab keeps it for the test that hit it.
            lock (_gate) _failures.Add($"{context.Request.Method} {raw}: {ex}");
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = 500;
                await context.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "UNKNOWN", message = "internal server error" } } });
            }
        }
    }

    /// <summary>Emulator defects (unhandled exceptions behind a 500), for test diagnostics.</summary>
    public IReadOnlyList<string> Failures { get { lock (_gate) return _failures.ToArray(); } }

    // ---------------------------------------------------------------- identity

    private sealed record Identity(LabHarborUser? User, LabHarborRobot? Robot)
    {
        public static readonly Identity Anonymous = new(null, null);
        public bool IsAnonymous => User is null && Robot is null;
        public bool SysAdmin => User?.SysAdmin == true;
    }

    /// <summary>Harbor's Basic auth: robot (prefix) or user (password or CLI secret). A failure is anonymous, not an error.
    /// As Harbor's security middleware (src/server/middleware/security/security.go) runs its generators in turn, robot.go
    /// takes a name with the configured prefix (config.RobotPrefix) and looks the robot up by the rest; a name it finds
    /// no robot for falls through to basic_auth.go, so a user whose name happens to start with the prefix still logs in.</summary>
    private Identity Authenticate(string? header)
    {
        if (string.IsNullOrEmpty(header) || !LabTokenService.TryParseBasic(header, out var name, out var secret)) return Identity.Anonymous;
        lock (_gate)
        {
            if (name.StartsWith(_robotNamePrefix, StringComparison.Ordinal))
            {
                var stored = name[_robotNamePrefix.Length..];
                var robot = _robots.FirstOrDefault(r => r.StoredName == stored);
                if (robot is not null)
                    return robot.SecretMatches(secret) && !robot.Disabled && !robot.Expired(DateTimeOffset.UtcNow)
                        ? new Identity(null, robot)
                        : Identity.Anonymous;
            }
            var user = _users.FirstOrDefault(u => u.Name == name);
            return user is not null && (user.Password == secret || (user.CliSecret is not null && user.CliSecret == secret))
                ? new Identity(user, null)
                : Identity.Anonymous;
        }
    }

    private int? RoleOf(Identity identity, LabHarborProject project) =>
        identity.User is null ? null : _members.FirstOrDefault(m => m.ProjectId == project.Id && m.EntityType == "u" && m.EntityId == identity.User.Id)?.RoleId;

    private static readonly string[] ReadActions = ["read", "list", "pull"];

    /// <summary>Harbor's RBAC in the small: roles for users, the permission list for robots, public read for anyone.</summary>
    private bool Can(Identity identity, LabHarborProject? project, string resource, string action)
    {
        if (identity.SysAdmin) return true;
        if (identity.Robot is { } robot)
        {
            return robot.Permissions.Any(p =>
                (project is null ? p.Kind == "system" : p.Kind == "project" && (p.Namespace == project.Name || (p.Namespace == "*" && robot.Level == "system")))
                && p.Access.Any(a => a.Resource == resource && a.Action == action && a.Effect != "deny"));
        }
        if (project is null) return false;
        if (project.Flag("public") && resource is "project" or "repository" or "artifact" or "tag" or "accessory" or "artifact-addition" && ReadActions.Contains(action)) return true;
        var role = RoleOf(identity, project);
        return role switch
        {
            1 => true,
            4 => !(resource is "member" or "robot" && action is "create" or "update" or "delete") && !(resource == "project" && action is "delete"),
            2 => ReadActions.Contains(action) || (resource == "repository" && action == "push") || (resource is "scan" or "artifact" or "tag" && action == "create"),
            3 or 5 => ReadActions.Contains(action) && resource != "robot" && resource != "member",
            _ => false,
        };
    }

    private bool Visible(Identity identity, LabHarborProject project) =>
        identity.SysAdmin || project.Flag("public") || Can(identity, project, "project", "read") || RoleOf(identity, project) is not null
        || identity.Robot is { } robot && robot.Permissions.Any(p => p.Kind == "project" && (p.Namespace == project.Name || p.Namespace == "*"));

    public async ValueTask DisposeAsync()
    {
        Task[] replications;
        lock (_gate) replications = [.. _replicationRuns, .. _proxyCacheRuns];
        // A replication or proxy cache still copying would write into the registry that is about to stop.
        await Task.WhenAny(Task.WhenAll(replications), Task.Delay(TimeSpan.FromSeconds(30)));
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
        if (_backing is not null)
        {
            _backing.Http.Dispose();
            await _backing.Registry.DisposeAsync();
        }
    }

    public override string ToString() => $"Harbor emulator at {BaseUri} (registry {Registry.Host})";

    private static string Sha(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
}
