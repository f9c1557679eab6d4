using System.Collections.Concurrent;
using System.Diagnostics;

namespace HarborOps.Lab;

/// <summary>
/// A child program the lab owns. It is started under a tiny /bin/sh watchdog that kills the program when our end of
/// its stdin closes, so even a test host killed with SIGKILL (no ProcessExit, no Dispose) leaves no registry behind.
/// Dispose and the ProcessExit hook kill the whole tree for the ordinary paths.
/// </summary>
internal sealed class LabProcess : IDisposable
{
    private static readonly ConcurrentDictionary<LabProcess, byte> Live = new();
    private const int OutputLinesKept = 40;

    private readonly Process _process;
    private readonly Queue<string> _output = new();

    static LabProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    private LabProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the program wrote to stdout/stderr, for start-up failure messages.</summary>
    public string RecentOutput
    {
        get { lock (_output) return string.Join(Environment.NewLine, _output); }
    }

    public static LabProcess Start(string program, params string[] arguments)
    {
        // $0 is the program, "$@" its arguments. The reader in the background gets fd 3 (a copy of our stdin pipe)
        // explicitly, because sh gives background jobs /dev/null as stdin.
        const string watchdog =
            "exec 3<&0; \"$0\" \"$@\" </dev/null & child=$!; " +
            "{ read -r _ <&3; kill $child 2>/dev/null; } & reader=$!; " +
            "wait $child; status=$?; kill $reader 2>/dev/null; exit $status";
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(watchdog);
        info.ArgumentList.Add(program);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var lab = new LabProcess(process);
        process.OutputDataReceived += (_, e) => lab.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => lab.Remember(e.Data);
        process.Start();
        Live[lab] = 0;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lab;
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > OutputLinesKept) _output.Dequeue();
        }
    }

    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    public void Dispose()
    {
        if (!Live.TryRemove(this, out _)) return;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>How many lab processes are running right now (the tests assert nothing leaks).</summary>
    public static int LiveCount => Live.Count;

    private static void KillAll()
    {
        foreach (var process in Live.Keys) process.Dispose();
    }
}
