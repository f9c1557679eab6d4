using System.Net;
using HarborOps.Engine.Errors;
using HarborOps.Engine.References;
using HarborOps.Engine.Scope;

namespace HarborOps.Engine.PullLoad;

/// <summary>
/// A pull load to measure: which images, from which registries, arriving how, on how many simulated nodes. Registries
/// measured in one request see the same load, one after the other, each on nodes of their own with cold caches.
/// </summary>
public sealed record PullLoadRequest
{
    /// <summary>Above this many simulated nodes a run needs Force: each node is a connection pool of its own.</summary>
    public const int NodesWithoutForce = 32;
    /// <summary>Above this many pulls per registry a run needs Force.</summary>
    public const int PullsWithoutForce = 1000;
    /// <summary>The most simulated nodes a run may have, Force or not.</summary>
    public const int MaxNodes = 512;

    /// <summary>The images to pull, in turn (pull i pulls image i mod count).</summary>
    public IReadOnlyList<ImageReference> Images { get; init; } = [];
    /// <summary>Registries (host[:port]) to pull the images' repositories from instead of their own; empty: their own.</summary>
    public IReadOnlyList<string> Registries { get; init; } = [];
    public PullArrivals Arrivals { get; init; } = PullArrivals.Ramp(20, TimeSpan.FromSeconds(10));
    /// <summary>Simulated nodes; each pulls one image at a time (the kubelet's default serializeImagePulls).</summary>
    public int Nodes { get; init; } = 10;
    /// <summary>The nodes' platform, which an image index is resolved for.</summary>
    public string Platform { get; init; } = "linux/amd64";
    /// <summary>Layers a node downloads at once within one pull (containerd's max_concurrent_downloads default is 3).</summary>
    public int LayerParallelism { get; init; } = 3;
    public NetworkCredential? Credential { get; init; }
    /// <summary>Allows more nodes or pulls than <see cref="NodesWithoutForce"/> and <see cref="PullsWithoutForce"/>.</summary>
    public bool Force { get; init; }
    /// <summary>Where to write the HTML report; null: none.</summary>
    public string? ReportPath { get; init; }

    /// <summary>The registries in the order they are measured, each with the images it is asked for.</summary>
    public IReadOnlyList<(string Registry, IReadOnlyList<ImageReference> Images)> Targets()
    {
        Validate();
        if (Registries.Count == 0)
            return Images.GroupBy(i => i.Registry, StringComparer.OrdinalIgnoreCase)
                .Select(g => (g.Key, (IReadOnlyList<ImageReference>)g.ToList())).ToList();
        return Registries.Select(ImageReference.NormalizeRegistry).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(r => (r, (IReadOnlyList<ImageReference>)Images.Select(i => i with { Registry = r }).ToList())).ToList();
    }

    /// <summary>Refuses a load that cannot run or is bigger than asked for, before anything is sent.</summary>
    public void Validate()
    {
        if (Images.Count == 0) throw Invalid("No image to pull; pass -Image registry/repository:tag (or pipe Get-RegistryTag).");
        var layout = Images.FirstOrDefault(i => i.Kind == ImageReferenceKind.OciLayout);
        if (layout is not null) throw Invalid($"'{layout}' is an OCI layout; Measure-RegistryPull pulls from registries only.");
        if (Nodes < 1 || Nodes > MaxNodes) throw Invalid($"-Nodes {Nodes} is out of range; pass 1 to {MaxNodes}.");
        if (LayerParallelism < 1 || LayerParallelism > 16) throw Invalid($"Layer parallelism {LayerParallelism} is out of range (1 to 16).");
        _ = PlatformFilter.Parse(Platform);
        if (!Force && Nodes > NodesWithoutForce)
            throw AboveLimit($"-Nodes {Nodes} is more than {NodesWithoutForce} concurrent pullers; that is a load only -Force starts (be sure the registry's owners expect it).");
        if (!Force && Arrivals.Count > PullsWithoutForce)
            throw AboveLimit($"{Arrivals.Count} pulls per registry is more than {PullsWithoutForce}; that is a load only -Force starts (be sure the registry's owners expect it).");
    }

    /// <summary>What the run will do, in one sentence per registry: the -WhatIf text.</summary>
    public IEnumerable<string> Describe() => Targets().Select(t =>
        $"Pull {Arrivals.Description} from {t.Registry} ({string.Join(", ", t.Images.Select(i => i.ToString()).Distinct().Take(3))}{(t.Images.Select(i => i.ToString()).Distinct().Count() > 3 ? ", ..." : "")}) " +
        $"on {Nodes} simulated {Platform} node(s), one pull at a time per node, every layer downloaded and verified");

    private static HarborOpsException Invalid(string message) => new(PullLoadErrorIds.LoadInvalid, FailureKind.InvalidArgument, message);
    private static HarborOpsException AboveLimit(string message) => new(PullLoadErrorIds.AboveLimit, FailureKind.InvalidArgument, message);
}
