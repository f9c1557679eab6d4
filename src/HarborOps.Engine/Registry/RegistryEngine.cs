using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Registry.Auth;
using HarborOps.Engine.Registry.Http;
using HarborOps.Engine.Registry.Layout;
using HarborOps.Engine.Registry.Store;
using HarborOps.Engine.Resilience;
using HarborOps.Models;

namespace HarborOps.Engine.Registry;

/// <summary>
/// The registry engine the cmdlets use, and where its parts are composed: one per process, so one connection pool and
/// one token cache serve every cmdlet of a session. It opens stores; the listings live in <see cref="RegistryInventory"/>.
/// </summary>
public sealed class RegistryEngine : IDisposable
{
    private static readonly Lazy<RegistryEngine> SharedEngine =
        new(() => new RegistryEngine(RegistryEngineOptions.FromEnvironment(Environment.GetEnvironmentVariable), HostBackoff.Session));

    private readonly RegistryInventory _inventory;

    /// <summary>An engine of its own, down to its per-host wait windows (the session's engine is <see cref="Shared"/>).</summary>
    public RegistryEngine(RegistryEngineOptions options)
        : this(options, new HostBackoff())
    {
    }

    /// <param name="options">The engine's settings.</param>
    /// <param name="hosts">Per-host wait windows, shared with the session's Harbor clients when they are <see cref="HostBackoff.Session"/>.</param>
    internal RegistryEngine(RegistryEngineOptions options, HostBackoff hosts)
        : this(options, hosts, new DockerConfigCredentials(options?.DockerConfigPath), credentials: null)
    {
    }

    private RegistryEngine(RegistryEngineOptions options, HostBackoff hosts, DockerConfigCredentials dockerConfig, RegistryCredentialStore? credentials)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _dockerConfig = dockerConfig;
        Credentials = credentials ?? new RegistryCredentialStore(dockerConfig);
        SessionCredentials = new SessionCredentials(Credentials);
        Pipeline = new RegistryHttpPipeline(options.Http, hosts, pipeline => new RegistryAuthenticator(pipeline, Credentials, dockerConfig));
        _inventory = new RegistryInventory(this);
    }

    private readonly DockerConfigCredentials _dockerConfig;

    /// <summary>
    /// An engine that stands for another machine: the same settings and credentials, but connections, tokens and
    /// per-host wait windows of its own, as each Kubernetes node's kubelet has (Measure-RegistryPull's simulated nodes).
    /// </summary>
    internal RegistryEngine ForAnotherMachine() => new(Options, new HostBackoff(), _dockerConfig, Credentials);

    /// <summary>Throttling answers (429) this engine's registries gave so far, whether waited out or not.</summary>
    internal long ThrottledAnswers => Pipeline.ThrottledAnswers;

    /// <summary>The engine of this process, used by the cmdlets.</summary>
    public static RegistryEngine Shared => SharedEngine.Value;

    public RegistryEngineOptions Options { get; }

    /// <summary>Credentials set for this session (Set-RegistryCredential); consulted before the docker config.</summary>
    public RegistryCredentialStore Credentials { get; }

    /// <summary>The same credentials as the credential cmdlets set, list and remove them.</summary>
    public SessionCredentials SessionCredentials { get; }

    internal RegistryHttpPipeline Pipeline { get; }

    /// <summary>
    /// Repositories of a registry (its catalog) or of an OCI layout root (every layout directory below it), sorted
    /// ordinally. Progress reports each page.
    /// </summary>
    public IAsyncEnumerable<RegistryRepositoryInfo> GetRepositoriesAsync(GetRepositoriesRequest request, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken) =>
        _inventory.GetRepositoriesAsync(request, progress, onRepositoryFailure: null, cancellationToken);

    /// <inheritdoc cref="RegistryInventory.GetRepositoriesAsync"/>
    public IAsyncEnumerable<RegistryRepositoryInfo> GetRepositoriesAsync(GetRepositoriesRequest request, IProgress<OperationProgress>? progress,
        Action<HarborOpsException>? onRepositoryFailure, CancellationToken cancellationToken) =>
        _inventory.GetRepositoriesAsync(request, progress, onRepositoryFailure, cancellationToken);

    /// <summary>
    /// Tags of a repository with their digest, media type, platforms and size (every tag, paged and sorted ordinally;
    /// or the one tag or digest the reference names). Manifests are read with bounded parallelism and cached by
    /// digest, so thousands of tags of one image cost one manifest read each, plus one HEAD.
    /// </summary>
    public IAsyncEnumerable<RegistryTagInfo> GetTagsAsync(GetTagsRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        _inventory.GetTagsAsync(request, progress, onTagFailure: null, cancellationToken);

    /// <inheritdoc cref="RegistryInventory.GetTagsAsync"/>
    public IAsyncEnumerable<RegistryTagInfo> GetTagsAsync(GetTagsRequest request, IProgress<OperationProgress>? progress,
        Action<HarborOpsException>? onTagFailure, CancellationToken cancellationToken) =>
        _inventory.GetTagsAsync(request, progress, onTagFailure, cancellationToken);

    /// <summary>
    /// Requests this engine has sent to a registry so far (0 for an OCI layout): callers take the difference over a run
    /// to say what the run cost each side. Retries and token requests are not counted.
    /// </summary>
    public long RequestsSentTo(string registry) => Pipeline.RequestsSentTo(ImageReference.NormalizeRegistry(registry));

    /// <summary>Opens a registry ("host[:port]", "docker.io") or an OCI layout root ("oci:dir") as an image store.</summary>
    public IImageStore OpenStore(string registry, NetworkCredential? credential = null)
    {
        var normalized = ImageReference.NormalizeRegistry(registry);
        return normalized.StartsWith(ImageReference.OciLayoutPrefix, StringComparison.Ordinal)
            ? new OciLayoutStore(normalized[ImageReference.OciLayoutPrefix.Length..])
            : new RemoteRegistryStore(Pipeline, Options, normalized, credential);
    }

    /// <summary>The store and repository an image reference points into (a layout reference is repository "" of its directory).</summary>
    public (IImageStore Store, string Repository) OpenStore(ImageReference reference, NetworkCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return reference.Kind == ImageReferenceKind.OciLayout
            ? (new OciLayoutStore(reference.LayoutPath!), "")
            : (new RemoteRegistryStore(Pipeline, Options, reference.Registry, credential), reference.Repository);
    }

    public void Dispose() => Pipeline.Dispose();
}
