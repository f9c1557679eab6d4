using HarborOps.Engine.Scope;

namespace HarborOps.Engine.Migration;

/// <summary>
/// Copy-RegistryImage's request: what to copy (one or more sources), where to (a registry with an optional path prefix,
/// or an OCI layout root), how repository paths map, which tags, and how the run behaves.
/// </summary>
public sealed record CopyRequest : RegistryScopeRequest
{
    public CopyRequest(IReadOnlyList<string> sources, string destination)
        : base(sources, destination)
    {
    }

    public CopyRequest(IReadOnlyList<string> sources, CopyDestination destination)
        : base(sources, destination)
    {
    }

    /// <summary>
    /// Opt-in platform filter ("linux/amd64", "linux/arm64/v8"; a filter without a variant matches every variant). An
    /// index with other platforms is written as a NEW index holding only the matching children, so its digest differs
    /// from the source's (<see cref="HarborOps.Models.CopyResult.SourceDigest"/> names the source's) and signatures of the
    /// source index are left behind (they sign a digest the destination does not have); the children keep their
    /// digests. A single-platform image of another platform is skipped with the reason. Empty copies every platform.
    /// </summary>
    public IReadOnlyList<string> Platforms { get; init; } = [];

    /// <summary>
    /// Only tags whose image was created at or after this time, as the source records it: the image config's
    /// <c>created</c> field (for an index, its newest child's), the same for a registry and an OCI layout. A tag whose
    /// time cannot be read is copied and its Reason says so; it is never dropped silently. Referrer tags follow their
    /// subject. From Azure Container Registry the time is the manifest's lastUpdateTime in ACR's _manifests listing (when it
    /// was pushed or last re-tagged), so older tags are skipped without reading a manifest or config.
    /// </summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Never change a destination tag that exists with another digest (reported as Skipped, reason NoClobber).</summary>
    public bool NoClobber { get; init; }
    /// <summary>Copy signatures, attestations, SBOMs and other referrers after their subject (default).</summary>
    public bool IncludeReferrers { get; init; } = true;
    /// <summary>Also copy foreign (non-distributable) layers, which registries normally fetch from their URLs.</summary>
    public bool IncludeForeignLayers { get; init; }
    /// <summary>Concurrent requests per registry host, and the scale of concurrent tags.</summary>
    public int ThrottleLimit { get; init; } = 8;
    /// <summary>Append-only file of finished blobs and manifests; a re-run after an interruption reads it to resume.</summary>
    public string? JournalPath { get; init; }
    /// <summary>Read both sides and report what would be copied, moving nothing (-WhatIf).</summary>
    public bool PlanOnly { get; init; }

    /// <summary>
    /// How long a shard waits for a layer it shares with another shard, which that shard uploads, before uploading it
    /// itself (see <c>ShardedBlobOwners</c>). Null: 30 seconds plus one second per 2 MiB of the layer, counted from the
    /// last time that shard was seen landing any blob; a shard that lands nothing for that long is taken for gone (or
    /// not started) and not waited for again. <see cref="TimeSpan.Zero"/>: never wait, and read nothing of the other
    /// shards (each shard uploads what it needs).
    /// </summary>
    public TimeSpan? SharedBlobWait { get; init; }

    /// <summary>The destination is a Harbor: check (and with CreateMissingProjects create) its projects before pushing.</summary>
    public HarborDestination? Harbor { get; init; }
}
