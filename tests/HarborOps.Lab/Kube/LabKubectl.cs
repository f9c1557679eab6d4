using System.Diagnostics;

namespace HarborOps.Lab.Kube;

/// <summary>The real kubectl against the emulator: the independent client that keeps the emulator honest. Runs with
/// an explicit kubeconfig and context, a bounded time, and no inherited KUBECONFIG.</summary>
public static class LabKubectl
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => StandardOutput + StandardError;
    }

    public static async Task<Result> RunAsync(string kubeconfig, string context, IEnumerable<string> arguments, string? standardInput = null,
        TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var program = LabPrerequisites.RequireKubectl();
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        info.Environment.Remove("KUBECONFIG");
        info.Environment["HOME"] = Path.GetDirectoryName(kubeconfig)!; // kubectl's discovery cache goes there, not into the real home
        info.ArgumentList.Add("--kubeconfig");
        info.ArgumentList.Add(kubeconfig);
        info.ArgumentList.Add("--context");
        info.ArgumentList.Add(context);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        if (standardInput is not null) await process.StandardInput.WriteAsync(standardInput);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(bounded.Token);
        var stderr = process.StandardError.ReadToEndAsync(bounded.Token);
        try
        {
            await process.WaitForExitAsync(bounded.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', arguments)} did not finish in time");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
