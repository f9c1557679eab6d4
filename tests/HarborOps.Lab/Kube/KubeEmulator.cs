using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace HarborOps.Lab.Kube;

public sealed record KubeEmulatorOptions
{
    /// <summary>How long each rollout step (one pod replaced or made ready) takes.</summary>
    public TimeSpan RolloutStepInterval { get; init; } = TimeSpan.FromMilliseconds(60);
    /// <summary>How long a Job's pod runs before it succeeds.</summary>
    public TimeSpan JobDuration { get; init; } = TimeSpan.FromMilliseconds(150);
    /// <summary>Nodes a DaemonSet schedules one pod on each of.</summary>
    public int DaemonSetNodes { get; init; } = 2;
    /// <summary>What /version reports (kubectl warns when its own minor version is more than one away).</summary>
    public string GitVersion { get; init; } = "v1.32.4";
}

/// <summary>One API request the emulator answered: who, what, and the status, for tests that assert on the traffic.</summary>
public sealed record KubeRequest(string Method, string Path, string Query, string User, string? ContentType, int Status);

/// <summary>
/// An injected failure: the next <see cref="Times"/> requests that match answer <see cref="Code"/> with a Status of
/// <see cref="Reason"/> (a Conflict gets the API server's conflict wording). Null filters match anything.
/// </summary>
public sealed record KubeFault
{
    /// <summary>get, list, watch, create, update, patch, delete; "write" matches create, update, patch and delete.</summary>
    public string? Verb { get; init; }
    public string? Resource { get; init; }
    public string? Namespace { get; init; }
    public string? Name { get; init; }
    public int Code { get; init; } = 409;
    public string Reason { get; init; } = "Conflict";
    public int Times { get; init; } = 1;
}

/// <summary>
/// An emulator of the Kubernetes API server subset HarborOps uses: core/v1 namespaces, secrets, service accounts and
/// pods, apps/v1 deployments, statefulsets, daemonsets and replicasets, batch/v1 jobs and cronjobs. Strict where a
/// client could get it wrong: resourceVersion conflicts, the API server's Status objects and wording, atomic versus
/// merged lists in strategic merge patches, immutable secret types, bearer tokens with RBAC-like rules whose denials
/// name verb, resource and namespace, watches, and discovery good enough for the real kubectl. Controllers create
/// ReplicaSets, Pods and Jobs with ownerReferences and roll workloads out step by step after a template change; a
/// test can stall a rollout until its progress deadline passes. Indexed Jobs run one pod per index with per-index
/// retries and the pod failure policy, and a test ends each index with an exit code and a termination message.
/// </summary>
public sealed partial class KubeEmulator : IAsyncDisposable
{
    public const string AdminUser = "lab-admin";
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    // Go's encoding/json escapes a quote as \" (not \u0022): clients compare messages, so write them the same way.
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly KubeEmulatorOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly List<KubeTokenGrant> _tokens = [];
    private readonly List<KubeFault> _faults = [];
    private readonly List<KubeRequest> _requests = [];
    private readonly List<string> _failures = [];
    private readonly List<Watcher> _watchers = [];
    private readonly LinkedList<WatchEvent> _history = new();
    private readonly Dictionary<string, string> _imageDigests = new(StringComparer.Ordinal);
    private long _resourceVersion = 1000;
    private Task _controllers = Task.CompletedTask;

    private KubeEmulator(WebApplication app, KubeEmulatorOptions options, Uri baseUri, LabCertificateAuthority certificateAuthority)
    {
        _app = app;
        CertificateAuthority = certificateAuthority;
        _options = options;
        BaseUri = baseUri;
        AdminToken = NewToken();
        _tokens.Add(new KubeTokenGrant(AdminUser, AdminToken, [KubeAccessRule.Everything]));
    }

    /// <summary>https://127.0.0.1:PORT/ — the server a kubeconfig names (its CA is <see cref="CertificateAuthority"/>).</summary>
    public Uri BaseUri { get; }
    /// <summary>The lab CA that issued the serving certificate: what a kubeconfig's certificate-authority-data carries.
    /// TLS is not optional: kubectl (client-go) never sends a bearer token over plain http (kubernetes/kubectl#744), so
    /// token authentication and RBAC can only be tested over https.</summary>
    public LabCertificateAuthority CertificateAuthority { get; }
    public string Server => BaseUri.AbsoluteUri.TrimEnd('/');
    /// <summary>Bearer token of <see cref="AdminUser"/>, who may do everything.</summary>
    public string AdminToken { get; }
    public KubeEmulatorOptions Options => _options;

