using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using HarborOps.Lab.Contracts;
using HarborOps.Lab.Entra;

namespace HarborOps.Lab.Graph;

/// <summary>One request Graph answered, with the response as sent, for tests that check what a client sent and judges that hold the answer to Graph's contract.</summary>
public sealed record GraphExchange(string Listener, string Method, string Path, string Query, int Status)
{
    public string? ResponseContentType { get; init; }
    public string ResponseBody { get; init; } = "";
}

/// <summary>
/// Microsoft Graph for the lab, over TLS on loopback, behind the lab's <see cref="EntraEmulator"/> (one tenant for Graph
/// and ACR, as in Azure). It answers the v1.0 subset HarborOps uses (<see cref="GraphEmulator"/>'s routing in GraphApi.cs),
/// validates the token (Entra's signature, audience, expiry, tenant) and the application permissions it carries against
/// each call's documented table (<see cref="GraphPermissions"/>), and answers wrong paths, options and ids with Graph's
/// error bodies. The directory (<see cref="LabDirectory"/>) holds users, groups, directory roles and administrative units.
/// 429s with Retry-After are injected on demand. Strict on purpose: a client that sends what Graph would refuse fails here too.
/// </summary>
public sealed partial class GraphEmulator : IAsyncDisposable
{
    public const string DefaultClientId = "7a0c4b6e-2f2d-4a8e-9d8b-1c2f3e4d5a6b";

    /// <summary>
    /// The application permissions README documents, exactly: GroupMember.Read.All for every call HarborOps makes (least
    /// privileged for the group calls, listed for a user's transitiveMemberOf), User.ReadBasic.All so that the users among
    /// a group's members come back with their names rather than as limited objects.
    /// </summary>
    public static readonly IReadOnlyList<string> HarborOpsRoles = ["GroupMember.Read.All", "User.ReadBasic.All"];

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly LabDirectory _directory = new();
    private readonly List<GraphExchange> _exchanges = [];
    private readonly List<string> _failures = [];
    private readonly bool _ownsEntra;
    private int _throttleRemaining;
    private int _throttleRetryAfterSeconds;
    private (string Property, JsonNode? Value)? _breakNextResponse;

