using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using HarborOps.Lab.Acr;
using HarborOps.Lab.Entra;
using HarborOps.Lab.Graph;
using HarborOps.Lab.Harbor;
using HarborOps.Lab.Hostile;
using HarborOps.Lab.Kube;

namespace HarborOps.Lab;

public sealed record LabHostOptions
{
    /// <summary>"demo" seeds the demo content; null seeds nothing.</summary>
    public string? Seed { get; init; }
    public int ManyTagsCount { get; init; } = LabSeed.DefaultManyTagsCount;
    /// <summary>Tag-list page size the proxy emulates (Distribution itself does not page tags); null turns it off.</summary>
    public int? ProxyTagsPageSize { get; init; } = 100;
}

/// <summary>What the demo seed wrote, per registry.</summary>
public sealed record LabSeed(IReadOnlyList<string> Repositories, string ManyTagsRepository, int ManyTagsCount, IReadOnlyList<PushedImage> Images)
{
    public const int DefaultManyTagsCount = 1500;
    public const string ManyTagsRepositoryName = "bulk/many-tags";
}

/// <summary>
/// A whole lab: an open, a Basic-auth and a token-auth registry, the Harbor and ACR emulators (started in parallel), a fault proxy in front of the
/// open one, optionally the demo content. Used by the host executable and by tests that want everything.
/// </summary>
public sealed class LabHost : IAsyncDisposable
{
    public const string KubeAdminContext = "lab-admin";
    public const string KubeReaderContext = "lab-reader";

    private LabHost(DistributionRegistry open, DistributionRegistry basic, DistributionRegistry token, FaultProxy proxy, HarborEmulator harbor, KubeEmulator kube, AcrEmulator acr, GraphEmulator graph,
        HostileRegistry hostile)
    {
        Hostile = hostile;
        Harbor = harbor;
        Kube = kube;
        Graph = graph;
        KubeDirectory = System.IO.Directory.CreateTempSubdirectory("harborops-lab-kube-").FullName;
        KubeReader = kube.AddToken("lab-reader", KubeAccessRule.ReadAll);
        Kubeconfig = KubeConfigFile.Write(Path.Combine(KubeDirectory, "kubeconfig"), kube, KubeAdminContext,
            new KubeConfigContext(KubeAdminContext, KubeEmulator.AdminUser, kube.AdminToken),
            new KubeConfigContext(KubeReaderContext, KubeReader.User, KubeReader.Token));
        Acr = acr;
        AcrReader = acr.Entra.AddApplication();
        // What the AcrPull role and a catalog reader allow: pull, listings, the catalog.
        acr.AssignRole(AcrReader, new LabGrant("repository", "*", ["pull", "metadata_read"]), new LabGrant("registry", "catalog", ["*"]));
        Open = open;
        Basic = basic;
        Token = token;
        Proxy = proxy;
    }

    /// <summary>The recorded ACR sessions served to other processes (Pester), by the name the endpoints file gives them.</summary>
    private static readonly IReadOnlyDictionary<string, string> AcrReplayRecordings = new Dictionary<string, string>
    {
        ["anonymousCatalog"] = "CanGetRepositoriesWithCustomPageSize(True).json",
        ["manifests"] = "CanGetManifestsWithCustomPageSize(False).json",
        ["dockerManifest"] = "CanDownloadDockerManifest_AcceptMultipleMediaTypes.json",
    };
    private readonly List<AcrRecordingReplay> _acrReplays = [];

    /// <summary>Replays of real ACR sessions (tests/contracts/acr/recordings), in the order of <see cref="AcrReplayRecordings"/>.</summary>
    public IReadOnlyList<AcrRecordingReplay> AcrReplays => _acrReplays;

