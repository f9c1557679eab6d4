using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Parity;

/// <summary>
/// Repositories the destination has under the mapped prefix that no source repository maps to: the whole-repository
/// form of ExtraAtDestination. A Harbor destination names them in its project's repository list (100 a request); any
/// other registry in its catalog, where it lets the caller read it. A destination that lets the caller list neither is
/// not searched (nothing is reported rather than a guess).
/// </summary>
internal static class DestinationOnlyRepositories
{
    /// <summary>
    /// The destination's repositories under <paramref name="prefix"/> (empty: the whole registry) that are not in
    /// <paramref name="expected"/>, in order; empty when they cannot be listed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> FindAsync(IImageStore destination, string prefix, IReadOnlySet<string> expected, CancellationToken cancellationToken)
    {
        var names = await ListAsync(destination, prefix, cancellationToken).ConfigureAwait(false);
        return names.Where(n => (prefix.Length == 0 || n.StartsWith(prefix + "/", StringComparison.Ordinal)) && !expected.Contains(n))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private static async Task<List<string>> ListAsync(IImageStore destination, string prefix, CancellationToken cancellationToken)
    {
        try
        {
            // Harbor keeps every repository in the project the prefix starts with, and lists them to project members,
            // where its catalog is for system administrators only.
            if (destination is HarborInventoryStore harbor && prefix.Split('/')[0] is { Length: > 0 } project
                && await harbor.TryListProjectRepositoriesAsync(project, cancellationToken).ConfigureAwait(false) is { } inProject)
                return inProject;
            var names = new List<string>();
            await foreach (var page in destination.ListRepositoryPagesAsync(cancellationToken).ConfigureAwait(false))
                names.AddRange(page);
            return names;
        }
        catch (RegistryException ex) when (!ex.IsTerminating || ex.ErrorId is RegistryErrorIds.AuthenticationFailed)
        {
            // A project that is not there holds no repository; a catalog the caller may not read (or a registry that
            // serves none) says nothing about what is extra.
            return [];
        }
    }
}