    private GraphEmulator(WebApplication app, EntraEmulator entra, bool ownsEntra, Uri graphEndpoint)
    {
        _app = app;
        Entra = entra;
        _ownsEntra = ownsEntra;
        GraphEndpoint = graphEndpoint;
        // Microsoft Graph's resource principal accepts v1.0 access tokens.
        entra.RegisterResource(Audience, tokenVersion: 1);
        DefaultApp = RegisterApp(DefaultClientId, "lab-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant(), HarborOpsRoles);
    }

    /// <summary>The tenant whose tokens Graph accepts.</summary>
    public EntraEmulator Entra { get; }

    public string TenantId => Entra.TenantId;
    /// <summary>https://127.0.0.1:PORT/: give it to the credential as AuthorityHost.</summary>
    public Uri AuthorityHost => Entra.AuthorityHost;
    /// <summary>https://127.0.0.1:PORT/: the Graph base, as https://graph.microsoft.com/ is for the public cloud.</summary>
    public Uri GraphEndpoint { get; }
    /// <summary>The lab CA that issued both listeners' TLS certificate (trust it, never skip the check).</summary>
    public LabCertificateAuthority CertificateAuthority => Entra.CertificateAuthority;
    public string CertificateAuthorityPem => CertificateAuthority.Pem;
    /// <summary>An app with <see cref="HarborOpsRoles"/>.</summary>
    public EntraApplication DefaultApp { get; }
    /// <summary>Graph tokens Entra issued.</summary>
    public int TokensIssued => Entra.Issued.Count(t => t.Audience == Audience);
    /// <summary>The audience Graph tokens carry and the scope a client must ask for (without "/.default").</summary>
    public string Audience => GraphEndpoint.GetLeftPart(UriPartial.Authority);

    public IReadOnlyList<GraphExchange> Exchanges { get { lock (_gate) return _exchanges.ToArray(); } }

    /// <summary>Exceptions the emulator itself threw (answered 500): a test asserts there are none.</summary>
    public IReadOnlyList<string> Failures { get { lock (_gate) return _failures.ToArray(); } }

    public static Task<GraphEmulator> StartAsync(CancellationToken ct = default) => StartAsync(null, ct);

    /// <param name="entra">The tenant to serve; null starts one for this emulator alone.</param>
    public static async Task<GraphEmulator> StartAsync(EntraEmulator? entra, CancellationToken ct = default)
    {
        var tenant = entra ?? await EntraEmulator.StartAsync(ct);
        try
        {
            var builder = LabKestrel.CreateBuilder(tlsCertificate: LabCertificateAuthority.Shared.IssueLoopbackServerCertificate());
            var app = builder.Build();
            GraphEmulator? emulator = null;
            app.Run(context => emulator!.HandleAsync(context));
            await app.StartAsync(ct);
            emulator = new GraphEmulator(app, tenant, entra is null, LabKestrel.BoundAddresses(app)[0]);
            return emulator;
        }
        catch
        {
            if (entra is null) await tenant.DisposeAsync();
            throw;
        }
    }

    /// <summary>A handler that checks the emulator's certificate against the lab CA, for in-process clients.</summary>
    public HttpMessageHandler CreateTrustingHandler() => CertificateAuthority.CreateTrustingHandler();

    // ---------------------------------------------------------------- the directory (in process; also over /_lab/)

    /// <summary>An app of the tenant with these Graph application roles.</summary>
    public EntraApplication RegisterApp(string clientId, string clientSecret, IReadOnlyList<string> roles, X509Certificate2? certificate = null) =>
        Entra.RegisterApplication(clientId, clientSecret, roles, certificate);

    public string AddUser(string displayName, string userPrincipalName, string? id = null) => _directory.Add(LabObjectKinds.User, displayName, userPrincipalName, id);

    public string AddGroup(string displayName, string? id = null) => _directory.Add(LabObjectKinds.Group, displayName, null, id);

    /// <summary>An activated directory role (members: users and role-assignable groups). Entra's groups claim can carry roles.</summary>
    public string AddDirectoryRole(string displayName, string? id = null) => _directory.Add(LabObjectKinds.DirectoryRole, displayName, null, id);

    /// <summary>An administrative unit (members: users and groups). A user's transitiveMemberOf lists it; a groups claim never does.</summary>
    public string AddAdministrativeUnit(string displayName, string? id = null) => _directory.Add(LabObjectKinds.AdministrativeUnit, displayName, null, id);

    /// <summary>Makes users or groups direct members of a group, directory role or administrative unit (Graph's transitive views expand nested groups).</summary>
    public void AddMembers(string containerId, IEnumerable<string> memberIds) => _directory.AddMembers(containerId, memberIds);

    public void RemoveMember(string containerId, string memberId) => _directory.RemoveMember(containerId, memberId);

    /// <summary>The next <paramref name="count"/> Graph requests get 429 with Retry-After (seconds).</summary>
    public void ThrottleNext(int count, int retryAfterSeconds)
    {
        lock (_gate)
        {
            _throttleRemaining = count;
            _throttleRetryAfterSeconds = retryAfterSeconds;
        }
    }

    /// <summary>
    /// Fault injection for the contract judges' own test: the next JSON response Graph sends gets this top-level property
    /// set (a value the contract does not allow proves a broken response fails the test that caused it).
    /// </summary>
    public void BreakNextResponse(string property, JsonNode? value)
    {
        lock (_gate) _breakNextResponse = (property, value);
    }

    private void ApplyBreak(JsonNode body)
    {
        (string Property, JsonNode? Value)? broken;
        lock (_gate)
        {
            broken = _breakNextResponse;
            _breakNextResponse = null;
        }
        if (broken is var (property, value) && body is JsonObject json) json[property] = value?.DeepClone();
    }

    private async Task HandleAsync(HttpContext context)
    {
        const string listener = "graph";
        if (context.Request.Path.StartsWithSegments("/_lab", out var rest))
        {
            await GuardedAsync(context, () => HandleControlAsync(context, rest.Value ?? ""));
            return;
        }
        // Graph's answers are kept as sent, so the judges can hold each one to the contract.
        await ResponseCapture.RunAsync(context, () => GuardedAsync(context, () => HandleGraphAsync(context)), (status, contentType, body) =>
        {
            lock (_gate)
            {
                _exchanges.Add(new GraphExchange(listener, context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", status)
                {
                    ResponseContentType = contentType, ResponseBody = body,
                });
            }
        });
    }

    private async Task GuardedAsync(HttpContext context, Func<Task> handle)
    {
        try
        {
            await handle();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An emulator bug must fail the test that hit it, with the reason, rather than look like a service outage.
            lock (_gate) _failures.Add($"{context.Request.Method} {context.Request.Path}: {ex}");
            if (!context.Response.HasStarted) context.Response.StatusCode = 500;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsEntra) await Entra.DisposeAsync();
    }

    public override string ToString() => $"Graph emulator: authority {AuthorityHost}, Graph {GraphEndpoint}, tenant {TenantId}";

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
