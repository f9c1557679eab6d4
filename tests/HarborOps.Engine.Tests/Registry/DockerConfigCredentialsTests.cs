using System.Text;
using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Auth;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

public sealed class DockerConfigCredentialsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("harborops-dockercfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DockerConfigCredentials Write(string json, string? helperDirectory = null)
    {
        var path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, json);
        return new DockerConfigCredentials(path) { HelperDirectory = helperDirectory };
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public async Task Reads_base64_auth_username_password_and_identity_tokens_by_normalized_key()
    {
        var config = Write($$"""
            {
              "auths": {
                "https://index.docker.io/v1/": { "auth": "{{B64("hubuser:hub:pass")}}" },
                "http://127.0.0.1:5000": { "username": "bob", "password": "s3cret" },
                "myacr.azurecr.io": { "auth": "{{B64("00000000-0000-0000-0000-000000000000:")}}", "identitytoken": "refresh-xyz" }
              }
            }
            """);
        var hub = await config.ResolveAsync("docker.io", default);
        Assert.Equal(RegistryCredentialKind.Basic, hub!.Kind);
        Assert.Equal("hubuser", hub.UserName);
        Assert.Equal("hub:pass", hub.Secret); // only the first colon separates user from password

        var local = await config.ResolveAsync("127.0.0.1:5000", default);
        Assert.Equal(("bob", "s3cret"), (local!.UserName, local.Secret));

        var acr = await config.ResolveAsync("myacr.azurecr.io", default);
        Assert.Equal(RegistryCredentialKind.RefreshToken, acr!.Kind);
        Assert.Equal("refresh-xyz", acr.Secret);
        Assert.DoesNotContain("refresh-xyz", acr.ToString());

        Assert.Null(await config.ResolveAsync("other.example.com", default));
        var listed = config.List();
        Assert.Equal(["127.0.0.1:5000", "docker.io", "myacr.azurecr.io"], listed.Select(l => l.Registry));
        Assert.All(listed, l => Assert.Equal("DockerConfig", l.Kind));
    }

    [Fact]
    public async Task Missing_credential_helper_is_a_clear_error_naming_it()
    {
        var config = Write("""{ "credHelpers": { "registry.example.com": "nosuchhelper" } }""", helperDirectory: _dir);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => config.ResolveAsync("registry.example.com", default));
        Assert.Equal(RegistryErrorIds.CredentialStoreInvalid, ex.ErrorId);
        Assert.Contains("docker-credential-nosuchhelper", ex.Message);
        Assert.Contains("not on PATH", ex.Message);
    }

    [Fact]
    public async Task Creds_store_without_helper_only_fails_for_registries_it_holds()
    {
        var config = Write("""{ "auths": { "held.example.com": {} }, "credsStore": "nosuchstore" }""", helperDirectory: _dir);
        Assert.Null(await config.ResolveAsync("public.example.com", default));
        var ex = await Assert.ThrowsAsync<RegistryException>(() => config.ResolveAsync("held.example.com", default));
        Assert.Contains("docker-credential-nosuchstore", ex.Message);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the helper is a POSIX shell script; CI is Debian
    public async Task Runs_a_credential_helper_with_the_server_url_on_stdin()
    {
        // A real helper program speaking the docker-credential protocol: reads the server URL, prints JSON.
        var helper = Path.Combine(_dir, "docker-credential-labtest");
        File.WriteAllText(helper, """
            #!/bin/sh
            read url
            case "$url" in
              https://index.docker.io/v1/) echo '{"ServerURL":"'"$url"'","Username":"<token>","Secret":"hub-identity"}' ;;
              registry.example.com) echo '{"ServerURL":"'"$url"'","Username":"helperuser","Secret":"helperpass"}' ;;
              *) echo "credentials not found in native keychain"; exit 1 ;;
            esac
            """.Replace("\r", ""));
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var config = Write("""{ "credsStore": "labtest", "auths": { "registry.example.com": {} } }""", helperDirectory: _dir);

        var basic = await config.ResolveAsync("registry.example.com", default);
        Assert.Equal(("helperuser", "helperpass", "docker-credential-labtest"), (basic!.UserName, basic.Secret, basic.Source));
        var hub = await config.ResolveAsync("docker.io", default);
        Assert.Equal(RegistryCredentialKind.RefreshToken, hub!.Kind);
        Assert.Equal("hub-identity", hub.Secret);
        Assert.Null(await config.ResolveAsync("unknown.example.com", default));
    }

    [Fact]
    public async Task Invalid_json_names_the_file()
    {
        var config = Write("{ not json");
        var ex = await Assert.ThrowsAsync<RegistryException>(() => config.ResolveAsync("x", default));
        Assert.Equal(RegistryErrorIds.CredentialStoreInvalid, ex.ErrorId);
        Assert.Contains(Path.Combine(_dir, "config.json"), ex.Message);
    }

    [Fact]
    public void Session_store_lists_without_secrets_and_session_entries_win()
    {
        var docker = Write($$"""{ "auths": { "a.example.com": { "auth": "{{B64("dockeruser:pw")}}" }, "b.example.com": { "auth": "{{B64("u:p")}}" } } }""");
        var store = new RegistryCredentialStore(docker);
        store.Set("https://A.example.com/", new System.Net.NetworkCredential("sessionuser", "topsecret"));
        store.Set("c.example.com", new System.Net.NetworkCredential("<token>", "tok"));
        Assert.Equal(["a.example.com", "c.example.com"], store.List().Select(e => e.Registry));
        var all = store.List(includeDockerConfig: true);
        Assert.Equal(["a.example.com", "b.example.com", "c.example.com"], all.Select(e => e.Registry));
        Assert.Equal(("sessionuser", "Basic"), (all[0].UserName, all[0].Kind));
        Assert.Equal("Token", all[2].Kind);
        Assert.DoesNotContain(all, e => (e.UserName + e.Source + e.Kind).Contains("topsecret"));
        Assert.True(store.Remove("a.example.com"));
        Assert.False(store.Remove("a.example.com"));
    }
}