    /// <summary>When true every connection is dropped before an answer, as if the server were gone (the lab's /_lab/ control still answers).</summary>
    public bool Unreachable { get; set; }

    public static async Task<KubeEmulator> StartAsync(KubeEmulatorOptions? options = null, CancellationToken ct = default)
    {
        options ??= new KubeEmulatorOptions();
        var authority = LabCertificateAuthority.Shared;
        var builder = LabKestrel.CreateBuilder(tlsCertificate: authority.IssueLoopbackServerCertificate());
        var app = builder.Build();
        KubeEmulator? emulator = null;
        app.Run(context => emulator!.HandleAsync(context));
        await app.StartAsync(ct);
        emulator = new KubeEmulator(app, options, LabKestrel.BoundAddresses(app)[0], authority);
        emulator.SeedSystemNamespaces();
        emulator._controllers = Task.Run(() => emulator.RunControllersAsync(emulator._stopping.Token));
        return emulator;
    }

    // ---------------------------------------------------------------- lab control (in process; also over /_lab/)

    /// <summary>Adds a bearer token for <paramref name="user"/> with exactly these rules and returns it.</summary>
    public KubeTokenGrant AddToken(string user, params KubeAccessRule[] rules)
    {
        var grant = new KubeTokenGrant(user, NewToken(), rules);
        lock (_gate) _tokens.Add(grant);
        return grant;
    }

    /// <summary>Revokes a token: its next request is 401 Unauthorized.</summary>
    public void RevokeToken(string token)
    {
        lock (_gate) _tokens.RemoveAll(t => t.Token == token);
    }

    /// <summary>Queues a failure for the next matching requests (after authentication and authorization).</summary>
    public void InjectFault(KubeFault fault)
    {
        lock (_gate) _faults.Add(fault);
    }

    /// <summary>The next <paramref name="times"/> writes (update, patch) of <paramref name="resource"/> answer 409 Conflict.</summary>
    public void InjectConflicts(string resource, int times = 1, string? ns = null) =>
        InjectFault(new KubeFault { Verb = "write", Resource = resource, Namespace = ns, Times = times });

    public void ClearFaults()
    {
        lock (_gate) _faults.Clear();
    }

    /// <summary>
    /// Stalls (or resumes) a Deployment's, StatefulSet's, DaemonSet's or Job's progress: the next new pod stays in
    /// ImagePullBackOff, so a Deployment's Progressing condition turns False with ProgressDeadlineExceeded once its
    /// progressDeadlineSeconds pass without progress.
    /// </summary>
    public void SetStalled(string kind, string ns, string name, bool stalled = true)
    {
        var type = KubeResourceType.OfKind(kind);
        lock (_gate)
        {
            var key = Key(type, ns, name);
            if (!_objects.ContainsKey(key)) throw new InvalidOperationException($"no {kind} {ns}/{name} to stall");
            if (stalled) _stalled.Add(key);
            else _stalled.Remove(key);
            _dirty.Add(key);
        }
    }

    /// <summary>The digest a node resolves <paramref name="image"/> to (what pods report as imageID).</summary>
    public void SetImageDigest(string image, string digest)
    {
        lock (_gate) _imageDigests[image] = digest;
    }

    /// <summary>Every API request answered so far (not /_lab/).</summary>
    public IReadOnlyList<KubeRequest> Requests { get { lock (_gate) return _requests.ToArray(); } }

    public void ClearRequests()
    {
        lock (_gate) _requests.Clear();
    }

    /// <summary>Emulator defects (unhandled exceptions behind a 500), for test diagnostics.</summary>
    public IReadOnlyList<string> Failures { get { lock (_gate) return _failures.ToArray(); } }

    /// <summary>A copy of a stored object as a GET would return it, or null.</summary>
    public JsonObject? Get(KubeResourceType type, string? ns, string name)
    {
        lock (_gate) return _objects.TryGetValue(Key(type, ns, name), out var item) ? (JsonObject)item.DeepClone() : null;
    }

