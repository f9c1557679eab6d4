using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Models;

namespace HarborOps.Engine.Registry.Auth;

/// <summary>
/// Credentials from a docker config.json: "auths" entries (base64 "auth", or username/password, or "identitytoken"),
/// and credential helpers ("credsStore", "credHelpers") run as docker-credential-&lt;name&gt; get.
/// </summary>
public sealed class DockerConfigCredentials
{
    /// <summary>The key Docker uses for Docker Hub in config.json.</summary>
    public const string DockerHubKey = "https://index.docker.io/v1/";
    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(30);

    private readonly string? _configuredPath;

    public DockerConfigCredentials(string? configPath) { _configuredPath = configPath; }

    /// <summary>Where to look for docker-credential-* programs; null means PATH (tests point it at a directory).</summary>
    internal string? HelperDirectory { get; init; }

    /// <summary>The config file consulted: the configured path, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.</summary>
    public string ConfigPath
    {
        get
        {
            if (!string.IsNullOrEmpty(_configuredPath)) return _configuredPath;
            var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
            if (string.IsNullOrEmpty(dir))
                dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
            return Path.Combine(dir, "config.json");
        }
    }

    /// <summary>What the config says about each registry, without running helpers or revealing secrets.</summary>
    public IReadOnlyList<RegistryCredentialInfo> List()
    {
        var config = Load();
        if (config is null) return [];
        var result = new Dictionary<string, RegistryCredentialInfo>(StringComparer.Ordinal);
        foreach (var (key, entry) in config.Auths)
        {
            var registry = NormalizeKey(key);
            if (registry is null) continue;
            var (user, _, token) = entry;
            var helper = config.CredHelpers.GetValueOrDefault(registry) ?? config.CredsStore;
            result[registry] = new RegistryCredentialInfo
            {
                Registry = registry,
                UserName = user,
                Kind = "DockerConfig",
                Source = user is null && token is null && helper is not null ? $"docker-credential-{helper}" : ConfigPath,
            };
        }
        foreach (var (registry, helper) in config.CredHelpers)
            result.TryAdd(registry, new RegistryCredentialInfo { Registry = registry, Kind = "DockerConfig", Source = $"docker-credential-{helper}" });
        return result.Values.OrderBy(r => r.Registry, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// The credential for a registry (canonical name, docker.io for Hub), or null when the config has none. Answers are
    /// cached per registry while the config file is unchanged (helpers for a few minutes), because every request asks
    /// and a credential helper is a process start.
    /// </summary>
    public async Task<RegistryCredential?> ResolveAsync(string registry, CancellationToken cancellationToken)
    {
        var file = new FileInfo(ConfigPath);
        var stamp = file.Exists ? $"{file.FullName}|{file.LastWriteTimeUtc.Ticks}|{file.Length}" : "missing";
        var now = DateTimeOffset.UtcNow;
        if (_cache.TryGetValue(registry, out var cached) && cached.Stamp == stamp && cached.Until > now)
        {
            var task = cached.Task;
            if (!task.IsFaulted && !task.IsCanceled) return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var fresh = ResolveUncachedAsync(registry, CancellationToken.None);
        _cache[registry] = (stamp, now + CacheLifetime, fresh);
        return await fresh.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(5);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Stamp, DateTimeOffset Until, Task<RegistryCredential?> Task)> _cache = new(StringComparer.Ordinal);

    private async Task<RegistryCredential?> ResolveUncachedAsync(string registry, CancellationToken cancellationToken)
    {
        var config = Load();
        if (config is null) return null;
        var matching = config.Auths.Where(a => NormalizeKey(a.Key) == registry).Select(a => a.Value).ToList();

        var helper = config.CredHelpers.GetValueOrDefault(registry);
        if (helper is not null)
            return await RunHelperAsync(helper, registry, failIfMissing: true, cancellationToken).ConfigureAwait(false);

        foreach (var (user, password, identityToken) in matching)
        {
            if (identityToken is not null)
                return new RegistryCredential(RegistryCredentialKind.RefreshToken, user, identityToken, $"docker config {ConfigPath}");
            if (user is not null && password is not null)
                return new RegistryCredential(RegistryCredentialKind.Basic, user, password, $"docker config {ConfigPath}");
        }

        // docker login with a credsStore leaves an empty "auths" entry; only then is a missing helper an error, so
        // anonymous pulls from other registries keep working on machines without the helper.
        if (config.CredsStore is not null)
            return await RunHelperAsync(config.CredsStore, registry, failIfMissing: matching.Count > 0, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private async Task<RegistryCredential?> RunHelperAsync(string helper, string registry, bool failIfMissing, CancellationToken cancellationToken)
    {
        var program = "docker-credential-" + helper;
        var serverUrl = registry == ImageReference.DockerHubRegistry ? DockerHubKey : registry;
        var psi = new ProcessStartInfo(HelperDirectory is null ? program : Path.Combine(HelperDirectory, program), "get")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process? process;
        try { process = Process.Start(psi); }
        catch (Win32Exception)
        {
            if (!failIfMissing) return null;
            throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.AuthenticationFailed,
                $"The docker config {ConfigPath} keeps the credentials of '{registry}' in the credential helper '{helper}', but '{program}' is not on PATH. Install it, or remove \"{helper}\" from the config, or set credentials for this session with Set-RegistryCredential -Registry {registry}.",
                registry);
        }
        if (process is null) return null;
        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(HelperTimeout);
            try
            {
                await process.StandardInput.WriteAsync(serverUrl).ConfigureAwait(false);
                process.StandardInput.Close();
                var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
                var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                var output = await stdout.ConfigureAwait(false);
                var error = await stderr.ConfigureAwait(false);
                if (process.ExitCode != 0)
                {
                    // Helpers say "credentials not found" for registries they do not know: that is anonymous, not a failure.
                    if ((output + error).Contains("not found", StringComparison.OrdinalIgnoreCase)) return null;
                    throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.AuthenticationFailed,
                        $"The credential helper '{program}' failed for '{registry}' (exit code {process.ExitCode}): {FirstLine(error + output)}. Fix the helper or set credentials with Set-RegistryCredential -Registry {registry}.",
                        registry);
                }
                using var doc = JsonDocument.Parse(output);
                var user = doc.RootElement.TryGetProperty("Username", out var u) ? u.GetString() : null;
                var secret = doc.RootElement.TryGetProperty("Secret", out var s) ? s.GetString() : null;
                if (string.IsNullOrEmpty(secret)) return null;
                return user == "<token>"
                    ? new RegistryCredential(RegistryCredentialKind.RefreshToken, null, secret, program)
                    : new RegistryCredential(RegistryCredentialKind.Basic, user, secret, program);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                TryKill(process);
                throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.Timeout,
                    $"The credential helper '{program}' did not answer within {HelperTimeout.TotalSeconds:0} s for '{registry}'.", registry);
            }
            catch (OperationCanceledException)
            {
                TryKill(process);
                throw;
            }
            catch (JsonException)
            {
                throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.InvalidData,
                    $"The credential helper '{program}' printed something that is not its JSON answer for '{registry}'.", registry);
            }
        }
    }

