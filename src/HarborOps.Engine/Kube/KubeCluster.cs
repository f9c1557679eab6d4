using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using HarborOps.Engine.Errors;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;

namespace HarborOps.Engine.Kube;

/// <summary>
/// One connection to a Kubernetes API server through KubernetesClient: the configuration resolved from a kubeconfig
/// context or the in-cluster ServiceAccount, and <see cref="CallAsync{T}"/>, which turns every failure into a
/// <see cref="KubeException"/> with a stable id that names the verb, resource and namespace and the fix. Credentials
/// (tokens, client keys) never reach a message or the log.
/// </summary>
public sealed class KubeCluster : IDisposable
{
    private readonly Action<string>? _log;

    private KubeCluster(IKubernetes client, string server, string? context, string? kubeconfig, string defaultNamespace, bool inCluster, Action<string>? log)
    {
        Client = client;
        Server = server;
        Context = context;
        Kubeconfig = kubeconfig;
        DefaultNamespace = defaultNamespace;
        IsInCluster = inCluster;
        _log = log;
    }

    /// <summary>The KubernetesClient client, for the calls themselves; wrap each in <see cref="CallAsync{T}"/>.</summary>
    public IKubernetes Client { get; }
    public string Server { get; }
    /// <summary>The kubeconfig context in use (null in-cluster).</summary>
    public string? Context { get; }
    public string? Kubeconfig { get; }
    /// <summary>The context's namespace, the pod's own in-cluster, else "default".</summary>
    public string DefaultNamespace { get; }
    public bool IsInCluster { get; }

