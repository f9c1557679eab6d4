using System.Text.Json;

namespace HarborOps.Lab.Kube;

/// <summary>
/// The lab's control surface over HTTP, for Pester and other processes (the same operations as the public methods):
/// <c>POST /_lab/tokens</c> {user, rules:[{verbs, resources, namespaces?, apiGroups?, resourceNames?}]} answers {user, token};
/// <c>DELETE /_lab/tokens/{token}</c>; <c>POST|DELETE /_lab/faults</c> (a <see cref="KubeFault"/>);
/// <c>PUT /_lab/stall</c> {kind, namespace, name, stalled}; <c>PUT /_lab/unreachable</c> {unreachable};
/// <c>POST /_lab/cronjobs/run</c> {namespace, name} answers {job}; <c>PUT /_lab/image-digests</c> {image, digest};
/// <c>POST /_lab/jobs/finish-index</c> {namespace, job, index, exitCode, message?, condition?} answers {pod};
/// <c>PUT /_lab/jobs/status</c> {namespace, name, status}; <c>PUT /_lab/pods/status</c> {namespace, name, status};
/// <c>GET|DELETE /_lab/requests</c>.
/// </summary>
public sealed partial class KubeEmulator
{
    private static readonly JsonSerializerOptions ControlJson = new(JsonSerializerDefaults.Web);

    private sealed record TokenRequest(string User, List<KubeAccessRule> Rules);
    private sealed record StallRequest(string Kind, string Namespace, string Name, bool Stalled = true);
    private sealed record UnreachableRequest(bool Unreachable);
    private sealed record CronJobRunRequest(string Namespace, string Name);
    private sealed record ImageDigestRequest(string Image, string Digest);
    private sealed record FinishIndexRequest(string Namespace, string Job, int Index, int ExitCode, string? Message = null, string? Condition = null);
    private sealed record StatusRequest(string Namespace, string Name, System.Text.Json.Nodes.JsonObject Status);

    private async Task ControlAsync(HttpContext context, string path)
    {
        var method = context.Request.Method;
        try
        {
            switch (method, path)
            {
                case ("POST", "tokens"):
                    {
                        var request = await Body<TokenRequest>(context);
                        var grant = AddToken(request.User, request.Rules.ToArray());
                        await context.Response.WriteAsJsonAsync(new { user = grant.User, token = grant.Token });
                        return;
                    }
                case ("DELETE", _) when path.StartsWith("tokens/", StringComparison.Ordinal):
                    RevokeToken(path["tokens/".Length..]);
                    context.Response.StatusCode = 204;
                    return;
                case ("POST", "faults"):
                    InjectFault(await Body<KubeFault>(context));
                    context.Response.StatusCode = 204;
                    return;
                case ("DELETE", "faults"):
                    ClearFaults();
                    context.Response.StatusCode = 204;
                    return;
                case ("PUT", "stall"):
                    {
                        var request = await Body<StallRequest>(context);
                        SetStalled(request.Kind, request.Namespace, request.Name, request.Stalled);
                        context.Response.StatusCode = 204;
                        return;
                    }
                case ("PUT", "unreachable"):
                    Unreachable = (await Body<UnreachableRequest>(context)).Unreachable;
                    context.Response.StatusCode = 204;
                    return;
                case ("POST", "cronjobs/run"):
                    {
                        var request = await Body<CronJobRunRequest>(context);
                        await context.Response.WriteAsJsonAsync(new { job = RunCronJob(request.Namespace, request.Name) });
                        return;
                    }
                case ("PUT", "image-digests"):
                    {
                        var request = await Body<ImageDigestRequest>(context);
                        SetImageDigest(request.Image, request.Digest);
                        context.Response.StatusCode = 204;
                        return;
                    }
                case ("POST", "jobs/finish-index"):
                    {
                        var request = await Body<FinishIndexRequest>(context);
                        await context.Response.WriteAsJsonAsync(new { pod = FinishJobIndex(request.Namespace, request.Job, request.Index, request.ExitCode, request.Message, request.Condition) });
                        return;
                    }
                case ("PUT", "jobs/status"):
                    {
                        var request = await Body<StatusRequest>(context);
                        SetJobStatus(request.Namespace, request.Name, request.Status);
                        context.Response.StatusCode = 204;
                        return;
                    }
                case ("PUT", "pods/status"):
                    {
                        var request = await Body<StatusRequest>(context);
                        SetPodStatus(request.Namespace, request.Name, request.Status);
                        context.Response.StatusCode = 204;
                        return;
                    }
                case ("GET", "requests"):
                    await context.Response.WriteAsJsonAsync(Requests, ControlJson);
                    return;
                case ("DELETE", "requests"):
                    ClearRequests();
                    context.Response.StatusCode = 204;
                    return;
                default:
                    context.Response.StatusCode = 404;
                    return;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KubeApiError or ArgumentException)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = e.Message });
        }
    }

    private static async Task<T> Body<T>(HttpContext context) =>
        await JsonSerializer.DeserializeAsync<T>(context.Request.Body, ControlJson, context.RequestAborted)
        ?? throw new JsonException($"the body must be a {typeof(T).Name} object");
}
