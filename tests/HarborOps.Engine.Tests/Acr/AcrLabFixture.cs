using System.Collections.Concurrent;
using Azure.Core.Pipeline;
using Azure.Identity;
using HarborOps.Engine.Migration;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Acr;
using HarborOps.Lab.Entra;
using HarborOps.Lab.Tests.Judges;
using HarborOps.Models;
using Xunit;

namespace HarborOps.Engine.Tests.Acr;

/// <summary>
/// The ACR emulator (with its lab Entra endpoint) as the source and an open Distribution registry as the destination,
/// shared by the ACR tests; each test pushes into repositories of its own. An Entra application with AcrPull and
/// metadata read on everything signs in through Azure.Identity for real.
/// </summary>
public sealed class AcrLabFixture : IAsyncLifetime
{
    private int _counter;

    public AcrEmulator Acr { get; private set; } = null!;
    public DistributionRegistry Destination { get; private set; } = null!;
    public EntraApplication Reader { get; private set; } = null!;
    /// <summary>Holds the emulator's /acr/v1 and /oauth2 answers to ACR's swagger; the test classes call it after each test.</summary>
    public AcrExchangeAudit Audit { get; private set; } = null!;

    public string AcrHost => Acr.Host;

    public async Task InitializeAsync()
    {
        var acr = AcrEmulator.StartAsync();
        var destination = DistributionRegistry.StartAsync();
        try
        {
            await Task.WhenAll(acr, destination);
        }
        catch
        {
            if (acr.IsCompletedSuccessfully) await acr.Result.DisposeAsync();
            if (destination.IsCompletedSuccessfully) await destination.Result.DisposeAsync();
            throw;
        }
        (Acr, Destination) = (acr.Result, destination.Result);
        Audit = new AcrExchangeAudit(Acr);
        Reader = Acr.Entra.AddApplication();
        // AcrPull plus the metadata read that listing needs (what the AcrPull role grants in ACR).
        Acr.AssignRole(Reader, new LabGrant("repository", "*", ["pull", "metadata_read"]), new LabGrant("registry", "catalog", ["*"]));
    }

    public async Task DisposeAsync()
    {
        if (Acr is not null) await Acr.DisposeAsync();
        if (Destination is not null) await Destination.DisposeAsync();
    }

    /// <summary>A repository path no other test uses.</summary>
    public string Unique(string name) => $"{name}-{Interlocked.Increment(ref _counter)}";

    /// <summary>Clean slate for a test: no faults, empty logs and counters.</summary>
    public Task ResetAsync() => Acr.ResetAsync();

    /// <summary>An engine that knows the emulator as ACR, with short retry delays; no docker config from the machine.</summary>
    public RegistryEngine NewEngine() => new(new RegistryEngineOptions
    {
        AcrHosts = [Acr.Host],
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(300),
        DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-tests-no-docker-config.json"),
    });

    /// <summary>
    /// Azure.Identity's ClientSecretCredential against the lab Entra endpoint: the authority is the lab's https host,
    /// whose self-signed certificate this transport trusts (Azure.Identity accepts only https authorities), and instance
    /// discovery is off because it would ask login.microsoftonline.com to vouch for a private authority.
    /// </summary>
    public ClientSecretCredential ReaderCredential(EntraApplication? application = null)
    {
        application ??= Reader;
        return new ClientSecretCredential(Acr.Entra.TenantId, application.ClientId, application.ClientSecret, new ClientSecretCredentialOptions
        {
            AuthorityHost = Acr.Entra.AuthorityHost,
            DisableInstanceDiscovery = true,
            Transport = new HttpClientTransport(Acr.Entra.CreateTrustingHandler()),
        });
    }

    /// <summary>Runs a copy and collects its per-tag results.</summary>
    public static async Task<(CopySummary Summary, IReadOnlyList<CopyResult> Results)> CopyAsync(RegistryEngine engine, CopyRequest request, CancellationToken cancellationToken = default)
    {
        var results = new ConcurrentQueue<CopyResult>();
        var summary = await new ImageCopier(engine).CopyAsync(request, null, (r, _) => results.Enqueue(r), cancellationToken);
        return (summary, results.ToArray());
    }
}

[CollectionDefinition(Name)]
public sealed class AcrLabCollection : ICollectionFixture<AcrLabFixture>
{
    public const string Name = "ACR lab";
}
