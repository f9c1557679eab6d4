using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using HarborOps.Lab.Kube;
using Xunit;

namespace HarborOps.Lab.Tests;

/// <summary>The lab host executable as the Pester tests and a human use it: a separate process.</summary>
public sealed class LabHostTests : IDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _directory = Directory.CreateTempSubdirectory("harborops-labhost-").FullName;
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
        Directory.Delete(_directory, recursive: true);
    }

    private Process StartHost(params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HarborOps.Lab.dll"));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        // What the host keeps in temporary directories (its kubeconfig, its registries' storage) goes under this test's
        // directory, which Dispose removes: a host killed outright cannot remove its own.
        info.Environment["TMPDIR"] = Directory.CreateDirectory(Path.Combine(_directory, "tmp")).FullName;
        var process = Process.Start(info)!;
        _started.Add(process);
        return process;
    }

    private static async Task<JsonElement> WaitForEndpointsAsync(Process host, string path)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (host.HasExited) Assert.Fail($"lab host exited with {host.ExitCode}: {await host.StandardError.ReadToEndAsync()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(90)) Assert.Fail("lab host wrote no endpoints file within 90 s");
            await Task.Delay(50);
        }
        return JsonDocument.Parse(await File.ReadAllTextAsync(path)).RootElement.Clone();
    }

    private static async Task<bool> AcceptsConnectionsAsync(string host)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, int.Parse(host.Split(':')[1]));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<bool> StopsAcceptingWithinAsync(string host, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (!await AcceptsConnectionsAsync(host)) return true;
            await Task.Delay(50);
        }
        return false;
    }

    [Fact]
    public async Task Up_with_demo_seed_serves_every_registry_and_stops_cleanly_when_stdin_closes()
    {
        var endpointsFile = Path.Combine(_directory, "endpoints.json");
        var host = StartHost("up", "--endpoints", endpointsFile, "--seed", "demo", "--many-tags", "150");
        var endpoints = await WaitForEndpointsAsync(host, endpointsFile);

        var registries = endpoints.GetProperty("registries");
        var open = new LabEndpoint(new Uri($"http://{registries.GetProperty("open").GetProperty("host").GetString()}/"), null, null);
        LabEndpoint WithCredentials(string name) => new(new Uri($"http://{registries.GetProperty(name).GetProperty("host").GetString()}/"),
            registries.GetProperty(name).GetProperty("username").GetString(), registries.GetProperty(name).GetProperty("password").GetString());
        var basic = WithCredentials("basic");
        var token = WithCredentials("token");
        Assert.StartsWith("http://127.0.0.1:", registries.GetProperty("token").GetProperty("realm").GetString());

        var seed = endpoints.GetProperty("seed");
        Assert.Equal(["bulk/many-tags", "platform/base/debian", "team-a/api", "team-a/web", "team-b/worker"],
            seed.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(150, seed.GetProperty("manyTagsCount").GetInt32());
        var debian = seed.GetProperty("images").EnumerateArray().First(i => i.GetProperty("repository").GetString() == "platform/base/debian");

        // Every registry holds the demo content, and skopeo agrees with the digests the host reported.
        foreach (var endpoint in new[] { open, basic, token })
        {
            Assert.Equal(["1.0", "1.1", "latest"], (await LabSkopeo.ListTagsAsync(endpoint, "team-a/api")).Order(StringComparer.Ordinal));
            var tags = await LabSkopeo.ListTagsAsync(endpoint, "platform/base/debian");
            Assert.Contains(tags, t => t.EndsWith(".sig", StringComparison.Ordinal));
        }
        using (var inspected = await LabSkopeo.InspectAsync(token, "platform/base/debian", "bookworm"))
            Assert.NotEqual(debian.GetProperty("digest").GetString(), inspected.RootElement.GetProperty("Digest").GetString()); // each registry got its own random layers
        using (var inspected = await LabSkopeo.InspectAsync(open, "platform/base/debian", "bookworm"))
            Assert.Equal(debian.GetProperty("digest").GetString(), inspected.RootElement.GetProperty("Digest").GetString());

        // The ACR emulator holds the small demo content too, reachable with its admin user, and names its Entra endpoint.
        var acrSection = endpoints.GetProperty("acr");
        var acr = new LabEndpoint(new Uri($"http://{acrSection.GetProperty("host").GetString()}/"), acrSection.GetProperty("username").GetString(), acrSection.GetProperty("password").GetString());
        Assert.Equal(["1.0", "1.1", "latest"], (await LabSkopeo.ListTagsAsync(acr, "team-a/api")).Order(StringComparer.Ordinal));
        var entra = acrSection.GetProperty("entra");
        Assert.StartsWith("https://127.0.0.1:", entra.GetProperty("authorityHost").GetString());
        Assert.True(File.Exists(entra.GetProperty("caBundle").GetString()), "the Entra endpoint's certificate is written for SSL_CERT_FILE");

        // The proxy fronts the open registry and pages its tags.
        var proxy = endpoints.GetProperty("proxy");
        Assert.Equal("open", proxy.GetProperty("upstream").GetString());
        using (var page = await Http.GetAsync($"http://{proxy.GetProperty("host").GetString()}/v2/bulk/many-tags/tags/list"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            using var json = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
            Assert.Equal(100, json.RootElement.GetProperty("tags").GetArrayLength());
            Assert.Contains("rel=\"next\"", page.Headers.GetValues("Link").Single());
        }

        // The Kubernetes emulator answers kubectl through the kubeconfig the host wrote: the admin context may write,
        // the reader context may only read.
        var kubernetes = endpoints.GetProperty("kubernetes");
        var kubeconfig = kubernetes.GetProperty("kubeconfig").GetString()!;
        var created = await LabKubectl.RunAsync(kubeconfig, kubernetes.GetProperty("adminContext").GetString()!, ["create", "namespace", "from-host-test"]);
        Assert.True(created.ExitCode == 0, created.Output);
        var denied = await LabKubectl.RunAsync(kubeconfig, kubernetes.GetProperty("readerContext").GetString()!, ["delete", "namespace", "from-host-test"]);
        Assert.Contains("namespaces \"from-host-test\" is forbidden: User \"lab-reader\" cannot delete resource \"namespaces\"", denied.StandardError);

        host.StandardInput.Close();
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.WaitForExitAsync(exited.Token);
        Assert.Equal(0, host.ExitCode);
        Assert.False(File.Exists(endpointsFile), "the endpoints file is removed on shutdown");
        Assert.False(File.Exists(kubeconfig), "the lab's kubeconfig is removed on shutdown");
        foreach (var endpoint in new[] { open, basic, token })
            Assert.False(await AcceptsConnectionsAsync(endpoint.Host), $"{endpoint.Host} still accepts connections after shutdown");
    }

    [Fact]
    public async Task Registries_die_with_a_host_that_is_killed_outright()
    {
        var endpointsFile = Path.Combine(_directory, "killed.json");
        var before = Directory.GetDirectories(LabDirectories.Root).ToHashSet();
        var host = StartHost("up", "--endpoints", endpointsFile);
        var endpoints = await WaitForEndpointsAsync(host, endpointsFile);
        // New directories owned by the host process (other test classes in this process may be creating theirs).
        var hostDirectories = Directory.GetDirectories(LabDirectories.Root)
            .Where(d => !before.Contains(d) && File.ReadAllText(Path.Combine(d, "owner")).StartsWith($"{host.Id} ", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(JsonValueKind.Null, endpoints.GetProperty("seed").ValueKind);
        var hosts = endpoints.GetProperty("registries").EnumerateObject().Select(r => r.Value.GetProperty("host").GetString()!).ToList();
        foreach (var registry in hosts) Assert.True(await AcceptsConnectionsAsync(registry), $"registry {registry} is not up");

        // SIGKILL: no ProcessExit, no Dispose; only the stdin watchdog can take the registries down.
        host.Kill(entireProcessTree: false);
        await host.WaitForExitAsync();
        foreach (var registry in hosts)
            Assert.True(await StopsAcceptingWithinAsync(registry, TimeSpan.FromSeconds(10)), $"registry {registry} outlived its killed host");

        // Its storage is left behind, and the next lab start sweeps it away.
        Assert.True(hostDirectories.Count >= 3, $"expected the host's registry directories, saw {hostDirectories.Count}");
        Assert.All(hostDirectories, d => Assert.True(Directory.Exists(d)));
        LabDirectories.SweepStale();
        Assert.All(hostDirectories, d => Assert.False(Directory.Exists(d), $"{d} was not swept"));
    }

    [Fact]
    public async Task Sigterm_stops_the_host_cleanly()
    {
        var endpointsFile = Path.Combine(_directory, "term.json");
        var host = StartHost("up", "--endpoints", endpointsFile);
        var open = (await WaitForEndpointsAsync(host, endpointsFile)).GetProperty("registries").GetProperty("open").GetProperty("host").GetString()!;

        Assert.Equal(0, SendSignal(host.Id, Sigterm));
        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.WaitForExitAsync(exited.Token);
        Assert.Equal(0, host.ExitCode);
        Assert.Contains("Lab stopped", await host.StandardOutput.ReadToEndAsync());
        Assert.False(await AcceptsConnectionsAsync(open));
    }

    [Theory]
    [InlineData(new string[0], "usage: HarborOps.Lab up")]
    [InlineData(new[] { "up" }, "--endpoints <file.json> is required")]
    [InlineData(new[] { "up", "--endpoints", "x.json", "--seed", "huge" }, "unknown seed 'huge'")]
    public async Task Bad_arguments_exit_with_2_and_say_what_is_wrong(string[] arguments, string expected)
    {
        var host = StartHost(arguments);
        var error = await host.StandardError.ReadToEndAsync();
        await host.WaitForExitAsync();
        Assert.Equal(2, host.ExitCode);
        Assert.Contains(expected, error);
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
