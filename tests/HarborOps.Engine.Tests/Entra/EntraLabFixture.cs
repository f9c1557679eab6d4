using System.Net;
using HarborOps.Engine.Entra;
using HarborOps.Engine.Harbor;
using HarborOps.Lab.Graph;
using HarborOps.Lab.Harbor;
using Xunit;

namespace HarborOps.Engine.Tests.Entra;

/// <summary>The Graph emulator (Entra authority and Graph over TLS with the lab CA) and a Harbor emulator, shared by the Entra tests.</summary>
public sealed class EntraLabFixture : IAsyncLifetime
{
    public const string Name = "Entra lab";
    private int _names;

    public GraphEmulator Graph { get; private set; } = null!;
    public HarborEmulator Harbor { get; private set; } = null!;

    /// <summary>Holds the Graph responses each test caused to Graph's published OpenAPI (tests call it when they end).</summary>
    public HarborOps.Lab.Tests.Judges.GraphExchangeAudit GraphAudit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var graph = GraphEmulator.StartAsync();
        // Entra ID as Harbor's OIDC provider, as the Entra group sync expects Harbor to be configured.
        var harbor = HarborEmulator.StartAsync(new HarborEmulatorOptions { AuthMode = HarborAuthModes.Oidc });
        await Task.WhenAll(graph, harbor);
        (Graph, Harbor) = (graph.Result, harbor.Result);
        GraphAudit = new HarborOps.Lab.Tests.Judges.GraphExchangeAudit(Graph);
    }

    public async Task DisposeAsync()
    {
        if (Graph is not null) await Graph.DisposeAsync();
        if (Harbor is not null) await Harbor.DisposeAsync();
    }

    /// <summary>Client-secret sign-in against the emulator's authority, as an operator's app registration would.</summary>
    public EntraConnectionOptions Options(string? clientId = null, string? secret = null, int pageSize = 999, int maxRetries = 3) => new()
    {
        CredentialKind = EntraCredentialKind.ClientSecret, TenantId = Graph.TenantId, ClientId = clientId ?? Graph.DefaultApp.ClientId,
        ClientSecret = secret ?? Graph.DefaultApp.ClientSecret, AuthorityHost = Graph.AuthorityHost, GraphEndpoint = Graph.GraphEndpoint,
        PageSize = pageSize, MaxRetries = maxRetries, TransportHandler = Graph.CreateTrustingHandler(),
    };

    public EntraDirectory Directory(List<string>? log = null, int pageSize = 999, int maxRetries = 3) =>
        new(Options(pageSize: pageSize, maxRetries: maxRetries), log is null ? null : log.Add);

    public HarborClient HarborAdmin() =>
        new(new HarborConnection(Harbor.BaseUri, new NetworkCredential(Harbor.AdminUser, Harbor.AdminPassword)), null,
            new HarborClientOptions { MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(100) });

    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";
}

[CollectionDefinition(EntraLabFixture.Name)]
public sealed class EntraLabCollection : ICollectionFixture<EntraLabFixture>;
