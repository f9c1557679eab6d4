using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace HarborOps.Bench;

/// <summary>A pwsh (the command and its leading arguments) and the built module, to run Copy-RegistryImage as users do.</summary>
internal sealed class CmdletHost(IReadOnlyList<string> pwsh, string module)
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "copy-cmdlet.ps1");

    public static CmdletHost? From(Arguments arguments)
    {
        var module = arguments.Value("--module");
        var pwsh = arguments.Values("--pwsh").ToList();
        if (module is null && pwsh.Count == 0) return null;
        if (module is null || pwsh.Count == 0) throw new ArgumentException("--module and --pwsh go together (build.ps1 -Task Bench passes both)");
        if (!File.Exists(module)) throw new ArgumentException($"--module {module} does not exist; build the module first (./build.ps1 -Task Build)");
        return new CmdletHost(pwsh, Path.GetFullPath(module));
    }

    /// <summary>The time pwsh measured (Import-Module and the copy), the whole process's wall time, and the script's JSON.</summary>
    public async Task<(TimeSpan Wall, TimeSpan ProcessWall, JsonElement Json)> CopyAsync(string source, string destination, int throttle)
    {
        var args = pwsh.Skip(1).Concat(["-NoProfile", "-NonInteractive", "-File", Script, "-Module", module, "-Destination", destination, "-ThrottleLimit", throttle.ToString(CultureInfo.InvariantCulture), "-Source", source]);
        var clock = Stopwatch.StartNew();
        // No credentials of whoever runs the bench: the lab registries are anonymous, like the engine's run.
        var dockerConfig = Directory.CreateTempSubdirectory("harborops-bench-docker-");
        (int exit, string stdout, string stderr) = (0, "", "");
        try
        {
            (exit, stdout, stderr) = await Bench.RunProcessAsync(pwsh[0], args, new Dictionary<string, string> { ["DOCKER_CONFIG"] = dockerConfig.FullName });
        }
        finally
        {
            dockerConfig.Delete(recursive: true);
        }
        var processWall = clock.Elapsed;
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim();
        if (exit != 0 || last is null || !last.StartsWith('{')) throw new InvalidOperationException($"Copy-RegistryImage failed (exit {exit}): {stderr}{stdout}");
        using var doc = JsonDocument.Parse(last);
        return (TimeSpan.FromSeconds(doc.RootElement.GetProperty("seconds").GetDouble()), processWall, doc.RootElement.Clone());
    }
}
