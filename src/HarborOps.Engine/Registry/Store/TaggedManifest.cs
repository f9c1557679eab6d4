using HarborOps.Engine.Manifests;

namespace HarborOps.Engine.Registry.Store;

/// <summary>
/// A tag and the manifest it points at, as a store's inventory reports it. Times and the read lock are filled only by
/// stores that record them (ACR's /acr/v1 listing); a plain registry knows only the digest.
/// </summary>
public sealed record TaggedManifest(string Tag, OciDescriptor Manifest)
{
    /// <summary>When the tag was created, where the store records it.</summary>
    public DateTimeOffset? CreatedOn { get; init; }

    /// <summary>When the tag last moved, where the store records it.</summary>
    public DateTimeOffset? UpdatedOn { get; init; }

    /// <summary>False when the store refuses reads of this item (ACR readEnabled=false): reported, never fatal.</summary>
    public bool ReadEnabled { get; init; } = true;
}
