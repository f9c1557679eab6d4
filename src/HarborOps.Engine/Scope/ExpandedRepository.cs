using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Scope;

/// <summary>
/// One repository a source covers, as the copy and the parity check both take it: the store it is read from, its name
/// there, where it lands, the source that named it, and for an image source its one tag or digest.
/// </summary>
public sealed record ExpandedRepository(IImageStore SourceStore, string SourceRepository, string DestinationRepository, CopySource Source)
{
    /// <summary>The source named one image: only <see cref="OnlyTag"/> or <see cref="OnlyDigest"/> is read, never the tag list.</summary>
    public bool IsImage => Source.Kind == CopySourceKind.Image;

    /// <summary>The image source's tag; null for every other source.</summary>
    public string? OnlyTag => IsImage ? Source.Tag : null;

    /// <summary>The image source's digest; null for every other source.</summary>
    public string? OnlyDigest => IsImage ? Source.Digest : null;

    /// <summary>"registry/repository", as results and messages name it.</summary>
    public string SourceName => SourceStore.ItemName(SourceRepository);

    /// <summary>The shard of the run that expanded it (<see cref="ShardPartition.Whole"/> unsharded).</summary>
    public ShardPartition Shard { get; init; } = ShardPartition.Whole;

    /// <summary>Whether the run's shard owns <paramref name="tag"/> of this repository (always, unless split by tag).</summary>
    public bool OwnsTag(string tag) => Shard.OwnsTag(SourceRepository, tag);
}

