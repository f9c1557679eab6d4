using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarborOps.Engine.Harbor;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using HarborOps.Lab.Harbor;
using HarborOps.Lab.Tests.Judges;
using Xunit;

namespace HarborOps.Engine.Tests.Harbor;

/// <summary>One Harbor emulator (and its real Distribution registry) for every Harbor test class in the collection.
/// Tests in a collection run one after another, so each can check the exchanges it caused against the contract.</summary>
public sealed class HarborLabFixture : IAsyncLifetime
{
    private int _names;
    private HarborExchangeAudit _audit = null!;

    public HarborEmulator Harbor { get; private set; } = null!;
    public HarborClientOptions FastOptions { get; } = new()
    {
        MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        RequestTimeout = TimeSpan.FromSeconds(20), ScanPollInterval = TimeSpan.FromMilliseconds(100),
    };

    public async Task InitializeAsync()
    {
        Harbor = await HarborEmulator.StartAsync(new HarborEmulatorOptions { ScanDuration = TimeSpan.FromMilliseconds(250) });
        _audit = new HarborExchangeAudit(Harbor);
    }

    public async Task DisposeAsync()
    {
        if (Harbor is not null) await Harbor.DisposeAsync();
    }

    public HarborConnection AdminConnection => new(Harbor.BaseUri, AdminCredential);

    /// <summary>Harbor's admin as a plain registry credential (what a run without a Harbor session has).</summary>
    public NetworkCredential AdminCredential => new(Harbor.AdminUser, Harbor.AdminPassword);

    /// <summary>A registry engine that sees no docker config.json of the machine and retries once, quickly.</summary>
    public static RegistryEngine NewRegistryEngine() => new(new RegistryEngineOptions
    {
        DockerConfigPath = Path.Combine(Path.GetTempPath(), "harborops-none-" + Guid.NewGuid().ToString("N"), "config.json"),
        MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(20),
    });

    /// <summary>A manifest of the seed image that differs by an annotation, so each tag is an artifact of its own.</summary>
    public static byte[] VariantOf(PushedImage seed, string label)
    {
        var manifest = JsonNode.Parse(seed.ManifestBytes)!.AsObject();
        manifest["annotations"] = new JsonObject { ["lab.tag"] = label };
        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }

    public HarborClient Admin(List<string>? log = null) => new(AdminConnection, log is null ? null : log.Add, FastOptions);

    public HarborClient As(string user, string secret, List<string>? log = null) =>
        new(new HarborConnection(Harbor.BaseUri, new NetworkCredential(user, secret)), log is null ? null : log.Add, FastOptions);

    /// <summary>A name no other test uses (lower case, Harbor's name rules).</summary>
    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";

    public LabEndpoint Endpoint(string user, string secret) => new(Harbor.BaseUri, user, secret);

    /// <summary>Every API call since the last check, request and response, against the swagger contract.</summary>
    public void AssertExchangesMatchContract() => _audit.AssertExchangesMatchContract();

    /// <summary>Marks the exchanges so far as checked (a test that sends deliberately wrong shapes checks them itself).</summary>
    public void SkipExchanges() => _audit.SkipExchanges();
}

[CollectionDefinition(Name)]
public sealed class HarborLabCollection : ICollectionFixture<HarborLabFixture>
{
    public const string Name = "harbor lab";
}
