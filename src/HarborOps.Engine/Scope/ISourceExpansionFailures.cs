using HarborOps.Engine.Errors;
using HarborOps.Engine.Registry.Store;

namespace HarborOps.Engine.Scope;

/// <summary>
/// Where <see cref="SourceExpansion"/> reports what it leaves out, so that the copy (failed results) and the parity check
/// (differences, failures) each say it in their own output while expanding by the same rules. Each failure leaves out
/// only what it names; the expansion goes on.
/// </summary>
public interface ISourceExpansionFailures
{
    /// <summary>A Prefix or Registry source's repositories could not be (fully) listed; those listed before are kept.</summary>
    void ListingFailed(CopySource source, HarborOpsException failure);

    /// <summary>A listed repository name breaks the repository grammar (<paramref name="name"/> as listed).</summary>
    void NameInvalid(IImageStore store, string name, HarborOpsException failure);

    /// <summary>A repository has no destination repository under the mapping (CopyMappingInvalid).</summary>
    void MappingFailed(IImageStore store, string repository, HarborOpsException failure);
}
