namespace HarborOps.Engine.Scope;

/// <summary>
/// What a source expansion found: the repositories this shard takes, and where the repositories of every shard land
/// (so a sharded comparison does not take another shard's repository for one no source maps to).
/// <see cref="OtherShards"/> are the repositories other shards take whole (a split by repository), each with its shard
/// in <see cref="ExpandedRepository.Shard"/>: a copy reads the other shards' images to find the layers it shares with them.
/// </summary>
public sealed record ExpandedScope(List<ExpandedRepository> Repositories, IReadOnlySet<string> AllDestinationRepositories)
{
    public IReadOnlyList<ExpandedRepository> OtherShards { get; init; } = [];
}
