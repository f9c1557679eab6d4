using System.Diagnostics;
using HarborOps.Engine.Registry;
using HarborOps.Lab;
using Xunit;

namespace HarborOps.Engine.Tests.Registry;

/// <summary>
/// Real Distribution registries (open, Basic, token) with content pushed once by LabContent (raw HTTP, independent of
/// the engine), shared by every registry-client test class in the collection.
/// </summary>
public sealed class RegistryLabFixture : IAsyncLifetime
{
    public const int ManyTagsCount = 1500;

    public DistributionRegistry Open { get; private set; } = null!;
    public DistributionRegistry Basic { get; private set; } = null!;
    public DistributionRegistry Token { get; private set; } = null!;
    public PushedImage OciImage { get; private set; } = null!;
    public PushedImage DockerImage { get; private set; } = null!;
    public PushedImage OciIndex { get; private set; } = null!;
    public PushedImage DockerList { get; private set; } = null!;
    public PushedImage Signed { get; private set; } = null!;
    public PushedImage Signature { get; private set; } = null!;
    public PushedImage Sbom { get; private set; } = null!;
    public PushedTags ManyTags { get; private set; } = null!;
    public PushedImage BasicImage { get; private set; } = null!;
    public PushedImage TokenImageA { get; private set; } = null!;
    public PushedImage TokenImageB { get; private set; } = null!;
    public TimeSpan SetupTime { get; private set; }
    /// <summary>A docker config path that does not exist, so tests never pick up the machine's own credentials.</summary>
    public string NoDockerConfig { get; } = Path.Combine(Path.GetTempPath(), "harborops-no-docker-config-" + Guid.NewGuid().ToString("N"), "config.json");

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var registries = await DistributionRegistry.StartAllAsync(RegistryAuthMode.None, RegistryAuthMode.Basic, RegistryAuthMode.Token);
        (Open, Basic, Token) = (registries[0], registries[1], registries[2]);

        var oci = LabContent.PushImageAsync(Open, "lab/oci", "v1", new LabImageOptions { LayerCount = 2, LayerSize = 4096, Platform = "linux/arm64/v8" });
        var docker = LabContent.PushImageAsync(Open, "lab/docker", "v1", new LabImageOptions { Docker = true });
        var index = LabContent.PushIndexAsync(Open, "lab/ociindex", "multi", ["linux/amd64", "linux/arm64/v8"]);
        var list = LabContent.PushIndexAsync(Open, "lab/dockerlist", "multi", ["linux/amd64", "linux/arm/v7"], docker: true);
        var many = LabContent.PushManyTagsAsync(Open, "lab/many", ManyTagsCount);
        var basicImage = LabContent.PushImageAsync(Basic, "private/app", "v1");
        var tokenA = LabContent.PushImageAsync(Token, "team/a", "v1");
        var tokenB = LabContent.PushImageAsync(Token, "team/b", "v1");
        Signed = await LabContent.PushImageAsync(Open, "lab/signed", "1.0");
        Signature = await LabContent.PushCosignSignatureAsync(Open, Signed);
        Sbom = await LabContent.PushReferrerAsync(Open, Signed);
        (OciImage, DockerImage, OciIndex, DockerList, ManyTags, BasicImage, TokenImageA, TokenImageB) =
            (await oci, await docker, await index, await list, await many, await basicImage, await tokenA, await tokenB);
        SetupTime = clock.Elapsed;
    }

    /// <summary>An engine with short retry delays (the defaults are realistic: 1 s doubling to 30 s).</summary>
    public RegistryEngine NewEngine(Func<RegistryEngineOptions, RegistryEngineOptions>? configure = null)
    {
        var options = new RegistryEngineOptions
        {
            DockerConfigPath = NoDockerConfig,
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            RetryMaxDelay = TimeSpan.FromMilliseconds(400),
            MaxRetries = 3,
            RequestTimeout = TimeSpan.FromSeconds(20),
        };
        return new RegistryEngine(configure is null ? options : configure(options));
    }

    public async Task DisposeAsync()
    {
        foreach (var registry in new[] { Open, Basic, Token })
            if (registry is not null) await registry.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class RegistryLabCollection : ICollectionFixture<RegistryLabFixture>
{
    public const string Name = "registry lab";
}
