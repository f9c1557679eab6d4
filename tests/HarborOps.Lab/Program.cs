// Lab host: `up --endpoints <file> [--seed demo] [--many-tags N] [--no-stdin-watch]` brings a lab up, writes its
// endpoints JSON once everything is ready, prints a summary, and runs until Ctrl+C, SIGTERM, or its stdin closing.
using System.Runtime.InteropServices;
using HarborOps.Lab;

return await LabProgram.RunAsync(args);

internal static class LabProgram
{
    private const string Usage =
        "usage: HarborOps.Lab up --endpoints <file.json> [--seed demo] [--many-tags <count>] [--no-stdin-watch]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] != "up")
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (!TryParse(args[1..], out var endpoints, out var options, out var watchStdin, out var problem))
        {
            Console.Error.WriteLine(problem);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });

        LabHost lab;
        var stopping = new System.Diagnostics.Stopwatch();
        try
        {
            lab = await LabHost.StartAsync(options, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (e is LabPrerequisiteException or InvalidOperationException or TimeoutException or ArgumentException)
        {
            Console.Error.WriteLine($"The lab did not start: {e.Message}");
            return 1;
        }

        await using (lab)
        {
            await lab.WriteEndpointsAsync(endpoints!, CancellationToken.None);
            Console.WriteLine(lab.Summary());
            Console.WriteLine($"  endpoints       {Path.GetFullPath(endpoints!)}");
            Console.WriteLine(watchStdin ? "Press Ctrl+C (or close stdin) to stop." : "Press Ctrl+C to stop.");
            if (watchStdin) _ = WatchStdinAsync(stop);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // the way out
            }
            Console.WriteLine("Stopping the lab...");
            stopping.Start();
            // A stale endpoints file would point the next reader at ports nobody listens on.
            File.Delete(endpoints!);
            foreach (var written in new[] { lab.CertificateAuthorityFile, lab.CertificateBundleFile }) if (written is not null) File.Delete(written);
        }
        Console.WriteLine($"Lab stopped in {stopping.ElapsedMilliseconds} ms.");
        return 0;
    }

    /// <summary>A parent that dies closes our stdin; that is our cue to go too.</summary>
    private static async Task WatchStdinAsync(CancellationTokenSource stop)
    {
        using var stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        while (await stdin.ReadAsync(buffer) > 0)
        {
            // anything typed is ignored; only the end of the stream matters
        }
        stop.Cancel();
    }

    /// <summary>stdin that is /dev/null (a background job, nohup) is closed from the start; watching it would stop
    /// the lab at once, so only a real pipe or terminal is watched.</summary>
    private static bool StdinIsWatchable()
    {
        try
        {
            var target = new FileInfo("/proc/self/fd/0").LinkTarget;
            return target is not "/dev/null";
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static bool TryParse(string[] args, out string? endpoints, out LabHostOptions options, out bool watchStdin, out string? problem)
    {
        endpoints = null;
        options = new LabHostOptions();
        watchStdin = StdinIsWatchable();
        problem = null;
        for (var i = 0; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--endpoints":
                    endpoints = Value();
                    break;
                case "--seed":
                    var seed = Value();
                    if (seed != "demo")
                    {
                        problem = $"unknown seed '{seed}' (known: demo)";
                        return false;
                    }
                    options = options with { Seed = seed };
                    break;
                case "--many-tags":
                    if (!int.TryParse(Value(), out var count) || count < 1)
                    {
                        problem = "--many-tags needs a positive number";
                        return false;
                    }
                    options = options with { ManyTagsCount = count };
                    break;
                case "--no-stdin-watch":
                    watchStdin = false;
                    break;
                default:
                    problem = $"unknown argument '{args[i]}'";
                    return false;
            }
        }
        if (string.IsNullOrEmpty(endpoints))
        {
            problem = "--endpoints <file.json> is required";
            return false;
        }
        return true;
    }
}
