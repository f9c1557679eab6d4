namespace HarborOps.Engine.Scope;

/// <summary>
/// What a source expansion found: the repositories this shard takes, and where the repositories of every shard land
/// (so a sharded comparison does not take another shard's repository for one no source maps to).
/// </summary>
public sealed record ExpandedScope(List<ExpandedRepository> Repositories, IReadOnlySet<string> AllDestinationRepositories);
