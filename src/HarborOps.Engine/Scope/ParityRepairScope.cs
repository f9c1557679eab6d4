using HarborOps.Engine.Errors;
using HarborOps.Models;

namespace HarborOps.Engine.Scope;

/// <summary>
/// The destination and mapping of a copy that repairs piped Compare-RegistryParity differences. Each difference carries
/// the destination and mapping of its comparison, and a repair must map names exactly as that comparison did: so the first
/// difference sets them, every later one must share them, and the copy's own mapping parameters may not be given too.
/// </summary>
public sealed class ParityRepairScope
{
    /// <summary>The first difference admitted; its destination and mapping are the repair's. Null until one is admitted.</summary>
    public ParityDifference? Comparison { get; private set; }

    /// <summary>
    /// Admits one repairable difference; true when it is the first, whose destination the copy then goes to. Throws
    /// CopyMappingInvalid when <paramref name="mappingParametersGiven"/> (a destination prefix, stripping or renames given
    /// with the piped results) or when the difference comes from a comparison with another destination or mapping.
    /// </summary>
    public bool Admit(ParityDifference difference, bool mappingParametersGiven)
    {
        ArgumentNullException.ThrowIfNull(difference);
        if (Comparison is null)
        {
            if (mappingParametersGiven)
                throw new HarborOpsException(ScopeErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                    "Compare-RegistryParity results carry the destination and mapping of their comparison; leave out -DestinationPrefix, -StripPrefixSegments and -Rename when piping them.", difference.Source);
            Comparison = difference;
            return true;
        }
        if (!SameComparison(Comparison, difference))
            throw new HarborOpsException(ScopeErrorIds.MappingInvalid, FailureKind.InvalidArgument,
                $"The piped parity results come from comparisons with different destinations or mappings ({Comparison.Destination} and {difference.Destination}); pipe one comparison at a time.", difference.Source);
        return false;
    }

    private static bool SameComparison(ParityDifference first, ParityDifference other) =>
        first.Destination == other.Destination && first.StripPrefixSegments == other.StripPrefixSegments
        && first.Rename.OrderBy(r => r.Key, StringComparer.Ordinal).SequenceEqual(other.Rename.OrderBy(r => r.Key, StringComparer.Ordinal));
}