    public DistributionRegistry Open { get; }
    public DistributionRegistry Basic { get; }
    public DistributionRegistry Token { get; }
    public FaultProxy Proxy { get; }
    /// <summary>The Harbor emulator (its own token-mode Distribution behind /v2/), empty: tests create their projects.</summary>
    public HarborEmulator Harbor { get; }
    /// <summary>Entra ID and Microsoft Graph (TLS from the lab CA), with an empty directory and one app that may read it.</summary>
    public GraphEmulator Graph { get; }
    /// <summary>Where WriteEndpointsAsync put the lab CA and the CA bundle (system CAs plus the lab CA) for SSL_CERT_FILE.</summary>
    public string? CertificateAuthorityFile { get; private set; }
    public string? CertificateBundleFile { get; private set; }
    /// <summary>The Kubernetes API emulator (https, its CA in <see cref="Kubeconfig"/>).</summary>
    public KubeEmulator Kube { get; }
    /// <summary>A kubeconfig with the contexts "lab-admin" (everything) and "lab-reader" (get, list, watch only).</summary>
    public string Kubeconfig { get; }
    public KubeTokenGrant KubeReader { get; }
    private string KubeDirectory { get; }
    /// <summary>The ACR emulator (its own Distribution, Entra endpoint and fault proxy with a storage host).</summary>
    public AcrEmulator Acr { get; }
    /// <summary>An Entra application with pull, metadata read and catalog rights on the ACR emulator.</summary>
    public EntraApplication AcrReader { get; }
    /// <summary>A registry and token service that attack their client (<see cref="HostileMode"/>s set over its control API), Basic auth, https
    /// on the machine's loopback name and plain http on its loopback address.</summary>
    public HostileRegistry Hostile { get; }
    public LabSeed? Seed { get; private set; }
    public TimeSpan StartTime { get; private set; }
    public TimeSpan SeedTime { get; private set; }

