using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace HarborOps.Lab;

public enum RegistryAuthMode { None, Basic, Token }

/// <summary>How to start a <see cref="DistributionRegistry"/>; the defaults give an open registry.</summary>
public sealed record DistributionRegistryOptions
{
    public RegistryAuthMode Auth { get; init; } = RegistryAuthMode.None;
    /// <summary>The user for Basic and Token modes; a random password is generated when <see cref="Password"/> is null.</summary>
    public string UserName { get; init; } = "lab-user";
    public string? Password { get; init; }
    /// <summary>Token mode: options for the lab's token service (users, anonymous access, token lifetime).</summary>
    public LabTokenServiceOptions? TokenService { get; init; }
    /// <summary>Token mode: trust this issuer instead of starting a lab token service (the Harbor emulator's /service/token).</summary>
    public LabExternalTokenIssuer? ExternalTokenIssuer { get; init; }
}

/// <summary>A token issuer the registry trusts: its realm, service and issuer names, and its signing certificate as PEM.</summary>
public sealed record LabExternalTokenIssuer(Uri Realm, string Service, string Issuer, string CertificatePem);

/// <summary>
/// A real CNCF Distribution process (<c>/usr/bin/docker-registry</c>) on a free 127.0.0.1 port with its storage in a
/// temp dir. Dispose kills the process and deletes the storage.
/// </summary>
public sealed class DistributionRegistry : IAsyncDisposable
{
    private const int StartAttempts = 5;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    private readonly LabProcess _process;
    private readonly string _directory;
    private int _disposed;

    private DistributionRegistry(LabProcess process, string directory, int port, RegistryAuthMode auth,
        string? userName, string? password, LabTokenService? tokenService, TimeSpan startTime)
    {
        _process = process;
        _directory = directory;
        Host = $"127.0.0.1:{port}";
        BaseUri = new Uri($"http://{Host}/");
        Auth = auth;
        UserName = userName;
        Password = password;
        TokenService = tokenService;
        StartTime = startTime;
    }

    public string Host { get; }
    public Uri BaseUri { get; }
    public RegistryAuthMode Auth { get; }
    public string? UserName { get; }
    public string? Password { get; }
    /// <summary>Token mode: the lab's token server that this registry trusts.</summary>
    public LabTokenService? TokenService { get; }
    /// <summary>The directory holding config.yml and the registry's storage (deleted on dispose).</summary>
    public string Directory => _directory;
    /// <summary>How long it took from launching the process until /v2/ answered.</summary>
    public TimeSpan StartTime { get; }
    /// <summary>The id of the watchdog shell whose child is docker-registry (killing it as a tree stops both).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The credentials as a lab endpoint, for <see cref="LabContent"/> and clients under test.</summary>
    public LabEndpoint Endpoint => new(BaseUri, UserName, Password);

    public static Task<DistributionRegistry> StartAsync(RegistryAuthMode auth = RegistryAuthMode.None, CancellationToken ct = default) =>
        StartAsync(new DistributionRegistryOptions { Auth = auth }, ct);

    /// <summary>
    /// Starts one registry per mode in parallel (start-up is mostly waiting, so this costs about one start). If any
    /// fails, the ones that did start are stopped before the failure is rethrown, so a fixture leaks no process.
    /// </summary>
    public static async Task<DistributionRegistry[]> StartAllAsync(params RegistryAuthMode[] modes)
    {
        var starts = modes.Select(mode => StartAsync(mode)).ToArray();
        try
        {
            return await Task.WhenAll(starts);
        }
        catch
        {
            foreach (var started in starts.Where(t => t.IsCompletedSuccessfully)) await started.Result.DisposeAsync();
            throw;
        }
    }