    /// <summary>Copies of the stored objects of a type, in one namespace or all.</summary>
    public IReadOnlyList<JsonObject> List(KubeResourceType type, string? ns = null)
    {
        lock (_gate) return ListLocked(type, ns).Select(o => (JsonObject)o.DeepClone()).ToList();
    }

    /// <summary>Creates an object as the admin would (validation, defaults and controllers included), returning what was stored.</summary>
    public JsonObject Create(KubeResourceType type, JsonObject body, string? ns = null)
    {
        lock (_gate) return (JsonObject)CreateLocked(type, ns ?? body["metadata"]?["namespace"]?.GetValue<string>(), (JsonObject)body.DeepClone()).DeepClone();
    }

    /// <summary>Creates a namespace with these labels (and its default ServiceAccount, as the controller would).</summary>
    public JsonObject CreateNamespace(string name, IReadOnlyDictionary<string, string>? labels = null)
    {
        var metadata = new JsonObject { ["name"] = name };
        if (labels is not null) metadata["labels"] = new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
        return Create(KubeResourceType.Namespaces, new JsonObject { ["metadata"] = metadata });
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds for the stored object.</summary>
    public async Task<JsonObject> WaitForAsync(KubeResourceType type, string? ns, string name, Func<JsonObject, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var item = Get(type, ns, name);
            if (item is not null && condition(item)) return item;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{type.Kind} {ns}/{name} did not reach the expected state in {timeout.TotalSeconds:0.#} s: {item?.ToJsonString()}");
            await Task.Delay(20);
        }
    }

    // ---------------------------------------------------------------- dispatch

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var question = raw.IndexOf('?');
        var path = Uri.UnescapeDataString(question < 0 ? raw : raw[..question]);
        if (path.StartsWith("/_lab/", StringComparison.Ordinal))
        {
            await ControlAsync(context, path["/_lab/".Length..]);
            return;
        }
        if (Unreachable)
        {
            context.Abort();
            return;
        }
        var user = "";
        try
        {
            var grant = Authenticate(context.Request.Headers.Authorization.ToString());
            user = grant.User;
            if (path is "/version" or "/version/") await WriteJsonAsync(context, 200, VersionInfo());
            else if (await OpenApiAsync(context, path)) { /* served */ }
            else if (Discovery(path) is { } document) await WriteJsonAsync(context, 200, document);
            else if (path.StartsWith("/api/", StringComparison.Ordinal) || path.StartsWith("/apis/", StringComparison.Ordinal)) await ResourceAsync(context, grant, path);
            else throw KubeApiError.NotFoundPath();
        }
        catch (KubeApiError error)
        {
            if (!context.Response.HasStarted) await WriteJsonAsync(context, error.Code, error.ToStatus());
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            // the client went away, or the lab is stopping
        }
        catch (Exception ex)
        {
            lock (_gate) _failures.Add($"{context.Request.Method} {raw}: {ex}");
            if (!context.Response.HasStarted)
                await WriteJsonAsync(context, 500, new KubeApiError(500, "InternalError", $"Internal error occurred: {ex.Message}").ToStatus());
        }
        finally
        {
            lock (_gate)
                _requests.Add(new KubeRequest(context.Request.Method, path, context.Request.QueryString.Value ?? "", user,
                    context.Request.ContentType, context.Response.StatusCode));
        }
    }

