using System.Diagnostics;
using Xunit;

namespace HarborOps.Lab.Tests.Kube;

/// <summary>
/// A second, independent client judges the emulator: Debian's python3-kubernetes (tools/setup-debian.sh installs it) runs
/// conformance.py (create, get, list with selectors and chunks, each patch type, conflicts, watch and 410 Gone, delete
/// with preconditions) against it. A misunderstanding our client and our emulator share cannot pass both.
/// </summary>
[Collection(KubeLabCollection.Name)]
public sealed class KubePythonConformanceTests(KubeLabFixture lab) : IDisposable
{
    public void Dispose() => lab.AssertAnswersMatchContract();

    [Fact]
    public async Task The_python_kubernetes_client_finds_the_emulator_conformant()
    {
        // Debian's python3 (the package installs into its dist-packages); a python3 earlier on PATH may be another one.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var ns = lab.Unique("python-conformance");
        lab.Kube.CreateNamespace(ns);
        var ca = Path.Combine(lab.Directory, "python-ca.pem");
        await File.WriteAllTextAsync(ca, lab.Kube.CertificateAuthority.Pem);
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            Environment =
            {
                ["KUBE_SERVER"] = lab.Kube.Server, ["KUBE_TOKEN"] = lab.Kube.AdminToken, ["KUBE_CA"] = ca, ["KUBE_NAMESPACE"] = ns,
            },
        };
        info.ArgumentList.Add(Path.Combine(RepositoryFiles.Root(), "tests", "HarborOps.Lab.Tests", "Kube", "conformance.py"));
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var text = await output + await error;
        Assert.False(text.Contains("No module named 'kubernetes'", StringComparison.Ordinal),
            "python3-kubernetes is missing: run tools/setup-debian.sh (apt-get install python3-kubernetes).");
        Assert.True(process.ExitCode == 0, $"conformance.py failed ({process.ExitCode}):\n{text}");
    }
}