    public static async Task<DistributionRegistry> StartAsync(DistributionRegistryOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var program = LabPrerequisites.RequireDockerRegistry();
        var directory = LabDirectories.CreateOwned("registry");

        string? userName = null, password = null;
        LabTokenService? tokenService = null;
        try
        {
            var authYaml = "";
            if (options.Auth != RegistryAuthMode.None)
            {
                userName = options.UserName;
                password = options.Password ?? NewPassword();
            }
            if (options.Auth == RegistryAuthMode.Basic)
            {
                var htpasswdFile = Path.Combine(directory, "htpasswd");
                await File.WriteAllTextAsync(htpasswdFile, await Htpasswd.LineAsync(userName!, password!, ct), ct);
                authYaml = $"""
                    auth:
                      htpasswd:
                        realm: harborops-lab
                        path: {Yaml(htpasswdFile)}
                    """;
            }
            else if (options.Auth == RegistryAuthMode.Token)
            {
                var issuer = options.ExternalTokenIssuer;
                if (issuer is null)
                {
                    var tokenOptions = options.TokenService ?? new LabTokenServiceOptions();
                    tokenService = await LabTokenService.StartAsync(tokenOptions, ct);
                    tokenService.AddUser(userName!, password!, LabGrant.Everything);
                    issuer = new LabExternalTokenIssuer(tokenService.Realm, tokenService.Service, tokenService.Issuer, tokenService.CertificatePem);
                }
                var bundle = Path.Combine(directory, "token-root.pem");
                await File.WriteAllTextAsync(bundle, issuer.CertificatePem, ct);
                authYaml = $"""
                    auth:
                      token:
                        realm: {Yaml(issuer.Realm.AbsoluteUri)}
                        service: {Yaml(issuer.Service)}
                        issuer: {Yaml(issuer.Issuer)}
                        rootcertbundle: {Yaml(bundle)}
                    """;
            }

            for (var attempt = 1; ; attempt++)
            {
                var port = LabPorts.FindFreeLoopbackPort();
                var config = Path.Combine(directory, "config.yml");
                await File.WriteAllTextAsync(config, Config(directory, port, authYaml), ct);
                var clock = Stopwatch.StartNew();
                var process = LabProcess.Start(program, "serve", config);
                try
                {
                    await WaitUntilReadyAsync(process, port, ct);
                    return new DistributionRegistry(process, directory, port, options.Auth, userName, password, tokenService, clock.Elapsed);
                }
                catch (PortTakenException) when (attempt < StartAttempts)
                {
                    process.Dispose();
                }
                catch
                {
                    process.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            if (tokenService is not null) await tokenService.DisposeAsync();
            TryDeleteDirectory(directory);
            throw;
        }
    }

    private static string Config(string directory, int port, string authYaml) => $"""
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: {Yaml(Path.Combine(directory, "data"))}
          delete:
            enabled: true
          cache:
            blobdescriptor: inmemory
        validation:
          manifests:
            urls:
              # Foreign (non-distributable) layers are accepted by reference, as Docker Hub and ACR accept Windows base layers.
              allow:
                - '^https?://'
        http:
          addr: 127.0.0.1:{port}
          secret: {Yaml(NewPassword())}
        {authYaml}
        """;

    private static string Yaml(string value) => "'" + value.Replace("'", "''") + "'";

    private static string NewPassword() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');

    private sealed class PortTakenException : Exception;

    private static async Task WaitUntilReadyAsync(LabProcess process, int port, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            Timeout = TimeSpan.FromSeconds(2),
        };
        var ping = new Uri($"http://127.0.0.1:{port}/v2/");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                var output = process.RecentOutput;
                if (output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)) throw new PortTakenException();
                throw new InvalidOperationException(
                    $"docker-registry exited with code {process.ExitCode} before answering on 127.0.0.1:{port}. Its output:{Environment.NewLine}{output}");
            }
            try
            {
                using var response = await http.GetAsync(ping, ct);
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // a single ping timed out; the overall deadline decides
            }
            if (deadline.Elapsed > ReadyTimeout)
                throw new TimeoutException(
                    $"docker-registry did not answer GET /v2/ on 127.0.0.1:{port} within {ReadyTimeout.TotalSeconds:0} s. Its output:{Environment.NewLine}{process.RecentOutput}");
            await Task.Delay(10, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _process.Dispose();
        if (TokenService is not null) await TokenService.DisposeAsync();
        TryDeleteDirectory(_directory);
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp dir left behind must not fail a test run
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public override string ToString() => $"Distribution at {Host} (auth {Auth})";
}
