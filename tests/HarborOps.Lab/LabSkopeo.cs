using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace HarborOps.Lab;

/// <summary>skopeo as an independent reader of lab registries (plain HTTP, credentials via a temp auth file so they
/// never appear on a command line or in a failure message).</summary>
public static class LabSkopeo
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Result> RunAsync(LabEndpoint endpoint, IEnumerable<string> arguments, CancellationToken ct = default)
    {
        var program = LabPrerequisites.RequireSkopeo();
        string? authFile = null;
        try
        {
            var info = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            var list = arguments.ToList();
            info.ArgumentList.Add(list[0]);
            if (endpoint.UserName is not null)
            {
                authFile = Path.Combine(Path.GetTempPath(), $"harborops-lab-skopeo-{Guid.NewGuid():N}.json");
                var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{endpoint.UserName}:{endpoint.Password}"));
                await File.WriteAllTextAsync(authFile, JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [endpoint.Host] = new { auth } } }), ct);
                info.ArgumentList.Add("--authfile");
                info.ArgumentList.Add(authFile);
            }
            foreach (var argument in list.Skip(1)) info.ArgumentList.Add(argument);
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return new Result(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            if (authFile is not null) File.Delete(authFile);
        }
    }

    private static async Task<string> RunOrThrowAsync(LabEndpoint endpoint, CancellationToken ct, params string[] arguments)
    {
        var result = await RunAsync(endpoint, arguments, ct);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"skopeo {string.Join(' ', arguments)} failed with exit code {result.ExitCode}: {result.StandardError.Trim()}");
        return result.StandardOutput;
    }

    private static string ImageUrl(LabEndpoint endpoint, string repository, string? reference) =>
        $"docker://{endpoint.Host}/{repository}" + (reference is null ? "" : reference.Contains(':') ? "@" + reference : ":" + reference);

    /// <summary><c>skopeo inspect</c>: the parsed JSON (Digest, Tags, Architecture, Os, Layers, ...).</summary>
    public static async Task<JsonDocument> InspectAsync(LabEndpoint endpoint, string repository, string reference, CancellationToken ct = default) =>
        JsonDocument.Parse(await RunOrThrowAsync(endpoint, ct, "inspect", "--tls-verify=false", ImageUrl(endpoint, repository, reference)));

    /// <summary><c>skopeo inspect --raw</c>: the manifest bytes exactly as the registry serves them.</summary>
    public static async Task<byte[]> RawManifestAsync(LabEndpoint endpoint, string repository, string reference, CancellationToken ct = default) =>
        Encoding.UTF8.GetBytes(await RunOrThrowAsync(endpoint, ct, "inspect", "--raw", "--tls-verify=false", ImageUrl(endpoint, repository, reference)));

    /// <summary><c>skopeo list-tags</c>: every tag of the repository.</summary>
    public static async Task<IReadOnlyList<string>> ListTagsAsync(LabEndpoint endpoint, string repository, CancellationToken ct = default)
    {
        using var json = JsonDocument.Parse(await RunOrThrowAsync(endpoint, ct, "list-tags", "--tls-verify=false", ImageUrl(endpoint, repository, null)));
        return json.RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()!).ToList();
    }
}
