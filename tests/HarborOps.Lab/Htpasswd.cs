using System.Diagnostics;

namespace HarborOps.Lab;

/// <summary>Makes an htpasswd line with a bcrypt hash, the only hash Distribution's htpasswd auth accepts.</summary>
internal static class Htpasswd
{
    // Cost 5 instead of the default 10: the lab hashes a throwaway password and Distribution checks it on every
    // request, so a cheap hash keeps both start-up and each Basic request fast.
    private const int BcryptCost = 5;

    public static async Task<string> LineAsync(string userName, string password, CancellationToken ct)
    {
        var program = LabPrerequisites.RequireHtpasswd();
        // -i reads the password from stdin so it never shows up in a process listing.
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-n", "-i", "-B", "-C", BcryptCost.ToString(), userName }) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteLineAsync(password);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(ct);
        var error = await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var line = output.Trim();
        if (process.ExitCode != 0 || !line.StartsWith(userName + ":$2", StringComparison.Ordinal))
            throw new InvalidOperationException($"htpasswd failed (exit {process.ExitCode}): {error.Trim()}");
        return line + "\n";
    }
}