    /// <summary>Resolves the configuration (reading the kubeconfig) and builds the client; no request is sent yet.</summary>
    /// <param name="request">The kubeconfig and context, or in-cluster.</param>
    /// <param name="log">Receives one line per API call (method, path, status, time); never headers or bodies.</param>
    public static async Task<KubeCluster> ConnectAsync(KubeConnectionRequest request, Action<string>? log = null)
    {
        KubernetesClientConfiguration config;
        string? context = null;
        string? kubeconfig = null;
        var inCluster = request.InCluster;
        if (!inCluster)
        {
            var files = KubeconfigFiles(request.KubeconfigPath);
            if (files.Count == 0)
            {
                if (request.KubeconfigPath is null && KubernetesClientConfiguration.IsInCluster())
                {
                    inCluster = true;
                }
                else
                {
                    throw new KubeException(KubeErrorIds.KubeconfigNotFound, FailureKind.InvalidArgument,
                        $"No kubeconfig found ({DescribeSearched(request.KubeconfigPath)}). Give -Kubeconfig <path>, set KUBECONFIG, "
                        + "or run inside a cluster (in-cluster configuration needs KUBERNETES_SERVICE_HOST and the pod's ServiceAccount token).",
                        request.KubeconfigPath ?? "kubeconfig");
                }
            }
            if (!inCluster)
            {
                kubeconfig = string.Join(Path.PathSeparator, files.Select(f => f.FullName));
                (config, context) = await FromKubeconfigAsync(files, request.Context, kubeconfig).ConfigureAwait(false);
                return Build(config, context, kubeconfig, inCluster: false, request, log);
            }
        }
        if (!KubernetesClientConfiguration.IsInCluster())
            throw new KubeException(KubeErrorIds.InClusterUnavailable, FailureKind.InvalidArgument,
                "In-cluster configuration is not available here: it needs the KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                + "variables and the ServiceAccount token at /var/run/secrets/kubernetes.io/serviceaccount/token (run in a pod with "
                + "automountServiceAccountToken: true), or use a kubeconfig with -Kubeconfig/-Context.", "in-cluster");
        try
        {
            config = KubernetesClientConfiguration.InClusterConfig();
        }
        catch (KubeConfigException e)
        {
            throw new KubeException(KubeErrorIds.InClusterUnavailable, FailureKind.InvalidArgument,
                $"In-cluster configuration could not be read: {e.Message}", "in-cluster", e);
        }
        return Build(config, null, null, inCluster: true, request, log);
    }

    private static KubeCluster Build(KubernetesClientConfiguration config, string? context, string? kubeconfig, bool inCluster,
        KubeConnectionRequest request, Action<string>? log)
    {
        config.HttpClientTimeout = request.RequestTimeout;
        config.UserAgent = "HarborOps";
        var handlers = log is null ? [] : new DelegatingHandler[] { new KubeRequestLog(log) };
        var client = new Kubernetes(config, handlers);
        return new KubeCluster(client, config.Host, context, kubeconfig, config.Namespace ?? "default", inCluster, log);
    }

    internal static List<FileInfo> KubeconfigFiles(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            var file = new FileInfo(explicitPath);
            return file.Exists ? [file] : [];
        }
        var variable = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrWhiteSpace(variable))
            return variable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => new FileInfo(p)).Where(f => f.Exists).ToList();
        var home = new FileInfo(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config"));
        return home.Exists ? [home] : [];
    }

    private static string DescribeSearched(string? explicitPath)
    {
        if (explicitPath is not null) return $"{explicitPath} does not exist";
        var variable = Environment.GetEnvironmentVariable("KUBECONFIG");
        return string.IsNullOrWhiteSpace(variable)
            ? $"{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config")} does not exist and KUBECONFIG is not set"
            : $"none of the files in KUBECONFIG ({variable}) exists";
    }

    private static async Task<(KubernetesClientConfiguration Config, string Context)> FromKubeconfigAsync(List<FileInfo> files, string? wantedContext, string description)
    {
        k8s.KubeConfigModels.K8SConfiguration document;
        try
        {
            document = await LoadMergedAsync(files).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            throw new KubeException(KubeErrorIds.KubeconfigInvalid, FailureKind.InvalidArgument,
                $"The kubeconfig {description} could not be read: {FirstLine(e.Message)}", description, e);
        }
        var contexts = (document.Contexts ?? []).Select(c => c.Name).Where(n => !string.IsNullOrEmpty(n)).ToList();
        var context = wantedContext ?? document.CurrentContext;
        if (string.IsNullOrEmpty(context) || !contexts.Contains(context, StringComparer.Ordinal))
        {
            var known = contexts.Count == 0 ? "it has no contexts" : $"its contexts are: {string.Join(", ", contexts)}";
            var problem = string.IsNullOrEmpty(context) ? "has no current context" : $"has no context \"{context}\"";
            throw new KubeException(KubeErrorIds.ContextNotFound, FailureKind.InvalidArgument,
                $"The kubeconfig {description} {problem}; {known}. Give -Context with one of them (kubectl config get-contexts lists them).",
                context ?? description);
        }
        try
        {
            return (KubernetesClientConfiguration.BuildConfigFromConfigObject(document, context), context);
        }
        catch (Exception e) when (e is KubeConfigException or IOException or FormatException or UnauthorizedAccessException)
        {
            throw new KubeException(KubeErrorIds.KubeconfigInvalid, FailureKind.InvalidArgument,
                $"Context \"{context}\" of the kubeconfig {description} cannot be used: {FirstLine(e.Message)}", context, e);
        }
    }

    /// <summary>
    /// KUBECONFIG's merge as kubectl does it: clusters, contexts and users from every file, the first occurrence of a
    /// name winning, and the first current-context set. (KubernetesClient's own merge is not public.)
    /// </summary>
    internal static async Task<k8s.KubeConfigModels.K8SConfiguration> LoadMergedAsync(List<FileInfo> files)
    {
        var merged = await KubernetesClientConfiguration.LoadKubeConfigAsync(files[0], useRelativePaths: true).ConfigureAwait(false);
        foreach (var file in files.Skip(1))
        {
            var next = await KubernetesClientConfiguration.LoadKubeConfigAsync(file, useRelativePaths: true).ConfigureAwait(false);
            if (string.IsNullOrEmpty(merged.CurrentContext)) merged.CurrentContext = next.CurrentContext;
            merged.Contexts = Union(merged.Contexts, next.Contexts, c => c.Name);
            merged.Clusters = Union(merged.Clusters, next.Clusters, c => c.Name);
            merged.Users = Union(merged.Users, next.Users, u => u.Name);
        }
        return merged;
    }

    private static List<T> Union<T>(IEnumerable<T>? first, IEnumerable<T>? second, Func<T, string> name) =>
        (first ?? []).Concat(second ?? []).DistinctBy(name, StringComparer.Ordinal).ToList();

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    // ---------------------------------------------------------------- calls

    /// <summary>Runs one API call; any failure becomes a <see cref="KubeException"/> about <paramref name="operation"/>.</summary>
    public async Task<T> CallAsync<T>(KubeOperation operation, Func<IKubernetes, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(Client, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, operation, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public async Task CallAsync(KubeOperation operation, Func<IKubernetes, CancellationToken, Task> call, CancellationToken cancellationToken) =>
        await CallAsync<bool>(operation, async (client, ct) =>
        {
            await call(client, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>A read that answers null when the object does not exist (404), instead of failing.</summary>
    public async Task<T?> GetOrDefaultAsync<T>(KubeOperation operation, Func<IKubernetes, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await CallAsync(operation, call, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Read-modify-write with optimistic concurrency: runs <paramref name="attempt"/> (which must read fresh each time)
    /// again when the API server answers 409 Conflict, up to <paramref name="maxAttempts"/> times with a short backoff.
    /// </summary>
    public static async Task<T> RetryOnConflictAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken, int maxAttempts = 5)
    {
        for (var round = 1; ; round++)
        {
            try
            {
                return await attempt(cancellationToken).ConfigureAwait(false);
            }
            catch (KubeException e) when (e.IsConflict && round < maxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20 * round * round), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private KubeException? Translate(Exception e, KubeOperation operation, CancellationToken cancellationToken)
    {
        switch (e)
        {
            case KubeException:
                return null;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case HttpOperationException http:
                return FromStatus((int)http.Response.StatusCode, http.Response.Content, operation, http);
            case OperationCanceledException or TimeoutException:
                return new KubeException(KubeErrorIds.Timeout, FailureKind.Timeout,
                    $"The Kubernetes API server at {Server} did not answer in time to {operation.Describe()}.", operation.Target, e);
            case HttpRequestException when HasInner<AuthenticationException>(e):
                return new KubeException(KubeErrorIds.TlsFailed, FailureKind.ConnectionFailed,
                    $"TLS with the Kubernetes API server at {Server} failed: {Innermost(e).Message}. Check the context's certificate-authority "
                    + "(the cluster's CA must be in the kubeconfig) and the server name.", Server, e);
            case HttpRequestException or SocketException or IOException:
                return new KubeException(KubeErrorIds.Unreachable, FailureKind.ConnectionFailed,
                    $"Cannot reach the Kubernetes API server at {Server}{(Context is null ? "" : $" (context \"{Context}\")")}: {Innermost(e).Message}. "
                    + "Check that the cluster is up and the context's server address, VPN or proxy.", Server, e);
            case KubeConfigException:
                return new KubeException(KubeErrorIds.KubeconfigInvalid, FailureKind.InvalidArgument,
                    $"The credentials of {(Context is null ? "the in-cluster configuration" : $"context \"{Context}\"")} could not be used: {FirstLine(e.Message)}",
                    Context, e);
            default:
                return null;
        }
    }

    /// <summary>The API server's Status answer as a <see cref="KubeException"/>, in HarborOps' words plus the server's own message.</summary>
    internal KubeException FromStatus(int statusCode, string? body, KubeOperation operation, Exception? inner = null)
    {
        var (reason, message) = ParseStatus(body);
        var serverSays = string.IsNullOrEmpty(message) ? "" : $" The API server said: {message}";
        var subject = operation.Describe();
        switch (statusCode)
        {
            case 401:
                return new KubeException(KubeErrorIds.AuthenticationFailed, FailureKind.AuthenticationFailed,
                    $"The Kubernetes API server at {Server} did not accept the credentials of {(Context is null ? "the in-cluster ServiceAccount" : $"context \"{Context}\"")} (401 Unauthorized). "
                    + "Refresh them (log in again, renew the token) or pick another -Context.", operation.Target, inner, statusCode, reason ?? "Unauthorized");
            case 403:
                return new KubeException(KubeErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                    $"Not allowed to {subject}.{serverSays} Fix: an RBAC rule granting verb \"{operation.Verb}\" on resource \"{operation.Resource}\" "
                    + $"in API group \"{operation.ApiGroup}\" {(operation.Namespace is null ? "cluster-wide (a ClusterRole and ClusterRoleBinding)" : $"in namespace \"{operation.Namespace}\" (a Role and RoleBinding, or a ClusterRole bound there)")}, "
                    + $"e.g. kubectl create {(operation.Namespace is null ? "clusterrole" : "role")} harborops --verb={operation.Verb} --resource={operation.QualifiedResource}"
                    + $"{(operation.Namespace is null ? "" : $" -n {operation.Namespace}")}.",
                    operation.Target, inner, statusCode, reason ?? "Forbidden");
            case 404:
                return new KubeException(KubeErrorIds.NotFound, FailureKind.NotFound,
                    $"Cannot {subject}: it does not exist.{serverSays}", operation.Target, inner, statusCode, reason ?? "NotFound");
            case 409 when reason == "AlreadyExists":
                return new KubeException(KubeErrorIds.AlreadyExists, FailureKind.Conflict,
                    $"Cannot {subject}: it already exists.{serverSays}", operation.Target, inner, statusCode, reason);
            case 409:
                return new KubeException(KubeErrorIds.Conflict, FailureKind.Conflict,
                    $"Cannot {subject}: it changed since it was read (resourceVersion conflict); read it again and retry.{serverSays}",
                    operation.Target, inner, statusCode, reason ?? "Conflict");
            case 400 or 415 or 422:
                return new KubeException(KubeErrorIds.Invalid, FailureKind.InvalidData,
                    $"The API server rejected the request to {subject}.{serverSays}", operation.Target, inner, statusCode, reason);
            case 429 or 504 or 408:
                return new KubeException(KubeErrorIds.Timeout, FailureKind.Throttled,
                    $"The API server at {Server} is busy and did not {subject} ({statusCode}).{serverSays} Try again later.", operation.Target, inner, statusCode, reason);
            default:
                return new KubeException(KubeErrorIds.ServerError, FailureKind.ServerError,
                    $"The API server at {Server} failed to {subject} ({statusCode}).{serverSays}", operation.Target, inner, statusCode, reason);
        }
    }

    private static (string? Reason, string? Message) ParseStatus(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return (null, null);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("kind", out var kind) || kind.GetString() != "Status") return (null, null);
            return (root.TryGetProperty("reason", out var r) ? r.GetString() : null, root.TryGetProperty("message", out var m) ? m.GetString() : null);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static bool HasInner<T>(Exception e) where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is T) return true;
        return false;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    public void Dispose() => Client.Dispose();

    public override string ToString() => Context is null ? $"in-cluster {Server}" : $"{Server} (context {Context})";

    /// <summary>One verbose line per call: method, path and query (no secrets live there), status and time.</summary>
    private sealed class KubeRequestLog(Action<string> log) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                log($"{request.Method} {request.RequestUri?.PathAndQuery} -> {(int)response.StatusCode} in {clock.ElapsedMilliseconds} ms");
                return response;
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                log($"{request.Method} {request.RequestUri?.PathAndQuery} -> failed after {clock.ElapsedMilliseconds} ms: {e.GetType().Name}");
                throw;
            }
        }
    }
}