    private KubeTokenGrant Authenticate(string header)
    {
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)) throw KubeApiError.Unauthorized();
        var token = header[bearer.Length..].Trim();
        lock (_gate) return _tokens.FirstOrDefault(t => t.Token == token) ?? throw KubeApiError.Unauthorized();
    }

    private async Task WriteJsonAsync(HttpContext context, int status, JsonNode body)
    {
        CheckAnswer(context, status, body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Compact), context.RequestAborted);
    }

    private sealed record Target(KubeResourceType Type, string? Namespace, string? Name, string? Subresource);

    private static Target ParseTarget(string path)
    {
        var segments = path.Trim('/').Split('/');
        string group, version;
        int rest;
        if (segments[0] == "api" && segments.Length >= 3 && segments[1] == "v1") (group, version, rest) = ("", "v1", 2);
        else if (segments[0] == "apis" && segments.Length >= 4) (group, version, rest) = (segments[1], segments[2], 3);
        else throw KubeApiError.NotFoundPath();
        var tail = segments[rest..];
        KubeResourceType? Resource(string plural) => KubeResourceType.Find(group, version, plural);
        // namespaces/{ns}/{resource}[/{name}[/{sub}]] — unless {resource} is not a namespaced resource (namespaces/{ns}/status).
        if (tail.Length >= 3 && tail[0] == "namespaces" && Resource(tail[2]) is { Namespaced: true } namespaced)
        {
            if (tail.Length > 5) throw KubeApiError.NotFoundPath();
            return new Target(namespaced, tail[1], tail.Length > 3 ? tail[3] : null, tail.Length > 4 ? tail[4] : null);
        }
        var type = Resource(tail[0]) ?? throw KubeApiError.NotFoundPath();
        if (tail.Length > 3) throw KubeApiError.NotFoundPath();
        var name = tail.Length > 1 ? tail[1] : null;
        var sub = tail.Length > 2 ? tail[2] : null;
        // a namespaced resource listed across namespaces (/api/v1/secrets) has no name segment
        if (type.Namespaced && name is not null) throw KubeApiError.NotFoundPath();
        return new Target(type, null, name, sub);
    }

    private async Task ResourceAsync(HttpContext context, KubeTokenGrant grant, string path)
    {
        var target = ParseTarget(path);
        var (type, ns, name, sub) = target;
        if (sub is not null && !(sub == "status" || (sub == "ephemeralcontainers" && type == KubeResourceType.Pods))) throw KubeApiError.NotFoundPath();
        var query = context.Request.Query;
        var method = context.Request.Method;
        var watch = QueryBool(query["watch"]);
        var verb = method switch
        {
            "GET" when watch => "watch",
            "GET" => name is null ? "list" : "get",
            "POST" when name is null => "create",
            "PUT" when name is not null => "update",
            "PATCH" when name is not null => "patch",
            "DELETE" => name is null ? "deletecollection" : "delete",
            _ => throw KubeApiError.MethodNotAllowed(),
        };
        // The API server authorizes a namespace object in its own namespace.
        var authzNamespace = type == KubeResourceType.Namespaces ? name : ns;
        if (!grant.Allows(verb, type, sub, authzNamespace, name))
            throw KubeApiError.Forbidden(type, sub, name, grant.User, verb, authzNamespace);
        TakeFault(verb, type, ns, name);

        switch (verb)
        {
            case "watch":
                await WatchAsync(context, type, ns, name, query);
                return;
            case "list":
                {
                    var labels = KubeLabelSelector.Parse(query["labelSelector"]);
                    var fields = KubeFieldSelector.Parse(query["fieldSelector"], type);
                    JsonObject list;
                    lock (_gate)
                    {
                        var (page, next, remaining) = Chunk(ListLocked(type, ns).Where(o => labels.Matches(o) && fields.Matches(o)).ToList(), query);
                        var listMeta = new JsonObject { ["resourceVersion"] = _resourceVersion.ToString() };
                        if (next is not null) listMeta["continue"] = next;
                        if (remaining is not null) listMeta["remainingItemCount"] = remaining;
                        list = new JsonObject
                        {
                            ["kind"] = type.Kind + "List", ["apiVersion"] = type.ApiVersion,
                            ["metadata"] = listMeta, ["items"] = new JsonArray(page.Select(ForList).ToArray()),
                        };
                    }
                    await WriteJsonAsync(context, 200, list);
                    return;
                }
            case "get":
                {
                    JsonObject item;
                    lock (_gate) item = (JsonObject)Find(type, ns, name!).DeepClone();
                    await WriteJsonAsync(context, 200, item);
                    return;
                }
            case "create":
                {
                    var dryRun = DryRun(query["dryRun"], verb);
                    var body = await ReadBodyAsync(context, type);
                    ValidateFields(context, type, body, verb);
                    var created = Write(dryRun, () => (JsonObject)CreateLocked(type, ns, body).DeepClone());
                    await WriteJsonAsync(context, 201, created);
                    return;
                }
            case "update":
                {
                    var dryRun = DryRun(query["dryRun"], verb);
                    var body = await ReadBodyAsync(context, type);
                    ValidateFields(context, type, body, verb);
                    var updated = Write(dryRun, () => (JsonObject)UpdateLocked(type, ns, name!, sub, body, fromPatch: false).DeepClone());
                    await WriteJsonAsync(context, 200, updated);
                    return;
                }
            case "patch":
                {
                    var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim();
                    if (contentType is not (KubePatch.MergePatch or KubePatch.StrategicMergePatch or KubePatch.JsonPatch)) throw KubeApiError.UnsupportedMediaType();
                    var dryRun = DryRun(query["dryRun"], verb);
                    var patch = await ReadJsonAsync(context);
                    var patched = Write(dryRun, () =>
                    {
                        var current = Find(type, ns, name!);
                        var merged = KubePatch.Apply(current, contentType, patch, type.Kind);
                        ValidateFields(context, type, merged, verb);
                        return (JsonObject)UpdateLocked(type, ns, name!, sub, merged, fromPatch: true).DeepClone();
                    });
                    await WriteJsonAsync(context, 200, patched);
                    return;
                }
            case "delete":
                {
                    await DeleteAsync(context, type, ns, name!);
                    return;
                }
            default: // deletecollection
                {
                    var labels = KubeLabelSelector.Parse(query["labelSelector"]);
                    var fields = KubeFieldSelector.Parse(query["fieldSelector"], type);
                    JsonArray items;
                    lock (_gate)
                    {
                        var doomed = ListLocked(type, ns).Where(o => labels.Matches(o) && fields.Matches(o)).ToList();
                        items = new JsonArray(doomed.Select(o => ForList(DeleteLocked(type, NamespaceOf(o), NameOf(o)))).ToArray());
                    }
                    await WriteJsonAsync(context, 200, new JsonObject { ["kind"] = type.Kind + "List", ["apiVersion"] = type.ApiVersion, ["metadata"] = new JsonObject(), ["items"] = items });
                    return;
                }
        }
    }

    private void TakeFault(string verb, KubeResourceType type, string? ns, string? name)
    {
        KubeFault? hit;
        lock (_gate)
        {
            var index = _faults.FindIndex(f =>
                (f.Verb is null || f.Verb == verb || (f.Verb == "write" && verb is "create" or "update" or "patch" or "delete"))
                && (f.Resource is null || f.Resource == type.Plural) && (f.Namespace is null || f.Namespace == ns) && (f.Name is null || f.Name == name));
            if (index < 0) return;
            hit = _faults[index];
            if (hit.Times <= 1) _faults.RemoveAt(index);
            else _faults[index] = hit with { Times = hit.Times - 1 };
        }
        throw hit.Reason == "Conflict" && name is not null
            ? KubeApiError.Conflict(type, name)
            : new KubeApiError(hit.Code, hit.Reason, $"injected by the lab: {hit.Reason} for {verb} {type.Qualified} {name}".TrimEnd());
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpContext context)
    {
        try
        {
            return await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw KubeApiError.BadRequest($"error decoding request body: {e.Message}");
        }
    }

    private static async Task<JsonObject> ReadBodyAsync(HttpContext context, KubeResourceType type)
    {
        var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim();
        JsonObject body;
        if (contentType == KubeProtobuf.ContentType)
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            body = KubeProtobuf.Decode(buffer.ToArray());
        }
        else if (contentType is "application/json" or "")
        {
            body = await ReadJsonAsync(context) as JsonObject ?? throw KubeApiError.BadRequest("the request body is not a JSON object");
        }
        else
        {
            throw new KubeApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
        }
        var kind = body["kind"]?.GetValue<string>();
        var apiVersion = body["apiVersion"]?.GetValue<string>();
        if ((kind is not null && kind != type.Kind) || (apiVersion is not null && apiVersion != type.ApiVersion))
            throw KubeApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion})");
        return body;
    }

    public override string ToString() => $"Kubernetes API emulator at {Server}";

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        lock (_gate)
            foreach (var watcher in _watchers) watcher.Events.Writer.TryComplete();
        try { await _controllers; } catch (OperationCanceledException) { /* stopping */ }
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
