using System.Diagnostics;
using System.Text.RegularExpressions;
using HarborOps.Engine.CutOver;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;

namespace HarborOps.Engine.Tests.Child;

/// <summary>
/// The test assembly's own entry point, for work a test must watch from outside: a journal held by another process
/// (locks between two handles of one process prove nothing across processes), and the peak memory of one rewrite
/// (the test host's memory is shared with every other test). The test host itself never calls Main.
/// </summary>
public static class ChildProcess
{
    public static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "hold-journal" when args.Length == 3:
                // Holds the journal until stdin closes, so the parent decides when the "other run" ends.
                await using (var journal = await CopyJournal.OpenAsync(args[1], args[2], CancellationToken.None))
                {
                    await journal.RecordRepositoryStartedAsync("held/by-child", CancellationToken.None);
                    await File.WriteAllTextAsync(args[1] + ".held", "");
                    await Console.In.ReadToEndAsync();
                    await journal.RecordRepositoryStartedAsync("held/by-child-at-exit", CancellationToken.None);
                }
                return 0;
            case "rewrite" when args.Length == 4:
                return await RewriteAsync(args[1], args[2], args[3]);
            default:
                Console.Error.WriteLine("usage: HarborOps.Engine.Tests hold-journal <path> <registry> | rewrite <file> <from> <to>");
                return 2;
        }
    }

    /// <summary>Plans and writes one file's rewrite as Update-ImageReference does, then prints this process's peak RSS.</summary>
    private static async Task<int> RewriteAsync(string path, string from, string to)
    {
        using var engine = new RegistryEngine(new RegistryEngineOptions { DockerConfigPath = "/nonexistent/harborops/config.json" });
        var rewriter = new ImageReferenceRewriter(engine);
        var rewritten = 0;
        var failures = 0;
        await foreach (var plan in rewriter.PlanAsync(new ImageReferenceRewriteRequest([path], [from], to), null, CancellationToken.None))
        {
            if (plan.Failure is not null)
            {
                Console.Error.WriteLine(plan.Failure.Message);
                failures++;
            }
            else if (plan.HasRewrite) rewritten += (await rewriter.CommitAsync(plan, CancellationToken.None)).Count;
        }
        Console.WriteLine($"rewritten {rewritten}");
        Console.WriteLine($"peak-rss-bytes {PeakResidentBytes()}");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>VmHWM: the kernel's own high-water mark of this process's resident memory, so no peak falls between samples.</summary>
    internal static long PeakResidentBytes()
    {
        var status = File.ReadAllText("/proc/self/status");
        var match = Regex.Match(status, @"^VmHWM:\s+(\d+) kB", RegexOptions.Multiline);
        return match.Success ? long.Parse(match.Groups[1].Value) * 1024 : throw new InvalidOperationException("/proc/self/status has no VmHWM");
    }

    /// <summary>Starts this assembly as a child process with <paramref name="arguments"/>, its standard streams redirected.</summary>
    internal static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return Process.Start(info)!;
    }
}