    private static void TryKill(Process process)
    {
        // The helper may exit between the check and the kill; either way it is gone.
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    private static string FirstLine(string text)
    {
        var line = text.Trim().Split('\n').FirstOrDefault()?.Trim() ?? "";
        return line.Length > 200 ? line[..200] : line;
    }

    /// <summary>"https://index.docker.io/v1/", "http://host:5000", "host:5000/v2/" -> canonical registry name.</summary>
    internal static string? NormalizeKey(string key)
    {
        var text = key.Trim();
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) text = text[(scheme + 3)..];
        var slash = text.IndexOf('/');
        if (slash >= 0) text = text[..slash];
        return text.Length == 0 ? null : ImageReference.ToCanonicalRegistry(text);
    }

    private sealed record ConfigFile(List<KeyValuePair<string, (string? User, string? Password, string? IdentityToken)>> Auths, string? CredsStore, Dictionary<string, string> CredHelpers);

    private ConfigFile? Load()
    {
        var path = ConfigPath;
        if (!File.Exists(path)) return null;
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new JsonException("the top level is not an object");
            var auths = new List<KeyValuePair<string, (string?, string?, string?)>>();
            if (root.TryGetProperty("auths", out var a) && a.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in a.EnumerateObject())
                {
                    if (entry.Value.ValueKind != JsonValueKind.Object) continue;
                    string? user = Str(entry.Value, "username"), password = Str(entry.Value, "password");
                    if (Str(entry.Value, "auth") is { Length: > 0 } encoded)
                    {
                        string decoded;
                        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded)); }
                        catch (FormatException)
                        {
                            throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.InvalidArgument,
                                $"The \"auth\" value for '{entry.Name}' in the docker config {path} is not base64 of user:password. Run docker login again or fix the file.", path);
                        }
                        var colon = decoded.IndexOf(':');
                        if (colon > 0) { user = decoded[..colon]; password = decoded[(colon + 1)..]; }
                    }
                    var identity = Str(entry.Value, "identitytoken");
                    auths.Add(new(entry.Name, (string.IsNullOrEmpty(user) ? null : user, password, string.IsNullOrEmpty(identity) ? null : identity)));
                }
            }
            var helpers = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("credHelpers", out var h) && h.ValueKind == JsonValueKind.Object)
                foreach (var entry in h.EnumerateObject())
                    if (entry.Value.ValueKind == JsonValueKind.String && NormalizeKey(entry.Name) is { } reg)
                        helpers[reg] = entry.Value.GetString()!;
            var store = Str(root, "credsStore");
            return new ConfigFile(auths, string.IsNullOrEmpty(store) ? null : store, helpers);
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorIds.CredentialStoreInvalid, FailureKind.InvalidArgument,
                $"The docker config {path} is not valid JSON ({ex.Message}). Fix or remove it, or point RegistryEngineOptions.DockerConfigPath elsewhere.", path, ex);
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
