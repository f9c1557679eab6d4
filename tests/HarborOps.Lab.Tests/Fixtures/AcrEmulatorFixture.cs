using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HarborOps.Lab.Acr;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Lab.Tests.Fixtures;

/// <summary>One ACR emulator (with its Entra tenant) for the lab's own ACR tests; each test pushes into repositories of its own.</summary>
public sealed class AcrEmulatorFixture : IAsyncLifetime
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
    private int _names;

    public AcrEmulator Acr { get; private set; } = null!;
    public string AcrHost => Acr.Host;
    /// <summary>Holds the emulator's /acr/v1 and /oauth2 answers to ACR's swagger; the test classes call it after each test.</summary>
    public AcrExchangeAudit Audit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Acr = await AcrEmulator.StartAsync();
        Audit = new AcrExchangeAudit(Acr);
    }

    public async Task DisposeAsync()
    {
        if (Acr is not null) await Acr.DisposeAsync();
    }

    /// <summary>A repository path no other test uses.</summary>
    public string Unique(string name) => $"{name}-{Interlocked.Increment(ref _names)}";

    public Task ResetAsync() => Acr.ResetAsync();

    /// <summary>An access token for <paramref name="scope"/> from the admin user's Basic GET of /oauth2/token, as docker gets one.</summary>
    public async Task<string> AdminTokenAsync(string scope)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Acr.BaseUri, $"oauth2/token?service={Uri.EscapeDataString(AcrHost)}&scope={Uri.EscapeDataString(scope)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Acr.AdminUser}:{Acr.AdminPassword}")));
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(json.RootElement.TryGetProperty("expires_in", out _), "ACR sends no expires_in");
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
