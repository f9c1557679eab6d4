namespace HarborOps.Engine.Registry.Store;

/// <summary>
/// How results and messages name an item of a store. It depends on the store alone (its registry or layout), so it
/// lives with the store rather than with the repository mapping, and copy, parity and the referrer writers all say the same.
/// </summary>
public static class StoreItemNames
{
    /// <summary>"registry/repository", "registry/repository:tag" or "registry/repository@digest" (a layout's root has no "/repository").</summary>
    public static string ItemName(this IImageStore store, string repository, string? reference = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var name = repository.Length == 0 ? store.Registry : $"{store.Registry}/{repository}";
        if (string.IsNullOrEmpty(reference)) return name;
        return reference.Contains(':') ? $"{name}@{reference}" : $"{name}:{reference}";
    }
}