    public static async Task<LabHost> StartAsync(LabHostOptions? options = null, CancellationToken ct = default)
    {
        options ??= new LabHostOptions();
        if (options.Seed is not (null or "demo")) throw new ArgumentException($"unknown seed '{options.Seed}' (known: demo)", nameof(options));
        var clock = Stopwatch.StartNew();
        var starting = new[] { RegistryAuthMode.None, RegistryAuthMode.Basic, RegistryAuthMode.Token }
            .Select(mode => DistributionRegistry.StartAsync(mode, ct)).ToArray();
        // The story's Harbor signs people in through Entra ID (OIDC); tests of the other modes switch it over /_lab/auth-mode.
        var startingHarbor = HarborEmulator.StartAsync(new HarborEmulatorOptions { AuthMode = HarborAuthModes.Oidc }, ct);
        var startingKube = KubeEmulator.StartAsync(null, ct);
        // One Entra tenant behind ACR's exchange and Graph, as a company's ACR and directory share theirs.
        var entra = await EntraEmulator.StartAsync(ct);
        var startingAcr = AcrEmulator.StartAsync(new AcrEmulatorOptions { Entra = entra }, ct);
        var startingGraph = GraphEmulator.StartAsync(entra, ct);
        var startingHostile = HostileRegistry.StartAsync(null, ct);
        try
        {
            await Task.WhenAll(Task.WhenAll(starting), startingHarbor, startingKube, startingAcr, startingGraph, startingHostile);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully)) await started.Result.DisposeAsync();
            if (startingHarbor.IsCompletedSuccessfully) await startingHarbor.Result.DisposeAsync();
            if (startingKube.IsCompletedSuccessfully) await startingKube.Result.DisposeAsync();
            if (startingAcr.IsCompletedSuccessfully) await startingAcr.Result.DisposeAsync();
            if (startingGraph.IsCompletedSuccessfully) await startingGraph.Result.DisposeAsync();
            await entra.DisposeAsync();
            if (startingHostile.IsCompletedSuccessfully) await startingHostile.Result.DisposeAsync();
            throw;
        }
        var hostile = startingHostile.Result;
        var kube = startingKube.Result;
        var harbor = startingHarbor.Result;
        var acr = startingAcr.Result;
        var graph = startingGraph.Result;
        var (open, basic, token) = (starting[0].Result, starting[1].Result, starting[2].Result);
        FaultProxy proxy;
        try
        {
            proxy = await FaultProxy.StartAsync(open, ct);
            proxy.TagsPageSize = options.ProxyTagsPageSize;
        }
        catch
        {
            await open.DisposeAsync();
            await basic.DisposeAsync();
            await token.DisposeAsync();
            await harbor.DisposeAsync();
            await kube.DisposeAsync();
            await acr.DisposeAsync();
            await graph.DisposeAsync();
            await entra.DisposeAsync();
            await hostile.DisposeAsync();
            throw;
        }
        var host = new LabHost(open, basic, token, proxy, harbor, kube, acr, graph, hostile);
        try
        {
            foreach (var recording in AcrReplayRecordings.Values) host._acrReplays.Add(await AcrRecordingReplay.StartAsync(recording, ct));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        host.StartTime = clock.Elapsed;
        if (options.Seed == "demo")
        {
            try
            {
                clock.Restart();
                host.Seed = await SeedDemoAsync(host, options.ManyTagsCount, ct);
                host.SeedTime = clock.Elapsed;
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }
        return host;
    }

    /// <summary>Small repositories everywhere; the many-tags repository only on the open registry (the proxy shows it
    /// paged), because pushing it is what the seed spends its time on.</summary>
    private static async Task<LabSeed> SeedDemoAsync(LabHost host, int manyTagsCount, CancellationToken ct)
    {
        var manyTags = LabContent.PushManyTagsAsync(host.Open.Endpoint, LabSeed.ManyTagsRepositoryName, manyTagsCount, ct: ct);
        var small = await Task.WhenAll(new[] { host.Open.Endpoint, host.Basic.Endpoint, host.Token.Endpoint, host.Acr.AdminEndpoint }.Select(e => SeedSmallAsync(e, ct)));
        var many = await manyTags;
        var images = small[0].Append(many.Image).ToList();
        var repositories = images.Select(i => i.Repository).Distinct().Order(StringComparer.Ordinal).ToList();
        return new LabSeed(repositories, LabSeed.ManyTagsRepositoryName, many.Tags.Count, images);
    }

    private static async Task<List<PushedImage>> SeedSmallAsync(LabEndpoint endpoint, CancellationToken ct)
    {
        var images = new List<PushedImage>();
        images.Add(await LabContent.PushImageAsync(endpoint, "team-a/api", "1.0", new LabImageOptions { LayerCount = 2 }, ct));
        var docker = await LabContent.PushImageAsync(endpoint, "team-a/api", "1.1", new LabImageOptions { Docker = true, LayerCount = 2 }, ct);
        images.Add(docker);
        images.Add(await LabContent.PutManifestAsync(endpoint, "team-a/api", "latest", docker.MediaType, docker.ManifestBytes, ct) with { BlobDigests = docker.BlobDigests });
        images.Add(await LabContent.PushIndexAsync(endpoint, "team-a/web", "2.0", ["linux/amd64", "linux/arm64"], docker: false, ct));
        images.Add(await LabContent.PushIndexAsync(endpoint, "team-b/worker", "3.1", ["linux/amd64", "linux/arm/v7"], docker: true, ct));
        var debian = await LabContent.PushImageAsync(endpoint, "platform/base/debian", "bookworm", null, ct);
        images.Add(debian);
        images.Add(await LabContent.PushCosignSignatureAsync(endpoint, debian, ct));
        await LabContent.PushReferrerAsync(endpoint, debian, ct: ct);
        return images;
    }

    /// <summary>The endpoints document the host writes (shape agreed in the lab contract).</summary>
    public string EndpointsJson()
    {
        var document = new Dictionary<string, object?>
        {
            ["registries"] = new Dictionary<string, object?>
            {
                ["open"] = new { host = Open.Host },
                ["basic"] = new { host = Basic.Host, username = Basic.UserName, password = Basic.Password },
                ["token"] = new
                {
                    host = Token.Host, username = Token.UserName, password = Token.Password,
                    realm = Token.TokenService!.Realm.AbsoluteUri, service = Token.TokenService.Service,
                },
            },
            ["proxy"] = new
            {
                host = Proxy.Host, upstream = "open", storageHost = Proxy.StorageHost, tagsPageSize = Proxy.TagsPageSize,
                referrersApi = Proxy.EnableReferrersApi, control = new Uri(Proxy.BaseUri, "_lab/").AbsoluteUri,
            },
            ["harbor"] = new
            {
                url = Harbor.BaseUri.AbsoluteUri, host = Harbor.Host, username = Harbor.AdminUser, password = Harbor.AdminPassword,
                control = new Uri(Harbor.BaseUri, "_lab/").AbsoluteUri, registry = Harbor.Registry.Host,
            },
            ["kubernetes"] = new
            {
                server = Kube.Server, kubeconfig = Kubeconfig, adminContext = KubeAdminContext, readerContext = KubeReaderContext,
                control = new Uri(Kube.BaseUri, "_lab/").AbsoluteUri,
            },
            ["acr"] = new
            {
                host = Acr.Host, service = Acr.Service, username = Acr.AdminUser, password = Acr.AdminPassword,
                storageHost = Acr.Front.StorageHost, registry = Acr.Registry.Host,
                // faults and the request log of the front proxy; locks, planted times and token counts of the emulator
                proxyControl = new Uri(Acr.Front.BaseUri, "_lab/").AbsoluteUri, control = Acr.ControlUri.AbsoluteUri,
                entra = new
                {
                    authorityHost = Acr.Entra.AuthorityHost.AbsoluteUri, tenantId = Acr.Entra.TenantId,
                    clientId = AcrReader.ClientId, clientSecret = AcrReader.ClientSecret, caBundle = Acr.Entra.CaBundlePath,
                },
            },
            // TLS from the lab CA (graph.caBundle trusts it); the engine must be told they are ACR (HARBOROPS_ACR_HOSTS).
            ["acrReplays"] = AcrReplayRecordings.Keys.Zip(_acrReplays).ToDictionary(p => p.First, p => new
            {
                host = p.Second.Host, recordedHost = p.Second.RecordedHost, control = new Uri(p.Second.BaseUri, "_lab/requests").AbsoluteUri,
            }),
            ["graph"] = new
            {
                authorityHost = Graph.AuthorityHost.AbsoluteUri, graphEndpoint = Graph.GraphEndpoint.AbsoluteUri, tenantId = Graph.TenantId,
                clientId = Graph.DefaultApp.ClientId, clientSecret = Graph.DefaultApp.ClientSecret, control = new Uri(Graph.GraphEndpoint, "_lab/").AbsoluteUri,
                caCertificate = CertificateAuthorityFile, caBundle = CertificateBundleFile,
            },
            ["hostile"] = new
            {
                httpsHost = Hostile.HttpsHost, plainHost = Hostile.PlainHost, hostName = Hostile.HostName, username = Hostile.UserName,
                password = Hostile.Password, control = $"http://{Hostile.PlainHost}/_lab/", caCertificate = Hostile.CertificateAuthority.BundlePath,
            },
            ["seed"] = Seed is null
                ? null
                : new
                {
                    repositories = Seed.Repositories,
                    manyTagsRepository = Seed.ManyTagsRepository,
                    manyTagsCount = Seed.ManyTagsCount,
                    manyTagsRegistry = "open",
                    images = Seed.Images.Select(i => new { repository = i.Repository, tag = i.Tag, digest = i.Digest, mediaType = i.MediaType }),
                },
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never });
    }

    /// <summary>Writes the endpoints JSON atomically (temp file + rename), so a reader never sees half a file.</summary>
    public async Task WriteEndpointsAsync(string path, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        System.IO.Directory.CreateDirectory(directory);
        // TLS clients in other processes trust the lab's https servers (Graph, Entra, the hostile registry) through
        // SSL_CERT_FILE (OpenSSL's trust store), which replaces the system bundle: so the bundle is the system CAs plus the lab CA.
        CertificateAuthorityFile = Path.ChangeExtension(full, ".lab-ca.pem");
        CertificateBundleFile = Path.ChangeExtension(full, ".ca-bundle.pem");
        await File.WriteAllTextAsync(CertificateAuthorityFile, LabCertificateAuthority.Shared.Pem, ct);
        const string SystemBundle = "/etc/ssl/certs/ca-certificates.crt";
        var system = File.Exists(SystemBundle) ? await File.ReadAllTextAsync(SystemBundle, ct) : "";
        await File.WriteAllTextAsync(CertificateBundleFile, system.TrimEnd() + "\n" + LabCertificateAuthority.Shared.Pem, ct);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        await File.WriteAllTextAsync(temp, EndpointsJson(), ct);
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>A readable summary for a human at the terminal (passwords stay in the endpoints file).</summary>
    public string Summary()
    {
        var lines = new List<string>
        {
            $"HarborOps lab up in {StartTime.TotalMilliseconds:0} ms" + (Seed is null ? "" : $", seeded in {SeedTime.TotalMilliseconds:0} ms"),
            $"  open registry   http://{Open.Host}/",
            $"  basic registry  http://{Basic.Host}/  user {Basic.UserName}",
            $"  token registry  http://{Token.Host}/  user {Token.UserName}, realm {Token.TokenService!.Realm}",
            $"  fault proxy     http://{Proxy.Host}/ -> open (storage host {Proxy.StorageHost}, tag pages of {Proxy.TagsPageSize?.ToString() ?? "all"})",
            $"  harbor          {Harbor.BaseUri}  user {Harbor.AdminUser} (emulated API, real registry {Harbor.Registry.Host} behind /v2/)",
            $"  entra / graph   authority {Graph.AuthorityHost}, Graph {Graph.GraphEndpoint}, tenant {Graph.TenantId} (TLS from the lab CA)",
            $"  kubernetes      {Kube.BaseUri}  kubeconfig {Kubeconfig} (contexts {KubeAdminContext}, {KubeReaderContext})",
            $"  hostile         https://{Hostile.HttpsHost}/ and http://{Hostile.PlainHost}/  user {Hostile.UserName} (attacks its clients; modes over {Hostile.PlainHost}/_lab/modes)",
            $"  acr             http://{Acr.Host}/  user {Acr.AdminUser}, Entra {Acr.Entra.AuthorityHost} tenant {Acr.Entra.TenantId} (emulated, real registry {Acr.Registry.Host}, storage host {Acr.Front.StorageHost})",
        };
        lines.AddRange(AcrReplayRecordings.Keys.Zip(_acrReplays).Select(p => $"  acr replay      https://{p.Second.Host}/  {p.First}: recorded {p.Second.RecordedHost} (tests/contracts/acr/recordings)"));
        if (Seed is not null)
            lines.Add($"  seeded          {string.Join(", ", Seed.Repositories)} ({Seed.ManyTagsCount} tags in {Seed.ManyTagsRepository} on open)");
        return string.Join(Environment.NewLine, lines);
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        foreach (var replay in _acrReplays) await replay.DisposeAsync();
        await Task.WhenAll(Open.DisposeAsync().AsTask(), Basic.DisposeAsync().AsTask(), Token.DisposeAsync().AsTask(), Harbor.DisposeAsync().AsTask(),
            Kube.DisposeAsync().AsTask(), Acr.DisposeAsync().AsTask(), Graph.DisposeAsync().AsTask(), Hostile.DisposeAsync().AsTask());
        await Acr.Entra.DisposeAsync(); // the tenant ACR and Graph share, owned by the lab
        System.IO.Directory.Delete(KubeDirectory, recursive: true);
    }
}
